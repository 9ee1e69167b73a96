#!/usr/bin/env bash
# kill -9 the coordinator mid-job and start it again on the same database: the workers register
# again (keeping the shards they hold), the job completes, and the result set is complete, with
# no (ip, port) doubled and every class as in the single-vantage truth.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1 v2
write_job "$CW/job.toml" 1500 8
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
check "results are arriving" wait_until 30 \
    sh -c "[ \"\$(sqlite3 -readonly '$CW/lzr.db' 'SELECT count(*) FROM results')\" -gt 100 ]"
kill -9 "$COORD_PID"
before=$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*) FROM results")
diag "killed the coordinator with $before results stored"
sleep 2
coord_start
check "the restarted coordinator resumes the job" wait_until 5 grep -q "resuming job $job" "$CW/coord.log"
if wait_job_done "$job" 300; then ok "the job is done"; else not_ok "the job is done"; fi
like "$(cat "$CW/v1.log" "$CW/v2.log")" "register again" "workers registered again"
is "$(grep -c 'dropped (' "$CW/coord.log")" "0" \
    "no message of an honest worker was refused by the trust checks"
check_results "$job"
done_testing
