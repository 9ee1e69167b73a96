# shellcheck shell=bash
# tests/bench/peers.sh: shell helpers that tests/bench/run.sh and tests/bench/sendonly.sh share
# for running the peer scanners. Source it.
#
#   masscan_bounded LOG SECS CMD...   run CMD (a masscan command line, possibly behind
#                                     /usr/bin/time and `ip netns exec`) with stderr to LOG and
#                                     stop masscan once its --wait is over
#   clock_ready FILE                  wait (at most 10 s) until tests/bench/synclock.py has
#                                     written its first line to FILE

# The PID of a child of process $1, from /proc; fails when it has none.
child_of() {
    local f line rest
    for f in /proc/[0-9]*/stat; do
        read -r line <"$f" 2>/dev/null || continue
        rest=${line##*) } # after the command name, which may hold spaces: state, then ppid
        rest=${rest#* }
        if [ "${rest%% *}" = "$1" ]; then
            f=${f#/proc/}
            echo "${f%/stat}"
            return 0
        fi
    done
    return 1
}

# masscan 1.3.2's receive thread blocks in pcap until a frame comes, so once the last reply is in
# (or, into a sink, always) it never notices the end of its --wait: the status line counts on,
# "waiting -1-secs", "-2-secs"... and the process never exits. Its author's advice is several
# ctrl-c; this does that, by PID, to the masscan process (the first descendant of CMD whose
# name is masscan), once the status line shows a negative wait, or after SECS seconds. Returns
# CMD's exit status (1 after the ctrl-c) or 124 when it had to stop it on time.
masscan_bounded() {
    local log=$1 secs=$2 pid m i end timed_out=0 rc=0
    shift 2
    "$@" 2>"$log" &
    pid=$!
    end=$((SECONDS + secs))
    while kill -0 "$pid" 2>/dev/null; do
        if grep -q 'waiting -[0-9]' "$log" || [ "$SECONDS" -ge "$end" ]; then
            [ "$SECONDS" -ge "$end" ] && timed_out=1
            m=$pid
            while [ "$(cat "/proc/$m/comm" 2>/dev/null)" != masscan ]; do
                m=$(child_of "$m") || break
            done
            if [ "$(cat "/proc/$m/comm" 2>/dev/null)" = masscan ]; then
                for i in 1 2 3 4 5; do
                    kill -INT "$m" 2>/dev/null || break
                    sleep 0.05
                done
            fi
            sleep 0.5
            kill -0 "$pid" 2>/dev/null && kill -KILL "$m" 2>/dev/null
            break
        fi
        sleep 0.05
    done
    wait "$pid" || rc=$?
    [ "$timed_out" = 1 ] && return 124
    return "$rc"
}

# synclock.py writes the counter's value before the scan as its first line: a scanner started
# before that line is there would have its first SYNs left out of the count. A fixed pause is
# not enough once a scanner's first SYN leaves within milliseconds of its start and python's
# own start is slow on a loaded machine.
clock_ready() {
    local i
    for i in $(seq 500); do
        [ -s "$1" ] && return 0
        sleep 0.02
    done
    echo "bench: synclock.py wrote nothing to $1 in 10 s" >&2
    return 1
}
