#!/usr/bin/env bash
# lzr-worker scan with --send-threads 3 --tx-ring against the whole lab: three SYN walkers, each
# with its own TX ring and a third of the permutation, paced at a third of the rate. The scan
# sees what one walker sees (every truth row's single-vantage class and protocol), every probe of
# the permutation leaves (each of --dry-run's destinations gets its SYN on the wire), and
# with --all every (address, port) has exactly one record: the silent ones of every slice too.
. "$(dirname "$0")/lib.sh"
lab_env
"$LAB" reset >/dev/null

dir=$(mktemp -d /tmp/lzr-0211.XXXXXX)
trap 'kill "$cap_pid" 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"' EXIT
args=(--iface "$V1_IF" --source-ip "$V1_SCAN_IP" --targets "${TARGETS// /,}" --ports "$PORTS_CSV"
    --allow-reserved 198.18.0.0/15 --seed 11 --acking-firewall-probes 8)

ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan "${args[@]}" --dry-run \
    --output "$dir/plan.txt" 2>/dev/null
planned=$(wc -l <"$dir/plan.txt")
ok "the dry run lists $planned probes"

# Every SYN the vantage sends, seen where its link meets the lab's bridge: frames sent through
# a TX ring bypass the qdisc, and with it any tcpdump on the sending interface itself.
ip netns exec "$LAB_BRIDGE_NS" tcpdump -i v1 -nn -l -Q in -w "$dir/syn.pcap" \
    "tcp[tcpflags] == tcp-syn and src host $V1_SCAN_IP" 2>/dev/null &
cap_pid=$!
sleep 1

if timeout 300 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan "${args[@]}" \
    --timeout-ms 1500 --retransmit-ms 500 --rate 6000 --all --send-threads 3 --tx-ring \
    --output "$dir/out.jsonl" 2>"$dir/err"; then
    ok "a scan with three send threads ran to the end"
else
    not_ok "a scan with three send threads ran to the end"
    diag "$(tail -20 "$dir/err")"
fi
sleep 1
kill "$cap_pid" 2>/dev/null
wait "$cap_pid" 2>/dev/null
diag "$(grep "done in" "$dir/err")"

if diff_out=$("$LAB_ROOT/tests/lab/tools/compare-truth" "$LAB_TRUTH" "$dir/out.jsonl" \
    --single-vantage); then
    ok "every truth row has its single-vantage class and protocol"
else
    not_ok "every truth row has its single-vantage class and protocol"
    diag "$diff_out"
fi

is "$(jq -r '.ip + ":" + (.port|tostring)' "$dir/out.jsonl" | sort -u | wc -l)" "$planned" \
    "with --all, every planned (address, port) has a record"
is "$(wc -l <"$dir/out.jsonl")" "$planned" "and only one"
# One key per probe, its destination address and port, from the plan ("SRC:SPORT > DST:DPORT
# seq N") and from tcpdump ("… IP SRC.SPORT > DST.DPORT: Flags [S] …"). Source ports are not
# compared: they come from the run's own random cookie key.
awk '{print $3}' "$dir/plan.txt" | sort -u >"$dir/plan.keys"
tcpdump -nn -r "$dir/syn.pcap" 2>/dev/null |
    awk '{d = $5; sub(/:$/, "", d); split(d, p, ".");
          print p[1] "." p[2] "." p[3] "." p[4] ":" p[5]}' | sort -u >"$dir/sent.keys"
is "$(comm -23 "$dir/plan.keys" "$dir/sent.keys" | wc -l)" 0 "every probe of the dry run left"
done_testing
