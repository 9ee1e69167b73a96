#!/usr/bin/env bash
# A cluster worker sends its shards' SYNs the ways `lzr-worker scan` can: through an AF_XDP
# socket (--xdp), or a PACKET_TX_RING with two send threads (--tx-ring --send-threads 2). Each
# runs a job of the load range in 8 pipelined shards at 20,000/s, checked as in 0300-coord-13:
# every address one record, named http, overlapping shards on disjoint source ports. With
# --xdp the vantage's veth has one queue, which a shard's walk holds: the next shard's walk can
# only start beside the previous one's tails because a run lets go of its walk's sockets once
# its walk is done. A worker whose send path the host cannot give (--xdp with a second thread
# wants a second queue) refuses to start, says why, and never joins. A worker picks how many
# shards may finish beside the walking one from the memory it has (each run holds a capture
# ring), and one told --max-drains 1 holds two shards at once, never more, through a whole job.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup
coord_start

timeout 20 ip netns exec "$V1_NS" "$WORKER_BIN" --coordinator "ipc://$CW/workers.sock" \
    --iface "$V1_IF" --scan-ip "$V1_SCAN_IP" --keys "$CW/keys/v1" --name v1 --xdp \
    --send-threads 2 >"$CW/refused.log" 2>&1
is "$?" 1 "a worker with --xdp --send-threads 2 on a one-queue veth exits 1"
like "$(cat "$CW/refused.log")" "refusing to start: .*queue 1 of $V1_IF: .*no such queue" \
    "and says the interface has no queue 1"
is "$("$COORD_BIN" workers --db "$CW/lzr.db" | grep -c '^v1 ')" 0 "and never registered"

# run_job NAME LOG WANT: a load job of 8 shards on v1, whose log is LOG and whose start-up line
# must name WANT, the way it sends.
run_job() {
    local job
    like "$(grep 'SYN walk sends' "$2")" "$3" "v1 says it sends through $3"
    write_load_job "$CW/$1.toml" "$1" 20000 8 5000
    job=$(coordctl submit "$CW/$1.toml" 2>>"$CW/cli.log")
    if wait_job_done "$job" 120; then ok "the $1 job is done"; else not_ok "the $1 job is done"; fi
    check_slices_job "$job" "$2" 40000 65535
    diag "first SYN after each shard's engine started (ms): $(grep -o "first SYN [0-9.]* ms" "$2" |
        awk '{ printf "%s ", $3 }')"
    if grep -q "shard [0-9]* failed" "$2"; then
        not_ok "no shard of the $1 job failed"
        diag "$(grep "shard [0-9]* failed" "$2")"
    else
        ok "no shard of the $1 job failed"
    fi
}

worker_start v1 --xdp
wait_registered v1
like "$(grep 'finish their connections' "$CW/v1.log")" \
    "up to [1-7] shards? finish their connections beside the one walking \(a quarter of the memory available; each run holds a 128 MiB capture ring, [0-9]+ MiB available\)" \
    "v1 says how many shards may drain, from the memory it has"
run_job xdp "$CW/v1.log" "AF_XDP, on 1 thread$"
kill "$V1_PID"
wait_until 10 sh -c "! kill -0 $V1_PID 2>/dev/null" || kill -9 "$V1_PID"
mv "$CW/v1.log" "$CW/v1-xdp.log"

worker_start v1 --tx-ring --send-threads 2
wait_until 15 grep -q "SYN walk sends" "$CW/v1.log"
run_job ring "$CW/v1.log" "a PACKET_TX_RING, on 2 threads$"
kill "$V1_PID"
wait_until 10 sh -c "! kill -0 $V1_PID 2>/dev/null" || kill -9 "$V1_PID"
mv "$CW/v1.log" "$CW/v1-ring.log"

worker_start v1 --max-drains 1
wait_until 15 grep -q "SYN walk sends" "$CW/v1.log"
like "$(grep 'finish their connections' "$CW/v1.log")" "up to 1 shard finish .*\(--max-drains;" \
    "v1 says one shard may finish beside the walking one, as told"
run_job drains1 "$CW/v1.log" "sendmmsg, on 1 thread$"
is "$MAX_HELD" 2 "with --max-drains 1 the worker held two shards at once, never more"
done_testing
