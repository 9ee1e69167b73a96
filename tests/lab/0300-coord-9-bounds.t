#!/usr/bin/env bash
# Job bounds (issue 16, item 3) over two workers, proved with pcap on both vantages:
# max_targets = 500 makes the workers together send SYNs to exactly 500 (address, port) pairs,
# the first 500 of the job's seeded permutation (as `lzr-worker scan --dry-run` lists them with
# the same seed), and the coordinator stores exactly those 500 and reports them in
# `status --json`; max_runtime = 3 stops every SYN
# of a 218 s job after 3 s, drops the shards not started and ends the job as done, saying so.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1 v2
dir=$CW
trap 'kill $_capture_pid 2>/dev/null; coord_cleanup' EXIT

# The job's port only: LZR's acking-firewall probes go to random ports of hosts that answered.
capture_both() {
    capture_start "$1-v1" "src host $V1_SCAN_IP and dst net $LOAD_CIDR and tcp dst port 80" v1
    capture_start "$1-v2" "src host $V2_SCAN_IP and dst net $LOAD_CIDR and tcp dst port 80" v2
}
bounded_job() { # FILE RATE SHARDS LINE...: the load job with more lines
    local file=$1
    write_load_job "$file" bounds "$2" "$3"
    shift 3
    printf '%s\n' "$@" >>"$file"
}

# ---- max_targets -------------------------------------------------------------------------
bounded_job "$CW/job.toml" 2000 4 'seed = 777' 'max_targets = 500' 'report_all = true'
plan=$(coordctl submit --dry-run "$CW/job.toml" 2>&1)
like "$plan" 'max_targets 500: a seeded sample of 500 targets' "submit --dry-run shows the bound"
planned=$(awk '/^shard [0-9]+:/ {n += $(NF - 1)} END {print n}' <<<"$plan")
is "$planned" 500 "and its 4 shards hold 500 targets together"
capture_both n500
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
check "the bounded job finishes" wait_job_done "$job" 40
capture_stop
capture_syns "$dir/n500-v1.pcap" | sort -u >"$dir/v1.pairs"
capture_syns "$dir/n500-v2.pcap" | sort -u >"$dir/v2.pairs"
diag "pairs probed: v1 $(wc -l <"$dir/v1.pairs"), v2 $(wc -l <"$dir/v2.pairs")"
sort -u "$dir/v1.pairs" "$dir/v2.pairs" >"$dir/all.pairs"
is "$(wc -l <"$dir/all.pairs")" 500 "the two workers sent SYNs to exactly 500 pairs"
is "$(comm -12 "$dir/v1.pairs" "$dir/v2.pairs" | wc -l)" 0 "no pair was probed by both"
ok_if() { if eval "$1"; then ok "$2"; else not_ok "$2"; fi; }
ok_if '[ -s "$dir/v1.pairs" ] && [ -s "$dir/v2.pairs" ]' "both workers took part"
"$LAB_ROOT/bin/lzr-worker" scan --dry-run --source-ip "$V1_SCAN_IP" --targets "$LOAD_CIDR" \
    --ports 80 --seed 777 --max-targets 500 --allow-reserved 198.18.0.0/15 \
    --no-default-blocklist 2>/dev/null | awk '{print $3}' | sort -u >"$dir/dry.pairs"
if cmp -s "$dir/dry.pairs" "$dir/all.pairs"; then
    ok "they are the first 500 of the seeded permutation"
else
    not_ok "they are the first 500 of the seeded permutation"
    diag "$(diff "$dir/dry.pairs" "$dir/all.pairs" | head -4)"
fi
is "$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*) FROM results WHERE job_id = $job")" 500 \
    "the coordinator stored 500 records (report_all: one per pair)"

# status --json: the job's document, the same counts the worker's --metadata gives.
doc=$(coordctl status "$job" --json 2>&1)
got=$(python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
print(d["state"], d["config"]["max_targets"], d["config"]["targets_total"], d["probes_sent"],
      d["shards"]["done"], sum(d["classes"].values()), d["seed"])' <<<"$doc" 2>&1)
is "$got" "done 500 500 500 4 500 777" \
    "status --json: done, 500 probes sent by the workers, 4 shards, 500 records, the seed"

# ---- max_runtime -------------------------------------------------------------------------
bounded_job "$CW/job.toml" 300 10 'max_runtime = 3'
capture_both rt
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
check "the job ends although 3 s cover 900 of its 65536 targets" wait_job_done "$job" 30
capture_stop
reason=$(sqlite3 -readonly "$CW/lzr.db" "SELECT reason FROM jobs WHERE id = $job")
like "$reason" '^max_runtime of 3 s reached: [0-9]+ of 10 shards dropped unscanned$' \
    "the job says why it ended early ($reason)"
dropped=$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*) FROM shards WHERE job_id = $job AND dropped")
ok_if '[ "$dropped" -ge 6 ]' "shards never leased were dropped ($dropped of 10)"
like "$(coordctl status "$job" 2>&1)" 'done;.*max_runtime of 3 s reached' "status shows it"
# A pair's later SYNs open the next handshake's connection to a host the walk already reached;
# the walk itself (each pair's first SYN) must stop at the deadline.
for f in "$dir"/rt-v1.pcap "$dir"/rt-v2.pcap; do
    tcpdump -tt -n -r "$f" 'tcp[tcpflags] == tcp-syn' 2>/dev/null | awk '{print $1, $5}'
done | sort -n | awk '!seen[$2]++ {print $1}' >"$dir/rt.first"
n=$(wc -l <"$dir/rt.first")
ok_if '[ "$n" -ge 600 ] && [ "$n" -le 950 ]' "about 3 s at 300/s were probed ($n pairs)"
span=$(awk 'NR == 1 {a = $1} {b = $1} END {printf "%.2f", b - a}' "$dir/rt.first")
ok_if 'awk -v s="$span" "BEGIN {exit !(s <= 3.2)}"' \
    "no pair was first probed later than 3 s after the first ($span s)"
done_testing
