/*
 * registry: the one list of every handshake lzr knows. Each entry names a protocol file
 * worker/handshakes/<name>.c that exports `const handshake_t hs_<name>`; registry.c builds the
 * table that handshake_count/at/find/list_parse/fingerprint (handshake.h) walk. Adding a
 * protocol is one file plus one line here. Order matters only to break ties between fingerprints
 * of equal priority (earlier wins) and for listing.
 */
#ifndef LZR_HS_REGISTRY_H
#define LZR_HS_REGISTRY_H

#include <stdio.h>

#include "worker/handshakes/handshake.h"

#define LZR_HANDSHAKES(X)                                                                          \
    X(wait)                                                                                        \
    X(tls)                                                                                         \
    X(http)                                                                                        \
    X(dns)                                                                                         \
    X(pptp)                                                                                        \
    X(ssl)                                                                                         \
    X(ajp13)                                                                                       \
    X(amqp)                                                                                        \
    X(bgp)                                                                                         \
    X(cassandra)                                                                                   \
    X(couchdb)                                                                                     \
    X(cwmp)                                                                                        \
    X(dnp3)                                                                                        \
    X(docker)                                                                                      \
    X(elasticsearch)                                                                               \
    X(enip)                                                                                        \
    X(epmd)                                                                                        \
    X(fox)                                                                                         \
    X(ftp)                                                                                         \
    X(git)                                                                                         \
    X(iec104)                                                                                      \
    X(imap)                                                                                        \
    X(ipmi)                                                                                        \
    X(ipp)                                                                                         \
    X(irc)                                                                                         \
    X(java_rmi)                                                                                    \
    X(jdwp)                                                                                        \
    X(kafka)                                                                                       \
    X(kubernetes)                                                                                  \
    X(ldap)                                                                                        \
    X(memcached_ascii)                                                                             \
    X(memcached_binary)                                                                            \
    X(modbus)                                                                                      \
    X(mongodb)                                                                                     \
    X(mqtt)                                                                                        \
    X(msrpc)                                                                                       \
    X(mssql)                                                                                       \
    X(mysql)                                                                                       \
    X(nats)                                                                                        \
    X(nntp)                                                                                        \
    X(opcua)                                                                                       \
    X(oracle)                                                                                      \
    X(pjl)                                                                                         \
    X(pop3)                                                                                        \
    X(postgres)                                                                                    \
    X(rdp)                                                                                         \
    X(redis)                                                                                       \
    X(rpcbind)                                                                                     \
    X(rsync)                                                                                       \
    X(rtsp)                                                                                        \
    X(siemens)                                                                                     \
    X(sip)                                                                                         \
    X(smb)                                                                                         \
    X(smtp)                                                                                        \
    X(socks5)                                                                                      \
    X(ssh)                                                                                         \
    X(stomp)                                                                                       \
    X(svn)                                                                                         \
    X(telnet)                                                                                      \
    X(vnc)                                                                                         \
    X(x11)                                                                                         \
    X(xmpp)                                                                                        \
    X(zookeeper)

#define LZR_HS_DECLARE(n) extern const handshake_t hs_##n;
LZR_HANDSHAKES(LZR_HS_DECLARE)
#undef LZR_HS_DECLARE

/* The handshakes that have a probe and list port among their default ports, in registry order:
 * the protocols a server on that port is expected to speak (e.g. 1883 → mqtt). Stores at most
 * max into out and returns how many matched (which may exceed max). */
size_t handshake_for_port(uint16_t port, const handshake_t **out, size_t max);

/* Prints one line per handshake — name, priority, payload size for a sample target (or "-" when
 * it has no probe), default ports — under a header line; for `lzr-worker handshakes`. */
void handshake_print_table(FILE *out);

#endif
