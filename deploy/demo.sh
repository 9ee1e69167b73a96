#!/usr/bin/env bash
# make demo: brings the built-in lab up, scans all of it with lzr-worker from the first vantage,
# prints what was found per class and per protocol, and tears the lab down again. Nothing leaves
# the lab's namespaces (198.18.0.0/15 only).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (network namespaces, raw sockets)" >&2; exit 1; }

out=$(mktemp /tmp/lzr-demo.XXXXXX.jsonl)
cleanup() { deploy/lab/lab down >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "== bringing up the lab (deploy/lab/lab up)"
deploy/lab/lab up
deploy/lab/lab reset >/dev/null 2>&1 || true
# shellcheck disable=SC1091
. /run/lzr-lab/env

echo
echo "== lzr-worker scan: ${TARGETS} × ports ${PORTS_CSV} from ${V1_SCAN_IP}"
ip netns exec "$V1_NS" bin/lzr-worker scan --iface "$V1_IF" --source-ip "$V1_SCAN_IP" \
    --targets "${TARGETS// /,}" --ports "$PORTS_CSV" --allow-reserved 198.18.0.0/15 \
    --handshakes wait,tls,http,dns,pptp,redis,mqtt,postgres --timeout-ms 1500 \
    --retransmit-ms 500 --rate 5000 --acking-firewall-probes 8 --all --progress --output "$out"

echo
echo "== targets per class (silent: never answered)"
jq -r .class "$out" | sort | uniq -c | sort -rn
echo
echo "== services, per protocol and port"
jq -r 'select(.class == "service") | "\(.protocol)\t\(.port)"' "$out" | sort | uniq -c |
    awk '{printf "%6d  %-12s port %s\n", $1, $2, $3}'
echo
echo "== compared with the lab's ground truth (single vantage)"
if tests/lab/tools/compare-truth "$LAB_TRUTH" "$out" --single-vantage; then
    echo "every truth row matches"
fi
echo
echo "results: $out"
