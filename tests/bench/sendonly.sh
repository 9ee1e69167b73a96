#!/usr/bin/env bash
# tests/bench/sendonly.sh TMPDIR RUNS: figure 1b of `make bench`, the scanners' own cost of
# sending. The lab's load range makes every SYN cost a trip through a veth, the bridge, its
# netfilter hooks and the target's TCP stack, all on the same two cores, so both tools top out
# at the rate the lab's kernel can answer. Here the SYNs go to a sink instead: two namespaces of
# our own, lzr-bsend (198.18.250.1 on a veth) and lzr-bsink (the veth's other end, no address,
# an nftables netdev ingress chain that drops every frame as it arrives). Nothing answers, so
# the rate is what each scanner alone can put on the wire: 198.19.0.0/16 × 8 probes per address
# (lzr and masscan: ports 80-87; zmap 2.1.1 scans one port, so `-P 8`), 524,288 SYNs, unlimited
# rate (masscan: a rate far above what it reaches), clocked at the sink by
# tests/bench/synclock.py counting the veth's received frames. masscan never exits on its own
# here (nothing answers; tests/bench/peers.sh), so its wall time includes up to a second after
# its last SYN before it is stopped. When netsniff-ng is installed, trafgen runs too, as the
# software limit of this path: one process sending 524,288 prebuilt SYNs (the destination's
# last byte and the port counting up) through its mmap'd TX ring, by the qdisc like the others
# (--qdisc-path), touching neither the host's socket-memory sysctls nor IRQ affinities.
# lzr6 is lzr sending IPv6 SYNs (74-byte frames) from 2001:2:0:250::1 to the same count of
# targets, 2001:2:0:1900::/112 × 8 ports, for figure 6 (IPv6 beside IPv4).
# Prints one results line per run and tool:
#   sendonly  TOOL  0  RUN  syns=… wire=… wall=… cpu=…
# Both namespaces are created here and deleted on exit; every process is stopped by PID.
set -euo pipefail
TMP=$1
RUNS=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
# shellcheck source=tests/bench/peers.sh
. "$ROOT/tests/bench/peers.sh"
SEND_NS=lzr-bsend
SINK_NS=lzr-bsink
SRC=198.18.250.1
TARGETS=198.19.0.0/16
SRC6=2001:2:0:250::1
TARGETS6=2001:2:0:1900::/112

CLOCK_PID=
cleanup() {
    [ -n "$CLOCK_PID" ] && kill "$CLOCK_PID" 2>/dev/null && wait "$CLOCK_PID" 2>/dev/null
    ip netns del "$SEND_NS" 2>/dev/null || true
    ip netns del "$SINK_NS" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add "$SEND_NS"
ip netns add "$SINK_NS"
ip -n "$SEND_NS" link add s0 type veth peer name k0 netns "$SINK_NS"
ip -n "$SEND_NS" addr add "$SRC/24" dev s0
# IPv6 with a static address only: no duplicate-address probe, no router solicitation.
ip netns exec "$SEND_NS" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
    net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0 \
    net.ipv6.conf.all.autoconf=0 net.ipv6.conf.default.autoconf=0
ip -n "$SEND_NS" addr add "$SRC6/64" dev s0 nodad
ip -n "$SEND_NS" link set lo up
ip -n "$SEND_NS" link set s0 up
ip -n "$SINK_NS" link set k0 up
# The scanner's usual setup (docs/worker.md): kernel ephemeral ports below its source ports.
ip netns exec "$SEND_NS" sysctl -qw net.ipv4.ip_local_port_range="32768 39999"
ip netns exec "$SINK_NS" nft -f - <<'NFT'
table netdev sink {
    chain in {
        type filter hook ingress device "k0" priority 0; policy drop;
    }
}
NFT
SINK_MAC=$(ip netns exec "$SINK_NS" cat /sys/class/net/k0/address)
echo "$TARGETS" >"$TMP/sendonly-allow.txt"
: >"$TMP/sendonly-empty.blocklist"

run_zmap() { # prefix
    timeout -k 5 120 /usr/bin/time -f '%e %U %S' -o "$1.time" \
        ip netns exec "$SEND_NS" zmap -i s0 -S "$SRC" -G "$SINK_MAC" -p 80 -P 8 -r 0 \
        -s 40000-65535 -w "$TMP/sendonly-allow.txt" -b "$TMP/sendonly-empty.blocklist" -c 0 \
        -q -o /dev/null >"$1.log" 2>&1
}

run_lzr() { # prefix [extra flags]
    local p=$1
    shift
    [ $# -gt 0 ] || set -- --source-ip "$SRC" --targets "$TARGETS" --allow-reserved 198.18.0.0/15
    timeout -k 5 120 /usr/bin/time -f '%e %U %S' -o "$p.time" \
        ip netns exec "$SEND_NS" "$ROOT/bin/lzr-worker" scan --iface s0 \
        --gateway-mac "$SINK_MAC" --ports 80-87 \
        --source-ports 40000-65535 --rate 0 --discovery-only \
        --timeout-ms 200 --manage-firewall --output /dev/null "$@" >"$p.log" 2>&1
}

# Figure 6: the same scan of as many IPv6 targets.
run_lzr6() { # prefix
    run_lzr "$1" --source-ip6 "$SRC6" --targets "$TARGETS6" --allow-reserved 2001:2::/48
}

# The A/B of issue #15's first sending lever: the same scan through a PACKET_TX_RING with the
# qdisc bypassed (--tx-ring) instead of sendmmsg.
run_lzr-ring() { # prefix
    run_lzr "$1" --source-ip "$SRC" --targets "$TARGETS" --allow-reserved 198.18.0.0/15 --tx-ring
}

# The second lever: two SYN walkers, each with its own socket and half of the permutation.
run_lzr-2t() { # prefix
    run_lzr "$1" --source-ip "$SRC" --targets "$TARGETS" --allow-reserved 198.18.0.0/15 \
        --send-threads 2
}

# The third: the SYNs through an AF_XDP socket on the veth's queue 0 (--xdp, copy mode).
run_lzr-xdp() { # prefix
    run_lzr "$1" --source-ip "$SRC" --targets "$TARGETS" --allow-reserved 198.18.0.0/15 --xdp
}

run_masscan() { # prefix
    masscan_bounded "$1.log" 120 /usr/bin/time -f '%e %U %S' -o "$1.time" \
        ip netns exec "$SEND_NS" masscan "$TARGETS" -p80-87 --rate 100000000 --adapter s0 \
        --adapter-ip "$SRC" --adapter-port 49152-65535 --router-mac "$SINK_MAC" --wait 0 \
        -oL /dev/null || [ $? = 1 ]
}

run_trafgen() { # prefix
    timeout -k 5 120 /usr/bin/time -f '%e %U %S' -o "$1.time" \
        ip netns exec "$SEND_NS" trafgen --dev s0 --cpus 1 --num 524288 --no-sock-mem \
        --notouch-irq --qdisc-path --no-cpu-stats \
        "{ eth(da=$SINK_MAC, type=0x0800), ipv4(sa=$SRC, da=198.19.0.0, da[3]=dinc()), tcp(sp=40000, dp=dinc(80, 87), syn, win=65535) }" \
        >"$1.log" 2>&1
}

TOOLS=(zmap lzr lzr-ring lzr-xdp lzr-2t masscan lzr6)
command -v trafgen >/dev/null && TOOLS+=(trafgen)
for run in $(seq 1 "$RUNS"); do
    s=$((run % ${#TOOLS[@]}))
    order="${TOOLS[*]:s} ${TOOLS[*]:0:s}"
    for tool in $order; do
        p=$TMP/sendonly-$tool-$run
        ip netns exec "$SINK_NS" "$PY" "$ROOT/tests/bench/synclock.py" "$p.clk" 60 --rx k0 &
        CLOCK_PID=$!
        clock_ready "$p.clk" || true
        if "run_$tool" "$p"; then
            sleep 0.1
            kill "$CLOCK_PID" 2>/dev/null || true
            wait "$CLOCK_PID" 2>/dev/null || true
            CLOCK_PID=
            "$PY" - "$tool" "$run" "$p" "$ROOT/tests/bench" <<'EOF'
import sys
tool, run, p = sys.argv[1:4]
sys.path.insert(0, sys.argv[4])
from synclock import clocked_rate
syns, wire = clocked_rate(p + ".clk")
wall, user, sys_ = (float(x) for x in open(p + ".time").read().split()[-3:])
print("sendonly\t%s\t0\t%s\tsyns=%d\twire=%.0f\twall=%.2f\tcpu=%.2f"
      % (tool, run, syns, wire, wall, user + sys_))
EOF
        else
            kill "$CLOCK_PID" 2>/dev/null || true
            wait "$CLOCK_PID" 2>/dev/null || true
            CLOCK_PID=
            echo "sendonly: $tool run $run failed:" >&2
            tail -3 "$p.log" >&2
        fi
    done
    echo "bench:   send-only run $run done" >&2
done
