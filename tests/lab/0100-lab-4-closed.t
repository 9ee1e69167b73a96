#!/usr/bin/env bash
# Every `closed` row of the truth RSTs a SYN, from both vantages' scan IPs and a fresh IP; and every
# (ip, port) of a truth address on the truth's port list that the truth does not list is silent,
# so a scanner that finds anything there has found something the lab did not put there.
. "$(dirname "$0")/lib.sh"
lab_env

closed=$(truth_rows closed | awk -F'\t' '{print $1 ":" $2}')
check "closed rows exist" test -n "$closed"
for v in "$V1_NS $V1_SCAN_IP" "$V1_NS $V1_FRESH_IP" "$V2_NS $V2_SCAN_IP"; do
    set -- $v
    out=$(probe "$1" "$2" --wait 1 syn - <<<"$closed")
    while read -r ip port rest; do
        like "$rest" "^result=rst " "closed $ip:$port RSTs a SYN from $2"
    done <<<"$out"
done

# Silent complement: truth IPs x PORTS minus the truth rows.
silent=$(python3 - "$LAB_TRUTH" "$PORTS" <<'PY'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]) if not l.startswith("#")]
have = {(r[0], r[1]) for r in rows}
ips = sorted({r[0] for r in rows})
for ip in ips:
    for p in sys.argv[2].split():
        if (ip, p) not in have:
            print("%s:%s" % (ip, p))
PY
)
n=$(wc -w <<<"$silent")
diag "$n unlisted (ip, port) pairs on truth addresses"
# From the last fresh IP of v1, which no other lab test uses.
out=$(probe "$V1_NS" "${V1_FRESH_IPS##* }" --wait 1.5 syn - <<<"$silent")
answered=$(grep -v 'result=none' <<<"$out" || true)
is "$answered" "" "no unlisted (ip, port) on a truth address answers ($n probed)"
is "$(grep -c 'result=none' <<<"$out")" "$n" "every unlisted pair was probed"

done_testing
