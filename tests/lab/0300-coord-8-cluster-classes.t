#!/usr/bin/env bash
# A cluster job gives the classes of the standalone engine (0200-scan-truth) on every row, three
# runs in a row: two workers, eight shards, the job's default timeouts, so each worker runs one
# shard after another while hosts of the previous shard still answer late — the mid-handshake-
# drop host retransmits its SYN-ACK for seconds. Each shard has its own cookie key, so such a
# late SYN-ACK is never taken for a target of the next shard (which would store no_ack_data with
# no retransmit over the right row). Also: a short job without `shards` gives both workers work.
# LZR_RUNS="1" runs one cluster job instead of three (for a quick look).
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1 v2

mhd=$(truth_rows mid_handshake_drop | cut -f1 | sort -u)
[ -n "$mhd" ] || bail_out "the truth lists no mid-handshake-drop host"
for run in ${LZR_RUNS:-1 2 3}; do
    write_job "$CW/job.toml" 10000 8
    # the job's defaults, not write_job's short timeouts
    sed -i '/^timeout_ms/d; /^retransmit_ms/d; /^acking_firewall_probes/d' "$CW/job.toml"
    job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
    if wait_job_done "$job" 300; then ok "run $run: the job is done"; else not_ok "run $run: the job is done"; fi
    check_results "$job"
    is "$(jq -r '.worker' "$CW/results.jsonl" | sort -u | tr '\n' ' ')" "v1 v2 " \
        "run $run: both workers scanned"
    for h in $mhd; do
        is "$(jq -r --arg ip "$h" 'select(.ip == $ip and .class != "silent") | "\(.class) \(.synack_retransmits > 0)"' "$CW/results.jsonl" | sort -u)" \
            "mid_handshake_drop true" "run $run: every port of $h is mid_handshake_drop with retransmits seen"
    done
    "$LAB" reset >/dev/null 2>&1
done

# Item 5 of the issue: a job of a few seconds, no `shards` key, two workers connected.
{
    echo 'name = "short"'
    echo 'targets = "198.18.16.0/28"'
    echo 'allow_reserved = "198.18.0.0/15"'
    echo 'ports = "80,443"'
    echo 'rate = 100'
    echo 'report_all = true'
} >"$CW/short.toml"
job=$(coordctl submit "$CW/short.toml" 2>"$CW/short.err")
like "$(cat "$CW/short.err")" "in 2 shards" "a short job is cut into one shard per connected worker"
if wait_job_done "$job" 60; then ok "the short job is done"; else not_ok "the short job is done"; fi
is "$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(DISTINCT worker) FROM results WHERE job_id = $job")" 2 \
    "both workers scanned part of the short job"
done_testing
