#!/usr/bin/env bash
# make demo: the main job on the built-in lab. Brings the lab up, starts a coordinator and two
# workers (one per vantage namespace, each with its scan IP and fresh IPs), submits
# examples/lab.toml, shows its progress, prints the results per class and per protocol, checks
# them against the lab's ground truth, compares the two vantage points (the job scans every
# target from both scan IPs), and tears everything down. The job holds both families: the lab's
# IPv4 networks and the hosts of its IPv6 side, which each worker probes from its IPv6 scan IP.
# Nothing leaves the lab's namespaces (198.18.0.0/15 and 2001:2::/48 only); every process
# started here is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (network namespaces, raw sockets)" >&2; exit 1; }

dir=$(mktemp -d /tmp/lzr-demo.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    deploy/lab/lab down >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== the lab (deploy/lab/lab up)"
deploy/lab/lab up
deploy/lab/lab reset >/dev/null 2>&1 || true
# shellcheck disable=SC1091
. /run/lzr-lab/env

echo
echo "== coordinator and two workers (CURVE keys in $dir/keys)"
bin/lzr-coord keygen "$dir/keys" v1 v2 >/dev/null
bin/lzr-coord serve --db "$dir/lzr.db" --keys "$dir/keys" --listen "ipc://$dir/workers.sock" \
    >"$dir/coord.log" 2>&1 &
pids+=($!)
for i in $(seq 50); do [ -S "$dir/lzr-coord.ctl" ] && break; sleep 0.2; done
for v in v1 v2; do
    ns_var=${v^^}_NS if_var=${v^^}_IF ip_var=${v^^}_SCAN_IP fresh_var=${v^^}_FRESH_IPS
    ip6_var=${v^^}_SCAN_IP6 fresh6_var=${v^^}_FRESH_IPS6
    fresh=()
    for f in ${!fresh_var}; do fresh+=(--fresh-ip "$f"); done
    for f in ${!fresh6_var}; do fresh+=(--fresh-ip6 "$f"); done
    ip netns exec "${!ns_var}" bin/lzr-worker --coordinator "ipc://$dir/workers.sock" \
        --iface "${!if_var}" --scan-ip "${!ip_var}" --scan-ip6 "${!ip6_var}" "${fresh[@]}" \
        --keys "$dir/keys/$v" --name "$v" >"$dir/$v.log" 2>&1 &
    pids+=($!)
done
sleep 1
bin/lzr-coord workers --db "$dir/lzr.db"

echo
echo "== lzr-coord submit examples/lab.toml"
job=$(bin/lzr-coord submit examples/lab.toml --db "$dir/lzr.db")
echo "job $job"
timeout 600 bin/lzr-coord status "$job" --wait --db "$dir/lzr.db"

results="$dir/results.jsonl"
bin/lzr-coord results "$job" --format jsonl --db "$dir/lzr.db" >"$results"
echo
echo "== targets per class, and the scan IP whose record results kept (the union of both passes)"
jq -r '"\(.class)\t\(.source_ip)"' "$results" | sort | uniq -c | sort -k2,2 -k1,1rn |
    awk '{printf "%6d  %-20s from %s\n", $1, $2, $3}'
echo
echo "== services, per protocol and port"
jq -r 'select(.class == "service") | "\(.protocol)\t\(.port)"' "$results" | sort | uniq -c |
    awk '{printf "%6d  %-16s port %s\n", $1, $2, $3}'
echo
echo "== targets per family"
jq -r 'if (.ip | contains(":")) then "IPv6" else "IPv4" end' "$results" | sort | uniq -c |
    awk '{printf "%6d  %s (address, port) pairs\n", $1, $2}'
echo
echo "== compared with the lab's ground truth, both families (single vantage)"
cat "$LAB_TRUTH" "$LAB_TRUTH6" >"$dir/truth-both.tsv"
tests/lab/tools/compare-truth "$dir/truth-both.tsv" "$results" --single-vantage &&
    echo "every truth row matches, IPv4 and IPv6"
echo
echo "== multi-vantage verdicts (lzr-coord results $job --verdicts)"
bin/lzr-coord results "$job" --verdicts --db "$dir/lzr.db" >"$dir/verdicts.jsonl"
# Hosts that block or went away, one line each; the hosts that answer every source alike
# (not_blocking: middleboxes and filtered hosts) only counted.
jq -r 'select(.verdict != "not_blocking") | "\(.ip):\(.port)\t\(.verdict)"' "$dir/verdicts.jsonl" |
    sort -t. -k4,4n | awk '{printf "  %-22s %s\n", $1, $2}'
echo "  not_blocking: $(jq -r 'select(.verdict == "not_blocking") | .ip' "$dir/verdicts.jsonl" | wc -l) hosts (answer every source alike; they keep their classes)"
echo
echo "== each target from both scan IPs (lzr-coord compare $job)"
bin/lzr-coord compare "$job" --db "$dir/lzr.db"
echo
echo "== lzr-coord report $job"
# With the lab's prefix-to-AS file the report ends with the hosts' ASes per behaviour.
bin/lzr-coord report "$job" --svg "$dir/report.svg" --db "$dir/lzr.db" \
    ${LAB_PFX2AS:+--pfx2as "$LAB_PFX2AS"}
echo
echo "database: $dir/lzr.db   chart: $dir/report.svg"
