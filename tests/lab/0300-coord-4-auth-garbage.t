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
check "the coordinator logged the refusal" grep -q "refused a worker whose key" "$CW/coord.log"
workers=$(coordctl workers)
if grep -q '^v1 ' <<<"$workers"; then not_ok "the intruder is not listed"; else ok "the intruder is not listed"; fi

worker_start v1
worker_start v2
wait_registered v1 v2
write_job "$CW/job.toml" 3000 6
job=$(coordctl submit "$CW/job.toml" 2>>"$CW/cli.log")
check "results are arriving" wait_until 30 \
    sh -c "[ \"\$(sqlite3 -readonly '$CW/lzr.db' 'SELECT count(*) FROM results')\" -gt 0 ]"

# Garbage: raw bytes at the CURVE worker socket (no handshake), and a ZMTP-framed message whose
# payload is no lzr envelope at the control socket (a NULL-mechanism peer speaking ZMTP 3 by
# hand, step by step as the protocol wants).
timeout 5 python3 - "$CW/workers.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)))
s.close()
PY
timeout 10 python3 - "$CW/lzr-coord.ctl" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(sys.argv[1])
def recv(n):
    b = b""
    while len(b) < n:
        b += s.recv(n - len(b))
    return b
s.sendall(b"\xff" + b"\x00" * 7 + b"\x01\x7f")
recv(10)
s.sendall(b"\x03\x00NULL" + b"\x00" * 48)
recv(54)
body = b"\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER"
s.sendall(bytes([4, len(body)]) + body)
recv(2)
payload = bytes.fromhex("08015270726f746f627566ff")
s.sendall(bytes([0, len(payload)]) + payload)
s.recv(256)
s.close()
PY
like "$(coordctl workers)" "malformed messages dropped" "the garbage was dropped and counted"
check "the coordinator is still alive" kill -0 "$COORD_PID"

if wait_job_done "$job" 240; then ok "the job is done"; else not_ok "the job is done"; fi
check_results "$job"
done_testing
