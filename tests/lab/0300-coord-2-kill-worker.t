#!/usr/bin/env bash
# kill -9 one worker mid-job: its lease expires after 10 s without heartbeats, the shard goes
# back to the pool, the other worker finishes it, and no (ip, port) is missing or doubled.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1 v2
write_job "$CW/job.toml" 1200 8
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
held() { sqlite3 -readonly "$CW/lzr.db" "SELECT idx FROM shards WHERE state='leased' AND lease_owner='v1'"; }
check "v1 holds a shard and has sent results" wait_until 30 \
    sh -c "[ -n \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT 1 FROM results WHERE worker='v1' LIMIT 1\")\" ] && [ -n \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT idx FROM shards WHERE state='leased' AND lease_owner='v1'\")\" ]"
shard=$(held | head -1)
kill -9 "$V1_PID"
diag "killed v1 (pid $V1_PID) while it held shard $shard"
if wait_job_done "$job" 300; then ok "the job is done without v1"; else not_ok "the job is done without v1"; fi
like "$(grep "shard $shard done" "$CW/coord.log")" "worker v2: job $job shard $shard done" \
    "v1's shard $shard was finished by v2"
like "$(cat "$CW/coord.log")" "lease\(s\) expired|session ended \(no heartbeat\)" \
    "the coordinator noticed v1's silence"
is "$(grep -c 'dropped (' "$CW/coord.log")" "0" \
    "no message of an honest worker was refused by the trust checks"
check_results "$job"
done_testing
