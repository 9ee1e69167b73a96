/*
 * catalogue: every protocol lzr knows, in one list read by both programs. The worker's
 * handshake registry (worker/handshakes/registry.c) builds its table from it, pairing each entry
 * with the probe and matcher of worker/handshakes/<name>.c; the coordinator checks a job's
 * handshake names against it (coordinator/job.c) and takes each protocol's IANA port from it for
 * the report (coordinator/report.c). Adding a protocol is one line here plus its handshake file.
 */
#ifndef LZR_CATALOGUE_H
#define LZR_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

/* Priority tiers: when several fingerprints match one reply the highest wins, ties go to the
 * earlier entry of the list; docs/fingerprints.md explains each tier. */
enum {
    LZR_PRIO_NONE = 0,         /* matches nothing: wait */
    LZR_PRIO_WEAK = 20,        /* a few bytes of structure only: telnet IAC, socks5 */
    LZR_PRIO_FALLBACK = 40,    /* generic shapes a more specific protocol refines: ftp's 220 */
    LZR_PRIO_DEFAULT = 50,     /* most protocols: magic bytes, length fields, banners */
    LZR_PRIO_SPECIFIC = 60,    /* refines a fallback or overlaps a looser binary shape */
    LZR_PRIO_STATUS_LINE = 70, /* "PROTO/x.y NNN" replies: http, rtsp, sip */
    LZR_PRIO_HTTP_API = 80,    /* HTTP replies with an API's structure: docker, kubernetes, ... */
    LZR_PRIO_RECORD = 90,      /* TLS/SSL records, which other servers never produce */
};

/* What lzr can do with a protocol: PROBE sends a probe and recognises the reply; FINGERPRINT
 * only recognises replies (no probe of ours, so a handshake list may not name it); LISTEN sends
 * nothing and recognises nothing, it lets a server that speaks first speak (wait). */
typedef enum {
    PROTO_PROBE,
    PROTO_FINGERPRINT,
    PROTO_LISTEN,
} proto_kind_t;

/* X(name, iana_port, default_ports, priority, kind): name is the label in output and the stem of
 * the handshake file; iana_port is the protocol's IANA port (or the customary one where IANA
 * has none; 0 for wait), which the report counts services on; default_ports are the ports a
 * server of the protocol is expected on, where the worker also tries its probe; priority is a
 * LZR_PRIO_ tier without the prefix; kind a proto_kind_t without PROTO_. The order is the
 * registry's: it breaks ties between fingerprints of equal priority and orders listings. */
#define LZR_PROTOCOLS(X)                                                                           \
    X(wait, 0, "21,22,23,25,110,143,3306,5900", NONE, LISTEN)                                      \
    X(tls, 443, "443,465,636,853,993,995,8443", RECORD, PROBE)                                     \
    X(http, 80, "80,8000,8008,8080,8081,8888", STATUS_LINE, PROBE)                                 \
    X(dns, 53, "53,5353", DEFAULT, PROBE)                                                          \
    X(pptp, 1723, "1723", DEFAULT, PROBE)                                                          \
    X(ssl, 443, "443", RECORD, FINGERPRINT)                                                        \
    X(ajp13, 8009, "8009", DEFAULT, PROBE)                                                         \
    X(amqp, 5672, "5672,5671", DEFAULT, PROBE)                                                     \
    X(bgp, 179, "179", DEFAULT, PROBE)                                                             \
    X(cassandra, 9042, "9042,9160", DEFAULT, PROBE)                                                \
    X(couchdb, 5984, "5984,6984", HTTP_API, PROBE)                                                 \
    X(cwmp, 7547, "7547,4567,5555", HTTP_API, PROBE)                                               \
    X(dnp3, 20000, "20000", DEFAULT, PROBE)                                                        \
    X(docker, 2375, "2375,2376", HTTP_API, PROBE)                                                  \
    X(elasticsearch, 9200, "9200,9300", HTTP_API, PROBE)                                           \
    X(enip, 44818, "44818", DEFAULT, PROBE)                                                        \
    X(epmd, 4369, "4369", DEFAULT, PROBE)                                                          \
    X(fox, 1911, "1911,4911", DEFAULT, PROBE)                                                      \
    X(ftp, 21, "21,2121", FALLBACK, FINGERPRINT)                                                   \
    X(git, 9418, "9418", DEFAULT, PROBE)                                                           \
    X(iec104, 2404, "2404", DEFAULT, PROBE)                                                        \
    X(imap, 143, "143,993", DEFAULT, FINGERPRINT)                                                  \
    X(ipmi, 623, "623", DEFAULT, PROBE)                                                            \
    X(ipp, 631, "631", HTTP_API, PROBE)                                                            \
    X(irc, 6667, "194,6660,6665,6666,6667,6668,6669,6697", DEFAULT, PROBE)                         \
    X(java_rmi, 1099, "1099,1098", DEFAULT, PROBE)                                                 \
    X(jdwp, 8000, "5005,8000,8453", DEFAULT, PROBE)                                                \
    X(kafka, 9092, "9092,9093", DEFAULT, PROBE)                                                    \
    X(kubernetes, 6443, "6443,443,8443,10250", HTTP_API, PROBE)                                    \
    X(ldap, 389, "389,636,3268", DEFAULT, PROBE)                                                   \
    X(memcached_ascii, 11211, "11211", DEFAULT, PROBE)                                             \
    X(memcached_binary, 11211, "11211", DEFAULT, PROBE)                                            \
    X(modbus, 502, "502", DEFAULT, PROBE)                                                          \
    X(mongodb, 27017, "27017,27018", SPECIFIC, PROBE)                                              \
    X(mqtt, 1883, "1883,8883", DEFAULT, PROBE)                                                     \
    X(msrpc, 135, "135,593", DEFAULT, PROBE)                                                       \
    X(mssql, 1433, "1433,1434", DEFAULT, PROBE)                                                    \
    X(mysql, 3306, "3306,3307", DEFAULT, FINGERPRINT)                                              \
    X(nats, 4222, "4222,6222", DEFAULT, FINGERPRINT)                                               \
    X(nntp, 119, "119,563", DEFAULT, FINGERPRINT)                                                  \
    X(opcua, 4840, "4840", DEFAULT, PROBE)                                                         \
    X(oracle, 1521, "1521,1526", DEFAULT, PROBE)                                                   \
    X(pjl, 9100, "9100", DEFAULT, PROBE)                                                           \
    X(pop3, 110, "110,995", DEFAULT, FINGERPRINT)                                                  \
    X(postgres, 5432, "5432,5433", DEFAULT, PROBE)                                                 \
    X(rdp, 3389, "3389", DEFAULT, PROBE)                                                           \
    X(redis, 6379, "6379,6380", DEFAULT, PROBE)                                                    \
    X(rpcbind, 111, "111,2049", DEFAULT, PROBE)                                                    \
    X(rsync, 873, "873", DEFAULT, FINGERPRINT)                                                     \
    X(rtsp, 554, "554,8554", STATUS_LINE, PROBE)                                                   \
    X(siemens, 102, "102", DEFAULT, PROBE)                                                         \
    X(sip, 5060, "5060,5061", STATUS_LINE, PROBE)                                                  \
    X(smb, 445, "445,139", DEFAULT, PROBE)                                                         \
    X(smtp, 25, "25,465,587,2525", SPECIFIC, FINGERPRINT)                                          \
    X(socks5, 1080, "1080,9050", WEAK, PROBE)                                                      \
    X(ssh, 22, "22,2222", DEFAULT, PROBE)                                                          \
    X(stomp, 61613, "61613,61614", DEFAULT, PROBE)                                                 \
    X(svn, 3690, "3690", DEFAULT, FINGERPRINT)                                                     \
    X(telnet, 23, "23,2323", WEAK, FINGERPRINT)                                                    \
    X(vnc, 5900, "5900,5901,5902,5800", DEFAULT, FINGERPRINT)                                      \
    X(x11, 6000, "6000,6001", DEFAULT, PROBE)                                                      \
    X(xmpp, 5222, "5222,5223,5269", DEFAULT, PROBE)                                                \
    X(zookeeper, 2181, "2181,2182", DEFAULT, PROBE)

typedef struct protocol {
    const char *name;
    uint16_t iana_port;
    const char *default_ports; /* "80,8080" */
    int priority;
    proto_kind_t kind;
} protocol_t;

/* How many protocols the list has, as a constant, for the tables built from it. */
#define LZR_PROTOCOL_ONE(n, iana, ports, prio, kind) +1
#define LZR_PROTOCOL_COUNT                           (0 LZR_PROTOCOLS(LZR_PROTOCOL_ONE))

/* Every protocol of the list, in list order. */
size_t catalogue_count(void);
const protocol_t *catalogue_at(size_t i);

/* The protocol called name, or NULL (also for a NULL name). */
const protocol_t *catalogue_find(const char *name);

/* The IANA port of the protocol called name; 0 for a name not in the list (or wait). */
uint16_t catalogue_iana_port(const char *name);

#endif
