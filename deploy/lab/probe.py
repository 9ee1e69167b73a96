#!/usr/bin/env python3
"""A small raw-packet TCP prober for proving the lab, shaped like the scanner it will judge.

It sends SYNs from a source port in the scanner's range (40000-65535, whose kernel RSTs the lab
drops), reads every reply with an AF_PACKET socket, and, in handshake mode, answers a SYN-ACK
with an ACK that carries data (LZR's piggyback), then watches what the target does for WAIT
seconds. Run it inside a vantage namespace:

  ip netns exec lzr-v1 probe.py --src 198.18.0.11 [--wait 3] syn|hs IP:PORT [IP:PORT ...]

(a single "-" reads the IP:PORT list from stdin, for large batches).

One line per target, in the order given:

  IP PORT result=synack|rst|none win=N ttl=N retx=N acked=0|1 data=N rst=0|1 fin=0|1 kernel_rst=0|1

win/ttl are the first SYN-ACK's; retx counts SYN-ACKs after the first; acked says whether the
target acknowledged our data; data is the number of payload bytes it sent; rst/fin say whether
it reset or closed after the handshake; kernel_rst says whether our own kernel sent a RST from
the probe's port (it must not, in the suppressed range). The probe resets every connection it
opened when done, so targets are not left half-open.
"""

import argparse
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload=b"", win=65535, mss=False):
    opts = struct.pack("!BBH", 2, 4, 1460) if mss else b""
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(
        "!BBH", 0, 6, len(hdr) + len(payload)
    )
    c = csum(pseudo + hdr + payload)
    hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    tot = 20 + len(hdr) + len(payload)
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        tot,
        random.randint(0, 0xFFFF),
        0,
        64,
        6,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + hdr + payload


class Target:
    def __init__(self, ip, port, sport):
        self.ip, self.port, self.sport = ip, port, sport
        self.isn = random.randint(0, 0xFFFFFFFF)
        self.result = "none"
        self.win = self.ttl = -1
        self.retx = 0
        self.acked = 0
        self.data = 0
        self.rst = self.fin = 0
        self.kernel_rst = 0
        self.server_isn = None
        self.sent_ack = False
        self.sent_rst = False

    def line(self):
        return "%s %d result=%s win=%d ttl=%d retx=%d acked=%d data=%d rst=%d fin=%d kernel_rst=%d" % (
            self.ip,
            self.port,
            self.result,
            self.win,
            self.ttl,
            self.retx,
            self.acked,
            self.data,
            self.rst,
            self.fin,
            self.kernel_rst,
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--wait", type=float, default=3.0)
    ap.add_argument("--data", default="GET / HTTP/1.0\r\n\r\n")
    ap.add_argument("--sports", default="40000-65535", help="source-port range LO-HI")
    ap.add_argument("mode", choices=["syn", "hs"])
    ap.add_argument("targets", nargs="+")
    a = ap.parse_args()
    payload = a.data.encode().decode("unicode_escape").encode("latin-1")

    # ETH_P_ALL: only the all-protocols tap also sees the frames our own kernel sends.
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((a.iface, ETH_P_ALL))
    rx.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)

    lo, hi = (int(x) for x in a.sports.split("-"))
    used = set()
    targets = []
    by_key = {}
    specs = sys.stdin.read().split() if a.targets == ["-"] else a.targets
    for spec in specs:
        ip, port = spec.rsplit(":", 1)
        for _ in range(1000):
            sport = random.randint(lo, hi)
            if (ip, port, sport) not in used:
                break
        used.add((ip, port, sport))
        t = Target(ip, int(port), sport)
        targets.append(t)
        by_key[(ip, t.port, sport)] = t

    def send(t, seq, ack, flags, data=b"", mss=False):
        tx.sendto(tcp_packet(a.src, t.ip, t.sport, t.port, seq, ack, flags, data, mss=mss), (t.ip, 0))

    src_raw = socket.inet_aton(a.src)

    def handle(frame, pkttype):
        if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
            return
        ip = frame[14:]
        if ip[9] != 6:
            return
        ihl = (ip[0] & 0x0F) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:tot]
        if len(tcp) < 20:
            return
        sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
        win = struct.unpack("!H", tcp[14:16])[0]
        plen = len(tcp) - (off >> 4) * 4
        if pkttype == PACKET_OUTGOING:
            # Our own kernel answering a reply on the probe's port: the suppression failed.
            if ip[12:16] == src_raw and flags & RST:
                t = by_key.get((socket.inet_ntoa(ip[16:20]), dport, sport))
                if t is not None and t.sent_rst is False:
                    t.kernel_rst = 1
            return
        if ip[16:20] != src_raw:
            return
        t = by_key.get((socket.inet_ntoa(ip[12:16]), sport, dport))
        if t is None:
            return
        if flags & SYN and flags & ACK:
            if ack != (t.isn + 1) & 0xFFFFFFFF:
                return
            if t.server_isn is None:
                t.result = "synack"
                t.win, t.ttl, t.server_isn = win, ip[8], seq
                if a.mode == "hs":
                    send(t, t.isn + 1, (seq + 1) & 0xFFFFFFFF, ACK | PSH, payload)
                    t.sent_ack = True
            else:
                t.retx += 1
            return
        if flags & RST:
            if t.server_isn is None:
                t.result = "rst"
            else:
                t.rst = 1
            return
        if t.server_isn is None:
            return
        if t.sent_ack and ((ack - (t.isn + 1 + len(payload))) & 0xFFFFFFFF) < 0x80000000:
            t.acked = 1
        if plen > 0:
            t.data += plen
        if flags & FIN:
            t.fin = 1

    def drain():
        while True:
            try:
                frame, addr = rx.recvfrom(65535, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            handle(frame, addr[2])

    # Paced by draining replies between small batches, so a large batch loses nothing.
    for i, t in enumerate(targets):
        send(t, t.isn, 0, SYN, mss=True)
        if i % 128 == 127:
            drain()
    deadline = time.monotonic() + a.wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([rx], [], [], left)
        if r:
            drain()
    # Clean up: reset every connection a target accepted.
    for t in targets:
        if t.server_isn is not None:
            seq = t.isn + 1 + (len(payload) if t.sent_ack else 0)
            t.sent_rst = True
            send(t, seq & 0xFFFFFFFF, 0, RST)
    for t in targets:
        print(t.line())


if __name__ == "__main__":
    main()
