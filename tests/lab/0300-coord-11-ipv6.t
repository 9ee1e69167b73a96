#!/usr/bin/env bash
# A cluster job of both families: two workers, each with an IPv4 and an IPv6 scan IP, scan every
# truth6 host (an IPv6 hitlist) and its IPv4 twin on the truth's ports. The job finishes, the
# database holds exactly one record per (address, port) of either family, every record matches
# the single-vantage truth, each family's records carry the worker's scan IP of that family, and
# the exports write IPv6 text. Only 2001:2::/48 and 198.18.0.0/15 are ever a destination.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up6 v1 v2
workers=$(coordctl workers)
like "$workers" "v1: IPv6 scan IP $V1_SCAN_IP6" "workers lists v1's IPv6 scan IP"

write_job6 "$CW/job.toml" 2000 4
like "$(cat "$CW/job.toml")" '"2001:2:0:16::[0-9a-f]+"' "the job's targets hold IPv6 addresses"
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
is "$job" "1" "submit prints the job id"
if wait_job_done "$job" 240; then ok "the job is done"; else not_ok "the job is done"; fi
like "$(coordctl status "$job")" "done; shards 4 done, 0 leased, 0 pending of 4" "every shard done"

check_results "$job" "$CW/truth-both.tsv" "$JOB6_SIZE"
for v in v1 v2; do
    ip4_var=${v^^}_SCAN_IP ip6_var=${v^^}_SCAN_IP6
    is "$(jq -r --arg w "$v" 'select(.worker == $w and (.ip | contains(":"))) | .source_ip' "$CW/results.jsonl" | sort -u)" \
        "${!ip6_var}" "$v's IPv6 records carry its IPv6 scan IP"
    is "$(jq -r --arg w "$v" 'select(.worker == $w and (.ip | contains(":") | not)) | .source_ip' "$CW/results.jsonl" | sort -u)" \
        "${!ip4_var}" "$v's IPv4 records carry its IPv4 scan IP"
done
n6=$(jq -r 'select(.ip | startswith("2001:2:")) | .ip' "$CW/results.jsonl" | sort -u | wc -l)
is "$n6" "$(grep -v '^#' "$LAB_TRUTH6" | cut -f1 | sort -u | wc -l)" "every IPv6 host of the hitlist has records"
is "$(jq -r 'select(.class == "service" and (.ip | startswith("2001:2:"))) | .protocol' "$CW/results.jsonl" | grep -c .)" \
    "$(awk -F'\t' '!/^#/ && $3 == "service"' "$LAB_TRUTH6" | wc -l)" "every IPv6 service of the truth is named"
like "$(coordctl results "$job" --format zgrab2)" "(^|"$'\n'")2001:2:0:16::[0-9a-f]+,,[a-z0-9]+,[0-9]+" \
    "the zgrab2 export lists IPv6 services"
coordctl results "$job" --format csv >"$CW/results.csv"
like "$(grep -m1 '^2001:2:' "$CW/results.csv")" "^2001:2:[0-9a-f:]+,[0-9]+," "the csv export writes IPv6 text"
is "$(grep -c 'dropped (' "$CW/coord.log")" "0" "no record of an honest worker was refused by the trust checks"
"$LAB" reset >/dev/null 2>&1
done_testing
