#!/usr/bin/env bash
# lzr-worker refuses to start, saying how to fix it, when it cannot scan safely: a reserved
# target not lifted, a source IP not on the interface, an unknown interface, a port range the
# kernel would reset or that overlaps its ephemeral range, no privileges. --manage-firewall
# installs the missing rule, scans, and removes the rule at exit.
. "$(dirname "$0")/lib.sh"
lab_env
W="$LAB_ROOT/bin/lzr-worker"
base=(--iface "$V1_IF" --source-ip "$V1_SCAN_IP" --ports 80 --timeout-ms 500)

# refuses CODE PATTERN DESC ARGS...: the worker exits with CODE and stderr matches PATTERN.
refuses() {
    local code=$1 pattern=$2 desc=$3 out rc
    shift 3
    out=$(timeout 30 ip netns exec "$V1_NS" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" -eq "$code" ] && [[ "$out" =~ $pattern ]]; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "exit $rc (want $code); stderr: $out"
    fi
}

refuses 2 "198.18.16.0/28 lies in the reserved range 198.18.0.0/15.*--allow-reserved" \
    "a reserved target that was not lifted is refused, naming the range and the fix" \
    "$W" scan "${base[@]}" --targets 198.18.16.0/28
refuses 1 "source IP 198.18.16.10 is not assigned to $V1_IF" \
    "a source IP that is not on the interface is refused" \
    "$W" scan --iface "$V1_IF" --source-ip 198.18.16.10 --ports 80 --targets 198.18.16.0/28 \
    --allow-reserved 198.18.0.0/15
refuses 1 "no interface named nosuch0" "an unknown interface is refused" \
    "$W" scan --iface nosuch0 --source-ip "$V1_SCAN_IP" --ports 80 --targets 198.18.16.0/28 \
    --allow-reserved 198.18.0.0/15
refuses 1 "answers SYN-ACKs on the scanner's ports 30000-31000 with RST.*--manage-firewall" \
    "a source-port range whose RSTs are not suppressed is refused (active self-test)" \
    "$W" scan "${base[@]}" --targets 198.18.16.0/28 --allow-reserved 198.18.0.0/15 \
    --source-ports 30000-31000
refuses 1 "ephemeral ports 32768-39999 overlap.*ip_local_port_range" \
    "a source-port range inside the kernel's ephemeral range is refused" \
    "$W" scan "${base[@]}" --targets 198.18.16.0/28 --allow-reserved 198.18.0.0/15 \
    --source-ports 35000-36000
refuses 1 "needs root or CAP_NET_RAW" "an unprivileged user is refused" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$W" scan "${base[@]}" \
    --targets 198.18.16.0/28 --allow-reserved 198.18.0.0/15
refuses 2 '"70000" is not a port' "a bad port list is refused, quoting the port" \
    "$W" scan "${base[@]/80/70000}" --targets 198.18.16.0/28 --allow-reserved 198.18.0.0/15

out=$(mktemp /tmp/lzr-0202.XXXXXX)
trap 'rm -f "$out"' EXIT
check "--manage-firewall installs the rule and the scan runs on an unprotected range" \
    timeout 60 ip netns exec "$V1_NS" "$W" scan "${base[@]}" --targets 198.18.16.10 \
    --allow-reserved 198.18.0.0/15 --source-ports 30000-31000 --manage-firewall --output "$out"
is "$(jq -r 'select(.port == 80) | .protocol' "$out")" "http" \
    "with the managed rule the handshake completes (nginx named)"
is "$(ip netns exec "$V1_NS" nft list tables | grep -c lzr_worker_)" "0" \
    "the managed rule is gone after the scan"
done_testing
