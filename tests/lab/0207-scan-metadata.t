#!/usr/bin/env bash
# --metadata (issue 16, item 5): a scan of the lab's services writes one JSON document with the
# version, the configuration, the seed it was given, the times and the counts; the counts agree
# with the records the scan printed and with the SYNs tcpdump saw.
. "$(dirname "$0")/lib.sh"
lab_env

dir=$(mktemp -d /tmp/lzr-0207.XXXXXX)
trap 'kill "$_capture_pid" 2>/dev/null; rm -rf "$dir"' EXIT
capture_start sent "src host $V1_SCAN_IP and tcp[tcpflags] == tcp-syn"
svc=${TARGETS%% *}
timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip "$V1_SCAN_IP" --targets "$svc" --ports 22,80,6379,8080 \
    --allow-reserved 198.18.0.0/15 --no-default-blocklist --seed 31337 --rate 4000 \
    --timeout-ms 1500 --metadata "$dir/meta.json" --output "$dir/out.jsonl" 2>"$dir/err"
is "$?" 0 "a scan with --metadata runs"
capture_stop
m=$dir/meta.json
check "the metadata is one JSON document" jq -e . "$m"
is "$(jq -r .seed "$m")" 31337 "it holds the seed"
like "$(cat "$dir/err")" "seed 31337" "the seed is printed at start"
is "$(jq -r '.config.ports + " " + (.config.rate|tostring) + " " + .config.source_ip' "$m")" \
    "22,80,6379,8080 4000 $V1_SCAN_IP" "and the configuration"
is "$(jq -r '.command | index("--seed") != null' "$m")" true "and the command line"
like "$(jq -r .version "$m")" '^[0-9]+[.][0-9]+' "and the version"
is "$(jq -r '(.end | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) >= (.start | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601)' "$m")" \
    true "start and end are RFC 3339 times, in order"
is "$(jq -r .probes_sent "$m")" $((256 * 4)) "probes_sent: every (address, port) of the /24"
# The scan's ports only: an acking-firewall probe goes to a random port of a host that answered.
is "$(capture_syns "$dir/sent.pcap" | grep "^${svc%.*/*}\." | grep -E ':(22|80|6379|8080)$' |
    sort -u | wc -l)" "$(jq -r .probes_sent "$m")" \
    "the capture saw a SYN to as many (address, port) pairs"
# Without --all, closed and silent targets are counted but not printed.
is "$(jq -r '[.classes | to_entries[] | select(.key != "closed" and .key != "silent") | .value] | add' "$m")" \
    "$(wc -l <"$dir/out.jsonl")" "the per-class counts add up to the records printed"
want=$(jq -r 'select(.protocol != "") | .protocol' "$dir/out.jsonl" | sort | uniq -c |
    awk '{print $2 "=" $1}' | sort | tr '\n' ' ')
got=$(jq -r '.protocols | to_entries[] | "\(.key)=\(.value)"' "$m" | sort | tr '\n' ' ')
is "$got" "$want" "the per-protocol counts match the records"
like "$(jq -r '.protocols | keys | join(",")' "$m")" "ssh" "ssh was named"
done_testing
