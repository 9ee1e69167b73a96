#!/usr/bin/env bash
# Two workers in two vantage namespaces scan the whole lab through the coordinator: the job
# finishes, the database holds exactly one record per (ip, port), the single-vantage truth,
# and each record is tagged with the worker and scan IP that produced it.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1 v2
ok "both workers registered"
workers=$(coordctl workers)
like "$workers" "v1 +$V1_SCAN_IP +${V1_FRESH_IPS// /,}" "workers lists v1 with its scan and fresh IPs"

write_job "$CW/job.toml" 4000 6
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
is "$job" "1" "submit prints the job id"
if wait_job_done "$job" 240; then ok "the job is done"; else not_ok "the job is done"; fi
status=$(coordctl status "$job")
like "$status" "done; shards 6 done, 0 leased, 0 pending of 6" "status shows every shard done"

check_results "$job"
is "$(jq -r '.worker' "$CW/results.jsonl" | sort -u | tr '\n' ' ')" "v1 v2 " \
    "both workers produced results"
is "$(jq -r 'select(.worker == "v1") | .source_ip' "$CW/results.jsonl" | sort -u)" "$V1_SCAN_IP" \
    "v1's records carry v1's scan IP"
is "$(jq -r 'select(.worker == "v2") | .source_ip' "$CW/results.jsonl" | sort -u)" "$V2_SCAN_IP" \
    "v2's records carry v2's scan IP"
z=$(coordctl results "$job" --format zgrab2)
like "$z" "^198\.18\.[0-9.]+,,[a-z0-9]+,[0-9]+" "zgrab2 export lists identified services"
is "$(coordctl results "$job" --format csv --class service | tail -n +2 | wc -l)" \
    "$(jq -r 'select(.class == "service")' "$CW/results.jsonl" | jq -s length)" \
    "csv export with --class service has one line per service"
done_testing
