#!/usr/bin/env bash
# Measures, on the lab, what issue 5 asks of the handshakes: with the paper's default order, how
# many handshakes each lab service needs and the share named after 1, 2, … handshakes; and, in
# the same run, lzr-worker against `nmap -sV` on the same (host, port)s — what each names
# correctly and how long each takes. Prints Markdown on stdout. Run as root; brings the lab up
# when it is not.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f /run/lzr-lab/env ] || deploy/lab/lab up >&2
# shellcheck disable=SC1091
. /run/lzr-lab/env
deploy/lab/lab reset >/dev/null 2>&1 || true
tmp=$(mktemp -d /tmp/lzr-fp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

awk -F'\t' '$3 == "service" {print $1 "\t" $2 "\t" $4}' "$LAB_TRUTH" | sort >"$tmp/truth"
hosts=$(cut -f1 "$tmp/truth" | sort -u | paste -sd, -)
ports=$(cut -f2 "$tmp/truth" | sort -un | paste -sd, -)
rows=$(wc -l <"$tmp/truth")
src=$V2_FRESH_IP

# lzr_run HANDSHAKES OUT: one scan of the service hosts × ports; prints the wall seconds.
lzr_run() {
    local start end
    start=$(date +%s.%N)
    ip netns exec "$V2_NS" bin/lzr-worker scan --iface "$V2_IF" --source-ip "$src" \
        --targets "$hosts" --ports "$ports" --allow-reserved 198.18.0.0/15 --handshakes "$1" \
        --timeout-ms 2000 --output "$2" 2>/dev/null
    end=$(date +%s.%N)
    printf "%.1f" "$(echo "$end - $start" | bc)"
}
# named OUT: how many truth rows the scan output names with the truth's protocol.
named() {
    jq -r 'select(.class == "service") | [.ip, (.port|tostring), .protocol] | @tsv' "$1" |
        sort | comm -12 - "$tmp/truth" | wc -l
}

default=wait,tls,http,dns,pptp
t_default=$(lzr_run "$default" "$tmp/default.jsonl")
t_long=$(lzr_run "$default,redis,mqtt,postgres" "$tmp/long.jsonl")
start=$(date +%s.%N)
ip netns exec "$V2_NS" nmap -sV -Pn -n -e "$V2_IF" -S "$src" -p "$ports" ${hosts//,/ } \
    -oG "$tmp/nmap.gnmap" >/dev/null 2>&1
t_nmap=$(printf "%.1f" "$(echo "$(date +%s.%N) - $start" | bc)")

# nmap_named: "ip<TAB>port<TAB>protocol" for each port nmap named, in our protocol names.
nmap_named() {
    grep -h '^Host:' "$tmp/nmap.gnmap" | while read -r _ ip _ rest; do
        grep -o '[0-9]*/open/tcp//[^/]*' <<<"$rest" | sed "s|^|$ip\t|; s|/open/tcp//|\t|"
    done | sed -e 's/\tssl|http$/\ttls/' -e 's/\tdomain$/\tdns/' -e 's/\tpostgresql$/\tpostgres/' \
        -e 's/\tmosquitto$/\tmqtt/' -e 's/\tmemcached$/\tmemcached_ascii/' | sort
}
nmap_ok=$(nmap_named | comm -12 - "$tmp/truth" | wc -l)

echo "Machine: $(nproc) cores, kernel $(uname -r); lab services: $rows (host, port) rows."
echo
echo "### Handshakes each lab service needs (default order \`$default\`)"
echo
echo "| host | port | truth | named | by handshake | handshakes tried |"
echo "|---|---|---|---|---|---|"
while IFS=$'\t' read -r ip port proto; do
    jq -r --arg ip "$ip" --argjson port "$port" --arg want "$proto" \
        'select(.ip == $ip and .port == $port) |
         "| \(.ip) | \(.port) | \($want) | \(if .class == "service" then .protocol else "— (" + .class + ")" end) | \(.handshake) | \(.handshakes_tried) |"' \
        "$tmp/default.jsonl"
done <"$tmp/truth"
echo
echo "| named after ≤ k handshakes | share of the $rows rows |"
echo "|---|---|"
for k in 1 2 3 4 5 6 7; do
    n=$(jq -r --argjson k "$k" 'select(.class == "service" and .handshakes_tried <= $k) | 1' \
        "$tmp/default.jsonl" | wc -l)
    echo "| $k | $n ($((100 * n / rows))%) |"
done
echo
echo "### lzr-worker and nmap -sV on the same (host, port)s, same run"
echo
echo "| tool | command | named correctly | wall time |"
echo "|---|---|---|---|"
echo "| lzr, default order | \`lzr-worker scan --handshakes $default --timeout-ms 2000\` | $(named "$tmp/default.jsonl") / $rows | ${t_default} s |"
echo "| lzr, + redis,mqtt,postgres | \`… --handshakes $default,redis,mqtt,postgres\` | $(named "$tmp/long.jsonl") / $rows | ${t_long} s |"
echo "| nmap -sV | \`nmap -sV -Pn -n -p PORTS HOSTS\` | $nmap_ok / $rows | ${t_nmap} s |"
