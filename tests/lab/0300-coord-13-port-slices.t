#!/usr/bin/env bash
# Pipelined shards on one worker keep out of each other's captures. One worker scans the load
# range (every address answers on port 80) in 8 shards at 20,000/s: each shard's walk takes
# ~0.4 s and its tails seconds more, so the next shards start while earlier ones drain. Each
# run scans from its own slice of the worker's source ports (40000-65535 cut in 16) and its
# capture filter passes only that slice: the runs that overlapped used disjoint slices, and the
# engines, summed over the job, counted under 10 % `invalid` frames (without the slices every
# draining engine reads, and rejects, the replies of the shards beside it: ~850,000 a job, and now
# and then takes one for a target of its own). Each shard's engine emitted one record per SYN,
# and every address has exactly one record, named http. Then the same job again: see below.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1
# A 5 s timeout: one nginx worker answers the whole range, and on a loaded 2-core host its queue
# of accepted connections has run past 1 s (a CI run named only 42,752 addresses with 1 s).
write_load_job "$CW/job.toml" slices 20000 8 5000
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
if wait_job_done "$job" 120; then ok "the job is done"; else not_ok "the job is done"; fi
check_slices_job "$job" "$CW/v1.log" 40000 65535

# The same job again at once. A shard that starts while another run reads the worker's own
# capture handle borrows one instead of opening its own, which costs ~230 ms before its first
# SYN here (cappool.c): one an earlier run opened and left, or one the worker opened, on a
# thread of its own, while the shard before it walked. In the first job, shards get handles
# opened ahead of them; the second job finds every handle the first one made (the worker's own
# and up to 7 kept) and opens one for a shard only when it holds more shards at once than that.
held1=$MAX_HELD
opened1=$(grep -c "capture opened for it" "$CW/v1.log")
ahead1=$(grep -c "capture opened ahead of it" "$CW/v1.log")
lines=$(wc -l <"$CW/v1.log")
diag "job 1: at most $held1 shards at once; captures opened ahead of a shard $ahead1, for one $opened1"
diag "job 1: first SYN after each shard's engine started (ms): $(grep -o "first SYN [0-9.]* ms" \
    "$CW/v1.log" | awk '{ printf "%s ", $3 }')"
if [ "$ahead1" -ge 1 ]; then ok "the first job's shards found handles opened ahead of them"
else not_ok "the first job's shards found handles opened ahead of them"; fi
write_load_job "$CW/job2.toml" slices2 20000 8 5000
job2=$(coordctl submit "$CW/job2.toml" 2>>"$CW/cli.log")
if wait_job_done "$job2" 120; then ok "the second job is done"; else not_ok "the second job is done"; fi
tail -n +"$((lines + 1))" "$CW/v1.log" >"$CW/v1-job2.log"
check_slices_job "$job2" "$CW/v1-job2.log" 40000 65535
opened2=$(grep -c "capture opened for it" "$CW/v1-job2.log")
made=$((1 + opened1 + ahead1))
kept=$((made < 8 ? made : 8))
allowed=$((MAX_HELD > kept ? MAX_HELD - kept : 0))
diag "job 2: at most $MAX_HELD shards at once; captures opened for one $opened2 (the first job left $kept)"
diag "job 2: first SYN after each shard's engine started (ms): $(grep -o "first SYN [0-9.]* ms" \
    "$CW/v1-job2.log" | awk '{ printf "%s ", $3 }')"
if [ "$opened2" -le "$allowed" ]; then
    ok "the second job reused the first job's capture handles ($opened2 opened for a shard, at most $allowed)"
else
    not_ok "the second job reused the first job's capture handles ($opened2 opened for a shard, at most $allowed)"
fi
done_testing
