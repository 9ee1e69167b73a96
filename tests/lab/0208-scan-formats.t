#!/usr/bin/env bash
# lzr-worker scan --format: the same scan of the lab's services and middleboxes written as lzr's
# JSON lines, as ZGrab2 input and as LZR-Go records. The zgrab2 lines are exactly the named
# services of the JSON lines (ip,,protocol,port), and the lab's common protocols have a
# triggered section in deploy/zgrab2/lzr.ini; the LZR-Go records are the targets that SYN-ACKed
# (compared on the service net, whose answers do not change from scan to scan), with the target
# as saddr, lzr's protocol as fingerprint and "unknown" for every middlebox. Written to a pipe,
# the lines arrive while the scan runs (the output's buffer is flushed at each progress tick),
# not all at its exit.
. "$(dirname "$0")/lib.sh"
lab_env

dir=$(mktemp -d /tmp/lzr-0204.XXXXXX)
trap 'rm -rf "$dir"' EXIT
targets="198.18.16.0/24,198.18.32.0/24"

scan() { # FORMAT: scans with a fresh lab state into $dir/FORMAT
    "$LAB" reset >/dev/null
    timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
        --source-ip "$V1_SCAN_IP" --targets "$targets" --ports "$PORTS_CSV" \
        --allow-reserved 198.18.0.0/15 --timeout-ms 1500 --retransmit-ms 500 --rate 5000 \
        --format "$1" --output "$dir/$1" 2>"$dir/$1.err"
}

for f in jsonl zgrab2 lzr-go; do
    scan "$f"
    rc=$?
    result $rc "scan --format $f ran to the end"
    [ $rc -eq 0 ] || diag "$(tail -5 "$dir/$f.err")"
done

want=$(jq -r 'select(.class == "service" and .protocol != "unknown") |
    "\(.ip),,\(.protocol),\(.port)"' "$dir/jsonl" | grep '^198[.]18[.]16[.]' | sort)
[ "$(wc -l <<<"$want")" -ge 10 ] && ok "the JSON lines name $(wc -l <<<"$want") services" ||
    not_ok "the JSON lines name enough services"
is "$(grep '^198[.]18[.]16[.]' "$dir/zgrab2" | sort)" "$want" \
    "the zgrab2 lines are the named services, ip,,protocol,port"

triggers=$(grep -oE '^trigger="[^"]+"' "$LAB_ROOT/deploy/zgrab2/lzr.ini" | cut -d'"' -f2)
tags=$(cut -d, -f3 "$dir/zgrab2" | sort -u)
handed=$(grep -xF -f <(echo "$triggers") <<<"$tags" | paste -sd' ')
diag "tags with a section in lzr.ini: $handed"
diag "tags zgrab2 has no module for: $(grep -vxF -f <(echo "$triggers") <<<"$tags" | paste -sd' ')"
[ "$(wc -w <<<"$handed")" -ge 6 ] && ok "the lab's common services all go to a triggered section" ||
    not_ok "the lab's common services all go to a triggered section"
svc='select(.saddr | test("^198[.]18[.]16[.]"))'
is "$(jq -r "$svc"' | .saddr + ":" + (.sport|tostring)' "$dir/lzr-go" | sort)" \
    "$(jq -r 'select(.ip | test("^198[.]18[.]16[.]")) | select(.class != "closed" and .class != "silent") |
        .ip + ":" + (.port|tostring)' "$dir/jsonl" | sort)" \
    "one LZR-Go record per service-net target that SYN-ACKed, the target as saddr:sport"
is "$(jq -r '.daddr' "$dir/lzr-go" | sort -u)" "$V1_SCAN_IP" "daddr is the scanner"
is "$(jq -r "$svc"' | select(.fingerprint != "unknown") | "\(.saddr),,\(.fingerprint),\(.sport)"' \
    "$dir/lzr-go" | sort)" "$want" "LZR-Go fingerprints are lzr's protocols for named services"
is "$(jq -r 'select(has("data") | not) | .fingerprint' "$dir/lzr-go" | sort -u)" "unknown" \
    "every record without data (the middleboxes) has fingerprint unknown"
is "$(jq -r 'select(.saddr | test("^198[.]18[.]32[.]")) | select(has("data") | not) |
    (.SYN or .RST or .FIN or .ACKed)' "$dir/lzr-go" | sort -u)" "true" \
    "every middlebox record without data says what its last packet was"
ssh=$(jq -r 'select(.fingerprint == "ssh") | .data' "$dir/lzr-go" | head -1)
like "$ssh" '^SSH-2\.0-' "the ssh record's data is the banner as text"

# The acks-everything middleboxes hold their handshakes to --timeout-ms (4 s), so the scan runs
# for seconds after the first records; a reader of the pipe must see those before the end.
"$LAB" reset >/dev/null
timeout 120 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip "$V1_SCAN_IP" --targets "$targets" --ports "$PORTS_CSV" \
    --allow-reserved 198.18.0.0/15 --timeout-ms 4000 --retransmit-ms 500 --rate 5000 \
    --output - 2>"$dir/pipe.err" | {
    first='' n=0
    while IFS= read -r _; do
        [ -n "$first" ] || first=$(date +%s%N)
        n=$((n + 1))
    done
    echo "${first:-0} $(date +%s%N) $n"
} >"$dir/pipe.times"
read -r first last n <"$dir/pipe.times"
diag "pipe: $n lines, the first $(((last - first) / 1000000)) ms before the end"
lines=$(wc -l <"$dir/jsonl")
[ "$n" -ge $((lines / 2)) ] && [ "$n" -ge 20 ] &&
    ok "a scan written to a pipe writes its lines ($n; $lines to a file)" ||
    not_ok "a scan written to a pipe writes its lines ($n; $lines to a file)"
[ "$first" -gt 0 ] && [ $((last - first)) -ge 2000000000 ] &&
    ok "the first lines reach the pipe while the scan runs, not at its exit" ||
    not_ok "the first lines reach the pipe while the scan runs, not at its exit"
done_testing
