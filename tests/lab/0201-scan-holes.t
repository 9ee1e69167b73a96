#!/usr/bin/env bash
# lzr-worker never sends to an excluded address: tcpdump records every frame the worker sends
# while it scans a range with holes (excluded CIDRs and ranges), and none may go to a hole —
# while every address outside the holes is probed.
. "$(dirname "$0")/lib.sh"
lab_env

dir=$(mktemp -d /tmp/lzr-0201.XXXXXX)
trap 'kill $_capture_pid 2>/dev/null; rm -rf "$dir"' EXIT
capture() { capture_start "$1" "src host $V1_SCAN_IP and dst net 198.19.0.0/16 and tcp"; }

# The kernel-answered load range: every address SYN-ACKs on port 80.
range=198.19.4.0/23
holes="198.19.4.0/28 198.19.4.200-198.19.5.10 198.19.5.255"
capture sent

args=()
for h in $holes; do args+=(--exclude "$h"); done
check "scan of $range with holes runs" timeout 120 ip netns exec "$V1_NS" \
    "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" --source-ip "$V1_SCAN_IP" \
    --targets "$range" "${args[@]}" --ports 80,81 --allow-reserved 198.18.0.0/15 \
    --timeout-ms 1000 --rate 5000 --output "$dir/out.jsonl"
capture_stop

diag "$(grep -E "captured|dropped" "$dir/sent.tcpdump")"
tcpdump -n -r "$dir/sent.pcap" 2>/dev/null | awk '{print $5}' | sed 's/\.[0-9]*:$//' |
    sort -u >"$dir/dsts"
in_hole() { # in_hole IP: is IP inside one of the holes? (the load range is 198.19.4.0-5.255)
    local o3 o4
    IFS=. read -r _ _ o3 o4 <<<"$1"
    local n=$(((o3 - 4) * 256 + o4))
    [ "$n" -le 15 ] || { [ "$n" -ge 200 ] && [ "$n" -le 266 ]; } || [ "$n" -eq 511 ]
}
bad=0
while read -r ip; do
    in_hole "$ip" && { diag "sent to a hole: $ip"; bad=$((bad + 1)); }
done <"$dir/dsts"
is "$bad" 0 "no frame went to an excluded address"
is "$(wc -l <"$dir/dsts")" $((512 - 16 - 67 - 1)) "every address outside the holes was probed"
is "$(jq -r 'select(.port == 80) | .ip' "$dir/out.jsonl" | sort -u | wc -l)" $((512 - 16 - 67 - 1)) \
    "every address outside the holes answered on port 80"
# A SYN scan: every SYN-ACK is reported open and answered with a RST, never an ACK.
capture syn
check "a --discovery-only scan of 198.19.8.0/24 runs" timeout 60 ip netns exec "$V1_NS" \
    "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" --source-ip "$V1_SCAN_IP" \
    --targets 198.19.8.0/24 --ports 80 --allow-reserved 198.18.0.0/15 --rate 5000 \
    --discovery-only --output "$dir/syn.jsonl"
capture_stop
is "$(jq -r 'select(.class == "open" and .window > 0) | .ip' "$dir/syn.jsonl" | sort -u | wc -l)" \
    256 "every address of the /24 is reported open, with its SYN-ACK's window"
is "$(tcpdump -n -r "$dir/syn.pcap" 2>/dev/null | grep -vcE 'Flags \[(S|R)\]')" 0 \
    "the SYN scan sent only SYNs and RSTs"
is "$(tcpdump -n -r "$dir/syn.pcap" 2>/dev/null | grep -c 'Flags \[R\]')" 256 \
    "each SYN-ACK was reset once"
done_testing
