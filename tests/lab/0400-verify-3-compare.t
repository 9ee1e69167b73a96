#!/usr/bin/env bash
# Comparison across vantage points: two workers scan the lab with `[vantage] compare = 2` and
# `verify = true`. Every shard is scanned twice, each time from the other scan IP, so every
# (address, port) is stored from both scan IPs; results keeps the union. `lzr-coord compare`
# shows per vantage what it saw and the services found with one source IP against both
# together (the union is never below either); each shunning and dynamic-blocking host of the
# truth is either seen from only some vantages or carries the truth's verdict; the report has the
# comparison as a section and an SVG panel.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1

write_job "$CW/job.toml" 6000 2
printf '[vantage]\nverify = true\ncompare = 2\n' >>"$CW/job.toml"
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
is "$job" "1" "submit prints the job id"
# Alone, v1 scans the first pass; the second pass waits for another scan IP, and says so.
check "status says the second pass waits for a scan IP" wait_until 30 \
    sh -c "'$COORD_BIN' status $job --db '$CW/lzr.db' | grep -q '1 of 2 scan IPs connected'"
check "v1 finished its pass and leases nothing more" wait_until 60 \
    sh -c "[ \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT count(*) FROM shards WHERE job_id = $job AND state = 'done'\")\" = 2 ]"
sleep 1
is "$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*) FROM shards WHERE job_id = $job AND state <> 'pending' AND pass = 1")" \
    0 "the second pass is not given to the scan IP of the first"
worker_start v2
wait_registered v2
wait_job_done "$job" 150
is "$(job_state "$job")" done "the job is done after both passes and verification"

V1=$(python3 -c "import ipaddress,sys; print(int(ipaddress.ip_address(sys.argv[1])))" "$V1_SCAN_IP")
V2=$(python3 -c "import ipaddress,sys; print(int(ipaddress.ip_address(sys.argv[1])))" "$V2_SCAN_IP")
size=$(lab_size)
q() { sqlite3 -readonly "$CW/lzr.db" "$1"; }
is "$(q "SELECT count(*) FROM vantage_results WHERE job_id = $job AND source_ip = $V1")" "$size" \
    "every (address, port) is stored from v1's scan IP"
is "$(q "SELECT count(*) FROM vantage_results WHERE job_id = $job AND source_ip = $V2")" "$size" \
    "every (address, port) is stored from v2's scan IP"
is "$(q "SELECT count(*) FROM shards a JOIN shards b ON a.job_id = b.job_id AND a.pos_begin = b.pos_begin AND a.pass < b.pass WHERE a.job_id = $job AND a.scan_ip = b.scan_ip")" \
    0 "no shard is scanned twice from the same scan IP"
# results holds the union of both passes: still one row per target, and the truth.
check_results "$job"

check "compare runs" sh -c "'$COORD_BIN' compare $job --db '$CW/lzr.db' >'$CW/compare.txt'"
diag "$(cat "$CW/compare.txt")"
check "compare --format jsonl runs" sh -c "'$COORD_BIN' compare $job --db '$CW/lzr.db' --format jsonl >'$CW/compare.jsonl'"
check "compare --format csv runs" sh -c "'$COORD_BIN' compare $job --db '$CW/lzr.db' --format csv >'$CW/compare.csv'"
is "$(jq -r 'select(.kind == "vantage") | .vantage' "$CW/compare.jsonl" | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "$V1_SCAN_IP" "$V2_SCAN_IP" | sort | tr '\n' ' ')" "one vantage per scan IP"
union=$(jq -r 'select(.kind == "union") | .services' "$CW/compare.jsonl")
[ -n "$union" ] && [ "$union" -gt 0 ] && ok "services found together: $union" || not_ok "services found together: '$union'"
for s in $(jq -r 'select(.kind == "vantage" or .kind == "pass") | (.classes.service // .services // 0)' "$CW/compare.jsonl"); do
    [ "$s" -le "$union" ] && ok "one source IP ($s) finds no more than both together ($union)" ||
        not_ok "one source IP ($s) finds more than both together ($union)"
done
is "$(q "SELECT count(*) FROM results WHERE job_id = $job AND class = 'service'")" "$union" \
    "the union is the services of the results table"

# Each shunning or dynamic-blocking host: seen from only some vantages, or the truth's verdict.
hosts() { truth_rows "$1" | cut -f1 | sort -u; }
coordctl results "$job" --verdicts >"$CW/verdicts.jsonl"
for b in shunning dynamic_blocking; do
    for h in $(hosts $b); do
        some=$(jq -r --arg ip "$h" 'select(.kind == "only_some" and .ip == $ip) | .what' "$CW/compare.jsonl" | head -1)
        v=$(jq -r --arg ip "$h" 'select(.ip == $ip) | .verdict' "$CW/verdicts.jsonl" | head -1)
        if [ -n "$some" ] || [ "$v" = "$b" ]; then
            ok "$b host $h: ${some:+seen from only some vantages ($some)}${some:+; }verdict ${v:-none}"
        else
            not_ok "$b host $h: neither seen from only some vantages nor called $b (verdict ${v:-none})"
        fi
    done
done
bad=$(jq -r 'select(.kind == "only_some" and .verdict != null) | .verdict' "$CW/compare.jsonl" |
    grep -vxE 'shunning|dynamic_blocking|blocking|churn|transient|unverified|not_blocking' || true)
is "$bad" "" "items seen from only some vantages carry verdict names only"

check "report runs" sh -c "'$COORD_BIN' report $job --db '$CW/lzr.db' --svg '$CW/report.svg' >'$CW/report.txt'"
like "$(cat "$CW/report.txt")" "Comparison across vantage points: job $job" "the report has the comparison section"
like "$(cat "$CW/report.svg")" "<title>all together: $union services</title>" "the SVG has the comparison panel"
check "the SVG is well-formed XML" python3 -c "import sys,xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" "$CW/report.svg"
if [ -n "${LZR_KEEP_REPORT:-}" ]; then
    mkdir -p "$LZR_KEEP_REPORT" && cp "$CW"/compare.* "$CW"/report.* "$LZR_KEEP_REPORT"/
fi
"$LAB" reset >/dev/null 2>&1
done_testing
