#!/usr/bin/env bash
# The coordinator stalls mid-scan (SIGSTOP for 6 s, shorter than the lease timeout): the
# worker's record queue fills, the thread that hands records on waits, and the SYN walk must
# wait with it — otherwise SYN-ACKs pile up unread and the kernel drops them. After SIGCONT
# every address of the 65,536-address load range has exactly one record, named http, and the
# worker's capture dropped nothing.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1
write_load_job "$CW/job.toml" stall 20000 1
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
check "v1 sends results" wait_results v1
kill -STOP "$COORD_PID"
sleep 6
kill -CONT "$COORD_PID"
if wait_job_done "$job" 120; then ok "the job is done"; else not_ok "the job is done"; fi
like "$(cat "$CW/v1.log")" "records wait for the coordinator's acks" \
    "the worker's record queue filled while the coordinator stalled"
like "$(grep "shard 0 done" "$CW/v1.log")" " 0 pcap drops" "the capture dropped no reply"
n=$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*), count(DISTINCT ip),
    sum(class = 'service' AND protocol = 'http') FROM results WHERE job_id = $job")
is "$n" "65536|65536|65536" "one record per address, none doubled, every one named http"
done_testing
