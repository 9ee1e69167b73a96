#!/usr/bin/env bash
# tests/bench/scaling.sh: figures 5 and 5b of `make bench`, a cluster job against one
# standalone scan. For each run and each worker count it starts `lzr-coord serve` on a fresh
# database with CURVE keys, starts that many `lzr-worker --coordinator` processes in the lab's
# vantage namespaces (v1, then v2) the way tests/lab/coord-lib.sh does, waits until all are
# registered, submits a job for the lab's kernel-answered load range (every address answers
# with a SYN cookie, nginx on port 80, a RST on every other port) and clocks submit → job done.
# A worker count of 0 is the standalone peer: `lzr-worker scan` of the same targets, ports,
# rate and timeouts in v1, clocked exec → exit. Prints one results line per run for report.py:
#   FIG  lzr  WORKERS  RUN  wall=… targets=… results=… worker_cpu=… coord_cpu=…
# Usage: scaling.sh TMPDIR RUNS "WORKER-COUNTS" SHARDS. Needs root and the lab env sourced by
# the caller (LOAD_CIDR, V1_NS, …). The job comes from the environment (defaults: figure 5):
#   SCALE_FIG=scale SCALE_TARGETS=$LOAD_CIDR SCALE_NTARGETS=65536 SCALE_PORTS=80
#   SCALE_RATE=10000000 SCALE_TIMEOUT_MS=1000 SCALE_RETRANSMIT_MS=500
# Every process it starts is killed by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TMP=$1
RUNS=$2
COUNTS=$3
SHARDS=$4
COORD=$ROOT/bin/lzr-coord
WORKER=$ROOT/bin/lzr-worker
: "${LOAD_CIDR:?source /run/lzr-lab/env first}"
FIG=${SCALE_FIG:-scale}
TARGETS=${SCALE_TARGETS:-$LOAD_CIDR}
NTARGETS=${SCALE_NTARGETS:-65536}
PORTS=${SCALE_PORTS:-80}
RATE=${SCALE_RATE:-10000000}
TIMEOUT_MS=${SCALE_TIMEOUT_MS:-1000}
RETRANSMIT_MS=${SCALE_RETRANSMIT_MS:-500}

PIDS=()
stop_all() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    PIDS=()
}
trap stop_all EXIT

cpu_s() { # utime + stime of a PID in seconds, 0 when gone
    awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# results line: $1 workers, $2 run, $3 wall s, $4 results, $5 worker CPU s, $6 coordinator CPU s
result() {
    printf '%s\tlzr\t%s\t%s\twall=%.3f\ttargets=%s\tresults=%s\tworker_cpu=%s\tcoord_cpu=%s\tshards=%s\n' \
        "$FIG" "$1" "$2" "$3" "$NTARGETS" "$4" "$5" "$6" "$SHARDS"
}

# The standalone peer: one `lzr-worker scan` of the job's targets in v1; $1 run number.
standalone_run() {
    local d t0 t1 pid rc=0
    d=$(mktemp -d "$TMP/scale.XXXXXX")
    t0=$(date +%s.%N)
    ip netns exec "$V1_NS" "$WORKER" scan --iface "$V1_IF" --source-ip "$V1_SCAN_IP" \
        --targets "$TARGETS" --ports "$PORTS" --allow-reserved 198.18.0.0/15 --rate "$RATE" \
        --handshakes http --no-fallback --acking-firewall-probes 0 --timeout-ms "$TIMEOUT_MS" \
        --retransmit-ms "$RETRANSMIT_MS" \
        --output "$d/out.jsonl" --all >"$d/scan.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait "$pid" || rc=$?
    t1=$(date +%s.%N)
    if [ "$rc" = 0 ]; then
        result 0 "$1" "$(echo "$t1 - $t0" | bc -l)" "$(grep -c . "$d/out.jsonl")" 0 0
    else
        echo "scaling: standalone run $1 failed ($rc)" >&2
        tail -n 3 "$d/scan.log" >&2
    fi
    PIDS=()
    rm -rf "$d"
}

# One run: $1 workers, $2 run number.
one_run() {
    local n=$1 run=$2 d v ns ifc ip fresh args f t0 t1 state="" i wpids=() cpu=0 coordpid alive
    d=$(mktemp -d "$TMP/scale.XXXXXX")
    "$COORD" keygen "$d/keys" v1 v2 >/dev/null
    "$COORD" serve --db "$d/lzr.db" --keys "$d/keys" --listen "ipc://$d/workers.sock" \
        --log-level warn >"$d/coord.log" 2>&1 &
    coordpid=$!
    PIDS+=("$coordpid")
    for _ in $(seq 1 100); do [ -S "$d/lzr-coord.ctl" ] && break; sleep 0.1; done
    [ -S "$d/lzr-coord.ctl" ] || { echo "scaling: coordinator did not start" >&2; stop_all; return 1; }
    for v in $(echo v1 v2 | cut -d' ' -f1-"$n"); do
        case $v in
        v1) ns=$V1_NS ifc=$V1_IF ip=$V1_SCAN_IP fresh=$V1_FRESH_IPS ;;
        v2) ns=$V2_NS ifc=$V2_IF ip=$V2_SCAN_IP fresh=$V2_FRESH_IPS ;;
        esac
        args=()
        for f in $fresh; do args+=(--fresh-ip "$f"); done
        ip netns exec "$ns" "$WORKER" --coordinator "ipc://$d/workers.sock" --iface "$ifc" \
            --scan-ip "$ip" "${args[@]}" --keys "$d/keys/$v" --name "$v" >"$d/$v.log" 2>&1 &
        PIDS+=("$!")
        wpids+=("$!")
    done
    for _ in $(seq 1 200); do
        [ "$(timeout 10 "$COORD" workers --db "$d/lzr.db" 2>/dev/null | tail -n +2 | grep -c .)" -ge "$n" ] && break
        sleep 0.1
    done
    cat >"$d/job.toml" <<JOB
name = "$FIG"
targets = "$TARGETS"
allow_reserved = "198.18.0.0/15"
ports = "$PORTS"
rate = $RATE
shards = $SHARDS
handshakes = "http"
fallback = ""
acking_firewall_probes = 0
timeout_ms = $TIMEOUT_MS
retransmit_ms = $RETRANSMIT_MS
report_all = true

[vantage]
min_workers = $n
JOB
    t0=$(date +%s.%N)
    timeout 15 "$COORD" submit "$d/job.toml" --db "$d/lzr.db" >/dev/null 2>&1
    for _ in $(seq 1 1800); do # at most 180 s
        state=$(sqlite3 -readonly "$d/lzr.db" "SELECT state FROM jobs WHERE id = 1" 2>/dev/null || true)
        [ "$state" = done ] && break
        alive=0 # every worker gone (the lab torn down under the run): stop waiting
        for i in "${wpids[@]}"; do kill -0 "$i" 2>/dev/null && alive=1; done
        [ "$alive" = 1 ] || break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    for i in "${wpids[@]}"; do cpu=$(echo "$cpu + $(cpu_s "$i")" | bc -l); done
    local ccpu results
    ccpu=$(cpu_s "$coordpid")
    results=$(sqlite3 -readonly "$d/lzr.db" "SELECT count(*) FROM results WHERE job_id = 1" 2>/dev/null || echo 0)
    if [ "$state" = done ]; then
        result "$n" "$run" "$(echo "$t1 - $t0" | bc -l)" "$results" "$cpu" "$ccpu"
    else
        echo "scaling: $n workers run $run: job not done (state '$state')" >&2
        tail -n 3 "$d"/*.log >&2
    fi
    stop_all
    rm -rf "$d"
}

for run in $(seq 1 "$RUNS"); do
    for n in $COUNTS; do
        if [ "$n" = 0 ]; then
            standalone_run "$run" || true
        else
            one_run "$n" "$run" || true
        fi
        echo "scaling:   $n workers run $run done" >&2
    done
done
