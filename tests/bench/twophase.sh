#!/usr/bin/env bash
# tests/bench/twophase.sh TMPDIR RUNS: the two-phase peer of the identification figure of
# `make bench` (called by tests/bench/run.sh). On a range where most SYN-ACK hosts are middleboxes
# (the lab's 256-address zero-window /24 plus the service /24, one port), it times
#   peer: zmap finds the SYN-ACK hosts (phase 1), then one kernel-socket connection per host sends
#         the HTTP GET and waits up to TP_TIMEOUT_S for a reply (phase 2: curl, TP_PAR parallel,
#         bound to the scan IP, inside the vantage namespace), as a ZGrab-after-zmap run would;
#   lzr:  lzr-worker scan --handshakes http with the same per-connection timeout,
# interleaved, alternating which goes first, from the same vantage and scan IP. Prints one results
# line per run and tool: wall seconds (the peer's is phase 1 + phase 2), SYN-ACK hosts, hosts named
# HTTP, named HTTP where the truth says http. Standalone: sudo tests/bench/twophase.sh /tmp/x 3
#   TP_CIDRS="198.18.33.0/24 198.18.16.0/24"  TP_PORT=80  TP_TIMEOUT_S=2  TP_PAR=64  TP_RATE=10000
set -euo pipefail
TMP=$1
RUNS=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
CIDRS=${TP_CIDRS:-"198.18.33.0/24 198.18.16.0/24"}
PORT=${TP_PORT:-80}
TO=${TP_TIMEOUT_S:-2}
PAR=${TP_PAR:-64}
RATE=${TP_RATE:-10000}
[[ "$RUNS" =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] && [ "$RUNS" -le 50 ] ||
    { echo "twophase: RUNS=$RUNS: want 1..50" >&2; exit 1; }

# The lab may be cycled by other users (which kills what runs in its namespaces): bring it back.
lab_env() {
    if ! [ -r /run/lzr-lab/env ] || ! "$ROOT/deploy/lab/lab" status >/dev/null 2>&1; then
        "$ROOT/deploy/lab/lab" up >/dev/null 2>&1 || return 1
    fi
    # shellcheck disable=SC1091
    . /run/lzr-lab/env
}
lab_env || { echo "twophase: deploy/lab/lab up failed" >&2; exit 1; }

tr ' ' '\n' <<<"$CIDRS" >"$TMP/tp-allow.txt"
: >"$TMP/tp-empty.blocklist" # zmap's default blocklist holds 198.18.0.0/15
TP_TARGETS=${CIDRS// /,} # not TARGETS: /run/lzr-lab/env sets that to all three ranges
ZMAP_CMD="zmap -i \$V1_IF -S \$V1_SCAN_IP -G \$GW_MAC -p $PORT -r $RATE -s 40000-65535 -w allow.txt -b empty.blocklist -c 1 -f saddr -o hosts.txt"
CURL_CMD="xargs -P $PAR -I{} curl -s -o /dev/null -w '{} %{http_code}\\n' --interface \$V1_SCAN_IP --max-time $TO -A lzr http://{}:$PORT/ <hosts.txt"
LZR_CMD="bin/lzr-worker scan --iface \$V1_IF --source-ip \$V1_SCAN_IP --gateway-mac \$GW_MAC --targets $TP_TARGETS --ports $PORT --allow-reserved 198.18.0.0/15 --source-ports 40000-65535 --rate $RATE --handshakes http --timeout-ms $((TO * 1000)) --output out.jsonl"

now() { date +%s.%N; }

# Phase 1 (zmap) then phase 2 (one curl per SYN-ACK host); $1 file prefix. Writes $1.time
# ("phase1 phase2 total" seconds) and $1.http (ip and HTTP status per host; 000 = no reply).
run_peer() {
    lab_env || return 1
    local t0 t1 t2
    t0=$(now)
    timeout -k 5 120 ip netns exec "$V1_NS" zmap -i "$V1_IF" -S "$V1_SCAN_IP" -G "$GW_MAC" \
        -p "$PORT" -r "$RATE" -s "$SRC_PORTS" -w "$TMP/tp-allow.txt" -b "$TMP/tp-empty.blocklist" \
        -c 1 -f saddr -o "$1.hosts" 2>"$1.log" || return 1
    t1=$(now)
    # Every connection is bounded by curl's --max-time and the whole phase by timeout.
    timeout -k 5 600 ip netns exec "$V1_NS" xargs -P "$PAR" -I{} curl -s -o /dev/null \
        -w '{} %{http_code}\n' --interface "$V1_SCAN_IP" --max-time "$TO" -A lzr \
        "http://{}:$PORT/" <"$1.hosts" >"$1.http" 2>>"$1.log" || true
    t2=$(now)
    echo "$t0 $t1 $t2" | awk '{printf "%.3f %.3f %.3f\n", $2 - $1, $3 - $2, $3 - $1}' >"$1.time"
}

run_lzr() {
    lab_env || return 1
    local t0 t1
    t0=$(now)
    timeout -k 5 300 ip netns exec "$V1_NS" "$ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
        --source-ip "$V1_SCAN_IP" --gateway-mac "$GW_MAC" --targets "$TP_TARGETS" --ports "$PORT" \
        --allow-reserved 198.18.0.0/15 --source-ports "$SRC_PORTS" --rate "$RATE" \
        --handshakes http --timeout-ms $((TO * 1000)) --output "$1.jsonl" 2>"$1.log" || return 1
    t1=$(now)
    echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >"$1.time"
}

count() { # tool prefix
    "$PY" - "$1" "$2" "$LAB_TRUTH" "$PORT" <<'PYEOF'
import json, sys
tool, p, truth_path, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
http_truth = set()
for line in open(truth_path):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 4 and f[2] == "service" and f[3] == "http" and int(f[1]) == port:
        http_truth.add(f[0])
synack, http = set(), set()
if tool == "peer":
    synack = {l.strip() for l in open(p + ".hosts") if l.strip() and l[0].isdigit()}
    for line in open(p + ".http"):
        f = line.split()
        if len(f) == 2 and f[1] != "000":  # curl parsed an HTTP status line
            http.add(f[0])
else:
    for line in open(p + ".jsonl"):
        r = json.loads(line)
        if r.get("class") != "closed":  # a RST is no SYN-ACK (only written with --all)
            synack.add(r["ip"])
        if r.get("protocol") == "http":
            http.add(r["ip"])
print("synack=%d\thttp=%d\tcorrect=%d\ttruth=%d"
      % (len(synack), len(http), len(http & http_truth), len(http_truth)))
PYEOF
}

for run in $(seq 1 "$RUNS"); do
    if ((run % 2)); then order="peer lzr"; else order="lzr peer"; fi
    for tool in $order; do
        p=$TMP/tp-$tool-$run
        # One retry when the run was killed (the lab cycled under it) or failed.
        "run_$tool" "$p" || { sleep 2 && "run_$tool" "$p"; } ||
            { echo "bench: two-phase $tool run $run failed" >&2 && continue; }
        counts=$(count "$tool" "$p") || counts="http=0"
        if [ "$tool" = peer ]; then
            read -r ph1 ph2 wall <"$p.time"
            printf 'twophase\tpeer\t%s\t%s\twall=%s\tphase1=%s\tphase2=%s\t%s\tpar=%s\ttimeout=%s\tcmd=%s\tcmd2=%s\n' \
                "$PORT" "$run" "$wall" "$ph1" "$ph2" "$counts" "$PAR" "$TO" \
                "ip netns exec \$V1_NS $ZMAP_CMD" "ip netns exec \$V1_NS $CURL_CMD"
        else
            read -r wall <"$p.time"
            printf 'twophase\tlzr\t%s\t%s\twall=%s\t%s\tpar=%s\ttimeout=%s\tcmd=%s\ttargets=%s\n' \
                "$PORT" "$run" "$wall" "$counts" "$PAR" "$TO" "ip netns exec \$V1_NS $LZR_CMD" \
                "$CIDRS"
        fi
        echo "bench:   two-phase run $run $tool: ${wall}s, $counts" >&2
        [ -n "${TP_KEEP:-}" ] || rm -f "$p.hosts" "$p.http" "$p.jsonl"
    done
done
