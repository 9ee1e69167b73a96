/*
 * Unit tests for worker/capture's filter: the text for an IPv4 scan IP alone and for both
 * families, compiled by libpcap and run (pcap_offline_filter) over frames packet.c builds — TCP
 * to our IPv4 or IPv6 address on the source-port range passes; another port, another address,
 * or our IPv6 address when the scan has none, does not. And capture_seen_us on a real capture
 * of the loopback device, in a network namespace of the test's own (needs root; skips
 * without): while frames wait unread it stays at the newest frame handed out, never the clock;
 * a handle set idle (capture_idle) passes nothing, and what waited is gone, until it is
 * refiltered; and on a veth pair, a frame sent out of the captured side is not captured, one
 * coming in is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "worker/capture.h"
#include "worker/packet.h"

#include "own_netns.h"

#define SCAN4 0xc6120064u /* 198.18.0.100 */

/* Inserts an 8-byte IPv6 extension header of type next_hdr (destination options, say) before
 * the TCP header of the IPv6 frame f of *len bytes; returns the frame's new length. */
static size_t add_ext_header(uint8_t *f, size_t len, uint8_t next_hdr)
{
    uint8_t *ip = f + 14;
    memmove(ip + 48, ip + 40, len - 54);
    ip[40] = ip[6];        /* the extension header's next header: what followed the IPv6 header */
    memset(ip + 41, 0, 7); /* length 0 (8 bytes), PadN of 4 zero bytes */
    ip[42] = 1;
    ip[43] = 4;
    ip[6] = next_hdr;
    uint16_t plen = (uint16_t)((ip[4] << 8 | ip[5]) + 8);
    ip[4] = (uint8_t)(plen >> 8);
    ip[5] = (uint8_t)plen;
    return len + 8;
}

/* The filter's verdict on frame f of len bytes. */
static bool filter_passes(const char *filter, const uint8_t *f, size_t len)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 1600);
    struct bpf_program prog;
    assert_int_equal(pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0);
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    bool ok = pcap_offline_filter(&prog, &h, f) != 0;
    pcap_freecode(&prog);
    pcap_close(p);
    return ok;
}

/* Writes a SYN-ACK from src:80 to dst:dport into frame; returns its length. */
static size_t synack(uint8_t frame[PACKET_MAX_FRAME], const lzr_addr_t *src, const lzr_addr_t *dst,
                     uint16_t dport)
{
    pkt_out_t o = {.seg = {.src = *src,
                           .dst = *dst,
                           .sport = 80,
                           .dport = dport,
                           .flags = TCP_SYN | TCP_ACK,
                           .window = 1024,
                           .ttl = 60}};
    size_t len = packet_build(frame, PACKET_MAX_FRAME, &o);
    assert_true(len > 0);
    return len;
}

/* True when the filter text passes a TCP frame from src to dst:dport. */
static bool passes(const char *filter, const lzr_addr_t *src, const lzr_addr_t *dst, uint16_t dport)
{
    uint8_t frame[PACKET_MAX_FRAME];
    return filter_passes(filter, frame, synack(frame, src, dst, dport));
}

static void test_filter_text(void **state)
{
    (void)state;
    char buf[CAPTURE_FILTER_MAX];
    lzr_addr_t a6, none = {.family = ADDR_NONE};
    assert_int_equal(addr_parse("2001:2::100", &a6), LZR_OK);
    capture_filter(buf, sizeof buf, SCAN4, NULL, 40000, 65535);
    assert_string_equal(buf, "tcp and dst host 198.18.0.100 and dst portrange 40000-65535");
    capture_filter(buf, sizeof buf, SCAN4, &none, 40000, 65535);
    assert_string_equal(buf, "tcp and dst host 198.18.0.100 and dst portrange 40000-65535");
    capture_filter(buf, sizeof buf, SCAN4, &a6, 40000, 65535);
    assert_string_equal(buf, "(tcp and dst host 198.18.0.100 and dst portrange 40000-65535) or "
                             "(dst host 2001:2::100 and (tcp and dst portrange 40000-65535 or "
                             "ip6[6] == 0 or ip6[6] == 43 or ip6[6] == 60))");
    /* The longest addresses still fit. */
    assert_int_equal(addr_parse("2001:2:ffff:ffff:ffff:ffff:ffff:ffff", &a6), LZR_OK);
    capture_filter(buf, sizeof buf, 0xffffffffu, &a6, 65535, 65535);
    assert_true(strlen(buf) < sizeof buf - 1);
    assert_non_null(strstr(buf, "portrange 65535-65535"));
}

static void test_filter_passes_both_families(void **state)
{
    (void)state;
    char both[CAPTURE_FILTER_MAX], v4only[CAPTURE_FILTER_MAX];
    lzr_addr_t us6, them6, other6, us4 = {.family = ADDR_IPV4, .v4 = SCAN4};
    lzr_addr_t them4 = {.family = ADDR_IPV4, .v4 = 0xc6121001u};
    assert_int_equal(addr_parse("2001:2::100", &us6), LZR_OK);
    assert_int_equal(addr_parse("2001:2:0:16::10", &them6), LZR_OK);
    assert_int_equal(addr_parse("2001:2::101", &other6), LZR_OK);
    capture_filter(both, sizeof both, SCAN4, &us6, 40000, 65535);
    capture_filter(v4only, sizeof v4only, SCAN4, NULL, 40000, 65535);
    assert_true(passes(both, &them4, &us4, 40001));
    assert_true(passes(both, &them6, &us6, 40001));
    assert_true(passes(both, &them6, &us6, 65535));
    assert_false(passes(both, &them6, &us6, 39999));
    assert_false(passes(both, &them6, &other6, 40001));
    assert_false(passes(v4only, &them6, &us6, 40001));
    assert_true(passes(v4only, &them4, &us4, 40001));
}

/* A SYN-ACK to our IPv6 address with a destination-options header before its TCP header passes
 * the filter, and packet.c reads its ports and flags past that header; the same to another
 * address, or an ICMPv6 packet to ours, does not pass. */
static void test_extension_headers(void **state)
{
    (void)state;
    char both[CAPTURE_FILTER_MAX], v6only[CAPTURE_FILTER_MAX];
    lzr_addr_t us6, them6, other6;
    assert_int_equal(addr_parse("2001:2::100", &us6), LZR_OK);
    assert_int_equal(addr_parse("2001:2:0:16::10", &them6), LZR_OK);
    assert_int_equal(addr_parse("2001:2::101", &other6), LZR_OK);
    capture_filter(both, sizeof both, SCAN4, &us6, 40000, 65535);
    capture_filter(v6only, sizeof v6only, 0, &us6, 40000, 65535);
    const lzr_addr_t *dst[2] = {&us6, &other6};
    for (int k = 0; k < 2; k++) {
        pkt_out_t o = {.seg = {.src = them6,
                               .dst = *dst[k],
                               .sport = 443,
                               .dport = 40007,
                               .seq = 5,
                               .ack = 9,
                               .flags = TCP_SYN | TCP_ACK,
                               .window = 1024,
                               .ttl = 60}};
        uint8_t frame[PACKET_MAX_FRAME + 8];
        size_t len = packet_build(frame, PACKET_MAX_FRAME, &o);
        assert_true(len > 0);
        len = add_ext_header(frame, len, 60);
        assert_int_equal(filter_passes(both, frame, len), k == 0);
        assert_int_equal(filter_passes(v6only, frame, len), k == 0);
        pkt_in_t p;
        assert_int_equal(packet_parse(frame, len, DLT_EN10MB, &p), LZR_OK);
        assert_int_equal(p.sport, 443);
        assert_int_equal(p.dport, 40007);
        assert_int_equal(p.flags, TCP_SYN | TCP_ACK);
        assert_int_equal(p.ack, 9);
        /* The same bytes as ICMPv6 (next header 58) are not let through. */
        frame[14 + 6] = 58;
        assert_false(filter_passes(both, frame, len));
    }
}

static void count_frame(void *ctx, const uint8_t *frame, size_t caplen)
{
    (void)frame;
    (void)caplen;
    (*(int *)ctx)++;
}

/* Connection attempts to a closed port of the range: each SYN (and the kernel's RST) crosses lo
 * and passes the capture's filter. */
static void knock(int n, uint16_t port)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fd >= 0);
        connect(fd, (struct sockaddr *)&to, sizeof to);
        close(fd);
    }
}

/* A capture of lo on ports 40000-40100 in a network namespace of the test's own; the test
 * skips where it cannot have one (not root). */
static capture_t *lo_capture(void)
{
    if (!own_netns())
        skip();
    char err[256] = "";
    capture_t *c = capture_open("lo", INADDR_LOOPBACK, NULL, 40000, 40100, err, sizeof err);
    assert_non_null(c);
    return c;
}

static void test_seen_waits_for_unread_frames(void **state)
{
    (void)state;
    capture_t *c = lo_capture();
    uint64_t t0 = clock_mono_ns() / 1000;
    knock(50, 40050);
    uint64_t t1 = clock_mono_ns() / 1000;
    usleep(200000); /* the kernel's block is retired; the clock moves 200 ms past the frames */
    int n = 0;
    assert_int_equal(capture_dispatch(c, count_frame, &n, 1), 1);
    uint64_t seen = capture_seen_us(c);
    assert_true(seen >= t0 - 1000 && seen <= t1 + 1000); /* the frame read, not the clock */
    assert_true(capture_lag_us(c) >= 150000);
    int rest = 0;
    assert_true(capture_dispatch(c, count_frame, &rest, 10000) >= 49);
    uint64_t now = clock_mono_ns() / 1000;
    assert_true(capture_seen_us(c) > t1 + 150000); /* all read: the clock, less the open block */
    assert_true(capture_seen_us(c) <= now);
    capture_close(&c);
}

/* Frames of n knocks that reach c, after the kernel's blocks have been handed over. */
static int knocked(capture_t *c, int n)
{
    knock(n, 40050);
    usleep(50000); /* past the 10 ms block timeout */
    int got = 0;
    while (capture_dispatch(c, count_frame, &got, 10000) > 0)
        ;
    return got;
}

/* A handle set idle passes nothing until it is given a filter again. */
static void test_idle_passes_nothing(void **state)
{
    (void)state;
    capture_t *c = lo_capture();
    char err[256] = "";
    assert_true(knocked(c, 10) >= 10);
    knock(10, 40050); /* waiting when it goes idle: dropped */
    usleep(50000);
    capture_idle(c);
    assert_int_equal(knocked(c, 10), 0);
    assert_int_equal(capture_refilter(c, INADDR_LOOPBACK, NULL, 40000, 40100, err, sizeof err),
                     LZR_OK);
    assert_true(knocked(c, 10) >= 10);
    capture_close(&c);
}

/* Sends frame f of len bytes out of interface ifindex with a packet socket of its own. */
static void send_out(int ifindex, const uint8_t *f, size_t len)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    assert_true(fd >= 0);
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};
    assert_int_equal(sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)len);
    close(fd);
}

/* The pair's ends have no IPv6: once up, the kernel would send MLD reports, whose hop-by-hop
 * header the capture's filter hands up for the parser to judge, and one arriving within the
 * test's 100 ms made a second frame. */
static void test_own_frames_not_captured(void **state)
{
    (void)state;
    if (!own_netns() || !veth_pair("lzrt0", "lzrt1"))
        skip();
    char err[256] = "";
    capture_t *c = capture_open("lzrt0", SCAN4, NULL, 40000, 40100, err, sizeof err);
    assert_non_null(c);
    lzr_addr_t them = addr_ipv4(0xc6130001u), us = addr_ipv4(SCAN4);
    uint8_t frame[PACKET_MAX_FRAME];
    size_t len = synack(frame, &them, &us, 40050);
    send_out((int)if_nametoindex("lzrt0"), frame, len); /* leaves the captured side */
    send_out((int)if_nametoindex("lzrt1"), frame, len); /* comes in on it */
    usleep(100000);
    int n = 0;
    assert_int_equal(capture_dispatch(c, count_frame, &n, 100), 1);
    capture_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_text),
        cmocka_unit_test(test_filter_passes_both_families),
        cmocka_unit_test(test_extension_headers),
        cmocka_unit_test(test_seen_waits_for_unread_frames),
        cmocka_unit_test(test_idle_passes_nothing),
        cmocka_unit_test(test_own_frames_not_captured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
