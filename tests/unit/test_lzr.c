/*
 * Unit tests for worker/lzr, the LZR state machine, driven frame by frame with a simulated
 * clock: each defensive behaviour of the paper's §2 and a real service, played as the target's
 * packets, must end in its class with the right evidence. Frames go to a sink sender.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/cookie.h"
#include "worker/lzr.h"
#include "worker/packet.h"

#include <pcap/dlt.h>

#define SRC  0xc6120064u       /* 198.18.0.100 */
#define DST  0xc6121001u       /* 198.18.16.1 */
#define MS   1000u             /* µs */
#define SRC6 "2001:2::100"     /* our IPv6 scan IP */
#define DST6 "2001:2:0:16::10" /* an IPv6 target: index 1 of the fixture's targets6 */

typedef struct fixture {
    targets_t *targets;
    targets6_t *targets6;
    port_list_t ports;
    engine_config_t cfg;
    sender_t *tx;
    lzr_t *l;
    uint64_t now;
    lzr_record_t last;
    int records;
} fixture_t;

static fixture_t fx;

static void on_record(void *ctx, const lzr_record_t *r)
{
    (void)ctx;
    fx.last = *r;
    fx.records++;
}

/* A state machine for DST on port (the list's handshakes, then the given fallback tier), 1 s
 * timeout, 300 ms retransmit. */
static void start_fb(const char *handshakes, const char *fallback, uint16_t port,
                     uint32_t afw_probes)
{
    char err[256], portspec[8];
    memset(&fx, 0, sizeof fx);
    fx.targets = targets_new();
    targets_lift_reserved(fx.targets, "198.18.0.0/15", err, sizeof err);
    targets_allow(fx.targets, "198.18.16.1", err, sizeof err);
    assert_int_equal(targets_finalize(fx.targets, err, sizeof err), 0);
    fx.targets6 = targets6_new();
    assert_int_equal(targets6_allow(fx.targets6, "2001:2:0:16::1," DST6, err, sizeof err), 0);
    assert_int_equal(targets6_lift_reserved(fx.targets6, "2001:2::/48", err, sizeof err), 0);
    assert_int_equal(targets6_finalize(fx.targets6, err, sizeof err), 0);
    fx.cfg.targets6 = fx.targets6;
    assert_int_equal(addr_parse(SRC6, &fx.cfg.source_ip6), 0);
    snprintf(portspec, sizeof portspec, "%u", port);
    assert_int_equal(ports_parse(portspec, &fx.ports, err, sizeof err), 0);
    fx.cfg.source_ip = SRC;
    fx.cfg.targets = fx.targets;
    fx.cfg.ports = &fx.ports;
    perm_init(&fx.cfg.perm, 1, 1);
    fx.cfg.pos_end = perm_cycle_len(&fx.cfg.perm);
    fx.cfg.sport_lo = 40000;
    fx.cfg.sport_hi = 65535;
    int n =
        handshake_list_parse(handshakes, fx.cfg.handshakes, HANDSHAKE_MAX_LIST, err, sizeof err);
    assert_true(n > 0);
    fx.cfg.n_handshakes = (size_t)n;
    n = lzr_fallback_parse(fallback, fx.cfg.fallback, err, sizeof err);
    assert_true(n >= 0);
    fx.cfg.n_fallback = (size_t)n;
    fx.cfg.timeout_ms = 1000;
    fx.cfg.retransmit_ms = 300;
    fx.cfg.acking_firewall_probes = afw_probes;
    fx.tx = sender_new_sink();
    fx.now = 1000000 * MS;
    fx.l = lzr_new(&fx.cfg, fx.tx, (const uint8_t[6]){2}, (const uint8_t[6]){2}, on_record, NULL,
                   64, fx.now);
    assert_non_null(fx.l);
}

/* Every test runs with the default fallback tier unless it says otherwise: the middlebox
 * behaviours below must end exactly as they would without one. */
static void start(const char *handshakes, uint16_t port, uint32_t afw_probes)
{
    start_fb(handshakes, HANDSHAKE_DEFAULT_FALLBACK, port, afw_probes);
}

static void stop(void)
{
    lzr_destroy(&fx.l);
    sender_destroy(&fx.tx);
    ports_free(&fx.ports);
    targets_destroy(&fx.targets);
    targets6_destroy(&fx.targets6);
}

/* The cookie of our connection `salt` from SRC to DST:dport. */
static cookie_t cookie4(uint16_t dport, uint32_t salt, uint16_t lo, uint16_t hi)
{
    lzr_addr_t src = {.family = ADDR_IPV4, .v4 = SRC}, dst = {.family = ADDR_IPV4, .v4 = DST};
    return cookie_make(&fx.cfg.key, &src, &dst, dport, salt, lo, hi);
}

/* A packet from them:dport to our connection `salt` (0 discovery, k the k-th next handshake)
 * from us, with the hop count 57. */
static void from_addr(const lzr_addr_t *them, const lzr_addr_t *us, uint16_t dport, uint32_t salt,
                      uint8_t flags, uint16_t window, uint32_t ack_extra, const char *data,
                      size_t datalen)
{
    cookie_t ck = cookie_make(&fx.cfg.key, us, them, dport, salt, fx.cfg.sport_lo, fx.cfg.sport_hi);
    pkt_out_t p = {.seg = {.src = *them,
                           .dst = *us,
                           .sport = dport,
                           .dport = ck.sport,
                           .seq = 777,
                           .ack = ck.seq + 1 + ack_extra,
                           .flags = flags,
                           .window = window,
                           .ttl = 57,
                           .payload = (const uint8_t *)data,
                           .payload_len = datalen}};
    uint8_t frame[PACKET_MAX_FRAME];
    size_t len = packet_build(frame, sizeof frame, &p);
    assert_true(len > 0);
    lzr_on_frame(fx.l, frame, len, DLT_EN10MB, fx.now);
}

/* A packet from the IPv4 target DST to connection `salt`. */
static void from_target_n(uint16_t dport, uint32_t salt, uint8_t flags, uint16_t window,
                          uint32_t ack_extra, const char *data, size_t datalen)
{
    lzr_addr_t them = addr_ipv4(DST), us = addr_ipv4(SRC);
    from_addr(&them, &us, dport, salt, flags, window, ack_extra, data, datalen);
}

/* The same with a NUL-terminated payload (or none). */
static void from_target(uint16_t dport, uint32_t salt, uint8_t flags, uint16_t window,
                        uint32_t ack_extra, const char *data)
{
    from_target_n(dport, salt, flags, window, ack_extra, data, data ? strlen(data) : 0);
}

/* The same from the IPv6 target DST6 to our IPv6 scan IP. */
static void from_target6(uint16_t dport, uint32_t salt, uint8_t flags, uint16_t window,
                         uint32_t ack_extra, const char *data)
{
    lzr_addr_t dst;
    assert_int_equal(addr_parse(DST6, &dst), 0);
    from_addr(&dst, &fx.cfg.source_ip6, dport, salt, flags, window, ack_extra, data,
              data ? strlen(data) : 0);
}

/* The state machine's counters so far. */
static engine_stats_t counters(void)
{
    engine_stats_t s = {0};
    lzr_add_stats(fx.l, &s);
    return s;
}

/* Frames the state machine has sent so far (after a tick flushed them). */
static uint64_t frames_sent(void)
{
    return counters().sent;
}

/* The frame the state machine sent last, parsed. */
static pkt_in_t last_sent(void)
{
    size_t len;
    const uint8_t *f = sender_last(fx.tx, &len);
    assert_non_null(f);
    pkt_in_t p;
    assert_int_equal(packet_parse(f, len, DLT_EN10MB, &p), 0);
    return p;
}

static void advance(uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 10) {
        fx.now += 10 * MS;
        lzr_on_time(fx.l, fx.now, fx.now);
    }
}

#define SYNACK (TCP_SYN | TCP_ACK)

static void test_service_on_first_handshake(void **state)
{
    (void)state;
    start("wait,tls,http", 22, 0);
    from_target(22, 0, SYNACK, 64240, 0, NULL);
    advance(20);
    from_target(22, 0, TCP_ACK | TCP_PSH, 64240, 0, "SSH-2.0-OpenSSH_9.2p1\r\n");
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_SERVICE);
    assert_string_equal(fx.last.protocol, "ssh");
    assert_string_equal(fx.last.handshake, "wait");
    assert_int_equal(fx.last.handshakes_tried, 1);
    assert_int_equal(fx.last.ttl_synack, 57);
    assert_int_equal(fx.last.rtt_us, 20 * MS);
    assert_memory_equal(fx.last.data, "SSH-2.0", 7);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();
}

/* Nothing on "wait"; the TLS probe goes out on a new connection and draws an HTTP answer. */
static void test_service_on_second_handshake(void **state)
{
    (void)state;
    start("wait,tls,http", 27017, 0);
    from_target(27017, 0, SYNACK, 64240, 0, NULL);
    advance(1100); /* wait's timeout: RST, then the SYN of connection 1 */
    assert_int_equal(fx.records, 0);
    from_target(27017, 1, SYNACK, 64240, 0, NULL);
    from_target(27017, 1, TCP_ACK | TCP_PSH, 64240, 0, "HTTP/1.1 400 Bad Request\r\n\r\n");
    assert_int_equal(fx.records, 1);
    assert_string_equal(fx.last.protocol, "http");
    assert_string_equal(fx.last.handshake, "tls");
    assert_int_equal(fx.last.handshakes_tried, 2);
    stop();
}

/* A reader behind the wire: the clock is past the probe's timeout, but the frames read so far
 * end before it. The timeout waits, and the answer that came in time, read next, is named. */
static void test_timeout_waits_for_unread_frames(void **state)
{
    (void)state;
    start_fb("http", "", 80, 0);
    from_target(80, 0, SYNACK, 64240, 0, NULL);
    for (int t = 0; t < 150; t++) { /* 1.5 s, 600 ms of it not read yet */
        fx.now += 10 * MS;
        lzr_on_time(fx.l, fx.now, fx.now - 600 * MS);
    }
    assert_int_equal(fx.records, 0);
    assert_int_equal(lzr_in_flight(fx.l), 1);
    from_target(80, 0, TCP_ACK | TCP_PSH, 64240, 0, "HTTP/1.1 200 OK\r\n\r\n");
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_SERVICE);
    assert_string_equal(fx.last.protocol, "http");
    stop();
}

/* The target acknowledges the probe at once and answers only after the retransmit time: the
 * probe is not sent again, and the answer, within the timeout, is named. */
static void test_slow_answer_after_ack(void **state)
{
    (void)state;
    start_fb("http", "", 80, 0);
    from_target(80, 0, SYNACK, 64240, 0, NULL);
    pkt_in_t probe = last_sent();
    assert_true(probe.payload_len > 0);
    from_target(80, 0, TCP_ACK, 64240, (uint32_t)probe.payload_len, NULL);
    advance(10);
    uint64_t sent = frames_sent(); /* the probe */
    advance(690);                  /* past the 300 ms retransmit time, short of the 1 s timeout */
    assert_int_equal(fx.records, 0);
    assert_int_equal(frames_sent(), sent);
    from_target(80, 0, TCP_ACK | TCP_PSH, 64240, (uint32_t)probe.payload_len,
                "HTTP/1.1 200 OK\r\n\r\n");
    assert_int_equal(fx.records, 1);
    assert_string_equal(fx.last.protocol, "http");
    assert_true(fx.last.acked_data);
    stop();
}

/* Acknowledged and never answered: the handshake ends at the timeout, not at the retransmit
 * time, and only then. */
static void test_acked_silence_ends_at_timeout(void **state)
{
    (void)state;
    start_fb("http", "", 80, 0);
    from_target(80, 0, SYNACK, 64240, 0, NULL);
    from_target(80, 0, TCP_ACK, 64240, (uint32_t)last_sent().payload_len, NULL);
    advance(980);
    assert_int_equal(fx.records, 0);
    advance(40);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_ACKS_NO_DATA);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();
}

static void test_zero_window(void **state)
{
    (void)state;
    start("wait,tls,http", 80, 0);
    from_target(80, 0, SYNACK, 0, 0, NULL);
    advance(1500);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_ZERO_WINDOW);
    assert_int_equal(fx.last.window, 0);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();
}

/* The SYN-ACK keeps coming after our ACK and our data is never acknowledged (paper §2.5). */
static void test_mid_handshake_drop(void **state)
{
    (void)state;
    start("tls", 4433, 0);
    from_target(4433, 0, SYNACK, 64240, 0, NULL);
    advance(400);
    from_target(4433, 0, SYNACK, 64240, 0, NULL);
    advance(700);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_MID_HANDSHAKE_DROP);
    assert_true(fx.last.synack_retransmits >= 1);
    assert_false(fx.last.acked_data);
    stop();
}

/* Every connection is reset right after the handshake (paper §2.6). */
static void test_rst_after_handshake(void **state)
{
    (void)state;
    start("tls,http", 4433, 0);
    from_target(4433, 0, SYNACK, 64240, 0, NULL);
    from_target(4433, 0, TCP_RST, 0, 0, NULL);
    from_target(4433, 1, SYNACK, 64240, 0, NULL);
    from_target(4433, 1, TCP_RST, 0, 0, NULL);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_RST_AFTER_HANDSHAKE);
    assert_int_equal(fx.last.handshakes_tried, 2);
    stop();
}

/* The payload length of the k-th handshake of the list, for an exact acknowledgement. */
static uint32_t probe_len(size_t k, uint16_t port)
{
    uint8_t buf[HANDSHAKE_MAX_PAYLOAD];
    hs_target_t t = {.saddr = addr_ipv4(SRC), .daddr = addr_ipv4(DST), .dport = port};
    return (uint32_t)fx.cfg.handshakes[k]->payload(&t, buf, sizeof buf);
}

/* Data is acknowledged, nothing ever comes back, on every handshake. */
static void test_acks_no_data(void **state)
{
    (void)state;
    start("http", 80, 0);
    from_target(80, 0, SYNACK, 64240, 0, NULL);
    advance(50);
    /* Acknowledge exactly what the HTTP probe sent: find its length from the ack we need. */
    uint8_t buf[HANDSHAKE_MAX_PAYLOAD];
    hs_target_t t = {.saddr = addr_ipv4(SRC), .daddr = addr_ipv4(DST), .dport = 80};
    size_t n = fx.cfg.handshakes[0]->payload(&t, buf, sizeof buf);
    from_target(80, 0, TCP_ACK, 64240, (uint32_t)n, NULL);
    uint64_t before = frames_sent();
    advance(1100);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_ACKS_NO_DATA);
    assert_true(fx.last.acked_data);
    /* One RST, past the acknowledged probe. */
    assert_int_equal(frames_sent() - before, 1);
    pkt_in_t rst = last_sent();
    assert_int_equal(rst.flags, TCP_RST);
    assert_int_equal(rst.seq, cookie4(80, 0, fx.cfg.sport_lo, fx.cfg.sport_hi).seq + 1 + n);
    stop();
}

/* Data is never acknowledged and the target stays quiet (paper §2.7). The probe may have
 * arrived with only its ACK lost, so the connection is reset at both sequence numbers the
 * target may expect, the one past the probe last. */
static void test_no_ack_data(void **state)
{
    (void)state;
    start("http", 80, 0);
    from_target(80, 0, SYNACK, 64240, 0, NULL);
    uint64_t before = frames_sent();
    advance(1100);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_NO_ACK_DATA);
    assert_false(fx.last.acked_data);
    /* The probe (flushed at the next tick), again at 300 ms, then two RSTs. */
    assert_int_equal(frames_sent() - before, 4);
    pkt_in_t rst = last_sent();
    assert_int_equal(rst.flags, TCP_RST);
    assert_int_equal(rst.seq,
                     cookie4(80, 0, fx.cfg.sport_lo, fx.cfg.sport_hi).seq + 1 + probe_len(0, 80));
    stop();
}

/* SYN-ACKed once; the SYN of the next handshake is never answered. */
static void test_lost_after_synack(void **state)
{
    (void)state;
    start("tls,http", 4433, 0);
    from_target(4433, 0, SYNACK, 64240, 0, NULL);
    from_target(4433, 0, TCP_RST, 0, 0, NULL);
    advance(1500);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_LOST_AFTER_SYNACK);
    stop();
}

/* SYN-ACKs on random ephemeral ports too: an acking firewall, not a service. */
static void test_acking_firewall(void **state)
{
    (void)state;
    start("tls,http", 4433, 4);
    from_target(4433, 0, SYNACK, 64240, 0, NULL);
    from_target(4433, 0, TCP_RST, 0, 0, NULL); /* handshake 0 drew nothing: probe 4 ports */
    for (uint32_t i = 0; i < 4; i++) {
        cookie_t pick = cookie4(4433, 0x200 + i, 0, 0);
        from_target((uint16_t)(32768 + pick.seq % 32768), 0x100 + i, SYNACK, 64240, 0, NULL);
    }
    advance(1100);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_ACKING_FIREWALL);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();
}

/* After the job's list, the probe of the port's own protocol: MQTT on 1883. */
static void test_port_own_handshake(void **state)
{
    (void)state;
    start("http", 1883, 0);
    from_target(1883, 0, SYNACK, 64240, 0, NULL);
    from_target(1883, 0, TCP_RST, 0, 0, NULL);
    from_target(1883, 1, SYNACK, 64240, 0, NULL);
    from_target(1883, 1, TCP_ACK | TCP_PSH, 64240, 0, "\x20\x02\x00");
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_SERVICE);
    assert_string_equal(fx.last.handshake, "mqtt");
    assert_int_equal(fx.last.handshakes_tried, 2);
    stop();
}

/* mosquitto on an odd port (2000, which no protocol claims) under "wait,tls,http": holds the
 * connection we send nothing on, resets on the ClientHello and on the GET. */
static void quiet_mqtt_through_list(void)
{
    from_target(2000, 0, SYNACK, 64240, 0, NULL);
    advance(310); /* wait's handshake ends at the retransmit time: nothing to retransmit */
    from_target(2000, 1, SYNACK, 64240, 0, NULL);
    from_target(2000, 1, TCP_ACK, 64240, probe_len(1, 2000), NULL);
    from_target(2000, 1, TCP_RST | TCP_ACK, 0, probe_len(1, 2000), NULL);
    from_target(2000, 2, SYNACK, 64240, 0, NULL);
    from_target(2000, 2, TCP_RST | TCP_ACK, 0, probe_len(2, 2000), NULL);
}

/* The list runs out unanswered; the target held one connection and reset another, so the
 * fallback tier's first probe (mqtt) goes out on connection 3 and draws a CONNACK. */
static void test_fallback_names_quiet_service(void **state)
{
    (void)state;
    start("wait,tls,http", 2000, 0);
    quiet_mqtt_through_list();
    assert_int_equal(fx.records, 0); /* not classified rst_after_handshake: still going */
    assert_int_equal(lzr_in_flight(fx.l), 1);
    from_target(2000, 3, SYNACK, 64240, 0, NULL);
    from_target_n(2000, 3, TCP_ACK | TCP_PSH, 64240, 0, "\x20\x02\x00\x00", 4); /* accepted */
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_SERVICE);
    assert_string_equal(fx.last.protocol, "mqtt");
    assert_string_equal(fx.last.handshake, "mqtt");
    assert_int_equal(fx.last.handshakes_tried, 4);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();
}

/* The tier is walked in order: mqtt draws nothing (reset), redis answers PONG. */
static void test_fallback_walks_the_tier(void **state)
{
    (void)state;
    start("wait,tls,http", 2000, 0);
    quiet_mqtt_through_list();
    from_target(2000, 3, SYNACK, 64240, 0, NULL);
    from_target(2000, 3, TCP_RST, 0, 0, NULL);
    assert_int_equal(fx.records, 0);
    from_target(2000, 4, SYNACK, 64240, 0, NULL);
    from_target(2000, 4, TCP_ACK | TCP_PSH, 64240, 0, "+PONG\r\n");
    assert_int_equal(fx.records, 1);
    assert_string_equal(fx.last.protocol, "redis");
    assert_string_equal(fx.last.handshake, "redis");
    assert_int_equal(fx.last.handshakes_tried, 5);
    stop();
}

/* A quiet target that answers none of the tier: the cap is the tier's length (3 more), and the
 * verdict is the one the evidence gives, after 3 + 3 handshakes. */
static void test_fallback_exhausted(void **state)
{
    (void)state;
    start("wait,tls,http", 2000, 0);
    quiet_mqtt_through_list();
    for (uint32_t k = 3; k < 6; k++) {
        assert_int_equal(fx.records, 0);
        from_target(2000, k, SYNACK, 64240, 0, NULL);
        from_target(2000, k, TCP_RST, 0, 0, NULL);
    }
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_RST_AFTER_HANDSHAKE);
    assert_int_equal(fx.last.handshakes_tried, 6);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();
}

/* A fallback handshake already tried — in the job's list or as the port's own — is skipped:
 * on 1883 under "wait,http" mqtt is the port's own (3rd), so the tier starts at redis. */
static void test_fallback_skips_tried(void **state)
{
    (void)state;
    start("wait,http", 1883, 0);
    from_target(1883, 0, SYNACK, 64240, 0, NULL);
    advance(310);
    from_target(1883, 1, SYNACK, 64240, 0, NULL);
    from_target(1883, 1, TCP_FIN | TCP_ACK, 64240, probe_len(1, 1883), NULL);
    from_target(1883, 2, SYNACK, 64240, 0, NULL); /* mqtt, the port's own */
    from_target(1883, 2, TCP_RST, 0, 0, NULL);
    from_target(1883, 3, SYNACK, 64240, 0, NULL); /* redis, not mqtt again */
    from_target(1883, 3, TCP_ACK | TCP_PSH, 64240, 0, "-ERR unknown command 'x'\r\n");
    assert_int_equal(fx.records, 1);
    assert_string_equal(fx.last.protocol, "redis");
    assert_string_equal(fx.last.handshake, "redis");
    assert_int_equal(fx.last.handshakes_tried, 4);
    stop();
}

/* With the tier off (--no-fallback, fallback = ""), the same target ends with the list. */
static void test_fallback_disabled(void **state)
{
    (void)state;
    start_fb("wait,tls,http", "", 2000, 0);
    assert_int_equal(fx.cfg.n_fallback, 0);
    quiet_mqtt_through_list();
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_RST_AFTER_HANDSHAKE);
    assert_int_equal(fx.last.handshakes_tried, 3);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    advance(50);
    uint64_t sent = frames_sent();
    advance(3000);
    assert_int_equal(frames_sent(), sent);
    stop();
}

/* The paper's middleboxes act alike on every connection and never earn the tier: one that
 * resets every connection (even the one we send nothing on), one that acknowledges everything
 * and never answers, one that never acknowledges, one that keeps its window shut. Each ends
 * when the list does, and nothing is sent after. */
static void test_no_fallback_for_middleboxes(void **state)
{
    (void)state;
    /* RST right after every handshake: never held. */
    start("wait,tls,http", 2000, 0);
    for (uint32_t k = 0; k < 3; k++) {
        from_target(2000, k, SYNACK, 64240, 0, NULL);
        if (k)
            from_target(2000, k, TCP_ACK, 64240, probe_len(k, 2000), NULL);
        from_target(2000, k, TCP_RST | TCP_ACK, 0, k ? probe_len(k, 2000) : 0, NULL);
    }
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_RST_AFTER_HANDSHAKE);
    assert_int_equal(fx.last.handshakes_tried, 3);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();

    /* Acknowledges every byte, never answers, never closes: held, but never closed. */
    start("wait,tls,http", 2000, 0);
    from_target(2000, 0, SYNACK, 64240, 0, NULL);
    advance(310);
    for (uint32_t k = 1; k < 3; k++) {
        from_target(2000, k, SYNACK, 64240, 0, NULL);
        from_target(2000, k, TCP_ACK, 64240, probe_len(k, 2000), NULL);
        advance(1010);
    }
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_ACKS_NO_DATA);
    assert_int_equal(fx.last.handshakes_tried, 3);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    uint64_t sent = frames_sent();
    advance(3000);
    assert_int_equal(frames_sent(), sent);
    stop();

    /* Never acknowledges our data, then a FIN: held only without data, and unacked data does
     * not count as held. */
    start("tls,http", 2000, 0);
    from_target(2000, 0, SYNACK, 64240, 0, NULL);
    advance(1010);
    from_target(2000, 1, SYNACK, 64240, 0, NULL);
    from_target(2000, 1, TCP_FIN | TCP_ACK, 64240, 0, NULL);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_FIN_AFTER_HANDSHAKE);
    assert_int_equal(fx.last.handshakes_tried, 2);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();

    /* SYN-ACK retransmitted after our ACK on the held connection, then a reset: still a
     * mid-handshake drop's evidence, no tier. */
    start("wait,tls", 2000, 0);
    from_target(2000, 0, SYNACK, 64240, 0, NULL);
    advance(100);
    from_target(2000, 0, SYNACK, 64240, 0, NULL);
    advance(210);
    from_target(2000, 1, SYNACK, 64240, 0, NULL);
    from_target(2000, 1, TCP_RST, 0, 0, NULL);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_MID_HANDSHAKE_DROP);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();

    /* Zero window: classified without a second handshake. */
    start("wait,tls,http", 2000, 0);
    from_target(2000, 0, SYNACK, 0, 0, NULL);
    advance(1500);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_ZERO_WINDOW);
    assert_int_equal(fx.last.handshakes_tried, 1);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    sent = frames_sent();
    advance(3000);
    assert_int_equal(frames_sent(), sent);
    stop();
}

/* The fallback list: empty or blank is "none", at most HANDSHAKE_MAX_FALLBACK names, each with
 * a probe, none twice. */
static void test_fallback_parse(void **state)
{
    (void)state;
    const handshake_t *out[HANDSHAKE_MAX_FALLBACK];
    char err[256];
    assert_int_equal(lzr_fallback_parse("", out, err, sizeof err), 0);
    assert_int_equal(lzr_fallback_parse(" ", out, err, sizeof err), 0);
    assert_int_equal(lzr_fallback_parse(HANDSHAKE_DEFAULT_FALLBACK, out, err, sizeof err), 3);
    assert_string_equal(out[0]->name, "mqtt");
    assert_string_equal(out[1]->name, "redis");
    assert_string_equal(out[2]->name, "postgres");
    assert_true(lzr_fallback_parse("mqtt,redis,postgres,amqp,stomp", out, err, sizeof err) < 0);
    assert_non_null(strstr(err, "stomp"));
    assert_true(lzr_fallback_parse("mqtt,nosuch", out, err, sizeof err) < 0);
    assert_non_null(strstr(err, "nosuch"));
    assert_true(lzr_fallback_parse("ftp", out, err, sizeof err) < 0); /* fingerprint only */
    assert_true(lzr_fallback_parse("redis,redis", out, err, sizeof err) < 0);
}

/* A reply whose acknowledgement number is not our cookie's is dropped, and starts nothing. */
static void test_bad_cookie_ignored(void **state)
{
    (void)state;
    start("http", 80, 0);
    from_target(80, 0, SYNACK, 64240, 5, NULL);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    engine_stats_t s = counters();
    assert_int_equal(s.invalid, 1);
    assert_int_equal(s.replies, 0);
    stop();
}

/* An IPv6 frame is not an IPv4 reply, not even one whose addresses' first four bytes (where
 * lzr_addr_t keeps v4) are the target's and ours and whose acknowledgement is the IPv4 cookie:
 * it is invalid (to none of our scan IPs, from no IPv6 target). The same frame over IPv4 is a
 * reply. */
static void test_ipv6_frame_ignored(void **state)
{
    (void)state;
    start("http", 80, 0);
    cookie_t ck = cookie4(80, 0, fx.cfg.sport_lo, fx.cfg.sport_hi);
    pkt_out_t p = {.seg = {.src = {.family = ADDR_IPV6},
                           .dst = {.family = ADDR_IPV6},
                           .sport = 80,
                           .dport = ck.sport,
                           .seq = 777,
                           .ack = ck.seq + 1,
                           .flags = SYNACK,
                           .window = 64240,
                           .ttl = 57}};
    p.seg.src.v4 = DST;
    p.seg.dst.v4 = SRC;
    uint8_t frame[PACKET_MAX_FRAME];
    size_t len = packet_build(frame, sizeof frame, &p);
    assert_true(len > 0);
    lzr_on_frame(fx.l, frame, len, DLT_EN10MB, fx.now);
    engine_stats_t s = counters();
    assert_int_equal(s.invalid, 1);
    assert_int_equal(s.replies, 0);
    assert_int_equal(lzr_in_flight(fx.l), 0);

    p.seg.src.family = p.seg.dst.family = ADDR_IPV4;
    len = packet_build(frame, sizeof frame, &p);
    lzr_on_frame(fx.l, frame, len, DLT_EN10MB, fx.now);
    s = counters();
    assert_int_equal(s.invalid, 1);
    assert_int_equal(s.replies, 1);
    assert_int_equal(lzr_in_flight(fx.l), 1);
    stop();
}

/* An IPv6 target runs the same machine: its SYN-ACK is answered with an IPv6 ACK carrying the
 * probe from our IPv6 scan IP, its banner names it, its hop limit is the record's TTL. */
static void test_ipv6_service(void **state)
{
    (void)state;
    start("wait,tls,http", 22, 0);
    from_target6(22, 0, SYNACK, 64240, 0, NULL);
    assert_int_equal(lzr_in_flight(fx.l), 1);
    pkt_in_t ack = last_sent();
    lzr_addr_t dst;
    assert_int_equal(addr_parse(DST6, &dst), 0);
    assert_int_equal(ack.dst.family, ADDR_IPV6);
    assert_true(addr_equal(&ack.dst, &dst));
    assert_true(addr_equal(&ack.src, &fx.cfg.source_ip6));
    assert_int_equal(ack.dport, 22);
    assert_int_equal(ack.flags, TCP_ACK);
    cookie_t ck =
        cookie_make(&fx.cfg.key, &fx.cfg.source_ip6, &dst, 22, 0, fx.cfg.sport_lo, fx.cfg.sport_hi);
    assert_int_equal(ack.sport, ck.sport);
    assert_int_equal(ack.seq, ck.seq + 1);
    assert_int_equal(ack.ack, 778);
    advance(20);
    from_target6(22, 0, TCP_ACK | TCP_PSH, 64240, 0, "SSH-2.0-OpenSSH_9.2p1\r\n");
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_SERVICE);
    assert_string_equal(fx.last.protocol, "ssh");
    assert_int_equal(fx.last.ttl_synack, 57);
    assert_int_equal(fx.last.rtt_us, 20 * MS);
    assert_true(addr_equal(&fx.last.ip, &dst));
    assert_true(addr_equal(&fx.last.source_ip, &fx.cfg.source_ip6));
    assert_int_equal(lzr_in_flight(fx.l), 0);
    pkt_in_t rst = last_sent();
    assert_int_equal(rst.flags, TCP_RST);
    assert_true(addr_equal(&rst.dst, &dst));
    /* The server's FIN after the verdict is a straggler of a finished IPv6 target. */
    from_target6(22, 0, TCP_ACK | TCP_FIN, 64240, 0, NULL);
    engine_stats_t s = counters();
    assert_int_equal(s.late, 1);
    assert_int_equal(s.invalid, 0);
    stop();
}

/* An IPv4 and an IPv6 target on one port are two connections, each classified on its own:
 * the IPv4 one answers, the IPv6 one resets every connection after the handshake. */
static void test_ipv6_beside_ipv4(void **state)
{
    (void)state;
    start("tls,http", 4433, 0);
    from_target6(4433, 0, SYNACK, 64240, 0, NULL);
    from_target(4433, 0, SYNACK, 64240, 0, NULL);
    assert_int_equal(lzr_in_flight(fx.l), 2);
    from_target(4433, 0, TCP_ACK | TCP_PSH, 64240, 0, "HTTP/1.1 400 Bad Request\r\n\r\n");
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_SERVICE);
    assert_int_equal(fx.last.ip.family, ADDR_IPV4);
    assert_int_equal(fx.last.ip.v4, DST);
    assert_int_equal(lzr_in_flight(fx.l), 1);
    from_target6(4433, 0, TCP_RST, 0, 0, NULL);
    pkt_in_t syn = last_sent(); /* the next handshake's SYN, over IPv6 */
    assert_int_equal(syn.dst.family, ADDR_IPV6);
    assert_int_equal(syn.flags, TCP_SYN);
    from_target6(4433, 1, SYNACK, 64240, 0, NULL);
    from_target6(4433, 1, TCP_RST, 0, 0, NULL);
    assert_int_equal(fx.records, 2);
    assert_int_equal(fx.last.cls, CLASS_RST_AFTER_HANDSHAKE);
    assert_int_equal(fx.last.handshakes_tried, 2);
    char text[ADDR_TEXT_MAX];
    assert_string_equal(addr_format(&fx.last.ip, text), DST6);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();
}

/* The classes that need more than one connection or a timer hold over IPv6 too: the
 * acking-firewall probes go to random ports of the IPv6 target and their SYN-ACKs are matched
 * to it; a zero window is waited out and named. */
static void test_ipv6_acking_firewall_and_zero_window(void **state)
{
    (void)state;
    start("tls,http", 4433, 4);
    lzr_addr_t dst;
    assert_int_equal(addr_parse(DST6, &dst), 0);
    from_target6(4433, 0, SYNACK, 64240, 0, NULL);
    from_target6(4433, 0, TCP_RST, 0, 0, NULL); /* handshake 0 drew nothing: probe 4 ports */
    pkt_in_t syn = last_sent();
    assert_true(addr_equal(&syn.dst, &dst));
    assert_int_equal(syn.flags, TCP_SYN);
    assert_true(syn.dport >= 32768);
    for (uint32_t i = 0; i < 4; i++) {
        cookie_t pick = cookie_make(&fx.cfg.key, &fx.cfg.source_ip6, &dst, 4433, 0x200 + i, 0, 0);
        from_target6((uint16_t)(32768 + pick.seq % 32768), 0x100 + i, SYNACK, 64240, 0, NULL);
    }
    advance(1100);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_ACKING_FIREWALL);
    assert_true(addr_equal(&fx.last.ip, &dst));
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();

    start("http", 80, 0);
    from_target6(80, 0, SYNACK, 0, 0, NULL);
    advance(1500);
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_ZERO_WINDOW);
    assert_int_equal(fx.last.window, 0);
    stop();
}

/* IPv6 replies we cannot own are invalid: from an address outside targets6 (with a good
 * cookie for it), or to another IPv6 address than our scan IP. */
static void test_ipv6_foreign_replies(void **state)
{
    (void)state;
    start("http", 80, 0);
    lzr_addr_t other, dst;
    assert_int_equal(addr_parse("2001:2:0:16::99", &other), 0);
    assert_int_equal(addr_parse(DST6, &dst), 0);
    cookie_t ck = cookie_make(&fx.cfg.key, &fx.cfg.source_ip6, &other, 80, 0, fx.cfg.sport_lo,
                              fx.cfg.sport_hi);
    pkt_out_t p = {.seg = {.src = other,
                           .dst = fx.cfg.source_ip6,
                           .sport = 80,
                           .dport = ck.sport,
                           .ack = ck.seq + 1,
                           .flags = SYNACK,
                           .window = 64240}};
    uint8_t frame[PACKET_MAX_FRAME];
    lzr_on_frame(fx.l, frame, packet_build(frame, sizeof frame, &p), DLT_EN10MB, fx.now);
    ck = cookie_make(&fx.cfg.key, &other, &dst, 80, 0, fx.cfg.sport_lo, fx.cfg.sport_hi);
    p.seg.src = dst;
    p.seg.dst = other; /* not our scan IP */
    p.seg.dport = ck.sport;
    p.seg.ack = ck.seq + 1;
    lzr_on_frame(fx.l, frame, packet_build(frame, sizeof frame, &p), DLT_EN10MB, fx.now);
    engine_stats_t s = counters();
    assert_int_equal(s.invalid, 2);
    assert_int_equal(s.replies, 0);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    stop();
}

/* A target that holds an old connection on our SYN's four-tuple answers it with a bare
 * (challenge) ACK: the engine resets that connection at the ACK's sequence number and sends
 * the SYN again, once; the SYN-ACK that follows is a normal discovery. A bare ACK to another
 * source port, or one of a port the scan does not probe, stays invalid. */
static void test_challenge_ack(void **state)
{
    (void)state;
    start("http", 80, 0);
    cookie_t ck = cookie4(80, 0, fx.cfg.sport_lo, fx.cfg.sport_hi);
    uint8_t frame[PACKET_MAX_FRAME];
    pkt_out_t o = {.seg = {.src = addr_ipv4(DST),
                           .dst = addr_ipv4(SRC),
                           .sport = 80,
                           .dport = ck.sport,
                           .seq = 555,
                           .ack = 777000,
                           .flags = TCP_ACK,
                           .window = 512,
                           .ttl = 57}};
    size_t len = packet_build(frame, sizeof frame, &o);
    uint64_t before = frames_sent();
    lzr_on_frame(fx.l, frame, len, DLT_EN10MB, fx.now);
    advance(10);
    assert_int_equal(frames_sent() - before, 2);
    pkt_in_t syn = last_sent();
    assert_int_equal(syn.flags, TCP_SYN);
    assert_int_equal(syn.seq, ck.seq);
    assert_int_equal(syn.sport, ck.sport);
    assert_int_equal(syn.dport, 80);
    engine_stats_t st = counters();
    assert_int_equal(st.challenged, 1);
    assert_int_equal(st.invalid, 0);
    /* Once only: the same ACK again is invalid and sends nothing. */
    lzr_on_frame(fx.l, frame, len, DLT_EN10MB, fx.now);
    advance(10);
    assert_int_equal(frames_sent() - before, 2);
    assert_int_equal(counters().invalid, 1);
    /* Another source port, or a port the scan does not probe: invalid. */
    o.seg.dport = (uint16_t)(ck.sport == 65535 ? 40000 : ck.sport + 1);
    len = packet_build(frame, sizeof frame, &o);
    lzr_on_frame(fx.l, frame, len, DLT_EN10MB, fx.now);
    o.seg.dport = ck.sport;
    o.seg.sport = 81;
    len = packet_build(frame, sizeof frame, &o);
    lzr_on_frame(fx.l, frame, len, DLT_EN10MB, fx.now);
    advance(10);
    assert_int_equal(frames_sent() - before, 2);
    assert_int_equal(counters().invalid, 3);
    /* The answer to the re-sent SYN is taken as any discovery SYN-ACK. */
    from_target(80, 0, SYNACK, 64240, 0, NULL);
    from_target(80, 0, TCP_ACK | TCP_PSH, 64240, probe_len(0, 80), "HTTP/1.1 200 OK\r\n\r\n");
    assert_int_equal(fx.records, 1);
    assert_int_equal(fx.last.cls, CLASS_SERVICE);
    stop();
}

/* A stopped scan resets what is open: the connection whose probe is out unacknowledged gets
 * a RST at both sequence numbers the target may expect, no verdict is reported, and no timer
 * of it fires afterwards. */
static void test_abort_resets_open_connections(void **state)
{
    (void)state;
    start("http", 80, 0);
    from_target6(80, 0, SYNACK, 64240, 0, NULL);
    from_target(80, 0, SYNACK, 64240, 0, NULL);
    advance(10);
    assert_int_equal(lzr_in_flight(fx.l), 2);
    uint64_t before = frames_sent();
    lzr_abort(fx.l);
    assert_int_equal(frames_sent() - before, 4);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    /* The last one: the IPv4 connection's (the later id), past the payload. */
    cookie_t ck = cookie4(80, 0, fx.cfg.sport_lo, fx.cfg.sport_hi);
    pkt_in_t rst = last_sent();
    assert_int_equal(rst.flags, TCP_RST);
    assert_int_equal(rst.dst.v4, DST);
    assert_int_equal(rst.dport, 80);
    assert_int_equal(rst.sport, ck.sport);
    assert_int_equal(rst.seq, ck.seq + 1 + probe_len(0, 80));
    advance(3000);
    assert_int_equal(fx.records, 0);
    assert_int_equal(frames_sent() - before, 4);
    stop();
}

/* Segments that follow a named target's record (the server's FIN after its banner) are
 * stragglers, counted as late; the same segment for a target never probed is invalid. */
static void test_late_segments(void **state)
{
    (void)state;
    start("wait", 22, 0);
    from_target(22, 0, SYNACK, 64240, 0, NULL);
    from_target(22, 0, TCP_ACK | TCP_PSH, 64240, 0, "SSH-2.0-OpenSSH_9.2p1\r\n");
    assert_int_equal(fx.records, 1);
    assert_int_equal(lzr_in_flight(fx.l), 0);
    from_target(22, 0, TCP_ACK | TCP_FIN, 64240, 0, NULL);
    engine_stats_t s = counters();
    assert_int_equal(s.late, 1);
    assert_int_equal(s.invalid, 0);
    from_target(2222, 0, TCP_ACK | TCP_FIN, 64240, 0, NULL);
    s = counters();
    assert_int_equal(s.late, 1);
    assert_int_equal(s.invalid, 1);
    stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_on_first_handshake),
        cmocka_unit_test(test_service_on_second_handshake),
        cmocka_unit_test(test_timeout_waits_for_unread_frames),
        cmocka_unit_test(test_slow_answer_after_ack),
        cmocka_unit_test(test_acked_silence_ends_at_timeout),
        cmocka_unit_test(test_zero_window),
        cmocka_unit_test(test_mid_handshake_drop),
        cmocka_unit_test(test_rst_after_handshake),
        cmocka_unit_test(test_acks_no_data),
        cmocka_unit_test(test_no_ack_data),
        cmocka_unit_test(test_lost_after_synack),
        cmocka_unit_test(test_acking_firewall),
        cmocka_unit_test(test_port_own_handshake),
        cmocka_unit_test(test_bad_cookie_ignored),
        cmocka_unit_test(test_late_segments),
        cmocka_unit_test(test_abort_resets_open_connections),
        cmocka_unit_test(test_challenge_ack),
        cmocka_unit_test(test_ipv6_frame_ignored),
        cmocka_unit_test(test_ipv6_service),
        cmocka_unit_test(test_ipv6_beside_ipv4),
        cmocka_unit_test(test_ipv6_foreign_replies),
        cmocka_unit_test(test_ipv6_acking_firewall_and_zero_window),
        cmocka_unit_test(test_fallback_names_quiet_service),
        cmocka_unit_test(test_fallback_walks_the_tier),
        cmocka_unit_test(test_fallback_exhausted),
        cmocka_unit_test(test_fallback_skips_tried),
        cmocka_unit_test(test_fallback_disabled),
        cmocka_unit_test(test_no_fallback_for_middleboxes),
        cmocka_unit_test(test_fallback_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
