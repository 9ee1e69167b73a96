#!/usr/bin/env bash
# lzr-worker scan of the lab's IPv6 side from one vantage, IPv6 targets only: the hitlist is
# every address of truth6.tsv (IPv6 is scanned by hitlist; the lab's /64s are far above the
# /112 a prefix may have), every port of the truth, --all. Every truth6 row gets the class a
# single vantage can see (the shunning and dynamic-blocking twins as in 0200-scan-truth.t),
# every service its protocol, and the records carry IPv6 text, the IPv6 scan IP and the hop
# limit. Only addresses inside 2001:2::/48 are ever a destination.
. "$(dirname "$0")/lib.sh"
lab_env
"$LAB" reset >/dev/null

out=$(mktemp /tmp/lzr-0200v6.XXXXXX)
err=$(mktemp /tmp/lzr-0200v6-err.XXXXXX)
hitlist=$(mktemp /tmp/lzr-0200v6-hit.XXXXXX)
trap 'rm -f "$out" "$err" "$hitlist"' EXIT

grep -v '^#' "$LAB_TRUTH6" | cut -f1 | sort -u >"$hitlist"
outside=$(python3 -c '
import ipaddress, sys
lab = ipaddress.ip_network("2001:2::/48")
print(" ".join(l.strip() for l in open(sys.argv[1]) if ipaddress.ip_address(l.strip()) not in lab))' "$hitlist")
is "$outside" "" "every hitlist address lies in 2001:2::/48"
n_hosts=$(wc -l <"$hitlist")
[ "$n_hosts" -ge 5 ] && ok "the hitlist has $n_hosts hosts" || not_ok "the hitlist has only $n_hosts hosts"

if timeout 300 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip6 "$V1_SCAN_IP6" --targets-file "$hitlist" --ports "$PORTS_CSV" \
    --allow-reserved "$NET6" --timeout-ms 1500 --retransmit-ms 500 --rate 5000 --all \
    --output "$out" 2>"$err"; then
    ok "IPv6 scan of the lab ran to the end"
else
    not_ok "IPv6 scan of the lab ran to the end"
    diag "$(tail -20 "$err")"
fi

if diff_out=$("$LAB_ROOT/tests/lab/tools/compare-truth" "$LAB_TRUTH6" "$out" --single-vantage); then
    ok "every truth6 row has its single-vantage class and protocol"
else
    not_ok "every truth6 row has its single-vantage class and protocol"
    diag "$diff_out"
fi

rows6() { grep -v '^#' "$LAB_TRUTH6"; }
rows=$(rows6 | wc -l)
got=$(jq -r 'select(.class != "silent") | .ip + ":" + (.port|tostring)' "$out" | sort -u | wc -l)
want=$(rows6 | awk -F'\t' '$3 != "shunning" && $3 != "dynamic_blocking"' | wc -l)
[ "$got" -ge "$want" ] && ok "answered records ($got) cover the $want truth6 rows a vantage sees of $rows" ||
    not_ok "answered records ($got) cover the $want truth6 rows a vantage sees of $rows"
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
done_testing
