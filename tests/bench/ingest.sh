#!/usr/bin/env bash
# tests/bench/ingest.sh: figure 4 of `make bench`, coordinator ingest. For each run it makes a
# scratch directory with CURVE keys (`lzr-coord keygen`), starts `lzr-coord serve` on a fresh
# SQLite file listening on loopback TCP, submits a job whose targets cover the records, and runs
# build/rel/tests/bench/bench_ingest, which plays the workers (Hello → Assign → ResultBatch
# windows → Acks) and counts the rows. Prints one results line per run for report.py:
#   ingest  lzr  WORKERS  RUN  records=… rows=… seconds=… records_per_s=… coord_cpu=…
# Usage: ingest.sh TMPDIR RUNS "WORKER-COUNTS" RECORDS. Every process it starts is killed by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TMP=$1
RUNS=$2
COUNTS=$3
RECORDS=$4
COORD=$ROOT/bin/lzr-coord
BENCH=$ROOT/build/rel/tests/bench/bench_ingest
[ -x "$COORD" ] && [ -x "$BENCH" ] || { echo "ingest: build bin/lzr-coord and bench_ingest" >&2; exit 1; }

COORD_PID=
stop_coord() {
    if [ -n "$COORD_PID" ]; then
        kill "$COORD_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$COORD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$COORD_PID" 2>/dev/null || true
        wait "$COORD_PID" 2>/dev/null || true
        COORD_PID=
    fi
}
trap stop_coord EXIT

# One run: $1 workers, $2 run number.
one_run() {
    local n=$1 run=$2 d port i names=() line
    d=$(mktemp -d "$TMP/ingest.XXXXXX")
    for i in $(seq 1 "$n"); do names+=("w$i"); done
    "$COORD" keygen "$d/keys" "${names[@]}" >/dev/null
    port=$((20000 + RANDOM % 20000))
    "$COORD" serve --db "$d/lzr.db" --keys "$d/keys" --listen "tcp://127.0.0.1:$port" \
        --log-level warn >"$d/coord.log" 2>&1 &
    COORD_PID=$!
    for _ in $(seq 1 100); do [ -S "$d/lzr-coord.ctl" ] && break; sleep 0.1; done
    [ -S "$d/lzr-coord.ctl" ] || { echo "ingest: coordinator did not start" >&2; cat "$d/coord.log" >&2; stop_coord; return 1; }
    # Targets × ports cover bench_ingest's records: 198.18.0.0/15 on ports 80-87, one shard per
    # worker, so each shard holds its worker's records. Nothing is scanned: the fake workers
    # hold the shards.
    cat >"$d/job.toml" <<JOB
name = "ingest"
targets = "198.18.0.0/15"
allow_reserved = "198.18.0.0/15"
ports = "80-87"
rate = 100000
shards = $n
handshakes = "http"
JOB
    timeout 15 "$COORD" submit "$d/job.toml" --db "$d/lzr.db" >/dev/null 2>&1
    local c0 c1
    c0=$(awk '{print $14 + $15}' "/proc/$COORD_PID/stat")
    if line=$(timeout -k 5 300 "$BENCH" --endpoint "tcp://127.0.0.1:$port" --keys "$d/keys" \
        --db "$d/lzr.db" --workers "$n" --records "$RECORDS" 2>"$d/bench.err"); then
        c1=$(awk '{print $14 + $15}' "/proc/$COORD_PID/stat")
        printf 'ingest\tlzr\t%s\t%s\t%s\tcoord_cpu=%s\tfs=%s\n' "$n" "$run" \
            "$(echo "$line" | tr '\n' '\t' | sed 's/\t$//')" \
            "$(echo "($c1 - $c0) / $(getconf CLK_TCK)" | bc -l | xargs printf '%.2f')" \
            "$(stat -f -c %T "$d")"
    else
        echo "ingest: $n workers run $run failed:" >&2
        cat "$d/bench.err" >&2
        tail -5 "$d/coord.log" >&2
    fi
    stop_coord
    rm -rf "$d"
}

for run in $(seq 1 "$RUNS"); do
    for n in $COUNTS; do
        one_run "$n" "$run" || true
        echo "ingest:   $n workers run $run done" >&2
    done
done
