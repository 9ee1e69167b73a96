#!/usr/bin/env bash
# Blocklist and allowlist files (issue 16, item 1), proved with pcap: tcpdump records every
# frame a worker sends. A bad blocklist line stops `lzr-worker scan` with FILE:LINE before any
# frame leaves; a good one is skipped and counted; an allowlist narrows the targets; and a worker
# joined to a coordinator applies both the job's blocklist_file and its own host's blocklist.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup

dir=$CW
capture() { capture_start "$1" "src host $V1_SCAN_IP and dst net 198.19.0.0/16 and tcp"; }
dsts() { # the destination addresses of every SYN in a capture, sorted
    capture_syns "$1" | sed 's/:[0-9]*$//' | sort -u
}
range() { # range PREFIX LO HI: PREFIX.LO .. PREFIX.HI, one per line, sorted as dsts sorts
    local i
    for i in $(seq "$2" "$3"); do echo "$1.$i"; done
}
same_dsts() { # same_dsts PCAP DESC: the capture's SYN destinations are exactly $dir/want
    dsts "$1" >"$dir/got"
    if diff -q "$dir/want" "$dir/got" >/dev/null; then
        ok "$2"
    else
        not_ok "$2"
        diag "$(diff "$dir/want" "$dir/got" | head -10)"
    fi
}
scan() {
    timeout 60 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
        --source-ip "$V1_SCAN_IP" --allow-reserved 198.18.0.0/15 --timeout-ms 1000 \
        --rate 5000 "$@"
}

# 1. A blocklist line that is not a CIDR: a clear error, and not one frame sent.
printf '# opt-outs\n198.19.4.0/26\n198.19.4.x\n' >"$dir/bad.conf"
capture bad
scan --targets 198.19.4.0/24 --ports 80 --blocklist-file "$dir/bad.conf" \
    --output "$dir/bad.jsonl" 2>"$dir/bad.err"
rc=$?
capture_stop
is "$rc" 2 "a bad blocklist file is refused (exit 2)"
like "$(cat "$dir/bad.err")" "bad.conf:3: \"198.19.4.x\" is not an IPv4 address" \
    "the error names the file, the line and the value"
is "$(tcpdump -n -r "$dir/bad.pcap" 2>/dev/null | wc -l)" 0 "nothing was sent"

# 2. Blocklist and allowlist: 198.19.4.0/24 narrowed to .0-.127 and .192-.255 by the
# allowlist, minus .0-.63 and .200 by the blocklist.
printf '# opt-outs, ZMap format\n198.19.4.0/26   # a whole /26\n\n 198.19.4.200\n' >"$dir/block.conf"
printf '198.19.4.0/25\n198.19.4.192/26 # second half\n' >"$dir/allow.conf"
capture good
scan --targets 198.19.4.0/24 --ports 80,81 --blocklist-file "$dir/block.conf" \
    --allowlist-file "$dir/allow.conf" --all --output "$dir/good.jsonl" 2>"$dir/good.err"
is "$?" 0 "a scan with --blocklist-file and --allowlist-file runs"
capture_stop
{ range 198.19.4 64 127; range 198.19.4 192 199; range 198.19.4 201 255; } | sort >"$dir/want"
same_dsts "$dir/good.pcap" "SYNs went to exactly the 127 allowed, unblocked addresses"
like "$(cat "$dir/good.err")" "130 blocklisted" "the 65 blocked addresses × 2 ports are counted"
like "$(cat "$dir/good.err")" "blocklist $dir/block.conf: 2 entries" "the blocklist in force is named"
is "$(jq -r .ip "$dir/good.jsonl" | sort -u | wc -l)" 127 \
    "--all reports the 127 probed addresses, none of the blocked ones"

# 3. The default: without --blocklist-file the host's /etc/lzr/blocklist.conf applies when it
# exists; --no-default-blocklist says it is off.
scan --targets 198.19.4.0/30 --ports 80 --no-default-blocklist --output /dev/null \
    2>"$dir/nodef.err"
like "$(cat "$dir/nodef.err")" "no blocklist file [(]--no-default-blocklist[)]" \
    "--no-default-blocklist is reported"

# 4. Coordinator and worker: the job's blocklist_file (read at submission) removes .0-.63 of
# 198.19.5.0/24, the worker host's own --blocklist-file removes .128-.191.
coord_start
printf '198.19.5.128/26\n' >"$dir/host-block.conf"
worker_start v1 --blocklist-file "$dir/host-block.conf"
wait_registered v1
printf '198.19.5.0/26 # the job owner'"'"'s opt-outs\n' >"$dir/job-block.conf"
cat >"$dir/job.toml" <<JOB
name = "blocklists"
targets = "198.19.5.0/24"
allow_reserved = "198.18.0.0/15"
blocklist_file = "job-block.conf"
ports = "80"
rate = 5000
shards = 2
timeout_ms = 1000
JOB
capture coord
id=$(coordctl submit "$dir/job.toml" 2>"$dir/submit.err")
is "$(sqlite3 -readonly "$CW/lzr.db" "SELECT size FROM jobs WHERE id = $id")" 192 \
    "the job's target set is 256 − 64 addresses"
# The list is stored with the job: changing the file now changes nothing.
echo "198.19.5.0/24" >"$dir/job-block.conf"
wait_job_done "$id" 60 || not_ok "the job finished"
capture_stop
{ range 198.19.5 64 127; range 198.19.5 192 255; } | sort >"$dir/want"
same_dsts "$dir/coord.pcap" \
    "the worker sent SYNs to neither the job's nor its host's blocklisted addresses"
like "$(cat "$CW/v1.log")" "blocklist $dir/host-block.conf: 1 entries" \
    "the worker names its host blocklist at start"
skipped=$(grep -o '[0-9]* skipped by the host' "$CW/v1.log" | awk '{s += $1} END {print s}')
is "$skipped" 64 "the worker counted the 64 targets its host's blocklist skipped"
coordctl results "$id" >"$dir/results.jsonl"
is "$(jq -r .ip "$dir/results.jsonl" | sort -u | wc -l)" 128 "128 addresses have results"

# 6. The host's IPv6 opt-outs: a blocklist file of both families keeps a /121 of the IPv6 load
# range from a scan of its /120 — pcap sees SYNs to the other half only, and the worker counts
# the 128 it skipped.
printf '198.19.4.0/26\n2001:2:0:1900::/121\n' >"$dir/both.conf"
capture_start v6 "src host $V1_SCAN_IP6 and dst net 2001:2:0:1900::/112 and tcp"
timeout 60 ip netns exec "$V1_NS" "$LAB_ROOT/bin/lzr-worker" scan --iface "$V1_IF" \
    --source-ip6 "$V1_SCAN_IP6" --allow-reserved 2001:2::/48 --timeout-ms 1000 --rate 5000 \
    --targets 2001:2:0:1900::/120 --ports 80 --discovery-only --blocklist-file "$dir/both.conf" \
    --output "$dir/v6.jsonl" 2>"$dir/v6.err"
capture_stop
is "$(jq -r .ip "$dir/v6.jsonl" | sort -u | wc -l)" 128 "the 128 addresses outside the IPv6 opt-out answered"
is "$(jq -r .ip "$dir/v6.jsonl" | python3 -c '
import ipaddress, sys
n = ipaddress.ip_network("2001:2:0:1900::/121")
print(sum(ipaddress.ip_address(l.strip()) in n for l in sys.stdin))')" 0 "no address of the IPv6 opt-out has a record"
is "$(tcpdump -n -r "$dir/v6.pcap" 'ip6[53] & 0x12 == 0x02' 2>/dev/null | awk '{print $5}' | sed 's/\.[0-9]*:$//' | python3 -c '
import ipaddress, sys
n = ipaddress.ip_network("2001:2:0:1900::/121")
print(sum(ipaddress.ip_address(l.strip()) in n for l in sys.stdin if l.strip()))')" 0 "pcap: no SYN went to the IPv6 opt-out"
like "$(cat "$dir/v6.err")" "128 blocklisted" "the worker counted the 128 IPv6 targets its blocklist skipped"
done_testing
