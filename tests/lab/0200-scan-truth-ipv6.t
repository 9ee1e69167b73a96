#!/usr/bin/env bash
# lzr-worker scan of the lab's IPv6 side from one vantage, IPv6 targets only: the hitlist is
# every address of truth6.tsv (IPv6 is scanned by hitlist; the lab's /64s are far above the
# /112 a prefix may have), every port of the truth, --all. Every truth6 row gets the class a
# single vantage can see (the shunning and dynamic-blocking twins as in 0200-scan-truth.t),
# every service its protocol, and the records carry IPv6 text, the IPv6 scan IP and the hop
# limit. 2: one scan of both families (an IPv4 host and its IPv6 twin): pcap sees each family's
# SYNs leave from its own scan IP, and both are named. 3: an --input-file of IPv6 lines with
# --discovery-only: only listed pairs inside the IPv6 targets are probed. Only addresses inside
# 2001:2::/48 and 198.18.0.0/15 are ever a destination.
. "$(dirname "$0")/lib.sh"
lab_env
"$LAB" reset >/dev/null

dir=$(mktemp -d /tmp/lzr-0200v6.XXXXXX)
trap 'rm -rf "$dir"' EXIT
out=$dir/out.jsonl hitlist=$dir/hitlist

grep -v '^#' "$LAB_TRUTH6" | cut -f1 | sort -u >"$hitlist"
outside=$(python3 -c '
import ipaddress, sys
lab = ipaddress.ip_network("2001:2::/48")
print(" ".join(l.strip() for l in open(sys.argv[1]) if ipaddress.ip_address(l.strip()) not in lab))' "$hitlist")
is "$outside" "" "every hitlist address lies in 2001:2::/48"
n_hosts=$(wc -l <"$hitlist")
[ "$n_hosts" -ge 5 ] && ok "the hitlist has $n_hosts hosts" || not_ok "the hitlist has only $n_hosts hosts"

truth_scan "$out" "$LAB_TRUTH6" ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan \
    --iface "$V1_IF" --source-ip6 "$V1_SCAN_IP6" --targets-file "$hitlist" --ports "$PORTS_CSV" \
    --allow-reserved "$NET6" --timeout-ms 1500 --retransmit-ms 500 --rate 5000 --all \
    --output "$out"
total=$(jq -r '.ip + ":" + (.port|tostring)' "$out" | sort -u | wc -l)
is "$total" "$((n_hosts * $(tr ',' '\n' <<<"$PORTS_CSV" | wc -l)))" \
    "--all reports every (address, port) of the hitlist once"

is "$(jq -r .source_ip "$out" | sort -u)" "$V1_SCAN_IP6" "every record names the IPv6 scan IP"
is "$(jq -r '.ip | test("^2001:2:")' "$out" | sort -u)" "true" "every record's ip is IPv6 text in 2001:2::/48"
for class in service closed no_ack_data; do
    n=$(jq -r --arg c "$class" 'select(.class == $c) | .ip' "$out" | wc -l)
    [ "$n" -gt 0 ] && ok "class $class seen over IPv6 ($n records)" || not_ok "class $class seen over IPv6"
done
# The services sit one router hop away: the SYN-ACK's hop limit is 64 less that hop.
is "$(jq -r 'select(.class == "service") | .ttl_synack' "$out" | sort -u)" "63" \
    "service records carry the SYN-ACK's hop limit (63)"
scan_evidence "$out" "$LAB_TRUTH6"

# 2. Both families in one scan: the ssh host and its IPv6 twin, on 22 and 8080 (ssh on both).
ssh4=$(awk -F'\t' '$2 == 22 && $4 == "ssh" {print $1; exit}' "$LAB_TRUTH")
ssh6=$(awk -F'\t' '$2 == 22 && $4 == "ssh" {print $1; exit}' "$LAB_TRUTH6")
capture_start mixed "tcp[tcpflags] == tcp-syn or (ip6 and ip6[53] == 2)"
timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip "$V1_SCAN_IP" --source-ip6 "$V1_SCAN_IP6" --targets "$ssh4,$ssh6" \
    --ports 22,8080 --allow-reserved 198.18.0.0/15,"$NET6" --timeout-ms 1500 \
    --retransmit-ms 500 --acking-firewall-probes 0 --output "$dir/mixed.jsonl" 2>"$dir/mixed.err"
is "$?" 0 "a scan of both families runs"
capture_stop
is "$(jq -r '"\(.ip) \(.port) \(.source_ip) \(.protocol)"' "$dir/mixed.jsonl" | sort | paste -sd' ')" \
    "$(printf '%s\n' "$ssh4 22 $V1_SCAN_IP ssh" "$ssh4 8080 $V1_SCAN_IP ssh" \
        "$ssh6 22 $V1_SCAN_IP6 ssh" "$ssh6 8080 $V1_SCAN_IP6 ssh" | sort | paste -sd' ')" \
    "both families' services are named, each record with its family's scan IP"
syns=$(tcpdump -n -r "$dir/mixed.pcap" 2>/dev/null | awk '{print $3, $5}' | sed 's/:$//' | sort -u)
is "$(awk '{sub(/[.][0-9]+$/, "", $1); sub(/[.][0-9]+$/, "", $2); print $1, $2}' <<<"$syns" |
    sort -u | paste -sd' ')" "$(printf '%s\n' "$V1_SCAN_IP $ssh4" "$V1_SCAN_IP6 $ssh6" | sort |
    paste -sd' ')" "pcap: each family's SYNs leave from its own scan IP to its own target"

# 3. A list led by IPv6 lines (bracketed, comma), one address outside the scan's targets
# (inside the lab, never probed), and an IPv4 line whose next hop the engine found without a
# first IPv4 line; --discovery-only: SYN-ACKs are reported open.
web6=$(awk -F'\t' '$2 == 80 && $4 == "http" {print $1; exit}' "$LAB_TRUTH6")
printf '[%s]:22\n%s,8080\n[%s]:80\n%s:22\n' "$ssh6" "$ssh6" "$web6" "$ssh4" >"$dir/list6.txt"
capture_start list6 "ip6 and ip6[53] == 2"
timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip "$V1_SCAN_IP" --source-ip6 "$V1_SCAN_IP6" --targets "$ssh6,$ssh4" \
    --allow-reserved "$NET6",198.18.0.0/15 --discovery-only \
    --input-file "$dir/list6.txt" --timeout-ms 1500 --output "$dir/list6.jsonl" 2>"$dir/list6.err"
is "$?" 0 "a discovery scan of a list led by IPv6 lines runs"
capture_stop
is "$(jq -r '"\(.ip) \(.port) \(.class)"' "$dir/list6.jsonl" | sort | paste -sd' ')" \
    "$(printf '%s\n' "$ssh6 22 open" "$ssh6 8080 open" "$ssh4 22 open" | sort | paste -sd' ')" \
    "the listed pairs inside the targets, of both families, are open"
like "$(cat "$dir/list6.err")" "1 blocklisted" "the line outside the IPv6 targets is counted"
is "$(tcpdump -n -r "$dir/list6.pcap" 2>/dev/null | grep -c "> $web6[.]")" 0 \
    "pcap: nothing was sent to the address outside the IPv6 targets"
done_testing
