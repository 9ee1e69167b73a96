#!/usr/bin/env bash
# A job's rate is a total, whatever the number of workers: v1 scans alone at the job's 2,000/s;
# when v2 joins, v2's Assign and a SetRate to v1 split it, and v1's SYN walk slows to 1,000/s
# at once, mid-shard. Rates are counted from the stored records' timestamps, in 3 s windows.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1
write_load_job "$CW/job.toml" rate 2000 2
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")

check "v1 is scanning" wait_results v1
sleep 4
worker_start v2
check "the coordinator re-splits the rate" wait_until 20 grep -q "v1 now at 1000/s" "$CW/coord.log"
check "v1 is told its new share" wait_until 5 grep -q "rate now 1000/s" "$CW/v1.log"
sleep 6

# Every address of the load range answers, so a worker's records per second of their
# timestamps is its SYN rate. Windows: 3 s before v2's first record and 3 s from 1 s after it.
per_s() { # worker, window start and end in µs
    sqlite3 -readonly "$CW/lzr.db" \
        "SELECT count(*) / 3 FROM results WHERE worker = '$1' AND ts_us >= $2 AND ts_us < $3"
}
t2=$(sqlite3 -readonly "$CW/lzr.db" "SELECT min(ts_us) FROM results WHERE worker = 'v2'")
alone=$(per_s v1 $((t2 - 4000000)) $((t2 - 1000000)))
shared=$(per_s v1 $((t2 + 1000000)) $((t2 + 4000000)))
v2rate=$(per_s v2 $((t2 + 1000000)) $((t2 + 4000000)))
diag "records/s: v1 alone $alone, v1 beside v2 $shared, v2 $v2rate"
in_range() { if [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; then ok "$4"; else not_ok "$4"; fi; }
in_range "$alone" 1700 2300 "v1 alone scans at the job's rate (2,000/s)"
in_range "$shared" 850 1150 "beside v2, v1 slows to its share (1,000/s) mid-shard"
in_range "$v2rate" 850 1150 "v2 scans at the other half"

coordctl cancel "$job" >/dev/null 2>&1
# Cancelled mid-shard, the workers reset what they had open: the load range keeps no connection
# of theirs (the "wait" probe's idle ones would otherwise stay until nginx times them out).
ours() {
    [ "$(ip netns exec "$LOAD_NS" ss -tnH state connected \
        "( dst $V1_SCAN_IP or dst $V2_SCAN_IP )" | wc -l)" -eq 0 ]
}
check "after the cancel, no connection of the workers is left open at the targets" \
    wait_until 10 ours
done_testing
