#!/usr/bin/env bash
# Pipelined shards on one worker keep out of each other's captures. One worker scans the load
# range (every address answers on port 80) in 8 shards at 20,000/s: each shard's walk takes
# ~0.4 s and its tails seconds more, so the next shards start while earlier ones drain. Each
# run scans from its own slice of the worker's source ports (40000-65535 cut in 16) and its
# capture filter passes only that slice: the runs that overlapped used disjoint slices, and the
# engines, summed over the job, counted under 10 % `invalid` frames (without the slices every
# draining engine reads, and rejects, the replies of the shards beside it: ~850,000 a job, and now
# and then takes one for a target of its own). Each shard's engine emitted one record per SYN,
# and every address has exactly one record, named http.
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
done_testing
