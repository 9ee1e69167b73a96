#!/usr/bin/env bash
# lzr-worker's fast start keeps the firewall self-test's protection. In the vantage lzr-v2 the
# lab's drop rule (table inet lzrlab) is taken away: the kernel would reset every handshake, and
# the worker must refuse to start. With the rule put back it starts, and its start-up report
# (--progress) says the self-test ended on the positive control's RST rather than on a timeout,
# and the scan finds the web server. A rule that drops the control port too leaves the test
# without its proof: it falls back to the old wait and still starts. The rule is restored on exit.
# No timing is asserted.
. "$(dirname "$0")/lib.sh"
lab_env
W="$LAB_ROOT/bin/lzr-worker"
dir=$(mktemp -d /tmp/lzr-0204.XXXXXX)
saved="$dir/lzrlab.nft"
in_ns "$V2_NS" nft list table inet lzrlab >"$saved" || bail_out "no lzrlab table in $V2_NS"
restore() {
    ip netns exec "$V2_NS" nft delete table inet lzrlab 2>/dev/null
    ip netns exec "$V2_NS" nft delete table inet lzr0204 2>/dev/null
    ip netns exec "$V2_NS" nft -f "$saved"
    rm -rf "$dir"
}
trap restore EXIT

scan() { # args...: one small scan from lzr-v2's scan IP; stderr to $dir/err, exit status kept
    timeout 60 ip netns exec "$V2_NS" "$W" scan --iface "$V2_IF" --source-ip "$V2_SCAN_IP" \
        --targets 198.18.16.10 --ports 80 --allow-reserved 198.18.0.0/15 --timeout-ms 1000 \
        --progress --output "$dir/out.jsonl" "$@" 2>"$dir/err"
}

in_ns "$V2_NS" nft delete table inet lzrlab
scan
is "$?" 1 "without the drop rule the worker refuses to start"
like "$(cat "$dir/err")" "refusing to start: the kernel answers SYN-ACKs on the scanner's ports 40000-65535 with RST" \
    "and says the kernel would reset its handshakes"
if [ -s "$dir/out.jsonl" ]; then not_ok "no record was written"; else ok "no record was written"; fi

in_ns "$V2_NS" nft -f "$saved"
scan
is "$?" 0 "with the lab's drop rule back the worker starts"
err=$(cat "$dir/err")
like "$err" "self-test [0-9.]+ ms, control RST from port 39999" \
    "the self-test ended on the control port's RST"
like "$err" "first SYN [0-9.]+ ms after start" "the start-up report gives the first SYN's time"
is "$(jq -r 'select(.port == 80) | .protocol' "$dir/out.jsonl")" "http" \
    "and the scan completes handshakes (nginx named)"
diag "$(grep start-up <<<"$err")"

# A second rule that drops every port of the scan IP, the control's included.
ip netns exec "$V2_NS" nft -f - <<EOF
table inet lzr0204 {
    chain input {
        type filter hook input priority 0; policy accept;
        ip daddr $V2_SCAN_IP tcp dport 1-65535 drop
    }
}
EOF
scan
is "$?" 0 "with the control's port dropped too the worker still starts"
like "$(cat "$dir/err")" "no control RST: 450 ms of silence" \
    "judged by the old wait, and says so"
done_testing
