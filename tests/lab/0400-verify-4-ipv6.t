#!/usr/bin/env bash
# The IPv6 twin of 0400-verify-1-cluster.t: a cluster job of both families with
# `[vantage] verify = true`. Two workers, each with an IPv4 and an IPv6 scan IP and fresh IPs of
# both families, scan every truth6 host (an IPv6 hitlist) and its IPv4 twin. The coordinator
# re-probes the candidates of each family from the original scan IP of that family and a fresh
# IP of the other worker in that family, runs the trigger test from a further one, and only then
# calls the job done. Every shunning and dynamic-blocking host of either family gets its verdict
# on every row; never-acking and filtered hosts are not_blocking; fresh IPs are burned per host
# in contacts; the verdict export writes IPv6 text, and the report blocks IPv6 hosts as IPv6
# prefixes.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up6 v1 v2

write_job6 "$CW/job.toml" 2000 2
printf '[vantage]\nmin_workers = 2\nverify = true\n' >>"$CW/job.toml"
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
is "$job" "1" "submit prints the job id"
if wait_job_done "$job" 300; then ok "the job is done after verification"; else not_ok "the job is done after verification"; fi
like "$(coordctl status "$job")" "[0-9]+ verdicts" "status counts the verdicts"

coordctl results "$job" --verdicts >"$CW/verdicts.jsonl"
coordctl results "$job" >"$CW/results.jsonl"
diag "$(jq -c '[.ip,.port,.verdict,.original_ip,.fresh_ip,.evidence.orig,.evidence.fresh,.evidence.after_bare,.evidence.after_data,.evidence.note]' "$CW/verdicts.jsonl")"
verdict() { jq -r --arg ip "$1" 'select(.ip == $ip) | .verdict' "$CW/verdicts.jsonl"; }
hosts() { awk -F'\t' -v c="$1" '!/^#/ && $3 == c {print $1}' "$CW/truth-both.tsv" | sort -u; }
shun=$(hosts shunning)
dyn=$(hosts dynamic_blocking)
grep -q : <<<"$shun" && grep -q : <<<"$dyn" ||
    bail_out "the job's truth lists no IPv6 shunning or dynamic-blocking host"
for h in $shun; do is "$(verdict "$h")" shunning "shunning host $h is called shunning"; done
for h in $dyn; do is "$(verdict "$h")" dynamic_blocking "dynamic-blocking host $h is called dynamic_blocking"; done
for h in $shun $dyn; do
    want=$(verdict "$h")
    rows=$(jq -r --arg ip "$h" 'select(.ip == $ip) | .verdict' "$CW/results.jsonl")
    is "$(grep -cx "$want" <<<"$rows")/$(wc -l <<<"$rows")" "$(wc -l <<<"$rows")/$(wc -l <<<"$rows")" \
        "every row of $h carries $want"
done
for h in $(hosts no_ack_data); do
    is "$(verdict "$h")" not_blocking "never-acking middlebox $h is not_blocking"
done
filtered=$(awk -F'\t' '!/^#/ && $5 ~ /filtered/ {print $1}' "$CW/truth-both.tsv" | sort -u)
grep -q : <<<"$filtered" || bail_out "the job's truth lists no IPv6 filtered host"
for h in $filtered; do is "$(verdict "$h")" not_blocking "filtered host $h is not_blocking"; done
bad=$(jq -r 'select(.verdict == "churn" or .verdict == "unverified" or .verdict == "transient") |
    "\(.ip) \(.verdict)"' "$CW/verdicts.jsonl")
is "$bad" "" "no host is called churn, unverified or transient"
wrong=$(jq -r 'select(.verdict == "shunning" or .verdict == "dynamic_blocking") | .ip' "$CW/verdicts.jsonl" |
    grep -vxF -e "${shun// /$'\n'}" -e "${dyn// /$'\n'}" || true)
is "$wrong" "" "no other host is called shunning or dynamic_blocking"

# Addresses of the verdicts: an IPv6 host's original, fresh and trigger IPs are IPv6 and the
# right workers'; an IPv4 host's are IPv4.
fam=$(jq -r 'select(.verdict == "shunning" or .verdict == "dynamic_blocking") |
    [(.ip | contains(":")), (.original_ip | contains(":")), (.fresh_ip | contains(":")),
     (.evidence.trigger_ip | contains(":"))] | map(tostring) | join(" ")' "$CW/verdicts.jsonl" |
    sort -u)
is "$fam" "false false false false"$'\n'"true true true true" \
    "each verdict's original, fresh and trigger IPs are of its host's family"
owner_check=$(jq -r --arg s1 "$V1_SCAN_IP6" --arg s2 "$V2_SCAN_IP6" --arg f1 " $V1_FRESH_IPS6 " \
    --arg f2 " $V2_FRESH_IPS6 " 'select(.ip | contains(":")) | select(.fresh_ip != "") | . as $v |
    (if ($f1 | contains(" " + $v.fresh_ip + " ")) then $s1 elif ($f2 | contains(" " + $v.fresh_ip + " ")) then $s2 else "nobody" end) as $owner |
    select($owner == $v.original_ip or $owner == "nobody" or
        ($v.original_ip != $s1 and $v.original_ip != $s2)) | $v.ip' "$CW/verdicts.jsonl") ||
    owner_check="jq failed"
is "$owner_check" "" "each IPv6 fresh IP belongs to the worker that did not scan the host"
n6=$(jq -r 'select(.ip | contains(":")) | select(.fresh_ip != "") | .ip' "$CW/verdicts.jsonl" | wc -l)
[ "$n6" -ge 3 ] && ok "$n6 IPv6 hosts were re-probed from an IPv6 fresh IP" ||
    not_ok "only $n6 IPv6 hosts were re-probed from an IPv6 fresh IP"
n_burned=$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*) FROM contacts c JOIN verdicts v
    ON v.job_id = c.job_id AND v.ip = c.ip AND v.fresh_ip = c.source_ip
    WHERE typeof(v.ip) = 'blob' AND length(c.source_ip) = 16")
is "$n_burned" "$n6" "every IPv6 fresh IP used is recorded in contacts for its host"
coordctl results "$job" --verdicts --format csv >"$CW/verdicts.csv"
like "$(grep -m1 '^2001:2:' "$CW/verdicts.csv")" "^2001:2:[0-9a-f:]+,[0-9]+,[a-z_]+,2001:2::[0-9a-f]+," \
    "the CSV verdict table writes IPv6 text"

# The report puts the IPv6 hosts into blocks of IPv6 prefixes, in a table of their own.
check "report runs" sh -c "timeout 30 '$COORD_BIN' report $job --db '$CW/lzr.db' >'$CW/report.txt'"
diag "$(cat "$CW/report.txt")"
v6table=$(sed -n '/^Blocks of consecutive IPv6 addresses/,/^$/p' "$CW/report.txt")
like "$v6table" "/128 +/127-/121 +/120 +larger" "the IPv6 block table has IPv6 bins"
like "$(grep -m1 '^shunning ' <<<"$v6table")" "^shunning +1 +1 +1 +0 +0 +0$" \
    "IPv6 block table: one shunning /128 (2001:2:0:32::20)"
like "$(cat "$CW/report.txt")" "2001:2:0:16::[0-9a-f]+ - 2001:2:0:16::[0-9a-f]+ +[0-9]+ addresses \(/127-/121\) +service" \
    "the IPv6 services' run is one block, listed with IPv6 text"
"$LAB" reset >/dev/null 2>&1
done_testing
