#!/usr/bin/env bash
# tests/bench/run.sh: `make bench`. Measures lzr against its peers on the lab and writes
# docs/benchmarks.md: discovery (lzr-worker scan vs Debian's zmap and masscan on the
# 65,536-address SYN-cookie range, interleaved runs at equal rates and unlimited, each run also
# timing the scanner's first SYN after exec: tcpdump in the target namespace against a clock
# read just before exec), memory (bench_conntab) and,
# unless BENCH_NMAP=0, identification (lzr vs nmap -sV on the service and middlebox ranges,
# tests/bench/ident.sh), coordinator ingest (tests/bench/ingest.sh) and scaling with one and two
# workers (tests/bench/scaling.sh). Sending rates are clocked at the target by tests/bench/synclock.py;
# tests/bench/report.py writes the document. Needs root and the built binaries (make all
# bench-bin). Every run is bounded by `timeout`; temporary files live in one mktemp directory
# removed at exit. About 30 minutes in all with one identification run (2026-12-04: discovery
# with three scanners and lzr in full mode ~7, send-only ~1, nmap ~4, two-phase ~1.5, ingest
# and scaling ~3.5, cluster vs standalone ~3, the targets apart ~2).
#   BENCH_RUNS=5      runs per figure (at least 5 for the doc)
#   BENCH_RATES="20000 50000 0"   discovery rates; 0 = unlimited for both tools
#   BENCH_SENDONLY=1  the scanners sending alone into a sink namespace that drops every frame
#                     (tests/bench/sendonly.sh; trafgen too when netsniff-ng is installed),
#                     BENCH_RUNS runs, ~5 s each
#   BENCH_OUT=docs/benchmarks.md
#   BENCH_NMAP=1      the identification figure; nmap -sV takes about 4 minutes a run here, so
#   BENCH_IDENT_RUNS=1  it runs once by default to keep `make bench` under 10 minutes
#   BENCH_TWOPHASE=1  identification against the two-phase peer (zmap, then one curl per
#                     SYN-ACK host, 64 parallel, 2 s) vs lzr on the zero-window /24 and the
#                     service /24, port 80 (tests/bench/twophase.sh); BENCH_RUNS runs, ~15 s each
#   BENCH_INGEST=1    coordinator ingest (tests/bench/ingest.sh, bench_ingest): records/s from
#   BENCH_INGEST_WORKERS="1 2"  fake workers over CURVE ZeroMQ into lzr-coord serve and SQLite
#   BENCH_INGEST_RECORDS=500000
#   BENCH_SCALING=1   probes/s of a cluster job on the load range with one and two workers
#   BENCH_SCALE_SHARDS=4  (tests/bench/scaling.sh)
#   BENCH_PIPE=1      a cluster job against one standalone scan of the same 71,680 targets
#                     (2,560 addresses × 28 ports, 8 shards, 10,000/s in all, default timeout):
#                     the cost of the shards' tails (tests/bench/scaling.sh, figure 5b)
#   BENCH_THREADS=1   figure 1e: rate accuracy with --send-threads 1, 2 and 3 at 20,000/s and
#                     50,000/s (lzr --discovery-only on the load range, clocked at the target)
#   BENCH_IPV6=1      figure 6: lzr in full mode on the load range's IPv6 twin (65,536 addresses
#                     of 2001:2:0:1900::/112) against the IPv4 range, unlimited, interleaved;
#                     the sending-alone half is sendonly.sh's lzr6
#   BENCH_APART=1     figure 1f: zmap, lzr and lzr in full mode at 50,000/s and unlimited with the
#                     targets' kernel work taken off the scanner's CPU (wire_apart below)
#   BENCH_REV         the commit named in the doc (default: git HEAD of this tree)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${BENCH_RUNS:-5}
RATES=${BENCH_RATES:-"20000 50000 0"}
OUT=${BENCH_OUT:-docs/benchmarks.md}
NMAP=${BENCH_NMAP:-1}
SENDONLY=${BENCH_SENDONLY:-1}
IDENT_RUNS=${BENCH_IDENT_RUNS:-1}
TWOPHASE=${BENCH_TWOPHASE:-1}
INGEST=${BENCH_INGEST:-1}
INGEST_WORKERS=${BENCH_INGEST_WORKERS:-"1 2"}
INGEST_RECORDS=${BENCH_INGEST_RECORDS:-500000}
SCALING=${BENCH_SCALING:-1}
SCALE_SHARDS=${BENCH_SCALE_SHARDS:-4}
PIPE=${BENCH_PIPE:-1}
IPV6=${BENCH_IPV6:-1}
THREADS=${BENCH_THREADS:-1}
APART=${BENCH_APART:-1}
# Figure 5b's 28 ports: 80 is nginx in the load namespace, the kernel resets the others.
PIPE_PORTS=21,22,23,25,53,80,110,111,135,139,143,443,445,993,995,1433,1723,3306,3389,5432,5900,6379,8000,8080,8443,9000,9200,27017
LAB=deploy/lab/lab
WORKER=$ROOT/bin/lzr-worker
CONNTAB=$ROOT/build/rel/tests/bench/bench_conntab
PY=/usr/bin/python3

die() {
    echo "bench: $*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, raw sockets)"
[ -x "$WORKER" ] || die "$WORKER missing: run make all"
[ -x "$CONNTAB" ] || die "$CONNTAB missing: run make bench-bin"
[ -x "$ROOT/build/rel/tests/bench/bench_ingest" ] || die "bench_ingest missing: run make bench-bin"
[ -x "$ROOT/bin/lzr-coord" ] || die "bin/lzr-coord missing: run make all"
command -v zmap >/dev/null || die "zmap missing: apt-get install zmap"
command -v masscan >/dev/null || die "masscan missing: apt-get install masscan"
command -v tcpdump >/dev/null || die "tcpdump missing: apt-get install tcpdump"
[ -x "$PY" ] || die "$PY missing"
[[ "$RUNS" =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] && [ "$RUNS" -le 50 ] || die "BENCH_RUNS=$RUNS: want 1..50"

# shellcheck source=tests/bench/peers.sh
. "$ROOT/tests/bench/peers.sh"

TMP=$(mktemp -d /tmp/lzr-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
RES=$TMP/results.tsv # figure, tool, mode, run, key=value...
: >"$RES"

# The lab may be torn down by someone else between runs: bring it back (idempotent).
lab_env() {
    if ! [ -r /run/lzr-lab/env ] || ! "$LAB" status >/dev/null 2>&1; then
        "$LAB" up >/dev/null 2>&1 || die "deploy/lab/lab up failed"
    fi
    # shellcheck disable=SC1091
    . /run/lzr-lab/env
}
lab_env
echo "$LOAD_CIDR" >"$TMP/allow.txt"
: >"$TMP/empty.blocklist" # zmap's default blocklist holds 198.18.0.0/15

machine() {
    printf 'nproc=%s\tkernel=%s\tcpu=%s\tzmap=%s\tmasscan=%s\tnmap=%s\tlzr=%s\n' "$(nproc)" \
        "$(uname -r)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
        "$(zmap --version 2>&1 | head -1)" "$(masscan --version 2>&1 | grep -m1 -o 'Masscan version [0-9.]*')" \
        "$(nmap --version 2>/dev/null | head -1)" \
        "${BENCH_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
}
machine >"$TMP/machine.tsv"

# Clocks the SYNs at the target (tests/bench/synclock.py) while a scan runs: $1 file prefix.
clock_start() {
    ip netns exec "$LOAD_NS" "$PY" "$ROOT/tests/bench/synclock.py" "$1.syn" 150 &
    CLOCK_PID=$!
    clock_ready "$1.syn" || true
}
clock_stop() {
    sleep 0.1
    kill "$CLOCK_PID" 2>/dev/null || true
    wait "$CLOCK_PID" 2>/dev/null || true
}

# Time to the first SYN, the same way for every scanner: STAMP FILE CMD... writes the wall clock
# (bash's EPOCHREALTIME, µs) to FILE and execs CMD, inside the vantage namespace and under
# /usr/bin/time; tcpdump in the load namespace stamps the first SYN that reaches it
# (first_start/first_stop around the run). Both clocks are the kernel's CLOCK_REALTIME.
STAMP=(bash -c 'printf "%s\n" "$EPOCHREALTIME" >"$0"; exec "$@"')
first_start() { # prefix
    local f="tcp[tcpflags] == tcp-syn and dst net $LOAD_CIDR"
    # IPv6 (V6=1): libpcap reads no tcp[] behind an IPv6 header; the flags are byte 53 of a
    # frame without extension headers, as the scanners send them.
    [ "${V6:-0}" = 1 ] && f="ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x02 and dst net $LOAD_CIDR6"
    ip netns exec "$LOAD_NS" tcpdump -i eth0 -n -tt -l -c 1 --immediate-mode \
        "$f" >"$1.first" 2>"$1.firstlog" &
    FIRST_PID=$!
    local i
    for i in $(seq 100); do
        grep -q "listening on" "$1.firstlog" 2>/dev/null && return 0
        sleep 0.02
    done
}
first_stop() {
    kill "$FIRST_PID" 2>/dev/null || true
    wait "$FIRST_PID" 2>/dev/null || true
}

# One zmap SYN scan of the load range; $1 rate (0 = unlimited), $2 file prefix.
run_zmap() {
    lab_env
    clock_start "$2"
    first_start "$2"
    timeout -k 5 120 /usr/bin/time -f '%e %U %S' -o "$2.time" \
        ip netns exec "$V1_NS" "${STAMP[@]}" "$2.exec" \
        zmap -i "$V1_IF" -S "$V1_SCAN_IP" -G "$GW_MAC" -p 80 -r "$1" \
        -s "$SRC_PORTS" -w "$TMP/allow.txt" -b "$TMP/empty.blocklist" -c 1 \
        -f saddr,timestamp-ts,timestamp-us -o "$2.out" 2>"$2.log" || echo "zmap failed" >>"$2.log"
    first_stop
    clock_stop
}

# One masscan SYN scan of the load range; $1 rate, $2 file prefix. masscan paces at any rate
# it is given, so unlimited is a rate far above what the lab answers. Its source ports must be a
# power-of-two range: 49152-65535 lies inside the vantage's dropped 40000-65535. The only
# targets are the load range. masscan_bounded (tests/bench/peers.sh) stops it once its 1 s
# wait is over.
run_masscan() {
    lab_env
    local rate=$1
    [ "$rate" = 0 ] && rate=100000000
    clock_start "$2"
    first_start "$2"
    masscan_bounded "$2.log" 120 /usr/bin/time -f '%e %U %S' -o "$2.time" \
        ip netns exec "$V1_NS" "${STAMP[@]}" "$2.exec" \
        masscan "$LOAD_CIDR" -p80 --rate "$rate" --adapter "$V1_IF" --adapter-ip "$V1_SCAN_IP" \
        --adapter-port 49152-65535 --router-mac "$GW_MAC" --wait 1 -oL "$2.out" ||
        { [ $? = 1 ] || echo "masscan failed" >>"$2.log"; }
    first_stop
    clock_stop
}

# One lzr-worker SYN scan of the load range (--discovery-only, like zmap: SYN-ACKs are reported
# as open and reset, no handshake); $1 rate, $2 file prefix, then any more scan options. With
# V6=1, of the range's IPv6 twin from the vantage's IPv6 scan IP.
run_lzr() {
    local rate=$1 p=$2
    shift 2
    [ $# -gt 0 ] || set -- --discovery-only
    lab_env
    local fam=(--source-ip "$V1_SCAN_IP" --targets "$LOAD_CIDR" --allow-reserved 198.18.0.0/15)
    [ "${V6:-0}" = 1 ] &&
        fam=(--source-ip6 "$V1_SCAN_IP6" --targets "$LOAD_CIDR6" --allow-reserved 2001:2::/48)
    clock_start "$p"
    first_start "$p"
    timeout -k 5 120 /usr/bin/time -f '%e %U %S' -o "$p.time" \
        ip netns exec "$V1_NS" "${STAMP[@]}" "$p.exec" \
        "$WORKER" scan --iface "$V1_IF" "${fam[@]}" \
        --gateway-mac "$GW_MAC" --ports 80 --source-ports "$SRC_PORTS" --rate "$rate" \
        --timeout-ms 1000 "$@" --progress --output "$p.out" 2>"$p.log" ||
        echo "lzr failed" >>"$p.log"
    first_stop
    clock_stop
}

# The same scan in full mode, lzr's own job (issue #15 item 6 compares its CPU per probe with
# zmap's SYN scan): every SYN-ACK gets the ACK with the HTTP probe, nginx's answer is read and
# named, the connection reset; $1 rate, $2 file prefix.
run_lzrfull() { # rate prefix [more options: they override the above]
    local rate=$1 p=$2
    shift 2
    run_lzr "$rate" "$p" --handshakes http "$@"
}

# Reduces one discovery run to a results line: SYNs, unique IPs, reply span, CPU, wall.
summarize() { # tool mode run prefix (the bench directory goes along, for synclock.py)
    "$PY" - "$@" "$ROOT/tests/bench" >>"$RES" <<'EOF'
import json, os, re, sys
tool, mode, run, p = sys.argv[1:5]
ts, ips, named = [], set(), -1
if tool == "zmap":
    for line in open(p + ".out"):
        f = line.strip().split(",")
        if len(f) == 3 and f[1].isdigit():
            ips.add(f[0]); ts.append(int(f[1]) + int(f[2]) / 1e6)
    log = open(p + ".log").read()
    m = re.findall(r"send: (\d+) done", log)
    syns = int(m[-1]) if m else 0
    a = re.findall(r"send: \d+ done \(([0-9.]+) Kp/s avg\)", log)
    selfrate = float(a[-1]) * 1000 if a else 0
    pcap = -1
elif tool == "masscan":
    # -oL lines: "open tcp 80 IP UNIXTIME"; whole seconds only, so no reply-rate cross-check
    for line in open(p + ".out"):
        f = line.split()
        if len(f) == 5 and f[0] == "open":
            ips.add(f[3])
    log = open(p + ".log").read()
    m = re.search(r"Scanning (\d+) hosts \[(\d+) port", log)
    syns = int(m.group(1)) * int(m.group(2)) if m else 0
    selfrate, pcap = 0, -1
else:
    from datetime import datetime
    named = 0  # records that name the service: the full-mode runs' measure of classification
    for line in open(p + ".out"):
        r = json.loads(line)
        ips.add(r["ip"])
        named += r.get("protocol") == "http"
        ts.append(datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp())
    log = open(p + ".log").read()
    m = re.search(r"done in [0-9.]+s: (\d+) SYNs", log)
    syns = int(m.group(1)) if m else 0
    selfrate = 0
    d = re.search(r"(\d+) pcap drops", log)
    pcap = int(d.group(1)) if d else -1
ts.sort()
# Sending rate from the replies: first to last reply spans the sending time (the lab answers
# within a millisecond); the 0.1 % tails are cut so one late retransmission cannot stretch it.
n = len(ts)
lo, hi = int(n * 0.001), max(int(n * 0.999) - 1, 0)
span = ts[hi] - ts[lo] if n > 10 else 0
rate = (hi - lo) / span if span > 0 and tool != "masscan" else 0
# The same at the target: SYN cookies counted by the load namespace's kernel.
sys.path.insert(0, sys.argv[5])
from synclock import clocked_rate
wsyns, wire = clocked_rate(p + ".syn")
wall, user, sys_ = (float(x) for x in open(p + ".time").read().split()[-3:])
# Time to the first SYN: tcpdump's stamp of the first SYN at the target minus the stamp taken
# just before exec.
extra = ""
try:
    t_exec = float(open(p + ".exec").read())
    t_syn = float(open(p + ".first").read().split()[0])
    extra += "\tfirst_ms=%.1f" % ((t_syn - t_exec) * 1000)
except (OSError, ValueError, IndexError):
    pass
# lzr's own account of its start-up (--progress): the steps, in ms.
m = re.search(r"start-up: options ([0-9.]+) ms, firewall rule ([0-9.]+) ms, checks ([0-9.]+) ms "
              r"\(self-test ([0-9.]+) ms, ([^)]*)\), interface ([0-9.]+) ms, capture ([0-9.]+) ms, "
              r"tables ([0-9.]+) ms; first SYN ([0-9.]+) ms", log) if tool == "lzr" else None
if m:
    for k, v in zip(("su_options", "su_firewall", "su_checks", "su_selftest", None, "su_iface",
                     "su_capture", "su_tables", "su_first"), m.groups()):
        if k:
            extra += "\t%s=%s" % (k, v)
    extra += "\tsu_control=%d" % (1 if m.group(5).startswith("control RST") else 0)
print(os.environ.get("FIG", "disc") + "\t%s\t%s\t%s\tsyns=%d\tunique=%d\trate=%.0f\tspan=%.3f\twall=%.2f\tcpu=%.2f\tuser=%.2f\tself=%.0f\twire=%.0f\twsyns=%d\tpcap=%d\tnamed=%d%s"
      % (tool, mode, run, syns, len(ips), rate, span, wall, user + sys_, user, selfrate, wire,
         wsyns, pcap, named, extra))
EOF
}

echo "bench: discovery, $RUNS runs × rates {$RATES}, zmap, lzr, masscan and lzr in full mode interleaved" >&2
TOOLS=(zmap lzr masscan lzrfull)
for run in $(seq 1 "$RUNS"); do
    k=0
    for rate in $RATES; do
        k=$((k + 1))
        # Rotate which tool goes first so drift in machine load hits all alike.
        s=$(((run + k) % ${#TOOLS[@]}))
        order="${TOOLS[*]:s} ${TOOLS[*]:0:s}"
        for tool in $order; do
            p=$TMP/disc-$tool-$rate-$run
            "run_$tool" "$rate" "$p"
            summarize "$tool" "$rate" "$run" "$p" || echo "bench: $tool rate $rate run $run: no result" >&2
            rm -f "$p.out"
        done
        echo "bench:   run $run rate $rate done" >&2
    done
done

# Figure 1f. On this lab a frame sent into a veth is received by the bridge, the router and the
# target on the sender's CPU, inside the sender's system call, so a scanner's CPU time carries the
# targets' TCP work too, and a full handshake makes the target do far more than a SYN scan does.
# wire_apart on gives the vantage's bridge port its own NAPI instance polled by a kernel thread
# (GRO on, threaded NAPI), as a NIC hands frames to a wire and another machine: the bridge, the
# router and the targets then run in that thread, which the scheduler puts on either core, and the
# scanner's CPU time is its own. The veth stops its queue while that thread's ring is full, so the
# vantage's interface gets a pfifo queue to wait in, as a NIC has; without one zmap's sends fail.
# The same for every tool; off restores the lab's default.
wire_apart() {
    if [ "$1" = on ]; then
        ip netns exec "$LAB_BRIDGE_NS" ethtool -K "$V1_PORT" gro on >/dev/null
        ip netns exec "$LAB_BRIDGE_NS" sh -c "echo 1 >/sys/class/net/$V1_PORT/threaded"
        ip netns exec "$V1_NS" tc qdisc replace dev "$V1_IF" root pfifo limit 10000
    else
        ip netns exec "$V1_NS" tc qdisc del dev "$V1_IF" root 2>/dev/null || true
        ip netns exec "$LAB_BRIDGE_NS" sh -c "echo 0 >/sys/class/net/$V1_PORT/threaded"
        ip netns exec "$LAB_BRIDGE_NS" ethtool -K "$V1_PORT" gro off >/dev/null
    fi
}

if [ "$APART" = 1 ]; then
    echo "bench: the targets' kernel apart, $RUNS runs × {50000, unlimited}, zmap, lzr and lzr in full mode" >&2
    APART_TOOLS=(zmap lzr lzrfull)
    # With the wire apart nginx shares the two cores with the kernel thread that carries every
    # target's TCP work and answers up to seconds late: full mode waits 10 s for each answer,
    # without resending, so that every address is named and its CPU counts every handshake.
    APART_WAIT=(--timeout-ms 10000 --retransmit-ms 10000)
    for run in $(seq 1 "$RUNS"); do
        k=0
        for rate in 50000 0; do
            k=$((k + 1))
            s=$(((run + k) % ${#APART_TOOLS[@]}))
            for tool in ${APART_TOOLS[*]:s} ${APART_TOOLS[*]:0:s}; do
                lab_env
                wire_apart on
                p=$TMP/apart-$tool-$rate-$run
                if [ "$tool" = lzrfull ]; then
                    run_lzrfull "$rate" "$p" "${APART_WAIT[@]}"
                else
                    "run_$tool" "$rate" "$p"
                fi
                FIG=apart summarize "$tool" "$rate" "$run" "$p" ||
                    echo "bench: apart $tool rate $rate run $run: no result" >&2
                rm -f "$p.out"
            done
        done
    done
    lab_env
    wire_apart off
fi

if [ "$THREADS" = 1 ]; then
    echo "bench: rate accuracy, $RUNS runs × send threads {1, 2, 3} × {20000, 50000}/s" >&2
    for run in $(seq 1 "$RUNS"); do
        for t in 1 2 3; do
            for rate in 20000 50000; do
                p=$TMP/thr-$t-$rate-$run
                run_lzr "$rate" "$p" --discovery-only --send-threads "$t"
                FIG=threads summarize lzr "$t-$rate" "$run" "$p" ||
                    echo "bench: $t threads at $rate run $run: no result" >&2
                rm -f "$p.out"
            done
        done
    done
fi

if [ "$SENDONLY" = 1 ]; then
    echo "bench: sending alone into a sink, $RUNS runs of zmap and lzr" >&2
    bash "$ROOT/tests/bench/sendonly.sh" "$TMP" "$RUNS" >>"$RES" || echo "bench: send-only failed" >&2
fi

echo "bench: memory, $RUNS runs of bench_conntab" >&2
for run in $(seq 1 "$RUNS"); do
    line=$(timeout -k 5 120 "$CONNTAB" 1000000 | tr '\n' '\t')
    printf 'mem\tlzr\t1000000\t%s\t%s\n' "$run" "${line%$'\t'}" >>"$RES"
done

if [ "$NMAP" = 1 ] && [ -f "$ROOT/tests/bench/ident.sh" ] && command -v nmap >/dev/null; then
    echo "bench: identification, $IDENT_RUNS runs of nmap -sV and lzr" >&2
    bash "$ROOT/tests/bench/ident.sh" "$TMP" "$IDENT_RUNS" >>"$RES" || echo "bench: identification failed" >&2
fi

if [ "$TWOPHASE" = 1 ]; then
    echo "bench: identification against the two-phase peer, $RUNS runs of zmap + curl and lzr" >&2
    bash "$ROOT/tests/bench/twophase.sh" "$TMP" "$RUNS" >>"$RES" || echo "bench: two-phase failed" >&2
fi

if [ "$INGEST" = 1 ]; then
    echo "bench: coordinator ingest, $RUNS runs × workers {$INGEST_WORKERS}, $INGEST_RECORDS records" >&2
    bash "$ROOT/tests/bench/ingest.sh" "$TMP" "$RUNS" "$INGEST_WORKERS" "$INGEST_RECORDS" >>"$RES" ||
        echo "bench: ingest failed" >&2
fi

if [ "$SCALING" = 1 ]; then
    echo "bench: scaling, $RUNS runs × {1, 2} workers, $SCALE_SHARDS shards" >&2
    lab_env
    LOAD_CIDR=$LOAD_CIDR V1_NS=$V1_NS V1_IF=$V1_IF V1_SCAN_IP=$V1_SCAN_IP V1_FRESH_IPS=$V1_FRESH_IPS \
        V2_NS=$V2_NS V2_IF=$V2_IF V2_SCAN_IP=$V2_SCAN_IP V2_FRESH_IPS=$V2_FRESH_IPS \
        bash "$ROOT/tests/bench/scaling.sh" "$TMP" "$RUNS" "1 2" "$SCALE_SHARDS" >>"$RES" ||
        echo "bench: scaling failed" >&2
fi

if [ "$PIPE" = 1 ]; then
    echo "bench: cluster vs standalone, $RUNS runs × {standalone, 1, 2} workers" >&2
    lab_env
    SCALE_FIG=pipe SCALE_TARGETS=198.19.0.0/21,198.19.8.0/23 SCALE_NTARGETS=71680 \
        SCALE_PORTS=$PIPE_PORTS SCALE_RATE=10000 SCALE_TIMEOUT_MS=4000 SCALE_RETRANSMIT_MS=1000 \
        LOAD_CIDR=$LOAD_CIDR V1_NS=$V1_NS V1_IF=$V1_IF V1_SCAN_IP=$V1_SCAN_IP V1_FRESH_IPS=$V1_FRESH_IPS \
        V2_NS=$V2_NS V2_IF=$V2_IF V2_SCAN_IP=$V2_SCAN_IP V2_FRESH_IPS=$V2_FRESH_IPS \
        bash "$ROOT/tests/bench/scaling.sh" "$TMP" "$RUNS" "0 1 2" 8 >>"$RES" ||
        echo "bench: cluster vs standalone failed" >&2
fi

if [ "$IPV6" = 1 ]; then
    echo "bench: IPv6 beside IPv4, $RUNS runs of lzr in full mode on each load range, unlimited" >&2
    for run in $(seq 1 "$RUNS"); do
        order="ipv4 ipv6"
        [ $((run % 2)) = 0 ] && order="ipv6 ipv4"
        for fam in $order; do
            p=$TMP/v6-$fam-$run
            v6=0
            [ "$fam" = ipv6 ] && v6=1
            V6=$v6 run_lzrfull 0 "$p"
            FIG=v6 summarize lzr "$fam" "$run" "$p" || echo "bench: $fam run $run: no result" >&2
            rm -f "$p.out"
        done
    done
fi

"$PY" "$ROOT/tests/bench/report.py" "$TMP/machine.tsv" "$RES" "$RUNS" "$RATES" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "bench: wrote $OUT" >&2
