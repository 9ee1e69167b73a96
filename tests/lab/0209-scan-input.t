#!/usr/bin/env bash
# Target lists (issue 16, item 2). 1: Debian's zmap scans the lab's service hosts from vantage
# v1, one port at a time, and its CSV and JSON output is piped into `lzr-worker scan
# --input-file -`, which probes the lines as they arrive and names every service of the truth.
# 2: a list file of ip:port and ip,port lines, one of them on the blocklist: pcap proves the
# listed pairs and nothing else were probed. 3: a bad line is refused with FILE:LINE before any
# frame leaves.
. "$(dirname "$0")/lib.sh"
lab_env
"$LAB" reset >/dev/null
command -v zmap >/dev/null || bail_out "zmap is not installed (deploy/deps.sh installs it)"

dir=$(mktemp -d /tmp/lzr-0209.XXXXXX)
trap 'rm -rf "$dir"' EXIT
capture() { capture_start "$1" "src host $V1_SCAN_IP and dst net 198.18.0.0/15 and tcp"; }
scan() {
    timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
        --source-ip "$V1_SCAN_IP" --allow-reserved 198.18.0.0/15 --timeout-ms 1500 \
        --retransmit-ms 500 --rate 2000 --no-default-blocklist "$@"
}
# The service rows of the truth, without the middlebox networks (198.18.32-33.0/24).
truth_rows service | awk -F'\t' '$1 !~ /^198[.]18[.]3[23][.]/ {print $1 "\t" $2 "\t" $4}' |
    sort >"$dir/services"
hosts=$(cut -f1 "$dir/services" | sort -u)
ports=$(cut -f2 "$dir/services" | sort -un)
[ -s "$dir/services" ] || bail_out "no service rows in the truth"

# 1. zmap | lzr-worker: zmap's source ports (30000-32000) are not lzr's (40000-65535); zmap is given
# the gateway's MAC (it would wait for the neighbour table otherwise).
zmap_port() { # zmap_port PORT FORMAT: zmap's results for PORT over every service host
    ip netns exec "$V1_NS" timeout 60 zmap -q -i "$V1_IF" -S "$V1_SCAN_IP" -s 30000-32000 \
        -G "$GW_MAC" -p "$1" -b /dev/null -c 1 -r 2000 -O "$2" -f saddr,sport -o - $hosts 2>>"$dir/zmap.err"
}
{
    for p in $ports; do
        if [ "$p" = 22 ]; then zmap_port "$p" json; else zmap_port "$p" csv; fi
    done
} | tee "$dir/zmap.out" | scan --input-file - --ports "$PORTS_CSV" --output "$dir/pipe.jsonl" \
    --metadata "$dir/pipe.meta" 2>"$dir/pipe.err"
rc=${PIPESTATUS[2]}
is "$rc" 0 "zmap | lzr-worker scan --input-file - ran to the end"
[ "$rc" = 0 ] || diag "$(tail -5 "$dir/pipe.err") $(tail -3 "$dir/zmap.err")"
like "$(head -3 "$dir/zmap.out")" "saddr,sport" "zmap wrote CSV with its header"
like "$(cat "$dir/zmap.out")" '"saddr"' "and JSON lines (port 22)"
missing=$(while IFS=$'\t' read -r ip port proto; do
    got=$(jq -r --arg ip "$ip" --argjson p "$port" \
        'select(.ip == $ip and .port == $p and .class == "service") | .protocol' "$dir/pipe.jsonl")
    [ "$got" = "$proto" ] || echo "$ip:$port want $proto got '${got}'"
done <"$dir/services")
is "$missing" "" "every service of the truth on those hosts is named ($(wc -l <"$dir/services") services)"
is "$(jq -r '.config.input_file' "$dir/pipe.meta")" "-" "--metadata names the input"
is "$(jq -r .probes_sent "$dir/pipe.meta")" "$(grep -c '^[{0-9]' "$dir/zmap.out")" \
    "--metadata counts one probe per line zmap wrote"

# 2. A list file: ip:port, ip,port, a comment, a bare address (taking --ports), and a listed
# address the blocklist holds. Exactly the listed, unblocked pairs are probed.
web=$(awk -F'\t' '$3 == "http" && $2 == 80 {print $1; exit}' "$dir/services")
ssh=$(awk -F'\t' '$3 == "ssh" && $2 == 22 {print $1; exit}' "$dir/services")
ftp=$(awk -F'\t' '$3 == "ftp" {print $1; exit}' "$dir/services")
pg=$(awk -F'\t' '$3 == "postgres" {print $1 "\t" $2; exit}' "$dir/services")
pg_ip=${pg%%$'\t'*}
cat >"$dir/list.txt" <<LIST
# a list of targets
$web:80
$ssh,22

$pg_ip   # an address alone: every --ports
$ftp:21
LIST
echo "$ftp" >"$dir/block.conf"
capture list
# No acking-firewall probes: their SYNs to random high ports would be pairs no line names.
scan --input-file "$dir/list.txt" --ports 5432,443 --blocklist-file "$dir/block.conf" \
    --acking-firewall-probes 0 --output "$dir/list.jsonl" 2>"$dir/list.err"
is "$?" 0 "a scan of a list file runs"
capture_stop
tcpdump -n -r "$dir/list.pcap" 'tcp[tcpflags] == tcp-syn' 2>/dev/null | awk '{print $5}' |
    sed 's/:$//' | sort -u >"$dir/got"
printf '%s\n' "$web.80" "$ssh.22" "$pg_ip.5432" "$pg_ip.443" | sort >"$dir/want"
is "$(cat "$dir/got")" "$(cat "$dir/want")" "SYNs went to exactly the listed, unblocked pairs"
is "$(grep -c "^$ftp[.]" "$dir/got")" 0 "the blocklisted line was never probed"
like "$(cat "$dir/list.err")" "1 blocklisted" "the blocked pair is counted"
is "$(jq -r 'select(.class == "service") | "\(.ip):\(.port) \(.protocol)"' "$dir/list.jsonl" |
    sort | paste -sd' ')" "$(printf '%s\n' "$web:80 http" "$ssh:22 ssh" "$pg_ip:5432 postgres" |
    sort | paste -sd' ')" "the listed services are named"

# 3. A bad line: FILE:LINE and the value, exit 2, not one frame sent.
printf '%s:80\n%s:8o\n' "$web" "$ssh" >"$dir/bad.txt"
capture bad
scan --input-file "$dir/bad.txt" --ports 80 --output /dev/null 2>"$dir/bad.err"
rc=$?
capture_stop
is "$rc" 2 "a list with a bad line is refused (exit 2)"
like "$(cat "$dir/bad.err")" "bad.txt:2: \"8o\"" "the error names the file, the line and the value"
is "$(tcpdump -n -r "$dir/bad.pcap" 2>/dev/null | wc -l)" 0 "nothing was sent"

# 4. Lines are probed as they arrive: the first SYN leaves before the second line is written
# (the wall clock of the writer against tcpdump's timestamps, one host).
capture slow
{
    echo "$web:80"
    sleep 4
    date +%s.%N >"$dir/second-line-at"
    echo "$ssh:22"
} | scan --input-file - --ports 80 --output /dev/null 2>"$dir/slow.err"
capture_stop
syn_at() { tcpdump -tt -n -r "$dir/slow.pcap" "tcp[tcpflags] == tcp-syn and dst host $1" 2>/dev/null |
    awk 'NR == 1 {print $1}'; }
first=$(syn_at "$web")
second=$(cat "$dir/second-line-at")
is "$(awk -v a="$first" -v b="$second" 'BEGIN { print (a != "" && a + 0 < b + 0) }')" 1 \
    "the first line's SYN ($first) left before the second line was written ($second)"
[ -n "$(syn_at "$ssh")" ] && ok "the second line's SYN followed" || not_ok "the second line's SYN followed"

# 5. A dry run of a piped list sends nothing and lists one probe per pair.
printf 'saddr\n%s\n%s\n' "$web" "$ssh" | scan --input-file - --ports 80,22 --dry-run \
    >"$dir/dry.out" 2>"$dir/dry.err"
is "$(wc -l <"$dir/dry.out")" 4 "a dry run of a piped list prints each address × port"
done_testing
