#!/usr/bin/env bash
# kill -9 one worker mid-job: its lease expires after 10 s without heartbeats, the shard goes
# back to the pool, the other worker finishes it, and no (ip, port) is missing or doubled.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1 v2
write_job "$CW/job.toml" 1200 8
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
kill_v1_mid_job "$job"
like "$(cat "$CW/coord.log")" "lease\(s\) expired|session ended \(no heartbeat\)" \
    "the coordinator noticed v1's silence"
is "$(grep -c 'dropped (' "$CW/coord.log")" "0" \
    "no message of an honest worker was refused by the trust checks"
check_results "$job"
done_testing
