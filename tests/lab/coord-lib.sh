# Helpers for the coordinator lab tests (tests/lab/0300-coord-*.t), sourced after lib.sh and
# lab_env. Each test gets a scratch directory with CURVE keys for workers v1 and v2, a
# coordinator on it (workers reach it over ipc://, which crosses network namespaces, so the
# lab's scan network carries only scan traffic), and workers in the lab's vantage namespaces.
# Every process is started here, remembered by PID and killed by PID on exit.
#
#   coord_setup                  scratch dir $CW, keys, cleanup trap
#   coord_start                  start `lzr-coord serve` (PID in $COORD_PID)
#   cluster_up NAME...           coord_setup, coord_start, and the named workers started and
#                                registered (the usual opening of a cluster test)
#   worker_start v1|v2 [ARGS]    start a worker in that vantage (PID in $V1_PID / $V2_PID)
#   write_job FILE RATE SHARDS   the lab's targets and ports as a job file (report_all = true)
#   write_load_job FILE NAME RATE SHARDS   the load range (every address answers) on port 80
#   wait_registered NAME...      bail out unless each worker registers within 15 s
#   wait_results [WORKER]        wait up to 20 s for a first stored result (of WORKER)
#   coordctl ARGS...             lzr-coord ARGS --db $CW/lzr.db
#   job_state ID                 the job's state from the database
#   wait_job_done ID SECS        wait until the job is done
#   check_results ID [TRUTH SIZE]  export the job's results to $CW/results.jsonl and check them:
#                                one record per (address, port) of SIZE (the lab's), none
#                                doubled, the truth (TRUTH, default the lab's)
#   kill_v1_mid_job ID           kill -9 v1 once it holds a shard of job ID and has sent
#                                results; the job must end without it, v2 finishing that shard
#   worker_start6 v1|v2 [ARGS]   worker_start with the vantage's IPv6 scan and fresh IPs too
#   write_job6 FILE RATE SHARDS [hitlist]  both families: every truth6 host (IPv6 hitlist) and
#                                its IPv4 twin, the truth's ports; $CW/truth-both.tsv is their
#                                truth, JOB6_SIZE their (address, port) count; with "hitlist" the
#                                IPv6 hosts come from a targets_file (hitlist6.txt beside FILE)
#   cluster_up6 NAME...          cluster_up with worker_start6
#   check_slices_job JOB LOG LO HI  a load job of 8 shards on one worker with source ports LO-HI:
#                                disjoint slices, one record per SYN, every address named

COORD_BIN="$LAB_ROOT/bin/lzr-coord"
WORKER_BIN=${LZR_WORKER_BIN:-$LAB_ROOT/bin/lzr-worker}
_coord_pids=()

coord_cleanup() {
    local p
    for p in "${_coord_pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    sleep 0.5
    for p in "${_coord_pids[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    if [ "${_tap_failed:-0}" -ne 0 ] && [ -n "${CW:-}" ]; then
        diag "logs kept in $CW"
        for f in "$CW"/*.log; do
            [ -f "$f" ] && diag "--- $f" && diag "$(tail -15 "$f")"
        done
    else
        rm -rf "${CW:-/nonexistent}"
    fi
}

coord_setup() {
    CW=$(mktemp -d /tmp/lzr-coord-lab.XXXXXX)
    trap coord_cleanup EXIT
    "$COORD_BIN" keygen "$CW/keys" v1 v2 >/dev/null || bail_out "keygen failed"
    "$LAB" reset >/dev/null 2>&1
}

coord_start() {
    "$COORD_BIN" serve --db "$CW/lzr.db" --keys "$CW/keys" --listen "ipc://$CW/workers.sock" \
        "$@" >>"$CW/coord.log" 2>&1 &
    COORD_PID=$!
    disown "$COORD_PID" # no "Killed" notice from bash when a test kills it
    _coord_pids+=("$COORD_PID")
    wait_until 10 test -S "$CW/lzr-coord.ctl" || bail_out "the coordinator did not start"
}

worker_start() {
    local v=$1 ns ifc ip fresh args=() f
    shift
    case $v in
    v1) ns=$V1_NS ifc=$V1_IF ip=$V1_SCAN_IP fresh=$V1_FRESH_IPS ;;
    v2) ns=$V2_NS ifc=$V2_IF ip=$V2_SCAN_IP fresh=$V2_FRESH_IPS ;;
    esac
    for f in $fresh; do args+=(--fresh-ip "$f"); done
    ip netns exec "$ns" "$WORKER_BIN" --coordinator "ipc://$CW/workers.sock" --iface "$ifc" \
        --scan-ip "$ip" "${args[@]}" --keys "$CW/keys/$v" --name "$v" "$@" >>"$CW/$v.log" 2>&1 &
    local pid=$!
    disown "$pid"
    _coord_pids+=("$pid")
    case $v in
    v1) V1_PID=$pid ;;
    v2) V2_PID=$pid ;;
    esac
}

cluster_up() {
    local w
    coord_setup
    coord_start
    for w in "$@"; do "${START_WORKER:-worker_start}" "$w"; done
    wait_registered "$@"
}

cluster_up6() {
    START_WORKER=worker_start6 cluster_up "$@"
}

kill_v1_mid_job() {
    local shard
    check "v1 holds a shard and has sent results" wait_until 40 \
        sh -c "[ -n \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT 1 FROM results WHERE worker='v1' LIMIT 1\")\" ] && [ -n \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT idx FROM shards WHERE state='leased' AND lease_owner='v1'\")\" ]"
    shard=$(sqlite3 -readonly "$CW/lzr.db" "SELECT idx FROM shards WHERE state='leased' AND lease_owner='v1'" | head -1)
    kill -9 "$V1_PID"
    diag "killed v1 (pid $V1_PID) while it held shard $shard"
    if wait_job_done "$1" 300; then ok "the job is done without v1"; else not_ok "the job is done without v1"; fi
    like "$(grep "shard $shard done" "$CW/coord.log")" "worker v2: job $1 shard $shard done" \
        "v1's shard $shard was finished by v2"
}

write_job() {
    local t
    {
        echo "name = \"lab\""
        printf 'targets = ['
        for t in $TARGETS; do printf '"%s", ' "$t"; done
        echo ']'
        echo 'allow_reserved = "198.18.0.0/15"'
        echo "ports = \"$PORTS_CSV\""
        echo "rate = $2"
        echo "shards = $3"
        echo "timeout_ms = 1500"
        echo "retransmit_ms = 500"
        echo "acking_firewall_probes = 8"
        echo "report_all = true"
    } >"$1"
}

# write_load_job FILE NAME RATE SHARDS [TIMEOUT_MS]: the load range on port 80 (1 s timeout unless given).
write_load_job() {
    cat >"$1" <<JOB
name = "$2"
targets = "$LOAD_CIDR"
allow_reserved = "198.18.0.0/15"
ports = "80"
rate = $3
shards = $4
timeout_ms = ${5:-1000}
JOB
}

wait_registered() {
    local w
    for w in "$@"; do
        wait_until 15 sh -c "'$COORD_BIN' workers --db '$CW/lzr.db' | grep -q '^$w '" ||
            bail_out "$w did not register"
    done
}

wait_results() {
    local where=${1:+"WHERE worker = '$1'"}
    wait_until 20 sh -c \
        "[ -n \"\$(sqlite3 -readonly '$CW/lzr.db' \"SELECT 1 FROM results $where LIMIT 1\")\" ]"
}

coordctl() {
    timeout "$LAB_TIMEOUT" "$COORD_BIN" "$@" --db "$CW/lzr.db"
}

job_state() {
    sqlite3 -readonly "$CW/lzr.db" "SELECT state FROM jobs WHERE id = $1" 2>/dev/null
}

wait_job_done() {
    local i
    for i in $(seq 1 "$2"); do
        [ "$(job_state "$1")" = done ] && return 0
        sleep 1
    done
    return 1
}

# lab_size: addresses × ports of the lab's targets.
lab_size() {
    local n=0 t
    for t in $TARGETS; do n=$((n + (1 << (32 - ${t#*/})))); done
    echo $((n * $(wc -w <<<"$PORTS")))
}

check_results() {
    local size=${3:-$(lab_size)} truth=${2:-$LAB_TRUTH} d
    coordctl results "$1" >"$CW/results.jsonl"
    is "$(wc -l <"$CW/results.jsonl")" "$size" "one record per (address, port): none missing"
    is "$(jq -r '.ip + "/" + (.port|tostring)' "$CW/results.jsonl" | sort -u | wc -l)" "$size" \
        "no (ip, port) doubled"
    if d=$("$LAB_ROOT/tests/lab/tools/compare-truth" "$truth" "$CW/results.jsonl" \
        --single-vantage); then
        ok "results match the single-vantage truth"
    else
        not_ok "results match the single-vantage truth"
        diag "$d"
    fi
}

worker_start6() {
    local v=$1 ip6 fresh6 args=() f
    shift
    case $v in
    v1) ip6=$V1_SCAN_IP6 fresh6=$V1_FRESH_IPS6 ;;
    v2) ip6=$V2_SCAN_IP6 fresh6=$V2_FRESH_IPS6 ;;
    esac
    for f in $fresh6; do args+=(--fresh-ip6 "$f"); done
    worker_start "$v" --scan-ip6 "$ip6" "${args[@]}" "$@"
}

write_job6() {
    local hosts6 hosts4
    hosts6=$(grep -v '^#' "$LAB_TRUTH6" | cut -f1 | sort -u)
    # The twin of 2001:2:0:X::Y is 198.18.X.Y (deploy/lab/lab, v6of).
    hosts4=$(python3 -c '
import ipaddress, sys
for l in sys.stdin:
    a = ipaddress.ip_address(l.strip()).compressed
    left, right = a.split("::")
    g = left.split(":")
    print("198.18.%s.%s" % (g[3] if len(g) > 3 else "0", right))' <<<"$hosts6")
    {
        grep -v '^#' "$LAB_TRUTH6"
        grep -v '^#' "$LAB_TRUTH" | grep -F -f <(sed 's/$/	/' <<<"$hosts4")
    } >"$CW/truth-both.tsv"
    {
        echo "name = \"lab-both\""
        if [ "${4:-}" = hitlist ]; then
            # The IPv6 hosts as a hitlist file (one address a line), the IPv4 twins as targets.
            echo "$hosts6" >"$(dirname "$1")/hitlist6.txt"
            echo 'targets_file = "hitlist6.txt"'
            printf 'targets = ['
            for t in $hosts4; do printf '"%s", ' "$t"; done
        else
            printf 'targets = ['
            for t in $hosts6 $hosts4; do printf '"%s", ' "$t"; done
        fi
        echo ']'
        echo 'allow_reserved = ["198.18.0.0/15", "2001:2::/48"]'
        echo "ports = \"$PORTS_CSV\""
        echo "rate = $2"
        echo "shards = $3"
        echo "timeout_ms = 1500"
        echo "retransmit_ms = 500"
        echo "report_all = true"
    } >"$1"
    JOB6_SIZE=$(($(wc -w <<<"$hosts6 $hosts4") * $(wc -w <<<"$PORTS")))
}

# check_slices_job JOB LOG LO HI: checks job JOB, the load range in 8 shards, run by one worker
# with source ports LO-HI whose log is LOG: every shard scanned from a slice of LO-HI of at least
# 256 ports, shards overlapped, no two that ran at once shared a port, each shard's engine
# emitted one record per SYN, the engines read (almost) no frames of the other shards, and every
# address has one record, named http. Sets MAX_HELD: the most shards the worker held at once.
check_slices_job() {
    local job=$1 log=$2 lo=$3 hi=$4 starts events a b lo_a hi_a lo_b hi_b a_start a_done b_start
    local overlaps=0 clashes=0 off invalid n
    # The shards in the order they started with their ports ("shard N/8: ... from ports A-B"),
    # and every start and end in the log's order.
    starts=$(grep -o "shard [0-9]*/8: .* from ports [0-9]*-[0-9]*" "$log" |
        sed -E 's/shard ([0-9]+)\/8: .* from ports ([0-9]+)-([0-9]+)/\1 \2 \3/')
    is "$(wc -l <<<"$starts")" 8 "eight shards started, each with its source ports"
    is "$(awk -v lo="$lo" -v hi="$hi" '$2 >= lo && $3 <= hi && $3 - $2 + 1 >= 256 { n++ }
        END { print n + 0 }' <<<"$starts")" 8 "each slice lies in $lo-$hi and holds at least 256 ports"
    events=$(grep -n -o "shard [0-9]*/8: \|shard [0-9]* done" "$log" |
        sed -E 's/^([0-9]+):shard ([0-9]+)\/8: $/\1 start \2/; s/^([0-9]+):shard ([0-9]+) done$/\1 done \2/')
    MAX_HELD=$(awk '$2 == "start" { h++; if (h > m) m = h } $2 == "done" { h-- } END { print m + 0 }' \
        <<<"$events")
    # Runs that overlapped: shard B started before the "done" line of shard A, which started first.
    while read -r a lo_a hi_a; do
        a_start=$(awk -v s="$a" '$2 == "start" && $3 == s { print $1; exit }' <<<"$events")
        a_done=$(awk -v s="$a" '$2 == "done" && $3 == s { print $1; exit }' <<<"$events")
        while read -r b lo_b hi_b; do
            b_start=$(awk -v s="$b" '$2 == "start" && $3 == s { print $1; exit }' <<<"$events")
            if [ "$b" != "$a" ] && [ "$b_start" -gt "$a_start" ] && [ "$b_start" -lt "${a_done:-0}" ]; then
                overlaps=$((overlaps + 1))
                if [ "$hi_b" -ge "$lo_a" ] && [ "$hi_a" -ge "$lo_b" ]; then
                    clashes=$((clashes + 1))
                fi
            fi
        done <<<"$starts"
    done <<<"$starts"
    diag "pairs of shards that ran at once: $overlaps; shards held at once: at most $MAX_HELD"
    if [ "$overlaps" -gt 0 ]; then ok "shards overlapped (pipelined)"; else not_ok "shards overlapped (pipelined)"; fi
    is "$clashes" 0 "no two shards that ran at once shared a source port"

    diag "$(grep -o "shard [0-9]* done: [0-9]* SYNs, [0-9]* hits, [0-9]* invalid" "$log")"
    # Every address answers, so each shard's engine emits exactly one record per SYN: one more
    # would be a record doubled or a target of another shard taken for its own.
    off=$(grep -o "shard [0-9]* done: [0-9]* SYNs, [0-9]* hits" "$log" |
        awk '$4 != $6 { n++ } END { print n + 0 }')
    is "$off" 0 "every shard's engine emitted exactly one record per SYN"
    # What is left are the last segments of an earlier shard that had the same slice, a few dozen
    # a shard (55-406 over a job in 9 runs), which the cookie check rejects; 10 % of the job's
    # targets bounds them with room, against ~850,000 when every run reads every reply.
    invalid=$(grep -o "shard [0-9]* done: .*" "$log" | grep -o "[0-9]* invalid" |
        awk '{ s += $1 } END { print s + 0 }')
    diag "invalid frames over the job's shards: $invalid"
    if [ "$invalid" -le 6553 ]; then
        ok "the engines read (almost) no frames of the other shards (invalid $invalid <= 6553)"
    else
        not_ok "the engines read (almost) no frames of the other shards (invalid $invalid <= 6553)"
    fi
    n=$(sqlite3 -readonly "$CW/lzr.db" "SELECT count(*), count(DISTINCT ip),
        sum(class = 'service' AND protocol = 'http') FROM results WHERE job_id = $job")
    is "$n" "65536|65536|65536" "one record per address, none doubled, every one named http"
    if [ "$n" != "65536|65536|65536" ]; then
        diag "$(sqlite3 -readonly "$CW/lzr.db" "SELECT class, protocol, count(*) FROM results
            WHERE job_id = $job AND NOT (class = 'service' AND protocol = 'http') GROUP BY 1, 2")"
    fi
}
