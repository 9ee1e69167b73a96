#!/usr/bin/env bash
# tests/bench/ident.sh TMPDIR RUNS: the identification figure of `make bench` (called by
# tests/bench/run.sh with the lab env loaded). lzr-worker scan (its default handshakes) and
# nmap -sV name the services on the lab's service and middlebox ranges (TARGETS × PORTS_CSV),
# interleaved, from the same vantage and scan IP. The shunning and dynamic-blocking hosts are
# left out for both (they would block the scan IP for 10 minutes for every later run), and so is
# the 256-address zero-window /24. Prints one
# results line per run and tool: wall and CPU seconds, services named, named as the truth says.
set -euo pipefail
TMP=$1
RUNS=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
EXCL=198.18.32.17,198.18.32.18
# The lab may be cycled by other users (which kills what runs in its namespaces): bring it back.
lab_env() {
    if ! [ -r /run/lzr-lab/env ] || ! "$ROOT/deploy/lab/lab" status >/dev/null 2>&1; then
        "$ROOT/deploy/lab/lab" up >/dev/null 2>&1 || return 1
    fi
    # shellcheck disable=SC1091
    . /run/lzr-lab/env
}

lab_env || { echo "bench: deploy/lab/lab up failed" >&2; exit 1; }

# The hosts of the truth file on the service and middlebox ranges, less the 256-address
# zero-window /24 (198.18.33.0/24: it alone keeps nmap -sV busy for minutes) and EXCL.
HOSTS=$(awk -F'\t' '!/^#/ && $1 !~ /^198\.18\.33\./ {print $1}' "$LAB_TRUTH" |
    grep -vxF -e "${EXCL%,*}" -e "${EXCL#*,}" | sort -uV | tr '\n' ' ')
HOSTS=${HOSTS% }
[ -n "$HOSTS" ] || { echo "bench: no hosts in $LAB_TRUTH" >&2; exit 1; }
NMAP_CMD="nmap -sV -n -Pn -T4 -p $PORTS_CSV -oX out.xml $HOSTS"
LZR_CMD="bin/lzr-worker scan --iface $V1_IF --source-ip $V1_SCAN_IP --gateway-mac $GW_MAC --targets ${HOSTS// /,} --ports $PORTS_CSV --allow-reserved 198.18.0.0/15 --output out.jsonl"

run_one() { # tool prefix
    lab_env || return 1
    if [ "$1" = nmap ]; then
        # shellcheck disable=SC2086
        timeout -k 5 900 /usr/bin/time -f '%e %U %S' -o "$2.time" \
            ip netns exec "$V1_NS" nmap -sV -n -Pn -T4 -p "$PORTS_CSV" -oX "$2.xml" $HOSTS \
            >"$2.log" 2>&1
    else
        timeout -k 5 300 /usr/bin/time -f '%e %U %S' -o "$2.time" \
            ip netns exec "$V1_NS" "$ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
            --source-ip "$V1_SCAN_IP" --gateway-mac "$GW_MAC" --targets "${HOSTS// /,}" \
            --ports "$PORTS_CSV" --allow-reserved 198.18.0.0/15 --output "$2.jsonl" 2>"$2.log"
    fi
}

count() { # tool prefix
    "$PY" - "$1" "$2" "$LAB_TRUTH" <<'PYEOF'
import json, sys
import xml.etree.ElementTree as ET
tool, p, truth_path = sys.argv[1:4]
truth = {}
for line in open(truth_path):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 4 and f[2] == "service":
        truth[(f[0], int(f[1]))] = f[3]
# nmap's service names in lzr's protocol vocabulary; anything over TLS counts as tls.
NMAP = {"http": "http", "ssh": "ssh", "mqtt": "mqtt", "ftp": "ftp", "postgresql": "postgres",
        "memcached": "memcached_ascii", "domain": "dns", "smtp": "smtp", "imap": "imap",
        "redis": "redis", "ssl": "tls", "https": "tls"}
named = {}
if tool == "nmap":
    for host in ET.parse(p + ".xml").getroot().iter("host"):
        ip = host.find("address").get("addr")
        for port in host.iter("port"):
            st, sv = port.find("state"), port.find("service")
            if st is None or st.get("state") != "open" or sv is None:
                continue
            if sv.get("method") != "probed" or sv.get("name") in ("tcpwrapped", "unknown"):
                continue
            name = sv.get("name")
            name = "mqtt" if name.startswith("mosquitto") else NMAP.get(name, name)
            name = "tls" if sv.get("tunnel") == "ssl" else name
            named[(ip, int(port.get("portid")))] = name
else:
    for line in open(p + ".jsonl"):
        r = json.loads(line)
        if r.get("protocol"):
            named[(r["ip"], r["port"])] = r["protocol"]
correct = sum(1 for k, v in named.items() if truth.get(k) == v)
print("named=%d\tcorrect=%d\ttruth=%d" % (len(named), correct, len(truth)))
PYEOF
}

for run in $(seq 1 "$RUNS"); do
    if ((run % 2)); then order="nmap lzr"; else order="lzr nmap"; fi
    for tool in $order; do
        p=$TMP/ident-$tool-$run
        # One retry when the run was killed (the lab cycled under it) or failed.
        run_one "$tool" "$p" || { sleep 2 && run_one "$tool" "$p"; } ||
            { echo "bench: $tool identification run $run failed" >&2 && continue; }
        if [ "$tool" = nmap ]; then cmd="ip netns exec \$V1_NS $NMAP_CMD"; else cmd="ip netns exec \$V1_NS $LZR_CMD"; fi
        read -r wall user sys_ < <(tail -1 "$p.time")
        counts=$(count "$tool" "$p") || counts="named=0"
        printf 'ident\t%s\tall\t%s\twall=%s\tcpu=%s\t%s\tcmd=%s\n' "$tool" "$run" "$wall" \
            "$(echo "$user + $sys_" | bc)" "$counts" "$cmd"
        echo "bench:   identification run $run $tool: ${wall}s, $counts" >&2
    done
done
