#!/usr/bin/env bash
# A worker whose key is not in the coordinator's keys/workers/ is refused and says so; garbage
# sent to the coordinator's sockets in the middle of a job is dropped and counted, and the job
# still completes with the right results.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup
coord_start

# An intruder: a key pair the coordinator never saw, with the coordinator's real public key.
"$COORD_BIN" keygen "$CW/other" intruder >/dev/null
cp "$CW/keys/coordinator.key" "$CW/other/intruder/coordinator.key"
start=$(date +%s)
timeout 30 ip netns exec "$V1_NS" "$WORKER_BIN" --coordinator "ipc://$CW/workers.sock" \
    --iface "$V1_IF" --scan-ip "$V1_SCAN_IP" --keys "$CW/other/intruder" --name v1 \
    >"$CW/intruder.log" 2>&1
rc=$?
is "$rc" "1" "the worker with an unknown key exits with status 1"
like "$(cat "$CW/intruder.log")" "refused this worker's key" "and says its key was refused"
[ $(($(date +%s) - start)) -lt 25 ] && ok "refused within seconds" || not_ok "refused within seconds"
workers=$(coordctl workers)
if grep -q '^v1 ' <<<"$workers"; then not_ok "the intruder is not listed"; else ok "the intruder is not listed"; fi

worker_start v1
worker_start v2
wait_until 15 sh -c "'$COORD_BIN' workers --db '$CW/lzr.db' | grep -c '^v[12] ' | grep -q 2" ||
    bail_out "workers did not register"
write_job "$CW/job.toml" 3000 6
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
check "results are arriving" wait_until 30 \
    sh -c "[ \"\$(sqlite3 -readonly '$CW/lzr.db' 'SELECT count(*) FROM results')\" -gt 0 ]"

# Garbage: raw bytes at the CURVE worker socket (no handshake), and a well-framed ZMTP message
# with a payload that is no protobuf at the control socket.
printf 'GET / HTTP/1.0\r\n\r\n\xff\xff\xff\xff' |
    timeout 5 socat -t 1 - "UNIX-CONNECT:$CW/workers.sock" >/dev/null 2>&1
greeting=$(printf '\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03\x00NULL%016d\x00%031d' 0 0 |
    tr '0' '\000' | head -c 64 | od -An -tx1 | tr -d ' \n')
ready='041c055245414459''0b536f636b65742d54797065''00000006''4445414c4552'
payload='000c''08015270726f746f627566ff'
printf '%s%s%s' "$greeting" "$ready" "$payload" | xxd -r -p |
    timeout 5 socat -t 2 - "UNIX-CONNECT:$CW/lzr-coord.ctl" >/dev/null 2>&1
like "$(coordctl workers)" "malformed messages dropped" "the garbage was dropped and counted"
check "the coordinator is still alive" kill -0 "$COORD_PID"

if wait_job_done "$job" 240; then ok "the job is done"; else not_ok "the job is done"; fi
coordctl results "$job" >"$CW/results.jsonl"
is "$(wc -l <"$CW/results.jsonl")" "$(lab_size)" "no (ip, port) missing"
if d=$("$LAB_ROOT/tests/lab/tools/compare-truth" "$LAB_TRUTH" "$CW/results.jsonl" --single-vantage); then
    ok "results match the single-vantage truth"
else
    not_ok "results match the single-vantage truth"
    diag "$d"
fi
done_testing
