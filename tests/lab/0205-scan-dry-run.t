#!/usr/bin/env bash
# --dry-run (issue 16, item 4): `lzr-worker scan --dry-run` lists one line per probe and sends
# nothing — it runs as an unprivileged user, and tcpdump sees no frame — and a real scan with
# the same seed sends its SYNs to the same (address, port) pairs in the same order.
# `lzr-coord submit --dry-run` prints the shard plan and counts and submits nothing.
. "$(dirname "$0")/lib.sh"
lab_env

dir=$(mktemp -d /tmp/lzr-0205.XXXXXX)
chmod 755 "$dir"
trap 'kill "$_capture_pid" 2>/dev/null; rm -rf "$dir"' EXIT
capture() { capture_start "$1" "src host $V1_SCAN_IP and dst net 198.19.0.0/16 and tcp"; }
printf '198.19.6.0/28 # opted out\n' >"$dir/block.conf"
chmod 644 "$dir/block.conf"
common=(--source-ip "$V1_SCAN_IP" --targets 198.19.6.0/25 --ports 80,81
    --allow-reserved 198.18.0.0/15 --seed 12345 --blocklist-file "$dir/block.conf")

: >"$dir/dry.json"
chmod 666 "$dir/dry.json"
capture dry
timeout 60 ip netns exec "$V1_NS" runuser -u nobody -- "$LAB_ROOT/bin/lzr-worker" scan \
    --dry-run "${common[@]}" --metadata "$dir/dry.json" >"$dir/dry.txt" 2>"$dir/dry.err"
is "$?" 0 "a dry run works as user nobody, without --iface"
capture_stop
is "$(tcpdump -n -r "$dir/dry.pcap" 2>/dev/null | wc -l)" 0 "the dry run sent nothing"
is "$(wc -l <"$dir/dry.txt")" $(((128 - 16) * 2)) "one line per probe, blocklisted ones left out"
like "$(head -1 "$dir/dry.txt")" \
    "^$V1_SCAN_IP:[0-9]+ > 198[.]19[.]6[.][0-9]+:8[01] seq [0-9]+$" "a line: SRC:PORT > DST:PORT seq N"
like "$(cat "$dir/dry.err")" "224 probes listed, 32 blocklisted" "the summary counts both"
bad=$(awk '{split($1, s, ":"); if (s[2] < 40000 || s[2] > 65535) n++} END {print n + 0}' \
    "$dir/dry.txt")
is "$bad" 0 "every source port is in the scanner's range"
# --metadata with --dry-run: the document of the scan that would run, its probes listed.
meta=$(python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(m["dry_run"], m["probes_sent"], m["blocklisted"], m["frames_sent"], m["seed"],
      m["config"]["ports"])' "$dir/dry.json" 2>&1)
is "$meta" "True 224 32 0 12345 80,81" "--metadata of a dry run: probes listed, none sent"

capture real
check "the real scan with the same seed runs" timeout 60 ip netns exec "$V1_NS" \
    "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" "${common[@]}" --timeout-ms 1000 \
    --rate 2000 --discovery-only --output /dev/null
capture_stop
tcpdump -n -r "$dir/real.pcap" 'tcp[tcpflags] == tcp-syn' 2>/dev/null | awk '{print $5}' |
    sed 's/:$//; s/\.\([0-9]*\)$/:\1/' >"$dir/real.order"
awk '{print $3}' "$dir/dry.txt" >"$dir/dry.order"
if cmp -s "$dir/dry.order" "$dir/real.order"; then
    ok "the real scan probed the dry run's (address, port) pairs in the same order"
else
    not_ok "the real scan probed the dry run's (address, port) pairs in the same order"
    diag "$(diff "$dir/dry.order" "$dir/real.order" | head -6)"
fi

# Auto-detection (item 6): without --iface and --source-ip both come from the kernel's route to
# the first target, as `ip route get` reports it; with --iface alone, its first address.
route=$(ip netns exec "$V1_NS" ip -4 route get 198.19.6.1)
want_dev=$(awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1)}' <<<"$route" | head -1)
want_src=$(awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1)}' <<<"$route" | head -1)
timeout 30 ip netns exec "$V1_NS" runuser -u nobody -- "$LAB_ROOT/bin/lzr-worker" scan --dry-run \
    --targets 198.19.6.1 --ports 80 --allow-reserved 198.18.0.0/15 >"$dir/auto.txt" 2>"$dir/auto.err"
like "$(cat "$dir/auto.err")" "--iface $want_dev --source-ip $want_src [(]the kernel's route" \
    "without --iface and --source-ip, the route's ($want_dev, $want_src) is used and printed"
like "$(cat "$dir/auto.txt")" "^$want_src:[0-9]+ > 198[.]19[.]6[.]1:80 " "and the probes use it"
timeout 30 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --dry-run --iface "$V1_IF" \
    --targets 198.19.6.1 --ports 80 --allow-reserved 198.18.0.0/15 >/dev/null 2>"$dir/auto2.err"
first=$(ip netns exec "$V1_NS" ip -4 -o addr show dev "$V1_IF" | awk '{print $4}' | head -1)
like "$(cat "$dir/auto2.err")" "--source-ip ${first%/*} [(]the interface's first address" \
    "with --iface alone, the interface's first address"

# The coordinator's plan, with nothing submitted and no coordinator needed.
printf '198.19.6.0/26\n' >"$dir/job-block.conf"
cat >"$dir/job.toml" <<JOB
name = "dry"
targets = "198.19.6.0/24"
allow_reserved = "198.18.0.0/15"
blocklist_file = "job-block.conf"
ports = "80,443"
shards = 3
JOB
out=$(timeout 30 "$LAB_ROOT/bin/lzr-coord" submit "$dir/job.toml" --dry-run --db "$dir/lzr.db")
is "$?" 0 "lzr-coord submit --dry-run exits 0"
like "$out" "192 addresses × 2 ports = 384 targets" "it prints the target counts"
like "$out" "removed: 64 addresses by exclude and blocklist_file" "and what the blocklist removed"
is "$(grep -c '^shard [0-9]*: positions' <<<"$out")" 3 "and one line per shard"
is "$(grep '^shard' <<<"$out" | awk '{s += $6} END {print s}')" 384 \
    "the shards' targets add up to the job's"
[ -e "$dir/lzr.db" ] && not_ok "nothing submitted" || ok "nothing submitted (no database made)"
done_testing
