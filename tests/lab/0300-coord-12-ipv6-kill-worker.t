#!/usr/bin/env bash
# The IPv6 twin of 0300-coord-2: kill -9 one worker in the middle of a job of both families (the
# truth6 hitlist and its IPv4 twins); its lease expires after 10 s without heartbeats, the other
# worker finishes its shard, and no (address, port) of either family is missing or doubled. The
# IPv6 hosts come as a hitlist file (targets_file), stored with the job at submission.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up6 v1 v2
write_job6 "$CW/job.toml" 40 8 hitlist
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
like "$(sqlite3 -readonly "$CW/lzr.db" "SELECT toml FROM jobs WHERE id = $job")" \
    '\[files\]'$'\n''targets = \[[^]]*"2001:2:0:16::[0-9a-f]+"' "the job stores the hitlist's IPv6 lines"
kill_v1_mid_job "$job"
check_results "$job" "$CW/truth-both.tsv" "$JOB6_SIZE"
is "$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*) FROM results WHERE typeof(ip) = 'blob'")" \
    "$(jq -r 'select(.ip | contains(":")) | .ip' "$CW/results.jsonl" | wc -l)" \
    "the store holds every IPv6 address as a BLOB"
"$LAB" reset >/dev/null 2>&1
done_testing
