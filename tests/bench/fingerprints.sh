#!/usr/bin/env bash
# Measures, on the lab, what issue 5 asks of the handshakes: with the paper's default order, how
# many handshakes each lab service needs and the share named after 1, 2, … handshakes, and what
# the two tiers after the list add (the port's own probes, then the fallback tier); and, in the
# same run, lzr-worker against `nmap -sV` on the same (host, port)s — what each names correctly
# and how long each takes. Prints Markdown on stdout. Run as root; brings the lab up when it is
# not.
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

# lzr_run OUT [SCAN OPTIONS...]: one scan of the service hosts × ports with the default
# handshakes (and the options given); prints the wall seconds.
lzr_run() {
    local start end out=$1
    shift
    start=$(date +%s.%N)
    ip netns exec "$V2_NS" bin/lzr-worker scan --iface "$V2_IF" --source-ip "$src" \
        --targets "$hosts" --ports "$ports" --allow-reserved 198.18.0.0/15 \
        --timeout-ms 2000 --output "$out" "$@" 2>/dev/null
    end=$(date +%s.%N)
    printf "%.1f" "$(echo "$end - $start" | bc)"
}
# named OUT: how many truth rows the scan output names with the truth's protocol.
named() {
    jq -r 'select(.class == "service") | [.ip, (.port|tostring), .protocol] | @tsv' "$1" |
        sort | comm -12 - "$tmp/truth" | wc -l
}

default=wait,tls,http,dns,pptp
fallback=$(bin/lzr-worker handshakes | sed -n 's/^fallback tier: *\([^ ]*\).*/\1/p')
t_default=$(lzr_run "$tmp/default.jsonl")
t_nofb=$(lzr_run "$tmp/nofb.jsonl" --no-fallback)
t_long=$(lzr_run "$tmp/long.jsonl" --no-fallback --handshakes "$default,redis,mqtt,postgres")
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
# tier IP PORT HANDSHAKE: which tier drew the data — the job's list, the port's own probes (the
# handshake named it without the fallback tier too) or the fallback tier.
tier() {
    if [[ ",$default," == *",$3,"* ]]; then
        echo "list"
    elif jq -r --arg ip "$1" --argjson port "$2" --arg hs "$3" \
        'select(.ip == $ip and .port == $port and .class == "service" and .handshake == $hs) | 1' \
        "$tmp/nofb.jsonl" | grep -q 1; then
        echo "port's own"
    else
        echo "fallback"
    fi
}

echo "### Handshakes each lab service needs (default order \`$default\`, fallback \`$fallback\`)"
echo
echo "| host | port | truth | named | by handshake | tier | handshakes tried |"
echo "|---|---|---|---|---|---|---|"
while IFS=$'\t' read -r ip port proto; do
    line=$(jq -r --arg ip "$ip" --argjson port "$port" \
        'select(.ip == $ip and .port == $port) |
         [(if .class == "service" then .protocol else "— (" + .class + ")" end), .handshake,
          (.handshakes_tried|tostring)] | @tsv' "$tmp/default.jsonl")
    IFS=$'\t' read -r named hs tried <<<"$line"
    t=—
    [ -n "$hs" ] && t=$(tier "$ip" "$port" "$hs")
    echo "| $ip | $port | $proto | $named | $hs | $t | $tried |"
done <"$tmp/truth"
echo
echo "| named after ≤ k handshakes | share of the $rows rows |"
echo "|---|---|"
for k in 1 2 3 4 5 6 7 8; do
    n=$(jq -r --argjson k "$k" 'select(.class == "service" and .handshakes_tried <= $k) | 1' \
        "$tmp/default.jsonl" | wc -l)
    echo "| $k | $n ($((100 * n / rows))%) |"
done
n_list=$(jq -r 'select(.class == "service") | .handshake' "$tmp/default.jsonl" |
    grep -cxE "${default//,/|}" || true)
n_nofb=$(named "$tmp/nofb.jsonl")
n_all=$(named "$tmp/default.jsonl")
echo
echo "| tier | rows it names | named so far |"
echo "|---|---|---|"
echo "| the paper's five (\`$default\`) | $n_list | $n_list / $rows |"
echo "| the port's own (up to 2) | $((n_nofb - n_list)) | $n_nofb / $rows |"
echo "| fallback (\`$fallback\`) | $((n_all - n_nofb)) | $n_all / $rows |"

echo
echo "### lzr-worker and nmap -sV on the same (host, port)s, same run"
echo
echo "| tool | command | named correctly | wall time |"
echo "|---|---|---|---|"
echo "| lzr, defaults (fallback on) | \`lzr-worker scan --timeout-ms 2000\` | $(named "$tmp/default.jsonl") / $rows | ${t_default} s |"
echo "| lzr, no fallback | \`… --no-fallback\` | $n_nofb / $rows | ${t_nofb} s |"
echo "| lzr, redis,mqtt,postgres in the list | \`… --no-fallback --handshakes $default,redis,mqtt,postgres\` | $(named "$tmp/long.jsonl") / $rows | ${t_long} s |"
echo "| nmap -sV | \`nmap -sV -Pn -n -p PORTS HOSTS\` | $nmap_ok / $rows | ${t_nmap} s |"
