#!/usr/bin/env bash
# The IPv6 twin of 0300-coord-2: kill -9 one worker in the middle of a job of both families (the
# truth6 hitlist and its IPv4 twins); its lease expires after 10 s without heartbeats, the other
# worker finishes its shard, and no (address, port) of either family is missing or doubled.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup
coord_start
worker_start6 v1
worker_start6 v2
wait_registered v1 v2
write_job6 "$CW/job.toml" 40 8
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
held() { sqlite3 -readonly "$CW/lzr.db" "SELECT idx FROM shards WHERE state='leased' AND lease_owner='v1'"; }
check "v1 holds a shard and has sent results" wait_until 40 \
    sh -c "[ -n \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT 1 FROM results WHERE worker='v1' LIMIT 1\")\" ] && [ -n \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT idx FROM shards WHERE state='leased' AND lease_owner='v1'\")\" ]"
shard=$(held | head -1)
kill -9 "$V1_PID"
diag "killed v1 (pid $V1_PID) while it held shard $shard"
if wait_job_done "$job" 300; then ok "the job is done without v1"; else not_ok "the job is done without v1"; fi
like "$(grep "shard $shard done" "$CW/coord.log")" "worker v2: job $job shard $shard done" \
    "v1's shard $shard was finished by v2"
check_results6 "$job"
is "$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*) FROM results WHERE typeof(ip) = 'blob'")" \
    "$(jq -r 'select(.ip | contains(":")) | .ip' "$CW/results.jsonl" | wc -l)" \
    "the store holds every IPv6 address as a BLOB"
"$LAB" reset >/dev/null 2>&1
done_testing
