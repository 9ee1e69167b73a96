"""report.py: turns the results tab file of tests/bench/run.sh into docs/benchmarks.md.

Each input line is: figure, tool, mode, run, then key=value fields. Every figure is reported as
the median of its runs with the min-max range, and lzr's ratio to the peer is taken run by run
(the two tools ran back to back in the same iteration) before its median is taken.
Usage: report.py machine.tsv results.tsv RUNS "RATES"
"""

import statistics
import sys
from collections import defaultdict

LOAD = 65536


def load(path):
    rows = []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 5:
            continue
        kv = {}
        for item in f[4:]:
            if "=" in item:
                k, v = item.split("=", 1)
                try:
                    kv[k] = float(v)
                except ValueError:
                    kv[k] = v
        rows.append((f[0], f[1], f[2], int(f[3]), kv))
    return rows


def mmm(xs, fmt="{:,.0f}"):
    """median (min–max) of xs, or n/a."""
    xs = [x for x in xs if isinstance(x, (int, float))]
    if not xs:
        return "n/a"
    return "%s (%s–%s)" % (
        fmt.format(statistics.median(xs)),
        fmt.format(min(xs)),
        fmt.format(max(xs)),
    )


def med(xs):
    xs = [x for x in xs if isinstance(x, (int, float))]
    return statistics.median(xs) if xs else None


def by_mode_run(rows, figure):
    """One figure's rows as (mode, run) -> tool -> kv."""
    out = defaultdict(dict)
    for fig, tool, mode, run, kv in rows:
        if fig == figure:
            out[(mode, run)][tool] = kv
    return out


def mode_name(m):
    return "unlimited" if m == "0" else "%s/s" % format(int(m), ",")


def sendonly_section(w, rows):
    """Figure 1b: the scanners sending alone into a sink that drops every frame."""
    so = defaultdict(dict)  # run -> tool -> kv
    for fig, tool, mode, run, kv in rows:
        if fig == "sendonly":
            so[run][tool] = kv
    w("## 1b. Sending alone: 524,288 SYNs into a sink, lzr-worker vs zmap and masscan")
    w("")
    if not so:
        w("Not measured in this run (BENCH_SENDONLY=0).")
        w("")
        return
    have_tg = any("trafgen" in so[r] for r in so)
    w("In figure 1 every SYN also costs the lab's kernel a bridge crossing and a SYN cookie on")
    w("the same two cores, so the target sets the pace. `tests/bench/sendonly.sh` measures the")
    w("scanners alone: it makes two namespaces of its own, `lzr-bsend` (198.18.250.1 on a veth)")
    w("and `lzr-bsink` (the veth's other end, with an nftables netdev ingress chain that drops")
    w("every frame on arrival), and each tool sends unlimited to 198.19.0.0/16, 8 probes per")
    w("address. Nothing answers. SYNs are clocked at the sink (`synclock.py --rx`: the veth's")
    w("received frames every 2 ms, 0.1 %–99.9 % span); runs rotate which tool goes first.")
    w("")
    w("```")
    w("ip netns exec lzr-bsend zmap -i s0 -S 198.18.250.1 -G $SINK_MAC -p 80 -P 8 -r 0 \\")
    w("    -s 40000-65535 -w allow.txt -b empty.blocklist -c 0 -q -o /dev/null")
    w("ip netns exec lzr-bsend bin/lzr-worker scan --iface s0 --source-ip 198.18.250.1 \\")
    w("    --gateway-mac $SINK_MAC --targets 198.19.0.0/16 --ports 80-87 \\")
    w("    --allow-reserved 198.18.0.0/15 --source-ports 40000-65535 --rate 0 --discovery-only \\")
    w("    --timeout-ms 200 --manage-firewall --output /dev/null")
    w("ip netns exec lzr-bsend masscan 198.19.0.0/16 -p80-87 --rate 100000000 --adapter s0 \\")
    w("    --adapter-ip 198.18.250.1 --adapter-port 49152-65535 --router-mac $SINK_MAC --wait 0 \\")
    w("    -oL /dev/null")
    if have_tg:
        w("ip netns exec lzr-bsend trafgen --dev s0 --cpus 1 --num 524288 --no-sock-mem \\")
        w("    --notouch-irq --qdisc-path --no-cpu-stats '{ eth(da=$SINK_MAC, type=0x0800), \\")
        w("    ipv4(sa=198.18.250.1, da=198.19.0.0, da[3]=dinc()), \\")
        w("    tcp(sp=40000, dp=dinc(80, 87), syn, win=65535) }'")
    w("```")
    w("")
    if have_tg:
        w("trafgen (netsniff-ng) is no scanner: it sends the same number of prebuilt SYNs from")
        w("its mmap'd TX ring, one process, through the qdisc as the scanners do (`--qdisc-path`),")
        w("with no pacing, no permutation and no cookies. It stands for what this veth and")
        w("kernel path take from one sending thread: the software limit of figure 1b.")
        w("")
    w("| tool | probes/s | CPU s / M probes | wall s |")
    w("|---|---|---|---|")
    for tool in ("zmap", "lzr", "lzr-ring", "lzr-xdp", "lzr-2t", "masscan") + (("trafgen",) if have_tg else ()):
        kvs = [so[r][tool] for r in sorted(so) if tool in so[r]]
        w("| %s | %s | %s | %s |" % (
            tool, mmm([k.get("wire") for k in kvs]),
            mmm([k["cpu"] / k["syns"] * 1e6 if k.get("syns") else None for k in kvs], "{:.2f}"),
            mmm([k.get("wall") for k in kvs], "{:.2f}")))
    w("")
    if have_tg:
        for tool in ("zmap", "lzr", "lzr-ring", "lzr-xdp", "lzr-2t", "masscan"):
            lim = [so[r][tool]["wire"] / so[r]["trafgen"]["wire"] for r in so
                   if tool in so[r] and "trafgen" in so[r] and so[r]["trafgen"].get("wire")]
            w("%s ÷ trafgen, run by run: probes/s %s." % (tool, mmm(lim, "{:.2f}×")))
            w("")
    for peer in ("zmap", "masscan"):
        rr = [so[r]["lzr"]["wire"] / so[r][peer]["wire"] for r in so
              if "lzr" in so[r] and peer in so[r] and so[r][peer].get("wire")]
        cr = [(so[r]["lzr"]["cpu"] / so[r]["lzr"]["syns"]) /
              (so[r][peer]["cpu"] / so[r][peer]["syns"])
              for r in so if "lzr" in so[r] and peer in so[r]
              and so[r]["lzr"].get("syns") and so[r][peer].get("syns") and so[r][peer].get("cpu")]
        w("lzr ÷ %s, run by run: probes/s %s; CPU per probe %s." % (
            peer, mmm(rr, "{:.2f}×"), mmm(cr, "{:.2f}×")))
        w("")
    levers = (("lzr-ring", "**The TX-ring lever (A/B).** *lzr-ring* is the same command with "
               "`--tx-ring`: frames are written into a PACKET_TX_RING (TPACKET_V2) with "
               "PACKET_QDISC_BYPASS and the kernel is kicked once per 64 frames, instead of one "
               "`sendmmsg` per 64."),
              ("lzr-xdp", "**The AF_XDP lever (A/B).** *lzr-xdp* is the same command with "
               "`--xdp`: the SYNs are written into the shared memory of an AF_XDP socket bound "
               "to the veth's only queue, in copy mode (a veth has no zero-copy mode), and the "
               "kernel is kicked once per 64 frames; it takes them without the qdisc. Raw "
               "`AF_XDP` system calls, no libxdp: sending needs no XDP program."),
              ("lzr-2t", "**The send-threads lever (A/B).** *lzr-2t* is the same command with "
               "`--send-threads 2`: two SYN walkers, each with its own socket and half of the "
               "permutation."))
    for tool, text in levers:
        pr = [so[r][tool]["wire"] / so[r]["lzr"]["wire"] for r in so
              if tool in so[r] and "lzr" in so[r] and so[r]["lzr"].get("wire")]
        pc = [(so[r][tool]["cpu"] / so[r][tool]["syns"]) / (so[r]["lzr"]["cpu"] / so[r]["lzr"]["syns"])
              for r in so if tool in so[r] and "lzr" in so[r] and so[r][tool].get("syns")
              and so[r]["lzr"].get("syns") and so[r]["lzr"].get("cpu")]
        if pr:
            w(text + " %s ÷ lzr, run by run: probes/s %s; CPU per probe %s."
              % (tool, mmm(pr, "{:.2f}×"), mmm(pc, "{:.2f}×")))
            w("")
    w("lzr hands the kernel 64 frames per `sendmmsg` call; zmap 2.1.1 makes one `sendto` per")
    w("frame (counted with `strace -c`); masscan 1.3.2 sends through libpcap, one frame per call.")
    w("The wall times carry each tool's own fixed costs: lzr checks that the kernel will not")
    w("reset its handshakes, installs and removes its firewall rule (`--manage-firewall`) and")
    w("after the last SYN waits at least 1 s (or `--timeout-ms`, if longer) for late replies;")
    w("zmap runs with no cool-down (`-c 0`); masscan waits for a reply that never comes here")
    w("until it is stopped (figure 1).")
    w("")


def threads_section(w, rows):
    """Figure 1e: the asked rate against the rate clocked at the target, 1-3 send threads."""
    th = defaultdict(list)  # (threads, rate) -> [kv]
    for fig, tool, mode, run, kv in rows:
        if fig == "threads":
            t, rate = mode.split("-")
            th[(int(t), int(rate))].append(kv)
    w("## 1e. Rate accuracy with several send threads")
    w("")
    if not th:
        w("Not measured in this run (BENCH_THREADS=0).")
        w("")
        return
    w("`--send-threads N` splits the shard into N contiguous slices, each walked by its own")
    w("thread with its own socket at rate / N. Here lzr scans the load range (65,536 addresses,")
    w("port 80) with `--discovery-only` at a fixed rate, and the rate is clocked at the target")
    w("as in figure 1 (SYN cookies counted by the load namespace's kernel every 2 ms, 0.1 %–99.9 %")
    w("span). The target is ±5 % of the asked rate.")
    w("")
    w("```")
    w("ip netns exec lzr-v1 bin/lzr-worker scan --iface eth0 --source-ip 198.18.0.11 \\")
    w("    --gateway-mac $GW_MAC --targets 198.19.0.0/16 --allow-reserved 198.18.0.0/15 \\")
    w("    --ports 80 --source-ports 40000-65535 --rate RATE --discovery-only \\")
    w("    --send-threads N --timeout-ms 1000 --progress --output OUT")
    w("```")
    w("")
    w("| send threads | asked | clocked at the target | clocked ÷ asked | SYNs seen |")
    w("|---|---|---|---|---|")
    for (t, rate) in sorted(th):
        kvs = th[(t, rate)]
        w("| %d | %s/s | %s | %s | %s |" % (
            t, format(rate, ","), mmm([k.get("wire") for k in kvs]),
            mmm([k["wire"] / rate if k.get("wire") else None for k in kvs], "{:.3f}×"),
            mmm([k.get("wsyns") for k in kvs])))
    w("")


def ipv6_section(w, rows):
    """Figure 6: IPv6 beside IPv4, sending alone and in full mode, from the same run."""
    so = defaultdict(dict)  # run -> tool -> kv
    v6 = defaultdict(dict)  # run -> family -> kv
    for fig, tool, mode, run, kv in rows:
        if fig == "sendonly" and tool in ("lzr", "lzr6"):
            so[run][tool] = kv
        elif fig == "v6":
            v6[run][mode] = kv
    w("## 6. IPv6 beside IPv4")
    w("")
    if not any("lzr6" in so[r] for r in so) and not v6:
        w("Not measured in this run (BENCH_IPV6=0 and no send-only figure).")
        w("")
        return
    w("The same scans of as many IPv6 targets as IPv4 ones, in the same run. *Sending alone*: figure")
    w("1b's sink, `lzr6` sending 524,288 IPv6 SYNs (74-byte frames against IPv4's 54) from")
    w("`2001:2:0:250::1` to `2001:2:0:1900::/112` × ports 80-87. *Full mode*: figure 1's")
    w("`lzrfull` run, unlimited, on the load range (65,536 IPv4 addresses, nginx on port 80)")
    w("against its IPv6 twin (`2001:2:0:1900::/112` in the same namespace, the same nginx), from")
    w("the vantage's IPv4 and IPv6 scan IPs, alternating which family goes first:")
    w("")
    w("```")
    w("ip netns exec lzr-bsend bin/lzr-worker scan --iface s0 --source-ip6 2001:2:0:250::1 \\")
    w("    --gateway-mac $SINK_MAC --targets 2001:2:0:1900::/112 --allow-reserved 2001:2::/48 \\")
    w("    --ports 80-87 --source-ports 40000-65535 --rate 0 --discovery-only --timeout-ms 200 \\")
    w("    --manage-firewall --output /dev/null")
    w("ip netns exec lzr-v1 bin/lzr-worker scan --iface eth0 --source-ip6 2001:2::11 \\")
    w("    --targets 2001:2:0:1900::/112 --allow-reserved 2001:2::/48 --gateway-mac $GW_MAC \\")
    w("    --ports 80 --source-ports 40000-65535 --rate 0 --handshakes http --timeout-ms 1000 \\")
    w("    --progress --output OUT")
    w("```")
    w("")
    w("| measure | IPv4 | IPv6 | IPv6 ÷ IPv4, run by run |")
    w("|---|---|---|---|")

    def row(name, data, a, b, key, fmt, per_probe=False):
        def val(kv):
            if per_probe:
                return kv["cpu"] / kv["syns"] * 1e6 if kv.get("syns") and kv.get("cpu") else None
            return kv.get(key)
        va = [val(data[r][a]) for r in sorted(data) if a in data[r]]
        vb = [val(data[r][b]) for r in sorted(data) if b in data[r]]
        rr = [val(data[r][b]) / val(data[r][a]) for r in data if a in data[r] and b in data[r]
              and val(data[r][a]) and val(data[r][b]) is not None]
        w("| %s | %s | %s | %s |" % (name, mmm(va, fmt), mmm(vb, fmt), mmm(rr, "{:.2f}×")))

    if any("lzr6" in so[r] for r in so):
        row("sending alone: probes/s", so, "lzr", "lzr6", "wire", "{:,.0f}")
        row("sending alone: CPU s / M probes", so, "lzr", "lzr6", None, "{:.2f}", True)
    if v6:
        row("full mode: probes/s at the target", v6, "ipv4", "ipv6", "wire", "{:,.0f}")
        row("full mode: services named (of 65,536)", v6, "ipv4", "ipv6", "unique", "{:,.0f}")
        row("full mode: wall s", v6, "ipv4", "ipv6", "wall", "{:.2f}")
        row("full mode: CPU s / M probes", v6, "ipv4", "ipv6", None, "{:.2f}", True)
        row("full mode: first SYN ms after exec", v6, "ipv4", "ipv6", "first_ms", "{:.1f}")
    w("")


def startup_section(w, rows):
    """Figure 1c: time from exec to the first SYN on the wire, from the runs of figure 1."""
    disc = [(tool, mode, run, kv) for fig, tool, mode, run, kv in rows if fig == "disc"]
    w("## 1c. Start-up: time from exec to the first SYN")
    w("")
    if not any("first_ms" in kv for _, _, _, kv in disc):
        w("Not measured in this run.")
        w("")
        return
    w("Every run of figure 1 also times its scanner's start. Just before exec, inside the")
    w("vantage namespace and under `/usr/bin/time`, a `bash -c` wrapper writes the wall clock")
    w("(`$EPOCHREALTIME`) and execs the scanner; `tcpdump -c 1` in the load namespace stamps the")
    w("first SYN that reaches the target range (`tcp[tcpflags] == tcp-syn`). The figure is the")
    w("difference, so it holds the dynamic loader, option parsing, every check and set-up step,")
    w("and the frame's trip through the vantage's veth, the bridge and the router (tens of µs).")
    w("All three tools, all rates of figure 1 pooled (the rate does not change when the first")
    w("SYN leaves); the runs are the interleaved runs of figure 1.")
    w("")
    w("| tool | first SYN after exec, ms | runs |")
    w("|---|---|---|")
    for tool in ("zmap", "lzr", "masscan"):
        xs = [kv.get("first_ms") for t, _, _, kv in disc if t == tool and "first_ms" in kv]
        w("| %s | %s | %d |" % (tool, mmm(xs, "{:.1f}"), len(xs)))
    w("")
    by = defaultdict(dict)
    for tool, mode, run, kv in disc:
        if "first_ms" in kv:
            by[(mode, run)][tool] = kv["first_ms"]
    for peer in ("zmap", "masscan"):
        rr = [v["lzr"] / v[peer] for v in by.values() if "lzr" in v and v.get(peer)]
        w("lzr ÷ %s, run by run: %s." % (peer, mmm(rr, "{:.2f}×")))
        w("")
    lz = [kv for t, _, _, kv in disc if t == "lzr" and "su_first" in kv]
    lzr_first = med([kv.get("first_ms") for t, _, _, kv in disc if t == "lzr"])
    if lz:
        w("lzr's own account of the same runs (`--progress` prints it; ms from `main`, so the")
        w("loader is not in it):")
        w("")
        w("| step | ms |")
        w("|---|---|")
        for k, name in (("su_options", "options, targets, permutation, cookie key"),
                        ("su_firewall", "firewall rule (`--manage-firewall`; not used here)"),
                        ("su_checks", "checks: privileges, interface, source IP, ephemeral ports, self-test"),
                        ("su_selftest", "— of which the firewall self-test"),
                        ("su_iface", "interface MAC and next hop (gateway lookup)"),
                        ("su_capture", "capture: pcap ring, activation, filter"),
                        ("su_tables", "senders, connection table, timer wheel, receive thread"),
                        ("su_first", "first SYN handed to the kernel, from `main`")):
            w("| %s | %s |" % (name, mmm([kv.get(k) for kv in lz], "{:.1f}")))
        ctl = sum(1 for kv in lz if kv.get("su_control") == 1)
        w("")
        w("The self-test ended on the positive control's RST in %d of %d runs (docs/worker.md," %
          (ctl, len(lz)))
        w("\"Start-up\").")
        w("")
    zmap_first = med([kv.get("first_ms") for t, _, _, kv in disc if t == "zmap"])
    if lz and lzr_first is not None and zmap_first and lzr_first > zmap_first:
        w("**Where lzr loses: start-up.** zmap's first SYN leaves %.1f ms after exec, lzr's %.1f"
          % (zmap_first, lzr_first))
        w("ms. What is left of lzr's: the capture ring (%.1f ms above, nearly all of it the kernel"
          % med([kv.get("su_capture") for kv in lz]))
        w("allocating and zeroing the 128 MB buffer that keeps replies when the receive thread")
        w("falls behind) and the dynamic loader (lzr-worker links about 30 shared libraries,")
        w("ZeroMQ's and their dependencies among them, which it needs only under a coordinator:")
        w("about 6 ms more than zmap's to exec here). What would change it: a ring sized to the")
        w("rate, or grown once replies come; linking the worker with `--as-needed`.")
        w("")
    if lzr_first is not None:
        w("**Target: lzr's first SYN ≤ 100 ms after exec (median): %s** (%.1f ms)." %
          ("met" if lzr_first <= 100 else "not met", lzr_first))
        w("")
    w("Before this figure existed, lzr's first SYN left 670–720 ms after exec, most of it the")
    w("firewall self-test listening 3 × 150 ms for a RST that, on a well set-up host, never")
    w("comes. The self-test now also sends a SYN-ACK to a port just outside the scanner's range")
    w("(the positive control) and stops at that port's RST: the kernel has then handled the")
    w("probe too, so a probe RST would already be there. The other steps that cost tens of ms")
    w("each: libpcap's `pcap_setfilter` walked all ~49,000 slots of the 78 MB capture ring")
    w("(the filter is now attached to the socket directly) and the timer wheel wrote all of its")
    w("12 MB at creation (it now comes zeroed from `calloc`). A cluster worker opens its")
    w("capture once and lends it to every shard's run, and runs the self-test once per process.")
    w("")


def named(kv):
    """Records of a full-mode run that named the service (http); runs from before the field
    existed count every address with a record."""
    n = kv.get("named", -1)
    return n if n >= 0 else kv["unique"]


def cpu_per_probe_us(kvs):
    """Median CPU µs per SYN of a tool's runs, or None."""
    return med([k["cpu"] / k["syns"] * 1e6 for k in kvs if k.get("syns") and "cpu" in k])


def lab_charge(w, rows, ap, modes):
    """What figure 1's lab charges each scanner: its CPU per probe there less its own (1f)."""
    disc = by_mode_run(rows, "disc")
    send = [kv for fig, tool, _, _, kv in rows if fig == "sendonly" and tool == "lzr"]
    frame = cpu_per_probe_us(send)
    lines = []
    bounds = []
    for m in modes:
        got = {}
        for tool in ("zmap", "lzr", "lzrfull"):
            lab = cpu_per_probe_us([disc[k][tool] for k in disc if k[0] == m and tool in disc[k]])
            own = cpu_per_probe_us([ap[k][tool] for k in ap if k[0] == m and tool in ap[k]])
            if lab is None or own is None:
                continue
            got[tool] = (lab, own)
            lines.append("| %s | %s | %.1f | %.1f | %.1f |" % (
                mode_name(m), "lzr, full mode" if tool == "lzrfull" else tool, lab, own, lab - own))
        if "zmap" in got and "lzrfull" in got:
            bounds.append((m, got["zmap"][0], got["lzrfull"][0] - got["lzrfull"][1],
                           got["lzrfull"][1]))
    if not lines:
        return
    w("**What figure 1's lab charges each scanner.** The same scans, in figure 1 and here: the")
    w("difference of the medians is the CPU that the bridge, the router and the targets spend on")
    w("a scanner's frames and that figure 1 counts as the scanner's (µs per probe). It also holds")
    w("the vantage's own receive path for the replies (capture, IP input, the firewall's drop),")
    w("which here runs in the bridge port's thread too: a scanner pays that on a real host, but")
    w("it is a small part (the SYN-ACK, and in full mode the answer, per probe). zmap's figures at")
    w("50,000/s include its pacing busy-wait (figure 1), so its difference there means little.")
    w("")
    w("| rate | tool | figure 1 | here (its own) | charged by the lab |")
    w("|---|---|---|---|---|")
    for line in lines:
        w(line)
    w("")
    for m, zmap_all, charged, own in bounds:
        w("At %s a full-mode scan is charged %.1f µs per probe by the lab alone, %.2f× zmap's"
          % (mode_name(m), charged, charged / zmap_all))
        w("whole CPU per probe in figure 1 (%.1f µs): a full-mode scanner that cost nothing itself"
          % zmap_all)
        w("would be at %.2f× there. For ≤ 1× in figure 1, full mode's own work would have to fit"
          % (charged / zmap_all))
        if frame is not None:
            w("in %.1f µs per probe (here it takes %.1f); sending a handshake's three frames (SYN,"
              % (zmap_all - charged, own))
            w("ACK with the probe, RST) into figure 1b's sink alone costs 3 × %.2f = %.1f µs."
              % (frame, 3 * frame))
        else:
            w("in %.1f µs per probe (here it takes %.1f)." % (zmap_all - charged, own))
        w("")


def apart_section(w, rows):
    """Figure 1f: CPU per probe with the targets' kernel work off the scanner's CPU."""
    ap = by_mode_run(rows, "apart")
    w("## 1f. CPU per probe with the targets' kernel work apart")
    w("")
    if not ap:
        w("Not measured in this run.")
        w("")
        return
    w("In figure 1 a frame that a scanner sends into its veth is received by the bridge, the")
    w("router and the target on the scanner's CPU, inside the scanner's system call, and the")
    w("kernel charges that work to the scanner. A SYN scan costs the target one SYN cookie per")
    w("probe; a full handshake costs it a new socket, a wake-up of nginx, its answer and the")
    w("teardown — work a real target does on its own machine. Here `tests/bench/run.sh`'s")
    w("`wire_apart` gives the vantage's bridge port (`$V1_PORT` in `lzr-br`) its own NAPI instance")
    w("polled by a kernel thread, as a NIC hands frames to a wire: the bridge, the router and the")
    w("targets run in that thread, and each scanner's CPU time is its own. The veth stops its")
    w("queue while the thread's ring is full, so the vantage's interface gets a pfifo queue to")
    w("wait in, as a NIC has. Same targets, options and clock as figure 1; zmap, lzr")
    w("(`--discovery-only`) and lzr in full mode (`--handshakes http`) run back to back,")
    w("rotating which goes first. Here one kernel thread carries all 65,536 targets' TCP work and")
    w("nginx shares the two cores with it and the scanner, so nginx answers up to seconds late;")
    w("full mode therefore waits up to 10 s for each answer without resending")
    w("(`--timeout-ms 10000 --retransmit-ms 10000`): every address is named, and its CPU per")
    w("probe counts every handshake.")
    w("")
    w("```")
    w("ip netns exec lzr-br ethtool -K $V1_PORT gro on")
    w("ip netns exec lzr-br sh -c 'echo 1 >/sys/class/net/$V1_PORT/threaded'")
    w("ip netns exec lzr-v1 tc qdisc replace dev $V1_IF root pfifo limit 10000")
    w("```")
    w("")
    w("| rate | tool | probes/s | captured | named http | CPU s / M probes | user µs / probe |")
    w("|---|---|---|---|---|---|---|")
    modes = sorted({m for m, _ in ap}, key=lambda x: int(x) or 1 << 40)
    for m in modes:
        keys = sorted(r for (mm, r) in ap if mm == m)
        for tool in ("zmap", "lzr", "lzrfull"):
            kvs = [ap[(m, r)][tool] for r in keys if tool in ap[(m, r)]]
            if not kvs:
                continue
            w("| %s | %s | %s | %s | %s | %s | %s |" % (
                mode_name(m), "lzr, full mode" if tool == "lzrfull" else tool,
                mmm([k.get("wire") for k in kvs]),
                mmm([100.0 * k["unique"] / LOAD for k in kvs], "{:.3f} %"),
                mmm([100.0 * named(k) / LOAD for k in kvs], "{:.3f} %")
                if tool == "lzrfull" else "—",
                mmm([k["cpu"] / k["syns"] * 1e6 for k in kvs if k.get("syns")], "{:.1f}"),
                mmm([k["user"] / k["syns"] * 1e6 for k in kvs if k.get("syns") and "user" in k],
                    "{:.2f}")))
    w("")
    w("CPU per probe, run by run against zmap's SYN scan of the same iteration (issue #15's")
    w("target for full mode: ≤ 1× at 50,000/s and unlimited):")
    w("")
    w("| rate | lzr ÷ zmap | lzr, full mode ÷ zmap |")
    w("|---|---|---|")
    for m in modes:
        keys = sorted(r for (mm, r) in ap if mm == m)
        cols = []
        for mine in ("lzr", "lzrfull"):
            cr = []
            for r in keys:
                z, l = ap[(m, r)].get("zmap"), ap[(m, r)].get(mine)
                if z and l and z.get("syns") and l.get("syns") and z.get("cpu"):
                    cr.append((l["cpu"] / l["syns"]) / (z["cpu"] / z["syns"]))
            cols.append(mmm(cr, "{:.2f}×"))
        w("| %s | %s | %s |" % (mode_name(m), cols[0], cols[1]))
    w("")
    lab_charge(w, rows, ap, modes)
    short = [named(kv) / LOAD for k in ap for t, kv in ap[k].items() if t == "lzrfull"]
    if short and min(short) < 0.999:
        w("**Read the full-mode ratio with the *named* column.** With the wire apart, one kernel")
        w("thread carries the bridge, the router and all 65,536 targets' TCP work, and nginx")
        w("shares the two cores with it and the scanner: in full mode it falls behind, and the")
        w("answers that do not come within the timeout end as `acks_no_data` records — cheaper")
        w("for the scanner than reading and naming an answer. Where *named http* is well under")
        w("100 %, full mode's CPU per probe here is a lower bound of what a named handshake costs,")
        w("not a measure of it; figure 1, where every address is named, is the upper bound. The")
        w("SYN-scan rows (zmap, lzr) compare the same work.")
        w("")


def receive_section(w, rows):
    """Figure 1d: full handshakes classified per second and per core (figure 1's full-mode runs)."""
    full = [(mode, kv) for fig, tool, mode, run, kv in rows if fig == "disc" and tool == "lzrfull"]
    w("## 1d. The receive side: full handshakes per core")
    w("")
    if not full:
        w("Not measured in this run.")
        w("")
        return
    w("Figure 1's full-mode runs: every one of the 65,536 addresses is a real service (the kernel")
    w("answers the SYN, nginx the HTTP probe), so each probe is one whole LZR exchange — SYN,")
    w("SYN-ACK, the ACK with the probe, the answer, its fingerprint, the record and the RST.")
    w("*handshakes/s* is the target's SYN clock (every SYN becomes a handshake here); *named*")
    w("counts the records that name nginx's answer `http` (the rest are records whose answer")
    w("did not come within the timeout, `acks_no_data`: the lab's nginx is behind);")
    w("*per core* divides a million by the process's CPU seconds per million handshakes, and")
    w("*user µs* is the part spent in lzr's own code and libraries (the rest is the kernel).")
    w("")
    w("| rate | handshakes/s | named | CPU s / M | user µs / handshake | handshakes per core-second |")
    w("|---|---|---|---|---|---|")
    for m in sorted({mode for mode, _ in full}, key=lambda x: int(x) or 1 << 40):
        kvs = [kv for mode, kv in full if mode == m]
        w("| %s | %s | %s | %s | %s | %s |" % (
            mode_name(m), mmm([k.get("wire") for k in kvs]),
            mmm([100.0 * named(k) / LOAD for k in kvs], "{:.3f} %"),
            mmm([k["cpu"] / k["syns"] * 1e6 for k in kvs if k.get("syns")], "{:.1f}"),
            mmm([k["user"] / k["syns"] * 1e6 for k in kvs if k.get("syns") and "user" in k],
                "{:.2f}"),
            mmm([k["syns"] / k["cpu"] for k in kvs if k.get("cpu")])))
    w("")
    w("**Where the time goes.** A profile of one unlimited full-mode run on figure 1's lab")
    w("(`perf record -g`, 2026-12-06, 8,000 samples) put 83 % of the samples in the kernel and")
    w("17 % in user space (lzr 7.8 %, libc 5.4 %, libsodium 2.4 % — its base64 encoder, below —")
    w("libpcap 0.7 %). 79 % of all samples were inside lzr's `sendmmsg`: a frame sent into a veth")
    w("is received by the bridge, the router and the target on the sender's CPU, in its system")
    w("call, so the target's TCP work is charged to the scanner — the bridge's netfilter hooks")
    w("(`br_nf_pre_routing` and below, 16 %), the target's established-socket lookup")
    w("(`__inet_lookup_established`, 8.4 %), checking the SYN cookie and building the socket from")
    w("it (`cookie_v4_check`, 7 %), tearing the socket down on our RST (`tcp_done_with_error`,")
    w("6.6 %), waking nginx, and this VM's paravirtual interrupt enabling (`pvm_irq_enable`, 8.7 %).")
    w("A SYN scan makes the target do one cookie per probe; a full handshake makes it accept a")
    w("connection, take data and tear it down, so on this lab full mode pays for the target's")
    w("work too, and even with no user time at all it would cost more per probe than zmap's")
    w("SYN scan: figure 1's unlimited ratio measures the lab as much as lzr. Figure 1f takes the")
    w("targets' work off the scanner. In user space the largest items were `memmem` in the HTTP")
    w("fingerprint (2.3 %), the connection table's `find_slot` (1.8 %, its first touch of a")
    w("connection's slot), `memcmp` (1.1 %), the frame handler and the packet parser (0.7 % each).")
    w("The capture socket no longer sees lzr's own frames (`PACKET_IGNORE_OUTGOING`): the kernel")
    w("cloned and time-stamped each one for it before the filter dropped it, 2.3 % of that")
    w("profile (`dev_queue_xmit_nit`). With the wire apart (figure 1f's set-up, every address")
    w("named) `memmem` was 5.5 % of the samples and `find_slot` 5.5 %: the fingerprint's")
    w("searches now skip from one candidate first byte to the next with `memchr` (`hs_find`;")
    w("memmem's set-up per call cost more than the search over a reply of a few hundred bytes:")
    w("a median 658 → 621 ms of CPU a scan, 6 interleaved scans each, `perf stat` task-clock).")
    w("And an index slot carries a tag of its key's hash, so a probe passes over other keys'")
    w("slots without reading their entries: random lookups in `bench_conntab` take half the")
    w("time, while in the lab's scan (an index of 65,536 entries in flight stays in cache) the")
    w("difference was within the runs' noise.")
    w("")
    w("A later profile with the wire apart (2026-12-06, every address named, before the")
    w("changes that follow) found the rest of the user time and some of the kernel's in")
    w("lzr's own habits. The HTTP fingerprint took about 14 % of the samples (`memcmp`,")
    w("`memchr`, `strlen` and the header lookups): the six HTTP-based fingerprints tried")
    w("before `http` each found the end of the header block and scanned it again.")
    w("libsodium took 7.9 %, nearly all of it its base64 encoder, which takes the same time")
    w("whatever the bytes, as a secret's encoder must (0.4 % after the change: the cookies'")
    w("SipHash is the rest). The records left in 8,200 `write` calls (7.7 %: stdio's 4 KiB")
    w("buffer). Page faults on the connection pool and the timer")
    w("wheel took 3.7 %, and the drain woke every 10 ms (`clock_nanosleep` 6.9 %). Now a")
    w("reply's header block is cut into lines once and kept for every matcher (0.80 → 0.28 µs")
    w("to fingerprint nginx's answer), base64 is a table, the output has a 256 KiB buffer")
    w("flushed each progress tick (97 writes), the pool and the wheel are on huge pages, and")
    w("the drain sleeps to the next tick: 0.63 → 0.46 CPU seconds a scan, user 0.32 → 0.21 s,")
    w("medians of an A/B of 8 interleaved scans each (`/usr/bin/time`).")
    w("")
    w("Two more profiles (`perf record -g`, 2026-12-05, unlimited, with the wire")
    w("apart as in figure 1f, so that the kernel's share is lzr's own) put in user space:")
    w("libpcap's TPACKET_V2 ring walk 15 % (each frame's status word, written by the kernel on")
    w("one core and cleared by lzr on the other), `find_slot` 7 %, the JSON record (`vfprintf`")
    w("and friends) about 8 %, and the connection table's page faults with the TLB shootdowns")
    w("of their copy-on-write about 6 %. The last two are gone: the record is written without")
    w("printf (1.45 → 1.0 µs a record) and the table's index is on huge pages (about 8 % less")
    w("CPU per probe in an A/B of 4 interleaved runs). The ring walk is gone too: the capture")
    w("now uses libpcap's TPACKET_V3, whose blocks are handed over whole (when full, or 10 ms")
    w("after their first frame), one status word a block instead of one a frame: 16–25 % less")
    w("CPU per probe on the load range, unlimited, full handshakes (`perf stat` task-clock, 3–5")
    w("interleaved scans each). It was first tried with a 1 ms block timeout and the receive")
    w("thread at the walk's priority: one of four 0203 scans dropped 60,802 replies. With the")
    w("receive thread ahead of the walk (nice −10, docs/worker.md) and 10 ms blocks, none of")
    w("14 scans dropped a reply, 4 of them beside a busy loop. Since then the connection table's")
    w("index grows with the connections in flight instead of being sized to the table (−10 %")
    w("CPU per probe), the per-target text is written without printf (−9 %), and the fingerprint")
    w("stops at the first match in priority order (all in A/B runs, `perf stat` task-clock).")
    w("")
    w("**On paper: more cores.** The receive thread is one core today. Its work is per")
    w("connection and needs no state from other connections, so it spreads by flow:")
    w("`PACKET_FANOUT` with `PACKET_FANOUT_HASH` on N capture sockets steers every frame of one")
    w("(address, port) pair to the same socket, each with its own thread, connection table and")
    w("timer wheel (the table is already sized and allocated per engine, ≤ 64 bytes a")
    w("connection); records leave through one queue per thread. The SYN walk stays one thread")
    w("(figure 1b: about 1.5 M SYNs/s on one core into a sink), or several with a slice of the")
    w("permutation each (issue #15 item 3). For a 16-core host on 10 GbE, from the figures")
    u = med([kv["user"] / kv["syns"] * 1e6 for mode, kv in full
             if mode == "0" and kv.get("syns") and "user" in kv])
    if u:
        w("above: with one core sending and 14 receiving, each at the %.1f µs of user time per" % u)
        w("handshake measured here plus as much again for the capture's kernel side, the receive")
        w("side would take about 14 × 10^6 / (2 × %.1f) ≈ %s handshakes/s when every address"
          % (u, "{:,.0f}".format(14e6 / (2 * u))))
        w("answers — while 10 GbE carries about 14.9 M minimum-size frames/s, i.e. about 2.5 M")
        w("handshakes/s at six frames each, fewer with real answers of a few")
    else:
        w("above (no unlimited full-mode run in this report to take them from): the link's")
        w("14.9 M minimum-size frames/s are about 2.5 M handshakes/s at six frames each, fewer")
        w("with real answers of a few")
    w("hundred bytes. On the Internet most SYNs get no answer (a few per cent answer on a")
    w("typical port), so the limit there is the SYN rate: one sending thread saturates well")
    w("below the link, which is why several send threads matter more than receive cores for a")
    w("sweep, and receive cores matter for dense targets (hitlists, a service's own range).")
    w("")


def twophase_section(w, rows):
    """Figure 3, second part: lzr against the two-phase peer (zmap, then one kernel-socket
    connection per SYN-ACK host) on a range where most SYN-ACK hosts are middleboxes."""
    tp = defaultdict(dict)  # run -> tool -> kv
    for fig, tool, mode, run, kv in rows:
        if fig == "twophase":
            tp[run][tool] = kv
    w("### 3b. Identification against the two-phase peer: zmap, then one connection per host")
    w("")
    if not tp:
        w("Not measured in this run (BENCH_TWOPHASE=0, or every run failed).")
        w("")
        return
    peer0 = next((tp[r]["peer"] for r in tp if "peer" in tp[r]), {})
    lzr0 = next((tp[r]["lzr"] for r in tp if "lzr" in tp[r]), {})
    port = next(mode for fig, tool, mode, run, kv in rows if fig == "twophase")
    par = int(peer0.get("par", lzr0.get("par", 64)))
    to = peer0.get("timeout", lzr0.get("timeout", 2))
    targets = str(lzr0.get("targets", "198.18.33.0/24 198.18.16.0/24"))
    np_ = sum(1 for r in tp if "peer" in tp[r])
    nl = sum(1 for r in tp if "lzr" in tp[r])
    w("How the paper's baseline finds services: a SYN scan for the hosts that answer, then one")
    w("full connection per SYN-ACK host that sends the protocol's request and waits for a reply")
    w("(ZGrab after zmap). `tests/bench/twophase.sh` times that peer against `lzr-worker scan`")
    w("on %s, port %s, from the same vantage `lzr-v1` and scan IP 198.18.0.11, alternating which"
      % (" and ".join("`%s`" % c for c in targets.split()), port))
    w("goes first. 198.18.33.0/24 is the lab's zero-window SYN proxy: all 256 addresses answer")
    w("the SYN with a SYN-ACK but never accept data; on 198.18.16.0/24 one host (nginx on")
    w("198.18.16.10) serves HTTP on port %s, so 256 of the 257 SYN-ACK hosts are middleboxes." % port)
    w("Both sides use the same per-connection timeout, %g s: lzr `--handshakes http" % float(to))
    w("--timeout-ms %d`, and phase 2 of the peer is curl with `--max-time %g` sending the same"
      % (int(float(to) * 1000), float(to)))
    w("`GET / HTTP/1.1` (Host and `User-Agent: lzr`, as lzr's http handshake), **%d connections"
      % par)
    w("in parallel** (`xargs -P %d`, a usual ZGrab concurrency), kernel sockets bound to the"
      % par)
    w("scan IP (their source ports, 32768-39999, lie outside lzr's and zmap's 40000-65535).")
    w("Both send SYNs at the same rate. **%d peer and %d lzr runs.**" % (np_, nl))
    w("")
    w("```")
    for k in ("cmd", "cmd2"):
        if peer0.get(k):
            w(str(peer0[k]))
    if lzr0.get("cmd"):
        w(str(lzr0["cmd"]))
    w("```")
    w("")
    w("`allow.txt` lists the two /24s and `empty.blocklist` is empty, as in figure 1; `hosts.txt`")
    w("is zmap's output, one SYN-ACK host per line. *Wall* is end to end: for the peer, zmap's")
    w("whole run (phase 1, including its 1 s cooldown) plus the connections (phase 2); for lzr")
    w("the one process. *Named HTTP*: curl parsed an HTTP status line (`%{http_code}` not 000);")
    w("lzr wrote `protocol` `http`.")
    w("")
    w("| approach | wall s | phase 1 (zmap) s | phase 2 (connections) s | SYN-ACK hosts | named HTTP | named HTTP as the truth says |")
    w("|---|---|---|---|---|---|---|")
    for tool, name in (("peer", "two-phase peer"), ("lzr", "lzr")):
        kvs = [tp[r][tool] for r in sorted(tp) if tool in tp[r]]
        truth = "{:.0f}".format(kvs[0].get("truth", 0)) if kvs else "?"
        w("| %s | %s | %s | %s | %s | %s | %s of %s |" % (
            name, mmm([k.get("wall") for k in kvs], "{:.2f}"),
            mmm([k.get("phase1") for k in kvs], "{:.2f}") if tool == "peer" else "—",
            mmm([k.get("phase2") for k in kvs], "{:.2f}") if tool == "peer" else "—",
            mmm([k.get("synack") for k in kvs]), mmm([k.get("http") for k in kvs]),
            mmm([k.get("correct") for k in kvs]), truth))
    rr = [tp[r]["peer"]["wall"] / tp[r]["lzr"]["wall"] for r in tp
          if "peer" in tp[r] and "lzr" in tp[r] and tp[r]["lzr"].get("wall")]
    w("")
    w("**Peer wall ÷ lzr wall, run by run: %s.** The paper reports 55× for LZR over" % mmm(
        rr, "{:.1f}×"))
    w("ZGrab-only scanning on port 27017 of the Internet. The factor is not a constant of the")
    w("tools: the peer's phase 2 holds a connection for the full timeout on every middlebox, so")
    hosts = med([tp[r]["peer"].get("synack") for r in tp if "peer" in tp[r]]) or 0
    w("it costs about (SYN-ACK hosts ÷ parallel connections) × timeout — here %d ÷ %d × %g s"
      % (hosts, par, float(to)))
    w("≈ %.1f s — while lzr's cost after sending is one timeout for all of them, since it keeps"
      % (hosts / par * float(to)))
    w("every connection in its own table instead of a socket each. The factor grows with the")
    w("middlebox count and shrinks with the peer's parallelism: the lab's middlebox range is")
    w("256 hosts, against millions of SYN-ACKing middleboxes on the Internet, so this factor")
    w("measures the mechanism on a small range, not the Internet-wide speed-up.")
    w("The lab has no middleboxes on 27017 (the zero-window /24 answers on 80, 443 and 8080")
    w("only; on 27017 only nginx on 198.18.16.10 and the single acking firewall 198.18.32.16")
    w("answer), so this figure uses port 80.")
    w("")


def ingest_section(w, rows):
    """Figure 4: records/s from bench_ingest's fake workers into lzr-coord serve and SQLite."""
    ing = defaultdict(list)  # workers -> kvs
    for fig, tool, mode, run, kv in rows:
        if fig == "ingest":
            ing[int(mode)].append(kv)
    w("## 4. Coordinator ingest: worker → ZeroMQ → coordinator → SQLite")
    w("")
    if not ing:
        w("Not measured in this run (BENCH_INGEST=0, or every run failed).")
        w("")
        return
    any_kv = next(iter(ing.values()))[0]
    w("`tests/bench/ingest.sh` starts, for every run, a fresh `lzr-coord serve` with CURVE keys")
    w("from `lzr-coord keygen` and a new SQLite file (WAL, `synchronous=FULL`, on the VM's ext4")
    w("disk), listening on loopback TCP, and submits a job of 16 shards whose targets")
    w("(198.18.0.0/15 × ports 80-87) cover the records. `build/rel/tests/bench/bench_ingest`")
    w("(`tests/bench/bench_ingest.c`) then plays the workers as `worker/agent.c` does: a DEALER")
    w("socket per worker with its CURVE key pair, Hello, Welcome, an Assign of a shard, then")
    w("ResultBatch messages of %d records on that lease with at most %d batches unacked,"
      % (int(any_kv.get("batch", 256)), int(any_kv.get("window", 8))))
    w("re-sending after 3 s, heartbeats every second. It makes the records up instead of scanning")
    w("(each a distinct (ip, port), an HTTP `service` record with %d bytes of response, the size"
      % int(any_kv.get("data_bytes", 160)))
    w("of the load range's nginx answer), so the coordinator is what is measured. The clock runs")
    w("from the first batch sent to the last Ack; **records/s** = rows of the job counted in the")
    w("database afterwards ÷ that time (a run whose row count differs from the records sent")
    w("fails). **coordinator CPU** is its user + system time over the run, from `/proc`.")
    w("")
    w("```")
    w("lzr-coord keygen DIR w1 w2; lzr-coord serve --db DIR/lzr.db --keys DIR \\")
    w("    --listen tcp://127.0.0.1:PORT &; lzr-coord submit job.toml --db DIR/lzr.db")
    w("build/rel/tests/bench/bench_ingest --endpoint tcp://127.0.0.1:PORT --keys DIR \\")
    w("    --db DIR/lzr.db --workers N --records %d" % int(any_kv.get("records", 0)))
    w("```")
    w("")
    w("| workers | records/s | seconds | coordinator CPU s | coordinator µs per record | target |")
    w("|---|---|---|---|---|---|")
    for n in sorted(ing):
        kvs = ing[n]
        w("| %d | %s | %s | %s | %s | ≥ 200,000 |" % (
            n, mmm([k.get("records_per_s") for k in kvs]),
            mmm([k.get("seconds") for k in kvs], "{:.2f}"),
            mmm([k.get("coord_cpu") for k in kvs], "{:.2f}"),
            mmm([k["coord_cpu"] / k["rows"] * 1e6 for k in kvs
                 if k.get("rows") and "coord_cpu" in k], "{:.1f}")))
    w("")
    best = max(med([k.get("records_per_s") for k in kvs]) or 0 for kvs in ing.values())
    w("How the coordinator's path got here (one-off A/B runs on this VM, 2026-11-25, 500,000")
    w("records, one fake worker; not part of `make bench`). At first each record cost three")
    w("B-tree writes — the `results` upsert plus a `contacts` row and its index entry noting that")
    w("the scan IP had touched the address — and each 256-record batch its own COMMIT with the")
    w("WAL checkpoint inline: ~140–150k records/s, the coordinator thread CPU-bound. Three changes")
    w("(docs/schema.md, docs/protocol.md):")
    w("")
    w("- scan IPs are noted once per job in `scan_sources` (schema 3) instead of once per record")
    w("  — a scan IP probed every target of its shards anyway, so verification burns it for every")
    w("  host: ~140k → ~195k;")
    w("- the batches of one burst of worker messages go into one transaction, acked after its")
    w("  COMMIT: coordinator CPU per record down ~10 %;")
    w("- the WAL checkpoint runs on its own thread and connection (`coordinator/checkpoint.c`),")
    w("  so the loop only appends to the log: median 173k → 206k, interleaved runs.")
    w("")
    w("A profile after them: the event-loop thread ~75 % of the coordinator's samples (SQLite")
    w("row work, WAL writes, protobuf decoding), the checkpoint thread ~18 %, ZeroMQ's I/O")
    w("thread (CURVE) ~6 %.")
    w("")
    if best < 200000:
        w("**Where lzr loses: below the 200,000 records/s target** (best median %s/s, %.0f %% of"
          % (format(int(best), ","), 100.0 * best / 200000))
        w("it). The event loop is still one thread doing the row work, and on this 2-core VM the")
        w("fake workers, the checkpoint thread and the loop share the cores. What would change it:")
        w("decoding batches on another thread, and `PRAGMA synchronous=NORMAL`, which saves the")
        w("sync per commit at the price of the promise an Ack makes (a power loss could take an")
        w("acked batch back), so it is not done.")
        w("")


def pipe_section(w, rows):
    """Figure 5b: a cluster job's wall against one standalone scan of the same targets."""
    by = defaultdict(dict)  # run -> workers (0: standalone) -> kv
    for fig, tool, mode, run, kv in rows:
        if fig == "pipe":
            by[run][int(mode)] = kv
    w("## 5b. A cluster job against one standalone scan of the same targets")
    w("")
    if not by:
        w("Not measured in this run (BENCH_PIPE=0, or every run failed).")
        w("")
        return
    w("The same 71,680 targets (2,560 addresses of the load range × 28 ports: nginx on 80, the")
    w("kernel's RST on the other 27), the same total rate of 10,000 SYNs/s, `handshakes = \"http\"`,")
    w("no fallback, no acking-firewall probes, `timeout_ms = 4000`, every row kept (`--all`,")
    w("`report_all`): once as one `lzr-worker scan` in `lzr-v1` (wall = exec to exit), once as a")
    w("job of 8 shards for one worker and for two (`tests/bench/scaling.sh`, wall = submit to")
    w("`done`). Issue #15's target is a job wall of at most 1.2× the standalone wall.")
    w("")
    w("| runs as | wall s | rows stored | job wall ÷ standalone wall, run by run |")
    w("|---|---|---|---|")
    for n, name in ((0, "standalone scan"), (1, "job, 1 worker"), (2, "job, 2 workers")):
        kvs = [by[r][n] for r in sorted(by) if n in by[r]]
        ratio = [by[r][n]["wall"] / by[r][0]["wall"] for r in by
                 if n in by[r] and 0 in by[r] and by[r][0].get("wall")]
        w("| %s | %s | %s | %s |" % (
            name, mmm([k.get("wall") for k in kvs], "{:.2f}"), mmm([k.get("results") for k in kvs]),
            "—" if n == 0 else mmm(ratio, "{:.2f}×")))
    w("")
    w("Shards are pipelined: a worker takes its next shard as soon as its SYN walk is done")
    w("(`Heartbeat.walk_done`) and finishes the earlier shards' tails beside it, up to seven")
    w("draining at once (`Hello.max_drains`). A shard here walks for about 0.9 s with one worker")
    w("(1.8 s with two, each at half the rate) and then waits about 4.4 s for its tails, so a")
    w("worker holds about five draining leases and its SYN walk never pauses: the job's wall is")
    w("its SYN time plus one tail, like the standalone scan's. Before pipelining (commit 0af4d93)")
    w("the job took 3.52× the standalone wall with one worker and 2.09× with two; with one")
    w("draining lease at most (commit b59df61) 1.86× and 1.21×, since two shards in flight")
    w("covered less than half of each tail. Each run a worker holds at once scans from its own")
    w("slice of the source ports, and its capture filter passes only that slice: the engines no")
    w("longer read one another's replies (lab test 0300-coord-13, 8 pipelined shards on one")
    w("worker: 55–406 `invalid` frames over the job in 9 runs, against 849,639 without the slices).")
    w("")


def scaling_section(w, rows):
    """Figure 5: probes/s of one cluster job with one and two workers."""
    sc = defaultdict(dict)  # run -> workers -> kv
    for fig, tool, mode, run, kv in rows:
        if fig == "scale":
            sc[run][int(mode)] = kv
    w("## 5. Scaling: one and two workers under a coordinator")
    w("")
    if not sc:
        w("Not measured in this run (BENCH_SCALING=0, or every run failed).")
        w("")
        return
    any_kv = next(iter(next(iter(sc.values())).values()))
    w("`tests/bench/scaling.sh` starts, for every run and worker count, a fresh `lzr-coord serve`")
    w("(CURVE keys, `ipc://` listener as in `tests/lab/coord-lib.sh`), then one worker in the")
    w("vantage namespace `lzr-v1` or two in `lzr-v1` and `lzr-v2` (scan IPs 198.18.0.11 and")
    w("198.18.0.21), waits until `lzr-coord workers` lists them all, submits the job below and")
    w("polls the database every 100 ms until the job is `done`; each run does one worker, then")
    w("two. **probes/s** = targets (65,536) ÷ wall time from submit to done, so it includes")
    w("the scheduler's 250 ms tick, every shard's tail (`timeout_ms` after its last SYN) and the")
    w("results reaching the database.")
    n1 = sum(1 for r in sc if 1 in sc[r])
    n2 = sum(1 for r in sc if 2 in sc[r])
    w("**%d one-worker and %d two-worker runs** completed (a run whose job is not done within" % (n1, n2))
    w("180 s — the lab torn down under it by another user, say — is left out).")
    w("")
    w("```toml")
    w('name = "scaling"')
    w('targets = "198.19.0.0/16"            # LOAD_CIDR: every address answers, nginx on 80')
    w('allow_reserved = "198.18.0.0/15"')
    w('ports = "80"')
    w("rate = 10000000                      # far above what a worker reaches: unpaced")
    w("shards = %d" % int(any_kv.get("shards", 4)))
    w('handshakes = "http"')
    w('fallback = ""')
    w("acking_firewall_probes = 0")
    w("timeout_ms = 1000")
    w("retransmit_ms = 500")
    w("report_all = true")
    w("[vantage]")
    w("min_workers = N")
    w("```")
    w("")
    w("| workers | probes/s | wall s | results stored | worker CPU s / M probes | coordinator CPU s |")
    w("|---|---|---|---|---|---|")
    for n in (1, 2):
        kvs = [sc[r][n] for r in sorted(sc) if n in sc[r]]
        w("| %d | %s | %s | %s | %s | %s |" % (
            n, mmm([k["targets"] / k["wall"] for k in kvs if k.get("wall")]),
            mmm([k.get("wall") for k in kvs], "{:.2f}"),
            mmm([k.get("results") for k in kvs]),
            mmm([k["worker_cpu"] / k["targets"] * 1e6 for k in kvs if k.get("targets")],
                "{:.1f}"),
            mmm([k.get("coord_cpu") for k in kvs], "{:.2f}")))
    ratios = [sc[r][1]["wall"] / sc[r][2]["wall"] for r in sc
              if 1 in sc[r] and 2 in sc[r] and sc[r][2].get("wall")]
    w("")
    w("two workers ÷ one worker (probes/s), run by run: %s." % mmm(ratios, "{:.2f}×"))
    w("")
    per = med([k["coord_cpu"] / k["results"] * 1e6 for r in sc for k in sc[r].values()
               if k.get("results") and "coord_cpu" in k])
    ing = med([kv["coord_cpu"] / kv["rows"] * 1e6 for fig, _, _, _, kv in rows
               if fig == "ingest" and kv.get("rows") and "coord_cpu" in kv])
    if per and ing and per > 2 * ing:
        w("**The coordinator costs more here than in figure 4:** %.0f µs of its CPU per stored"
          % per)
        w("record in these jobs against %.1f µs in the ingest benchmark, so it takes a large" % ing)
        w("share of the two cores away from the workers. A one-off profile (`perf record -g`,")
        w("2026-11-25) put about 70 % of it in system calls on the database — `pwrite` (~36 %),")
        w("`pread` (~21 %) and `fdatasync` (~12 %) — i.e. more commits and checkpoint work per")
        w("record than with full 256-record batches arriving back to back (the agent also")
        w("flushes a partial batch every 200 ms, and heartbeats renew leases in synced")
        w("transactions). Not diagnosed further; the remedies of figure 4 (group commit,")
        w("`synchronous=NORMAL`, checkpoints off the receive path) are the first thing to try.")
        w("")
    w("**What the number means.** The two workers, the coordinator, the load namespace's nginx")
    w("and the kernel's softirq work for SYN cookies and nginx's TCP share the same 2 cores, so")
    w("a second worker adds no CPU to the system: it only splits the same machine. A ratio near")
    w("1× says the cluster machinery costs little and the machine, not the worker, is the limit;")
    w("it is not the speed-up two worker hosts would give, where each worker brings its own")
    w("cores and NIC and the ratio is bounded by the targets and the coordinator's ingest")
    w("(figure 4: one coordinator stores the results of many workers at its records/s). The")
    w("per-job wall time also carries fixed costs a standalone scan does not have (lease and")
    w("Assign, the shards' tails, the 250 ms scheduler tick), so these probes/s are below the")
    w("standalone figure 1 rate.")
    w("")


def main():
    machine = dict(
        kv.split("=", 1) for kv in open(sys.argv[1]).read().strip().split("\t") if "=" in kv
    )
    rows = load(sys.argv[2])
    runs = sys.argv[3]
    rates = sys.argv[4].split()
    o = []
    w = o.append
    w("# Benchmarks")
    w("")
    w("Written by `make bench` (`tests/bench/run.sh`); every number below comes from the run that")
    w("wrote this file. Figures are the **median (min–max)** of %s runs. Nothing here is" % runs)
    w("asserted by `make test`.")
    w("")
    w("**Machine:** %s cores (`nproc`), kernel %s, CPU \"%s\"; lzr at commit %s; %s; %s; %s."
      % (machine.get("nproc"), machine.get("kernel"), machine.get("cpu"), machine.get("lzr"),
         machine.get("zmap"), machine.get("masscan") or "masscan absent",
         machine.get("nmap") or "nmap absent"))
    w("The machine is a 2-core VM shared with other work, so absolute rates move from run to")
    w("run; the ratios compare tools run back to back in the same iteration.")
    w("")

    # ---- discovery ----
    disc = by_mode_run(rows, "disc")
    w("## 1. Discovery: SYN scan of 65,536 addresses on port 80, lzr-worker vs zmap and masscan")
    w("")
    w("The lab's load range (`LOAD_CIDR=198.19.0.0/16`, every address answered by the kernel with")
    w("SYN cookies, nginx on port 80) scanned from the vantage namespace `lzr-v1`, same scan IP")
    w("(198.18.0.11), same gateway MAC, same targets. The runs are interleaved: for each iteration")
    w("and each rate, zmap, lzr and masscan run back to back, rotating which goes first. lzr runs")
    w("as a SYN scan (`--discovery-only`: each SYN-ACK is reported `open` and reset, no")
    w("handshake), zmap's work plus one thing: lzr resets every SYN-ACK itself, while zmap leaves")
    w("that to its host's kernel, and here the kernel never sees them (the vantage drops TCP to")
    w("the scan IP's ports 40000-65535 at its input hook, the rule lzr requires), so zmap's runs")
    w("send no RST at all. masscan, like lzr, answers each SYN-ACK with a RST of its own.")
    w("")
    w("```")
    w("ip netns exec $V1_NS zmap -i $V1_IF -S $V1_SCAN_IP -G $GW_MAC -p 80 -r RATE -s 40000-65535 \\")
    w("    -w allow.txt -b empty.blocklist -c 1 -f saddr,timestamp-ts,timestamp-us -o out.csv")
    w("ip netns exec $V1_NS bin/lzr-worker scan --iface $V1_IF --source-ip $V1_SCAN_IP \\")
    w("    --gateway-mac $GW_MAC --targets 198.19.0.0/16 --ports 80 --allow-reserved 198.18.0.0/15 \\")
    w("    --source-ports 40000-65535 --rate RATE --discovery-only --timeout-ms 1000 --progress \\")
    w("    --output out.jsonl")
    w("ip netns exec $V1_NS masscan 198.19.0.0/16 -p80 --rate RATE --adapter $V1_IF \\")
    w("    --adapter-ip $V1_SCAN_IP --adapter-port 49152-65535 --router-mac $GW_MAC --wait 1 \\")
    w("    -oL out.txt")
    w("```")
    w("")
    w("`allow.txt` holds only 198.19.0.0/16; `empty.blocklist` is an empty file (zmap's default")
    w("blocklist contains 198.18.0.0/15); masscan's only targets are the range on its command line.")
    w("RATE is the same for all three; *unlimited* is `-r 0` for zmap 2.1.1 (its sender only paces")
    w("when the rate is positive), `--rate 0` for lzr and `--rate 100000000` for masscan (it")
    w("always paces). Source ports: 40000-65535 for zmap and lzr; masscan wants a power-of-two")
    w("range, 49152-65535, inside the same dropped range. All run under")
    w("`/usr/bin/time -f '%e %U %S'`.")
    w("masscan %s never exits on its own once its" % machine.get("masscan", "1.3.2").replace(
        "Masscan version ", ""))
    w("wait is over (its receive thread blocks in pcap until another frame comes, so its status")
    w("line counts on, \"waiting -1-secs\"…); `tests/bench/peers.sh` stops it with ctrl-c, as its")
    w("author advises, once that line appears, so its *wall* includes up to a second more than")
    w("its `--wait 1`.")
    w("")
    w("- **probes/s**: SYNs ÷ sending time, clocked at the target and the same way for both")
    w("  tools: `tests/bench/synclock.py` runs in the load namespace (where")
    w("  `net.ipv4.tcp_syncookies=2` answers every SYN with a cookie) and polls the kernel's")
    w("  `TcpExtSyncookiesSent` every 2 ms; the time from 0.1 % to 99.9 % of the run's SYNs is")
    w("  the sending time. (The tools' own reply timestamps are a poor clock: zmap's lag behind")
    w("  the wire under load, so its reply span understates its rate by 10–40 % here.)")
    w("- **captured**: unique IPs in the output ÷ 65,536 (each address answers).")
    w("- **CPU s / M probes**: user + system seconds of the scanner process ÷ SYNs sent × 10^6.")
    w("  zmap 2.1.1 paces with a busy-wait loop, so its CPU at a fixed rate includes spinning;")
    w("  unlimited is the fair CPU comparison.")
    w("- **wall**: the whole process, start-up and the tail (zmap `-c 1`, lzr `--timeout-ms 1000`,")
    w("  masscan `--wait 1`).")
    w("")
    w("| rate | tool | probes/s | captured | CPU s / M probes | wall s |")
    w("|---|---|---|---|---|---|")
    ratio_lines = []
    for m in rates:
        keys = sorted(r for (mm, r) in disc if mm == m)
        for tool in ("zmap", "lzr", "masscan", "lzrfull"):
            kvs = [disc[(m, r)].get(tool) for r in keys]
            kvs = [k for k in kvs if k]
            if not kvs and tool == "lzrfull":
                continue
            w("| %s | %s | %s | %s | %s | %s |" % (
                mode_name(m), "lzr, full mode" if tool == "lzrfull" else tool,
                mmm([k.get("wire") for k in kvs]),
                mmm([100.0 * k["unique"] / LOAD for k in kvs], "{:.3f} %"),
                mmm([k["cpu"] / k["syns"] * 1e6 if k.get("syns") else None for k in kvs],
                    "{:.1f}"),
                mmm([k.get("wall") for k in kvs], "{:.2f}")))
        for mine, peer in (("lzr", "zmap"), ("lzr", "masscan"), ("lzrfull", "zmap")):
            rr, cr, ur = [], [], []
            for r in keys:
                z, l = disc[(m, r)].get(peer), disc[(m, r)].get(mine)
                if z and l and z.get("wire") and l.get("wire"):
                    rr.append(l["wire"] / z["wire"])
                if z and l and z.get("unique"):
                    ur.append(l["unique"] / z["unique"])
                if z and l and z.get("syns") and l.get("syns") and z.get("cpu"):
                    cr.append((l["cpu"] / l["syns"]) / (z["cpu"] / z["syns"]))
            if mine == "lzr" or rr or cr:
                ratio_lines.append((m, mine, peer, rr, ur, cr))
    w("")
    w("Cross-checks (median, min–max): zmap's own end-of-send figure (`send: N done (X Kp/s")
    w("avg)`): %s. Rate from each tool's reply timestamps (first to last reply, 0.1 %% tails cut):"
      % "; ".join("%s %s" % (mode_name(m), mmm([disc[k]["zmap"].get("self") for k in disc
                                                if k[0] == m and "zmap" in disc[k]]))
                  for m in rates))
    w("%s (masscan's output has whole seconds only). SYNs the target counted ÷ SYNs the tool"
      % "; ".join("%s %s %s" % (mode_name(m), t, mmm([disc[k][t].get("rate") for k in disc
                                                     if k[0] == m and t in disc[k]]))
                  for m in rates for t in ("zmap", "lzr")))
    w("reported sent or planned (≠ 1 means another scan hit")
    w("the load range during the run): %s." % mmm(
        [kv["wsyns"] / kv["syns"] for k in disc for kv in disc[k].values()
         if kv.get("syns") and "wsyns" in kv], "{:.3f}"))
    w("")
    w("lzr ÷ each peer, run by run (same iteration, same rate); *lzr, full mode* is the same scan")
    w("with `--handshakes http` instead of `--discovery-only`: every SYN-ACK gets the ACK that")
    w("carries the HTTP probe, nginx's answer is read and named, the connection is reset. Its")
    w("ratio to zmap's SYN scan is issue #15's CPU-per-probe target (≤ 1× at 50,000/s and")
    w("unlimited).")
    w("")
    w("| rate | lzr ÷ | probes/s ratio | captured ratio | CPU per probe ratio |")
    w("|---|---|---|---|---|")
    for m, mine, peer, rr, ur, cr in ratio_lines:
        w("| %s | %s | %s | %s | %s |" % (
            mode_name(m), peer if mine == "lzr" else "%s (lzr, full mode)" % peer,
            mmm(rr, "{:.2f}×"), mmm(ur, "{:.4f}×"), mmm(cr, "{:.2f}×")))
    w("")
    ms = [(m, med([disc[k]["masscan"].get("wire") for k in disc
                   if k[0] == m and "masscan" in disc[k]]),
           med([100.0 * disc[k]["masscan"]["unique"] / LOAD for k in disc
                if k[0] == m and "masscan" in disc[k]])) for m in rates if m != "0"]
    ms = [(m, r, c) for m, r, c in ms if r and c is not None]
    if ms and any(r < 0.9 * int(m) for m, r, c in ms):
        def span(xs):
            lo, hi = "%.0f" % min(xs), "%.0f" % max(xs)
            return "%s %%" % lo if lo == hi else "%s–%s %%" % (lo, hi)
        w("**masscan on this VM** sends at %s of the rates it is given (%s) and names %s of" % (
            span([100.0 * r / int(m) for m, r, c in ms]), ", ".join(mode_name(m) for m, r, c in ms),
            span([c for m, r, c in ms])))
        w("the 65,536 SYN-ACK hosts, although the target counted every SYN it planned. Not")
        w("diagnosed (its pacing and its libpcap receive path are the suspects); the figures are")
        w("what Debian's masscan does here, with the options above.")
        w("")
    low = sorted((k, disc[k]["lzr"]) for k in disc
                 if "lzr" in disc[k] and disc[k]["lzr"]["unique"] / LOAD < 0.999)
    if low:
        nl = sum(1 for k in disc if "lzr" in disc[k])
        w("**Where lzr loses replies.** %d of %d lzr runs captured under 99.9 %% of the SYN-ACK"
          " hosts:" % (len(low), nl))
        w("")
        w("| rate | run | captured | probes/s | SYNs the target counted | lzr's `pcap drops` |")
        w("|---|---|---|---|---|---|")
        for (m, r), kv in low:
            w("| %s | %d | %.2f %% | %s | %s | %s |" % (
                mode_name(m), r, 100.0 * kv["unique"] / LOAD, format(int(kv.get("wire", 0)), ","),
                format(int(kv.get("wsyns", 0)), ","),
                format(int(kv["pcap"]), ",") if kv.get("pcap", -1) >= 0 else "not recorded"))
        w("")
        w("Two losses show. Where the target counted fewer SYNs than lzr sent (65,536), those")
        w("SYNs never reached the target's TCP; where on the way was not diagnosed (lzr sends in")
        w("`sendmmsg` batches, which can overrun a queue that zmap's one-by-one sends do not).")
        w("The rest are SYN-ACKs the capture dropped: the receive thread fell behind by more")
        w("than the capture buffer holds, although the SYN walk pauses once the receive side")
        w("is 50 ms behind (docs/worker.md); on two cores the sender, the targets' kernel work")
        w("and the receive thread share the CPUs, although the receive thread runs ahead of")
        w("the walk (nice −10). What would change it: fewer cycles per reply in the receive")
        w("thread, or a lower pause threshold.")
        w("")
    loses = [(m, peer) for m, mine, peer, rr, _, _ in ratio_lines if mine == "lzr" and rr and med(rr) < 0.98]
    if loses:
        names = ["%s (vs %s)" % (mode_name(m), peer) for m, peer in loses]
        said = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        w("**Where lzr loses: probes/s.** At %s, lzr sends fewer probes per second than its peer"
          " (at fixed rates it also falls short of the rate it was asked for). The runs"
          % said)
        w("send the same SYNs, but lzr also resets every SYN-ACK (zmap's runs send no RST, see")
        w("above), validates each reply's cookie and writes one JSON record per target. On this")
        w("2-core VM the ceiling is the lab's kernel, not the scanners: a veth, the bridge and its")
        w("netfilter hooks and the target's TCP stack run in softirq on the same two cores, and")
        w("profiles of lzr's runs put about 90 % of its samples in the kernel. Figure 1b takes")
        w("that path away: sending alone, lzr is faster. What would change it here: cores to")
        w("spare for the targets.")
        w("")

    sendonly_section(w, rows)
    startup_section(w, rows)
    receive_section(w, rows)
    threads_section(w, rows)
    apart_section(w, rows)

    # ---- memory ----
    mem = [kv for fig, tool, mode, run, kv in rows if fig == "mem"]
    w("## 2. Memory: 1,000,000 connections in flight")
    w("")
    w("```")
    w("build/rel/tests/bench/bench_conntab 1000000")
    w("```")
    w("")
    w("`tests/bench/bench_conntab.c` creates a connection table and a timer wheel (the engine's")
    w("geometry: 10 ms ticks, 8192 slots) for 1,000,000 connections, inserts 1,000,000 distinct")
    w("(address, port) keys, arms one timer per connection, looks every key up again and fires")
    w("every timer; it fails unless all 1,000,000 are live, armed, found and fired. Bytes per")
    w("connection are the modules' own accounting (`conntab_bytes_per_conn` +")
    w("`timerwheel_bytes_per_id`: pool entry, index slot, timer node); RSS is `VmRSS` from")
    w("`/proc/self/status` with everything in place. No peer figure: the Go LZR keeps a heap")
    w("object and a string key per target, zmap keeps no per-target state at all.")
    w("")
    w("| measure | value | target |")
    w("|---|---|---|")
    if mem:
        w("| bytes per connection (accounted) | %s | ≤ 64 B |" % mmm(
            [k.get("bytes_per_conn") for k in mem], "{:.0f} B"))
        w("| — of which conntab / timer wheel | %s / %s | |" % (
            mmm([k.get("conntab_bytes_per_conn") for k in mem], "{:.0f} B"),
            mmm([k.get("timerwheel_bytes_per_id") for k in mem], "{:.0f} B")))
        w("| RSS growth per connection | %s | |" % mmm(
            [k.get("rss_delta_bytes_per_conn") for k in mem], "{:.1f} B"))
        w("| process RSS with 1,000,000 in flight | %s | ≤ 128 MiB |" % mmm(
            [k["rss_kib"] / 1024 for k in mem if "rss_kib" in k], "{:.1f} MiB"))
        w("| insert (incl. arming the timer) | %s | |" % mmm(
            [k.get("insert_ns") for k in mem], "{:.0f} ns"))
        w("| lookup | %s | |" % mmm([k.get("lookup_ns") for k in mem], "{:.0f} ns"))
    w("")

    # ---- identification ----
    ident = [(tool, run, kv) for fig, tool, mode, run, kv in rows if fig == "ident"]
    w("## 3. Identification: lzr vs `nmap -sV` on the service and middlebox ranges")
    w("")
    if not ident:
        w("Not measured in this run (BENCH_NMAP=0, nmap absent, or tests/bench/ident.sh missing).")
    else:
        nl = len(set(r for t, r, kv in ident if t == "lzr"))
        nn = len(set(r for t, r, kv in ident if t == "nmap"))
        w("lzr-worker scan with its default handshakes (the paper's five — wait, tls, http, dns,")
        w("pptp — then the port's own probes and the fallback tier mqtt, redis, postgres; 5 s")
        w("timeout) and `nmap -sV` name what listens on the hosts of the lab truth on the service")
        w("(198.18.16.0/24) and middlebox (198.18.32.0/24) ranges, on the truth's 17 ports, from the")
        w("same vantage and scan IP, alternating which goes first. Left out for both: the shunning")
        w("and dynamic-blocking hosts (198.18.32.17-18; they would block the scan IP for 10")
        w("minutes) and the 256-address zero-window /24 (198.18.33.0/24; it keeps nmap busy for")
        w("many minutes). **%d lzr and %d nmap runs** (nmap -sV takes about 4 minutes a run here,"
          % (nl, nn))
        w("so `make bench` runs it `BENCH_IDENT_RUNS` times, default 1 — fewer than the 5 of the")
        w("other figures; a run killed when someone cycled the lab under it, and killed again on its")
        w("one retry, is missing).")
        w("*Named*: an open port with a protocol name (nmap: `method=\"probed\"`, not `tcpwrapped`")
        w("or `unknown`, so port-table guesses do not count; lzr: a record with `protocol`).")
        w("*As the truth says*: the name matches `truth.tsv` (nmap's names mapped to lzr's, and")
        w("anything nmap saw over SSL counted as `tls`). The lab runs 17 services.")
        w("")
        cmds = [kv.get("cmd") for t, r, kv in ident if kv.get("cmd")]
        w("```")
        for c in sorted(set(cmds)):
            w(str(c))
        w("```")
        w("")
        w("| tool | wall s | services named | named as the truth says | CPU s |")
        w("|---|---|---|---|---|")
        by = defaultdict(dict)
        for tool, run, kv in ident:
            by[run][tool] = kv
        for tool in ("nmap", "lzr"):
            kvs = [by[r][tool] for r in sorted(by) if tool in by[r]]
            w("| %s | %s | %s | %s | %s |" % (
                tool, mmm([k.get("wall") for k in kvs], "{:.1f}"),
                mmm([k.get("named") for k in kvs], "{:.0f}"),
                "%s of %s" % (mmm([k.get("correct") for k in kvs], "{:.0f}"),
                              "{:.0f}".format(kvs[0].get("truth", 0)) if kvs else "?"),
                mmm([k.get("cpu") for k in kvs], "{:.2f}")))
        rr = [by[r]["nmap"]["wall"] / by[r]["lzr"]["wall"] for r in by
              if "nmap" in by[r] and "lzr" in by[r] and by[r]["lzr"].get("wall")]
        w("")
        w("nmap wall ÷ lzr wall, run by run: %s." % mmm(rr, "{:.1f}×"))
        ln = med([by[r]["lzr"].get("named") for r in by if "lzr" in by[r]])
        nn_ = med([by[r]["nmap"].get("named") for r in by if "nmap" in by[r]])
        if ln is not None and nn_ is not None and ln < nn_:
            w("")
            w("**Where lzr loses: services named.** lzr named fewer of the lab's services than")
            w("nmap -sV in this run; docs/fingerprints.md measures, service by service, which")
            w("handshake names each one and what nmap -sV makes of it.")
    w("")
    twophase_section(w, rows)
    ingest_section(w, rows)
    scaling_section(w, rows)
    pipe_section(w, rows)
    ipv6_section(w, rows)
    if not any(r[0] == "twophase" for r in rows):
        w("## Not measured yet")
        w("")
        w("- the two-phase peer (zmap, then one kernel-socket connection per SYN-ACK host) for")
        w("  identification (issue 8, figure 2): BENCH_TWOPHASE=0, or every run failed.")
        w("")
    sys.stdout.write("\n".join(o))


if __name__ == "__main__":
    main()
