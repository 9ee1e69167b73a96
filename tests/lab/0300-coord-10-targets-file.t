#!/usr/bin/env bash
# A job's targets_file (issue 16, item 2) over two workers, proved with pcap on both vantages.
# The list mixes the line forms (`ip:port`, `ip,port`, an address alone) and names every
# service of the truth, one middlebox pair, an address without a port (the job's ports apply to
# it) and a service host the job excludes. The workers together send SYNs to exactly the listed
# pairs (the excluded host's never), each pair by one worker, and every listed service is
# named; nothing outside the list is stored. A list of addresses only stays addresses × ports.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
cluster_up v1 v2
dir=$CW
trap 'kill $_capture_pid 2>/dev/null; coord_cleanup' EXIT

# The list: the services (two line forms, alternating), the first rst_after_handshake pair,
# and the host that resets every port, alone on its line.
truth_rows service | awk -F'\t' '{print $1 "\t" $2}' >"$dir/services.tsv"
excluded=$(tail -1 "$dir/services.tsv" | cut -f1)
rst=$(truth_rows rst_after_handshake | head -1 | awk -F'\t' '{print $1 ":" $2}')
closed=$(truth_rows closed | awk -F'\t' '$5 == "kernel RST" {print $1}' | sort | uniq -c |
    sort -rn | awk 'NR == 1 {print $2}')
{
    echo "# the lab's services, one middlebox pair and a closed host"
    awk -F'\t' 'NR % 2 {print $1 ":" $2; next} {print $1 "," $2}' "$dir/services.tsv"
    echo "$rst"
    echo "$closed"
} >"$dir/pairs.txt"
cat >"$dir/job.toml" <<JOB
name = "pairs"
targets_file = "pairs.txt"
ports = "80"
exclude = "$excluded"
allow_reserved = "198.18.0.0/15"
rate = 500
shards = 4
timeout_ms = 1500
retransmit_ms = 500
acking_firewall_probes = 0
JOB
# What must be probed: the listed pairs but the excluded host's, and the closed host on 80.
{
    awk -F'\t' -v x="$excluded" '$1 != x {print $1 ":" $2}' "$dir/services.tsv"
    echo "$rst"
    echo "$closed:80"
} | sort -u >"$dir/want.pairs"
n_want=$(wc -l <"$dir/want.pairs")
diag "$(wc -l <"$dir/services.tsv") services listed, $excluded excluded, $rst, $closed alone: $n_want pairs"

plan=$(coordctl submit --dry-run "$dir/job.toml" 2>&1)
planned=$(awk '/^shard [0-9]+:/ {n += $(NF - 1)} END {print n}' <<<"$plan")
is "$planned" "$n_want" "submit --dry-run: the 4 shards hold the listed pairs"

filter() { echo "src host $1 and (dst net 198.18.16.0/24 or dst net 198.18.32.0/24)"; }
capture_start pairs-v1 "$(filter "$V1_SCAN_IP")" v1
capture_start pairs-v2 "$(filter "$V2_SCAN_IP")" v2
job=$(coordctl submit "$dir/job.toml" 2>>"$CW/cli.log")
check "the job finishes" wait_job_done "$job" 90
capture_stop
capture_syns "$dir/pairs-v1.pcap" | sort -u >"$dir/v1.pairs"
capture_syns "$dir/pairs-v2.pcap" | sort -u >"$dir/v2.pairs"
sort -u "$dir/v1.pairs" "$dir/v2.pairs" >"$dir/all.pairs"
diag "pairs probed: v1 $(wc -l <"$dir/v1.pairs"), v2 $(wc -l <"$dir/v2.pairs")"
if cmp -s "$dir/want.pairs" "$dir/all.pairs"; then
    ok "the workers sent SYNs to exactly the listed pairs"
else
    not_ok "the workers sent SYNs to exactly the listed pairs"
    diag "$(diff "$dir/want.pairs" "$dir/all.pairs" | head -6)"
fi
is "$(grep -c "^$excluded:" "$dir/all.pairs")" 0 "the excluded host got no SYN"
is "$(comm -12 "$dir/v1.pairs" "$dir/v2.pairs" | wc -l)" 0 "no pair was probed by both workers"
if [ -s "$dir/v1.pairs" ] && [ -s "$dir/v2.pairs" ]; then
    ok "both workers took part"
else
    not_ok "both workers took part"
fi

coordctl results "$job" >"$dir/results.jsonl"
jq -r '.ip + ":" + (.port|tostring) + " " + .class' "$dir/results.jsonl" | sort >"$dir/got.txt"
awk -F'\t' -v x="$excluded" '$1 != x {print $1 ":" $2 " service"}' "$dir/services.tsv" |
    sort >"$dir/svc.want"
missing=$(comm -23 "$dir/svc.want" "$dir/got.txt")
is "$missing" "" "every listed service is named a service"
is "$(grep -c "^$rst rst_after_handshake$" "$dir/got.txt")" 1 "the middlebox pair is rst_after_handshake"
outside=$(jq -r '.ip + ":" + (.port|tostring)' "$dir/results.jsonl" | sort -u |
    comm -23 - "$dir/want.pairs")
is "$outside" "" "nothing outside the list is stored"
total=$(coordctl status "$job" --json 2>/dev/null | jq -r '.config.targets_total')
is "$total" "$n_want" "status --json counts the listed pairs"

# A list of addresses alone is the job's targets × its ports.
printf '%s\n' "$closed" "$excluded" >"$dir/hosts.txt"
sed -e 's/pairs.txt/hosts.txt/' -e '/^exclude/d' -e 's/^ports = .*/ports = "22,80,443"/' \
    "$dir/job.toml" >"$dir/hosts.toml"
plan=$(coordctl submit --dry-run "$dir/hosts.toml" 2>&1)
planned=$(awk '/^shard [0-9]+:/ {n += $(NF - 1)} END {print n}' <<<"$plan")
is "$planned" 6 "a list of 2 addresses with 3 ports is 6 targets"
done_testing
