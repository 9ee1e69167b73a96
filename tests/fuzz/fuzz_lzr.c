/*
 * libFuzzer harness for the LZR state machine's input. The input is a script of steps: raw
 * frames, frames built from fuzzed fields whose acknowledgement number is made valid for one of
 * the cookie's connections (so the fuzzer reaches every state past cookie validation), and clock
 * advances. Targets of both families: IPv4 in 198.18.16.0/28, IPv6 in 2001:2:0:16::/124, the
 * family picked by a bit of each built frame. Frames go to a sink sender, never to a network.
 * Invariants: every record is well formed, and once the clock has run far past every timeout no
 * connection is left in flight.
 */
#include "common/cookie.h"
#include "common/record.h"
#include "worker/lzr.h"
#include "worker/packet.h"

#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#define SRC_IP 0xc6120064u /* 198.18.0.100 */
#define NET_IP 0xc6121000u /* 198.18.16.0 */

static targets_t *targets;
static targets6_t *targets6;
static port_list_t ports;
static engine_config_t cfg;

static void setup(void)
{
    char err[256];
    targets = targets_new();
    targets_lift_reserved(targets, "198.18.0.0/15", err, sizeof err);
    targets_allow(targets, "198.18.16.0/28", err, sizeof err);
    targets_finalize(targets, err, sizeof err);
    targets6 = targets6_new();
    targets6_lift_reserved(targets6, "2001:2::/48", err, sizeof err);
    targets6_allow(targets6, "2001:2:0:16::/124", err, sizeof err);
    targets6_finalize(targets6, err, sizeof err);
    addr_parse("2001:2::100", &cfg.source_ip6);
    cfg.targets6 = targets6;
    ports_parse("80,443,7000", &ports, err, sizeof err);
    cfg.source_ip = SRC_IP;
    cfg.targets = targets;
    cfg.ports = &ports;
    perm_init(&cfg.perm, (targets_count(targets) + targets6_count(targets6)) * ports.n, 7);
    cfg.pos_end = perm_cycle_len(&cfg.perm);
    cfg.sport_lo = 40000;
    cfg.sport_hi = 65535;
    cfg.n_handshakes = (size_t)handshake_list_parse("wait,tls,http,dns,pptp", cfg.handshakes,
                                                    HANDSHAKE_MAX_LIST, err, sizeof err);
    cfg.timeout_ms = 1000;
    cfg.retransmit_ms = 300;
    cfg.acking_firewall_probes = 4;
    cfg.report_all = true;
}

static void check_record(void *ctx, const lzr_record_t *r)
{
    (void)ctx;
    char line[4096];
    if (r->cls >= CLASS_COUNT || r->data_len > LZR_DATA_MAX ||
        record_to_json(r, line, sizeof line) == 0)
        abort();
}

typedef struct {
    const uint8_t *p;
    size_t n;
} cursor_t;

static uint32_t take(cursor_t *c, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = v << 8;
        if (c->n) {
            v |= *c->p++;
            c->n--;
        }
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!targets)
        setup();
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    sender_t *tx = sender_new_sink();
    uint64_t now = 1000000;
    lzr_t *l = lzr_new(&cfg, tx, mac, mac, check_record, NULL, 64, now);
    if (!l)
        abort();
    cursor_t c = {data, size};
    uint8_t frame[PACKET_MAX_FRAME];
    while (c.n) {
        uint8_t op = (uint8_t)take(&c, 1);
        switch (op % 4) {
        case 0: { /* a raw frame */
            size_t len = take(&c, 1);
            len = len < c.n ? len : c.n;
            lzr_on_frame(l, c.p, len, DLT_EN10MB, now);
            c.p += len;
            c.n -= len;
            break;
        }
        case 1: { /* a frame from a target, valid for one of its connections */
            lzr_addr_t us = {.family = ADDR_IPV4, .v4 = SRC_IP};
            uint8_t who = (uint8_t)take(&c, 1);
            lzr_addr_t them = {.family = ADDR_IPV4, .v4 = NET_IP + (who % 16)};
            if (who & 0x80) { /* an IPv6 target, to our IPv6 scan IP */
                us = cfg.source_ip6;
                them.family = ADDR_IPV6;
                memcpy(them.v6, targets6_at(targets6, who % 16), 16);
            }
            uint16_t dport = ports.ports[take(&c, 1) % ports.n];
            uint8_t flags = (uint8_t)take(&c, 1);
            uint16_t window = (uint16_t)take(&c, 2);
            uint8_t mode = (uint8_t)take(&c, 1);
            uint32_t salt = mode & 7; /* discovery 0, later handshakes 1..n */
            if (mode & 8) {           /* an acking-firewall probe */
                cookie_t pick = cookie_make(&cfg.key, &us, &them, dport, 0x200 + (mode >> 4), 0, 0);
                salt = 0x100 + (mode >> 4);
                dport = (uint16_t)(32768 + (pick.seq % 32768));
            }
            cookie_t ck =
                cookie_make(&cfg.key, &us, &them, dport, salt, cfg.sport_lo, cfg.sport_hi);
            uint32_t seq = take(&c, 4);
            uint32_t ack = ck.seq + 1 + (mode & 0x80 ? take(&c, 2) : 0);
            size_t paylen = take(&c, 1);
            paylen = paylen < c.n ? paylen : c.n;
            pkt_out_t p = {.seg = {.src = them,
                                   .dst = us,
                                   .sport = dport,
                                   .dport = ck.sport,
                                   .seq = seq,
                                   .ack = ack,
                                   .flags = flags,
                                   .window = window,
                                   .ttl = 60,
                                   .payload = c.p,
                                   .payload_len = paylen}};
            size_t len = packet_build(frame, sizeof frame, &p);
            c.p += paylen;
            c.n -= paylen;
            lzr_on_frame(l, frame, len, DLT_EN10MB, now);
            break;
        }
        case 2:
            now += take(&c, 1) * 20000u;
            lzr_on_time(l, now, now);
            break;
        default:
            now += 5000000u;
            lzr_on_time(l, now, now);
            break;
        }
    }
    /* Every state has a timer: long after the last timeout nothing may be left. */
    for (int i = 0; i < 40; i++) {
        now += 1000000u;
        lzr_on_time(l, now, now);
    }
    if (lzr_in_flight(l) != 0)
        abort();
    lzr_destroy(&l);
    sender_destroy(&tx);
    return 0;
}
