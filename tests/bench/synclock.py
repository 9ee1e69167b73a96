"""synclock.py: clocks SYNs as the target sees them, the same way for every scanner.

Run inside the lab's load namespace (`ip netns exec lzr-load python3 synclock.py OUT SECS`),
where net.ipv4.tcp_syncookies=2 makes the kernel answer every SYN with a cookie. It polls
TcpExtSyncookiesSent in /proc/net/netstat every 2 ms and writes "monotonic_seconds count" to OUT
each time the counter moves, until SIGTERM or SECS seconds. tests/bench/run.sh starts it before
a scan, waits for its first line (the counter before the scan; tests/bench/peers.sh,
clock_ready), stops it by PID after, and takes the sending rate from the 0.1 %-99.9 % span.
With `--rx IFACE` it counts the frames IFACE received instead (the sink of
tests/bench/sendonly.sh, where nothing answers).
"""

import signal
import sys
import time


def cookies(f):
    f.seek(0)
    lines = f.read().split("\n")
    for i in range(0, len(lines) - 1, 2):
        if lines[i].startswith("TcpExt:"):
            names, values = lines[i].split(), lines[i + 1].split()
            return int(values[names.index("SyncookiesSent")])
    return 0


def clocked_rate(path):
    """(count, per second) from a file this script wrote: the count over the run, and the rate
    over the span from 0.1 % to 99.9 % of it (so one straggler cannot stretch the span)."""
    clk = [tuple(map(float, l.split())) for l in open(path) if len(l.split()) == 2]
    if len(clk) <= 2:
        return 0, 0
    c0 = clk[0][1]
    n = clk[-1][1] - c0
    a = next(t for t, c in clk if c - c0 >= 0.001 * n)
    b = next(t for t, c in clk if c - c0 >= 0.999 * n)
    return n, (0.998 * n / (b - a) if b > a else 0)


def rx_frames(f):
    f.seek(0)
    return int(f.read())


def main():
    out, secs = sys.argv[1], float(sys.argv[2])
    if len(sys.argv) == 5 and sys.argv[3] == "--rx":
        path, count = "/sys/class/net/%s/statistics/rx_packets" % sys.argv[4], rx_frames
    else:
        path, count = "/proc/net/netstat", cookies
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    end = time.monotonic() + secs
    with open(path) as f, open(out, "w") as o:
        last = count(f)
        o.write("%.6f %d\n" % (time.monotonic(), last))
        o.flush()  # the caller starts the scan once this first line is there
        while not stop and time.monotonic() < end:
            time.sleep(0.002)
            c = count(f)
            if c != last:
                o.write("%.6f %d\n" % (time.monotonic(), c))
                last = c


if __name__ == "__main__":
    main()
