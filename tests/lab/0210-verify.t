#!/usr/bin/env bash
# Multi-vantage verification from one vantage (lzr-worker verify): after a scan from the scan
# IP, the hosts it lost are re-probed from the scan IP and a fresh IP at once, and the trigger
# test from a second fresh IP tells shunning from dynamic blocking. Every shunning and
# dynamic-blocking host of the truth gets its verdict; hosts that never ack data, or ack and
# stay quiet, are not called blocking; an address nobody answers is churn.
. "$(dirname "$0")/lib.sh"
lab_env
"$LAB" reset >/dev/null 2>&1
read -r FRESH TRIGGER <<<"$V1_FRESH_IPS"
dir=$(mktemp -d /tmp/lzr-0210.XXXXXX)
trap 'rm -rf "$dir"' EXIT

hosts() { truth_rows "$1" | cut -f1 | sort -u; }
shun=$(hosts shunning)
dyn=$(hosts dynamic_blocking)
noack=$(hosts no_ack_data)
acks=$(hosts acks_no_data)
[ -n "$shun" ] && [ -n "$dyn" ] || bail_out "the truth lists no shunning or dynamic-blocking host"
targets=$(echo $shun $dyn $noack $acks | tr ' ' ,)

check "scan of the blocking and silent middleboxes from the scan IP" \
    timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip "$V1_SCAN_IP" --targets "$targets" --ports "${MB_PORTS// /,}" \
    --allow-reserved 198.18.0.0/15 --timeout-ms 1000 --retransmit-ms 400 --all \
    --output "$dir/scan.jsonl"
# Candidates as the coordinator picks them (docs/verification.md): hosts with a lost or
# never-acked port, or that answered fewer ports than scanned; one port each, by preference
# lost, never-acked, SYN-ACKed, closed.
nports=$(wc -w <<<"$MB_PORTS")
jq -rs --argjson n "$nports" 'map(select(.class != "silent")) | group_by(.ip)[] |
    select(any(.[]; .class == "lost_after_synack" or .class == "no_ack_data") or length < $n) |
    sort_by({"lost_after_synack": 0, "no_ack_data": 1, "closed": 3}[.class] // 2, .port) |
    .[0] | "\(.ip):\(.port)"' "$dir/scan.jsonl" >"$dir/candidates"
# An address of the lab's network that no host holds: nobody answers it.
echo "198.18.47.250:80" >>"$dir/candidates"
diag "candidates: $(tr '\n' ' ' <"$dir/candidates")"

check "verification runs" timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" verify \
    --scan-ip "$V1_SCAN_IP" --fresh-ip "$FRESH" --trigger-ip "$TRIGGER" \
    --targets-file "$dir/candidates" --timeout-ms 1500 --output "$dir/verdicts.jsonl"
diag "$(cat "$dir/verdicts.jsonl")"
verdict() { jq -r --arg ip "$1" 'select(.ip == $ip) | .verdict' "$dir/verdicts.jsonl" | sort -u; }

# The scan keeps closed rows (--all): a shunning host whose first SYN found a closed port
# answered with that port's RST and nothing more, and is a candidate like the others.
for h in $shun; do
    is "$(verdict "$h")" shunning "shunning host $h is called shunning"
done
for h in $dyn; do
    is "$(verdict "$h")" dynamic_blocking "dynamic-blocking host $h is called dynamic_blocking"
done
for h in $noack $acks; do
    v=$(verdict "$h")
    [ -z "$v" ] || [ "$v" = transient ] && ok "middlebox $h is not called blocking (${v:-not a candidate})" ||
        not_ok "middlebox $h is not called blocking (got $v)"
done
is "$(verdict 198.18.47.250)" churn "an address nobody answers is churn"
done_testing
