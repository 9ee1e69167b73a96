#!/usr/bin/env bash
# Bounds (issue 16, item 3), proved with pcap: --max-targets N sends exactly N SYNs — the first
# N of the seeded permutation, as the dry run lists them — and P% that share of the targets;
# --max-runtime stops the sending after that many seconds; --cooldown-ms sets how long the
# scan listens after its last SYN.
. "$(dirname "$0")/lib.sh"
lab_env

dir=$(mktemp -d /tmp/lzr-0206.XXXXXX)
trap 'kill "$_capture_pid" 2>/dev/null; rm -rf "$dir"' EXIT
capture() { capture_start "$1" "src host $V1_SCAN_IP and dst net 198.19.0.0/16 and tcp"; }
scan() {
    timeout 60 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
        --source-ip "$V1_SCAN_IP" --allow-reserved 198.18.0.0/15 --no-default-blocklist "$@"
}
common=(--targets 198.19.7.0/24 --ports 80,81 --seed 4242)

capture n100
scan "${common[@]}" --max-targets 100 --rate 5000 --timeout-ms 1000 --discovery-only \
    --output /dev/null 2>"$dir/n100.err"
is "$?" 0 "--max-targets 100 runs"
capture_stop
capture_syns "$dir/n100.pcap" >"$dir/n100.order"
is "$(wc -l <"$dir/n100.order")" 100 "exactly 100 SYNs were sent"
"$LAB_ROOT/bin/lzr-worker" scan --dry-run --source-ip "$V1_SCAN_IP" "${common[@]}" \
    --allow-reserved 198.18.0.0/15 --no-default-blocklist 2>/dev/null | head -100 |
    awk '{print $3}' >"$dir/dry100"
if cmp -s "$dir/dry100" "$dir/n100.order"; then
    ok "they are the first 100 of the seeded permutation"
else
    not_ok "they are the first 100 of the seeded permutation"
    diag "$(diff "$dir/dry100" "$dir/n100.order" | head -4)"
fi

capture pct
scan "${common[@]}" --max-targets 12.5% --rate 5000 --timeout-ms 1000 --discovery-only \
    --output /dev/null 2>/dev/null
capture_stop
is "$(capture_syns "$dir/pct.pcap" | wc -l)" 64 "--max-targets 12.5% of 512 sent 64 SYNs"

capture runtime
start=$(date +%s.%N)
scan --targets 198.19.0.0/16 --ports 80 --max-runtime 2 --rate 200 --timeout-ms 500 \
    --cooldown-ms 500 --discovery-only --output /dev/null 2>"$dir/runtime.err"
end=$(date +%s.%N)
capture_stop
n=$(capture_syns "$dir/runtime.pcap" | wc -l)
if [ "$n" -ge 300 ] && [ "$n" -le 480 ]; then
    ok "--max-runtime 2 at 200/s sent about 400 SYNs of 65536 ($n)"
else
    not_ok "--max-runtime 2 at 200/s sent about 400 SYNs of 65536 ($n)"
fi
like "$(awk -v a="$start" -v b="$end" 'BEGIN {print (b - a < 5) ? "quick" : b - a}')" quick \
    "and the scan ended within 5 s"

# Cooldown: one closed port (a RST at once), so only the cooldown keeps the scan alive.
t0=$(date +%s%N)
scan --targets 198.19.7.1 --ports 81 --cooldown-ms 4000 --output /dev/null 2>/dev/null
t1=$(date +%s%N)
scan --targets 198.19.7.1 --ports 81 --cooldown-ms 300 --output /dev/null 2>/dev/null
t2=$(date +%s%N)
long=$(((t1 - t0) / 1000000)) short=$(((t2 - t1) / 1000000))
diag "cooldown 4000 ms: ran $long ms; cooldown 300 ms: ran $short ms"
[ "$long" -ge 4000 ] && ok "--cooldown-ms 4000 listened at least 4 s" ||
    not_ok "--cooldown-ms 4000 listened at least 4 s"
[ "$short" -lt 2500 ] && ok "--cooldown-ms 300 ended within 2.5 s (the default would wait 5 s)" ||
    not_ok "--cooldown-ms 300 ended within 2.5 s (the default would wait 5 s)"

out=$(scan "${common[@]}" --max-targets 10x --output /dev/null 2>&1)
like "$out" '--max-targets: "10x" is not a number of targets' "a bad --max-targets names the value"
done_testing
