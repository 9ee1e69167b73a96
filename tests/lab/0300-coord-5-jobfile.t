#!/usr/bin/env bash
# Each kind of job-file error makes `lzr-coord submit` print "FILE:LINE: key: what is wrong"
# (or "FILE: key: ..." for a missing key), exit 1, and submit nothing; a job of more than a day
# at its rate needs --yes.
. "$(dirname "$0")/lib.sh"
lab_env
. "$(dirname "$0")/coord-lib.sh"
coord_setup
coord_start

ok_head='targets = "198.18.16.0/24"
allow_reserved = "198.18.0.0/15"
ports = "80"'
cases=(
    "$ok_head
bogus = 1|job.toml:4: bogus: unknown key"
    "$ok_head
rate = \"fast\"|job.toml:4: rate: expected type integer, got string"
    "$ok_head
rate = 0|job.toml:4: rate: 0 is out of range (1-100000000)"
    'targets = "198.18.16.0/24"
allow_reserved = "198.18.0.0/15"
ports = "80,70000"|job.toml:3: ports: '
    'allow_reserved = "198.18.0.0/15"
ports = "80"|job.toml: targets: required key is missing'
    'targets = "198.18.16.0/24"
ports = "80"|job.toml:1: targets: '
    'targets = "198.18.16.0/33"
allow_reserved = "198.18.0.0/15"
ports = "80"|job.toml:1: targets: '
    "$ok_head
handshakes = \"http,nosuchprotocol\"|job.toml:4: handshakes: "
    "$ok_head
timeout_ms = 100
retransmit_ms = 200|job.toml:5: retransmit_ms: 200 is longer than timeout_ms (100)"
    "$ok_head
[vantage]
min_workers = 0|job.toml:5: vantage.min_workers: 0 is out of range"
    "$ok_head
shards = [1]|job.toml:4: shards: expected type integer, got array"
    "$ok_head
name = 'unterminated|job.toml:4:"
)
for c in "${cases[@]}"; do
    text=${c%|*}
    want=${c##*|}
    printf '%s\n' "$text" >"$CW/job.toml"
    got=$(coordctl submit "$CW/job.toml" 2>&1)
    rc=$?
    if [ "$rc" -eq 1 ] && [[ "$got" == "$want"* ]]; then
        ok "error: $want"
    else
        not_ok "error: $want"
        diag "exit $rc, got: $got"
    fi
done
# A job of more than a day at its rate is refused without --yes, with its size and duration.
printf 'targets = "0.0.0.0/0"\nports = "1-65535"\nrate = 100000\n' >"$CW/huge.toml"
got=$(coordctl submit "$CW/huge.toml" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$got" == *"242627523118080 targets (3702258688 addresses × 65535 ports)"*"years"*"--yes"* ]]; then
    ok "a job of 2.4e14 targets is refused without --yes, saying its size and duration"
else
    not_ok "a job of 2.4e14 targets is refused without --yes, saying its size and duration"
    diag "exit $rc, got: $got"
fi
is "$(sqlite3 -readonly "$CW/lzr.db" 'SELECT count(*) FROM jobs')" "0" "nothing was submitted"
printf '%s\n' "$ok_head" >"$CW/job.toml"
is "$(coordctl submit "$CW/job.toml" 2>/dev/null)" "1" "a good file is accepted"
done_testing
