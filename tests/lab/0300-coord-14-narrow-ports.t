#!/usr/bin/env bash
# A worker whose source ports are too few for sixteen slices. Worker v1 scans from 40000-41023:
# four slices of 256 ports, so it may hold at most four shards at once, each on its own slice
# (it tells the coordinator that its walk is done only when a slice is free for the next
# shard). The load range in 8 shards at 20,000/s: the shards still overlap, never more than
# four at once, never two on one port; each shard's engine emits one record per SYN (a run
# sharing its ports would read the other shards' bare ACKs and take a few for challenge ACKs to
# its own SYNs, probing targets outside its shard), the coordinator refuses no record, and every
# address is named http once.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup
coord_start
worker_start v1 --source-ports 40000-41023
wait_registered v1
write_load_job "$CW/job.toml" narrow 20000 8 5000 # 5 s: see 0300-coord-13
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
if wait_job_done "$job" 120; then ok "the job is done"; else not_ok "the job is done"; fi
check_slices_job "$job" "$CW/v1.log" 40000 41023
if [ "$MAX_HELD" -le 4 ]; then
    ok "the worker held at most four shards at once ($MAX_HELD)"
else
    not_ok "the worker held $MAX_HELD shards at once, with four slices"
fi
is "$(grep -c "record(s) refused" "$CW/coord.log")" 0 "the coordinator refused no record"
done_testing
