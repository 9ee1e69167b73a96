/*
 * Unit tests for worker/capture's filter: the text for an IPv4 scan IP alone and for both
 * families, compiled by libpcap and run (pcap_offline_filter) over frames packet.c builds — TCP
 * to our IPv4 or IPv6 address on the source-port range passes; another port, another address,
 * or our IPv6 address when the scan has none, does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <pcap/pcap.h>

#include "common/err.h"
#include "worker/capture.h"
#include "worker/packet.h"

#define SCAN4 0xc6120064u /* 198.18.0.100 */

/* True when the filter text passes a TCP frame from src to dst:dport. */
static bool passes(const char *filter, const lzr_addr_t *src, const lzr_addr_t *dst, uint16_t dport)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 1600);
    struct bpf_program prog;
    assert_int_equal(pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0);
    pkt_out_t o = {.seg = {.src = *src,
                           .dst = *dst,
                           .sport = 80,
                           .dport = dport,
                           .flags = TCP_SYN | TCP_ACK,
                           .window = 1024,
                           .ttl = 60}};
    uint8_t frame[PACKET_MAX_FRAME];
    size_t len = packet_build(frame, sizeof frame, &o);
    assert_true(len > 0);
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    bool ok = pcap_offline_filter(&prog, &h, frame) != 0;
    pcap_freecode(&prog);
    pcap_close(p);
    return ok;
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
    assert_string_equal(buf, "tcp and (dst host 198.18.0.100 or dst host 2001:2::100) and dst "
                             "portrange 40000-65535");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_text),
        cmocka_unit_test(test_filter_passes_both_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
