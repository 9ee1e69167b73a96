#!/usr/bin/env bash
# A scan that meets connections an earlier scan from the same scan IP left open. The first scan
# of 256 load addresses uses only four source ports and is killed -9 while its "wait" probes
# hold their connections, so nginx keeps them established. The second scan, on the same four
# ports, reuses about a quarter of those four-tuples: each such target answers its SYN with a
# challenge ACK, not a SYN-ACK. lzr resets the old connection at the sequence number the ACK
# names and sends the SYN again, so every address is still named http, and the summary counts
# the challenge ACKs.
. "$(dirname "$0")/lib.sh"
lab_env
"$LAB" reset >/dev/null 2>&1
dir=$(mktemp -d /tmp/lzr-0212.XXXXXX)
trap 'kill -9 "${first:-}" 2>/dev/null; rm -rf "$dir"' EXIT
range=$(python3 -c 'import ipaddress, sys; print("%s/24" % ipaddress.ip_network(sys.argv[1])[7 * 256])' "$LOAD_CIDR")
scan() {
    timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
        --source-ip "$V1_SCAN_IP" --targets "$range" --allow-reserved 198.18.0.0/15 --ports 80 \
        --source-ports 40000-40003 --rate 2000 --timeout-ms 3000 "$@"
}
ours() {
    ip netns exec "$LOAD_NS" ss -tnH state established "( dst $V1_SCAN_IP )" | wc -l
}

scan --handshakes wait,http --output "$dir/first.jsonl" 2>"$dir/first.err" &
first=$!
wait_until 10 sh -c "[ \$(ip netns exec '$LOAD_NS' ss -tnH state established '( dst $V1_SCAN_IP )' | wc -l) -ge 200 ]"
kill -9 "$first"
wait "$first" 2>/dev/null
first=
n_old=$(ours)
[ "$n_old" -ge 200 ] && ok "the killed scan left $n_old connections open in the load range" ||
    not_ok "the killed scan left only $n_old connections open in the load range"

if scan --handshakes http --output "$dir/second.jsonl" 2>"$dir/second.err"; then
    ok "the second scan runs"
else
    not_ok "the second scan runs"
fi
summary=$(grep 'done in' "$dir/second.err")
diag "$summary"
n_ch=$(sed -n 's/.* \([0-9]*\) challenge ACKs.*/\1/p' <<<"$summary")
[ "${n_ch:-0}" -ge 10 ] && ok "the second scan met $n_ch challenge ACKs and answered them" ||
    not_ok "the second scan met ${n_ch:-no} challenge ACKs (a quarter of $n_old expected)"
is "$(jq -r 'select(.class == "service" and .protocol == "http") | .ip' "$dir/second.jsonl" | sort -u | wc -l)" \
    256 "every address of the range is named http despite the stale connections"
done_testing
