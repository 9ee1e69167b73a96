# shellcheck shell=bash
# Shared helpers for the TAP lab tests (tests/lab/*.t); source it, call lab_env, then use the
# TAP helpers and end with done_testing. Every command that touches the lab is bounded in time.
#
#   ok DESC / not_ok DESC        one TAP line
#   check DESC CMD...            ok when CMD (bounded) succeeds
#   result RC DESC               ok when RC (a command's $?) is 0
#   is GOT WANT DESC             ok when GOT equals WANT, else a diagnostic with both
#   like GOT REGEX DESC          ok when GOT matches the extended REGEX
#   diag MSG                     a TAP comment
#   plan N / done_testing        the plan, ahead or at the end; done_testing exits 1 on failure
#   bail_out MSG                 abort the whole test file
#   lab_env                      bring the lab up if its env file is missing, then load the env
#   in_ns NS CMD...              run CMD inside namespace NS, bounded by $LAB_TIMEOUT (20 s)
#   probe NS SRC MODE [OPTS] T.. run deploy/lab/probe.py (raw SYN / handshake probes) in NS
#   wait_until SECS CMD...       poll CMD every 0.2 s until it succeeds or SECS pass
#   truth_rows [CLASS]           the truth rows (tab separated), optionally of one class only
#   truth_scan OUT TRUTH CMD...  run the scan CMD (stderr kept for the diagnostic), then check
#                                its records (OUT) against TRUTH as one vantage sees it: every
#                                row's class and protocol, and answered records covering the rows
#   scan_evidence OUT TRUTH      the checks every full truth scan's records (OUT) share: the
#                                evidence behind no_ack_data and services, and the quiet
#                                services the fallback tier names (TRUTH: truth.tsv or truth6.tsv)

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB="$LAB_ROOT/deploy/lab/lab"
LAB_PROBE="$LAB_ROOT/deploy/lab/probe.py"
LAB_STATE=${LZR_LAB_STATE:-/run/lzr-lab}
LAB_TIMEOUT=${LAB_TIMEOUT:-20}
export LZR_LAB_STATE=$LAB_STATE

_tap_n=0
_tap_failed=0
_tap_planned=0

plan() {
    _tap_planned=1
    echo "1..$1"
}

ok() {
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $*"
}

not_ok() {
    _tap_n=$((_tap_n + 1))
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $*"
}

result() {
    local rc=$1
    shift
    if [ "$rc" -eq 0 ]; then ok "$@"; else not_ok "$@"; fi
}

diag() {
    local line
    while IFS= read -r line; do echo "# $line"; done <<<"$*"
}

check() {
    local desc=$1 out
    shift
    local run=(timeout "$LAB_TIMEOUT")
    declare -F "$1" >/dev/null && run=() # our helpers bound themselves
    if out=$("${run[@]}" "$@" 2>&1); then
        ok "$desc"
    else
        not_ok "$desc"
        diag "command: $*"
        diag "$out"
    fi
}

is() {
    if [ "$1" = "$2" ]; then
        ok "$3"
    else
        not_ok "$3"
        diag "got:  '$1'"
        diag "want: '$2'"
    fi
}

like() {
    if [[ "$1" =~ $2 ]]; then
        ok "$3"
    else
        not_ok "$3"
        diag "got:  '$1'"
        diag "want: /$2/"
    fi
}

bail_out() {
    echo "Bail out! $*"
    exit 255
}

done_testing() {
    [ "$_tap_planned" -eq 1 ] || echo "1..$_tap_n"
    [ "$_tap_failed" -eq 0 ]
    exit $?
}

lab_env() {
    if [ ! -f "$LAB_STATE/env" ]; then
        timeout 120 "$LAB" up >&2 || bail_out "deploy/lab/lab up failed"
    fi
    [ -f "$LAB_STATE/env" ] || bail_out "no lab env file at $LAB_STATE/env"
    # shellcheck disable=SC1091
    . "$LAB_STATE/env"
}

in_ns() {
    local ns=$1
    shift
    timeout "$LAB_TIMEOUT" ip netns exec "$ns" "$@"
}

probe() {
    local ns=$1 src=$2
    shift 2
    timeout 120 ip netns exec "$ns" python3 "$LAB_PROBE" --src "$src" "$@"
}

wait_until() {
    local secs=$1 _i
    shift
    for _i in $(seq 1 $((secs * 5))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

truth_rows() {
    if [ $# -eq 0 ]; then
        grep -v '^#' "$LAB_TRUTH"
    else
        awk -F'\t' -v c="$1" '!/^#/ && $3 == c' "$LAB_TRUTH"
    fi
}

# probe_field LINE KEY: the value of KEY=... in one probe.py output line.
probe_field() {
    local w
    for w in $1; do
        case "$w" in "$2="*)
            echo "${w#*=}"
            return
            ;;
        esac
    done
}

# capture_start NAME FILTER [v1|v2]: record the frames of a vantage (v1 unless named) that
# FILTER (tcpdump syntax) picks into $dir/NAME.pcap, in the background ($dir is the test's
# scratch directory). Captures started together run until capture_stop.
capture_start() {
    local ns=$V1_NS ifc=$V1_IF
    [ "${3:-v1}" = v2 ] && ns=$V2_NS ifc=$V2_IF
    ip netns exec "$ns" timeout 90 tcpdump -i "$ifc" -n -U -B 32768 -w "$dir/$1.pcap" \
        "$2" 2>"$dir/$1.tcpdump" &
    _capture_pid="${_capture_pid:+$_capture_pid }$!"
    wait_until 10 grep -q listening "$dir/$1.tcpdump" || diag "tcpdump did not start"
}

# capture_stop: let the last frames arrive, then stop the captures capture_start began.
capture_stop() {
    local p
    sleep 1
    for p in $_capture_pid; do
        kill -INT "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    _capture_pid=
}

# capture_syns PCAP...: the destination (address:port) of every SYN in the captures.
capture_syns() {
    local f
    for f in "$@"; do
        tcpdump -n -r "$f" 'tcp[tcpflags] == tcp-syn' 2>/dev/null | awk '{print $5}' |
            sed 's/:$//; s/\.\([0-9]*\)$/:\1/'
    done
}

truth_scan() {
    local out=$1 truth=$2 err diff_out rows got want
    shift 2
    err=$(mktemp /tmp/lzr-truth-scan.XXXXXX)
    if timeout 300 "$@" 2>"$err"; then
        ok "the scan of $(basename "$truth")'s targets ran to the end"
    else
        not_ok "the scan of $(basename "$truth")'s targets ran to the end"
        diag "$(tail -20 "$err")"
    fi
    rm -f "$err"
    if diff_out=$("$LAB_ROOT/tests/lab/tools/compare-truth" "$truth" "$out" --single-vantage); then
        ok "every row of $(basename "$truth") has its single-vantage class and protocol"
    else
        not_ok "every row of $(basename "$truth") has its single-vantage class and protocol"
        diag "$diff_out"
    fi
    rows=$(grep -vc '^#' "$truth")
    got=$(jq -r 'select(.class != "silent") | .ip + ":" + (.port|tostring)' "$out" | sort -u | wc -l)
    want=$(grep -v '^#' "$truth" | awk -F'\t' '$3 != "shunning" && $3 != "dynamic_blocking"' | wc -l)
    if [ "$got" -ge "$want" ]; then
        ok "answered records ($got) cover the $want rows a vantage sees of $rows"
    else
        not_ok "answered records ($got) cover the $want rows a vantage sees of $rows"
    fi
}

scan_evidence() {
    local out=$1 truth=$2 ssh ip
    is "$(jq -r 'select(.class == "no_ack_data") | .acked_data' "$out" | sort -u)" "false" \
        "no_ack_data records never saw their data acknowledged"
    ssh=$(jq -r 'select(.protocol == "ssh") | .data' "$out" | head -1 | base64 -d 2>/dev/null | head -c 4)
    is "$ssh" "SSH-" "the ssh record's data is the server's banner"
    is "$(jq -r 'select(.class == "service") | (.handshake != "" and .data_len > 0)' "$out" | sort -u)" \
        "true" "every service names the handshake that drew data and keeps the data"
    # The two quiet services on odd ports, named by the fallback tier: after the paper's five
    # and (for 2000 and 7000, which no protocol claims) no port-own probe, the fallback list
    # mqtt,redis,postgres is tried in order, so mqtt is the 6th handshake and redis the 7th.
    local row port proto nth
    for row in "7000 redis 7" "2000 mqtt 6"; do
        read -r port proto nth <<<"$row"
        ip=$(awk -F'\t' -v p="$port" -v pr="$proto" '$2 == p && $4 == pr {print $1}' "$truth")
        is "$(jq -r --arg ip "$ip" --argjson port "$port" 'select(.ip == $ip and .port == $port) |
            [.class, .protocol, .handshake, .handshakes_tried] | @tsv' "$out")" \
            "$(printf 'service\t%s\t%s\t%s' "$proto" "$proto" "$nth")" \
            "$proto on $port is named by the fallback $proto handshake, handshake number $nth"
    done
}
