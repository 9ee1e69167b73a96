#!/usr/bin/env bash
# The IPv6 twin of 0210-verify.t: lzr-worker verify over IPv6 from one vantage. The IPv6 sides
# of the lab's shunning, dynamic-blocking and never-acking middleboxes (truth6.tsv) are scanned
# from the IPv6 scan IP; the hosts it lost are re-probed from the IPv6 scan IP and an IPv6
# fresh IP at once, and the trigger test runs from a second IPv6 fresh IP. Each blocking host
# gets its verdict, the never-acking one is not called blocking, and an IPv6 address nobody
# holds is churn; pcap shows every verification SYN leave from an IPv6 address of the vantage
# to 2001:2::/48 only. One IPv4 host in the same scan and run is verified from the IPv4
# addresses.
. "$(dirname "$0")/lib.sh"
lab_env
"$LAB" reset >/dev/null 2>&1
read -r FRESH6 TRIGGER6 <<<"$V1_FRESH_IPS6"
read -r FRESH TRIGGER <<<"$V1_FRESH_IPS"
dir=$(mktemp -d /tmp/lzr-0210v6.XXXXXX)
trap 'capture_stop; rm -rf "$dir"' EXIT

hosts6() { LAB_TRUTH=$LAB_TRUTH6 truth_rows "$1" | cut -f1 | sort -u; }
shun=$(hosts6 shunning)
dyn=$(hosts6 dynamic_blocking)
noack=$(hosts6 no_ack_data)
[ -n "$shun" ] && [ -n "$dyn" ] && [ -n "$noack" ] ||
    bail_out "truth6 lists no shunning, dynamic-blocking or never-acking host"
shun4=$(truth_rows shunning | cut -f1 | sort -u | head -1)
targets=$(echo $shun $dyn $noack $shun4 | tr ' ' ,)

check "scan of the IPv6 middleboxes (and one IPv4 one) from the vantage's scan IPs" \
    timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip "$V1_SCAN_IP" --source-ip6 "$V1_SCAN_IP6" --targets "$targets" \
    --ports "${MB_PORTS// /,}" --allow-reserved "$NET6,198.18.0.0/15" --timeout-ms 1000 \
    --retransmit-ms 400 --all --output "$dir/scan.jsonl"
is "$(jq -r 'select(.ip | test("^2001:2:")) | .source_ip' "$dir/scan.jsonl" | sort -u)" \
    "$V1_SCAN_IP6" "the IPv6 records come from the IPv6 scan IP"
# Candidates as the coordinator picks them (as in 0210-verify.t), written [IPv6]:PORT.
nports=$(wc -w <<<"$MB_PORTS")
jq -rs --argjson n "$nports" 'map(select(.class != "silent")) | group_by(.ip)[] |
    select(any(.[]; .class == "lost_after_synack" or .class == "no_ack_data") or length < $n) |
    sort_by({"lost_after_synack": 0, "no_ack_data": 1, "closed": 3}[.class] // 2, .port) |
    .[0] | if (.ip | contains(":")) then "[\(.ip)]:\(.port)" else "\(.ip):\(.port)" end' \
    "$dir/scan.jsonl" >"$dir/candidates"
# An address of the lab's IPv6 network that no host holds.
echo "[2001:2:0:47::fa]:80" >>"$dir/candidates"
diag "candidates: $(tr '\n' ' ' <"$dir/candidates")"

capture_start verify \
    "(ip and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn) or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02)"
check "verification runs over both families" timeout 120 ip netns exec "$V1_NS" \
    "$LAB_ROOT/bin/lzr-worker" verify --scan-ip "$V1_SCAN_IP6" --fresh-ip "$FRESH6" \
    --trigger-ip "$TRIGGER6" --scan-ip "$V1_SCAN_IP" --fresh-ip "$FRESH" --trigger-ip "$TRIGGER" \
    --targets-file "$dir/candidates" --timeout-ms 1500 --output "$dir/verdicts.jsonl"
capture_stop
diag "$(cat "$dir/verdicts.jsonl")"
verdict() { jq -r --arg ip "$1" 'select(.ip == $ip) | .verdict' "$dir/verdicts.jsonl" | sort -u; }

for h in $shun; do
    is "$(verdict "$h")" shunning "IPv6 shunning host $h is called shunning"
done
for h in $dyn; do
    is "$(verdict "$h")" dynamic_blocking "IPv6 dynamic-blocking host $h is called dynamic_blocking"
done
for h in $noack; do
    v=$(verdict "$h")
    [ "$v" = not_blocking ] || [ "$v" = transient ] && ok "IPv6 middlebox $h is not called blocking ($v)" ||
        not_ok "IPv6 middlebox $h is not called blocking (got ${v:-nothing})"
done
is "$(verdict 2001:2:0:47::fa)" churn "an IPv6 address nobody answers is churn"
is "$(verdict "$shun4")" shunning "the IPv4 shunning host of the same run is called shunning"

# Who sent the SYNs: IPv6 SYNs only from the vantage's IPv6 scan and fresh IPs, to 2001:2::/48.
tcpdump -nn -r "$dir/verify.pcap" ip6 2>/dev/null |
    awk '{print $3, $5}' | sed 's/\.[0-9]* / /; s/\.[0-9]*:$//' | sort -u >"$dir/syns6"
own6=" $V1_SCAN_IP6 $FRESH6 $TRIGGER6 "
bad=$(while read -r src dst; do
    [[ "$own6" == *" $src "* ]] || echo "from $src"
    [[ "$dst" == 2001:2:* ]] || echo "to $dst"
done <"$dir/syns6")
n6=$(wc -l <"$dir/syns6")
[ "$n6" -gt 0 ] && ok "IPv6 verification SYNs were captured ($n6 source/destination pairs)" ||
    not_ok "no IPv6 verification SYN was captured"
is "$bad" "" "IPv6 SYNs leave only from the vantage's IPv6 addresses, to 2001:2::/48"
has() { awk -v s="$1" '$1 == s' "$dir/syns6" | grep -q .; }
has "$FRESH6" && ok "the IPv6 fresh IP was used" || not_ok "the IPv6 fresh IP was used"
has "$TRIGGER6" && ok "the IPv6 trigger IP was used" || not_ok "the IPv6 trigger IP was used"
done_testing
