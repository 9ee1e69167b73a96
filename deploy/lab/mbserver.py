#!/usr/bin/env python3
"""Listeners behind the lab's middlebox hosts.

The lab's nftables rules send (tproxy) connections for each middlebox address to one of these
listeners; the listener decides what happens after the three-way handshake:

  silent  accept, read and discard whatever arrives, never write (the kernel still ACKs data)
  rst     accept and close at once with SO_LINGER 0: the peer gets a RST right after the handshake
  fin     accept and shut the write side at once: the peer gets a FIN, data is read and dropped

Usage: mbserver.py MODE:PORT [MODE:PORT ...]. Every listener is bound to 0.0.0.0:PORT with
IP_TRANSPARENT so tproxy can hand it connections for any address and port. Connections left
open by a peer are closed after IDLE seconds, and at most MAXCONN are kept (oldest dropped).
"""

import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time

IP_TRANSPARENT = 19
IDLE = 30.0
MAXCONN = 20000


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4096)
    s.setblocking(False)
    return s


def main(argv):
    try:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sel = selectors.DefaultSelector()
    for spec in argv:
        mode, port = spec.split(":")
        if mode not in ("silent", "rst", "fin"):
            sys.exit("mbserver: unknown mode %r" % mode)
        sel.register(listener(int(port)), selectors.EVENT_READ, ("listen", mode))
    conns = {}  # socket -> deadline
    while True:
        for key, _ in sel.select(timeout=1.0):
            kind, mode = key.data
            if kind == "listen":
                for _ in range(256):
                    try:
                        c, _addr = key.fileobj.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    if mode == "rst":
                        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        c.close()
                        continue
                    if mode == "fin":
                        try:
                            c.shutdown(socket.SHUT_WR)
                        except OSError:
                            c.close()
                            continue
                    c.setblocking(False)
                    if len(conns) >= MAXCONN:
                        old = min(conns, key=conns.get)
                        sel.unregister(old)
                        old.close()
                        del conns[old]
                    sel.register(c, selectors.EVENT_READ, ("conn", mode))
                    conns[c] = time.monotonic() + IDLE
            else:
                c = key.fileobj
                try:
                    data = c.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(c)
                    c.close()
                    conns.pop(c, None)
        now = time.monotonic()
        for c in [c for c, d in conns.items() if d < now]:
            sel.unregister(c)
            c.close()
            del conns[c]


if __name__ == "__main__":
    main(sys.argv[1:])
