#!/usr/bin/env bash
# The coordinator stalls mid-scan (SIGSTOP for 6 s, shorter than the lease timeout): the
# worker's record queue fills, the thread that hands records on waits, and the SYN walk must
# wait with it — otherwise SYN-ACKs pile up unread and the kernel drops them. After SIGCONT
# every address of the 65,536-address load range has exactly one record, named http, and the
# worker's capture dropped nothing.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup
coord_start
worker_start v1
wait_until 15 sh -c "'$COORD_BIN' workers --db '$CW/lzr.db' | grep -q '^v1 '" ||
    bail_out "v1 did not register"
cat >"$CW/job.toml" <<JOB
name = "stall"
targets = "$LOAD_CIDR"
allow_reserved = "198.18.0.0/15"
ports = "80"
rate = 20000
shards = 1
timeout_ms = 1000
JOB
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
check "v1 sends results" wait_until 20 sh -c \
    "[ -n \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT 1 FROM results LIMIT 1\")\" ]"
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
