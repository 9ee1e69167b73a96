/*
 * Unit tests for worker/packet: built frames are checked byte by byte and their checksums are
 * recomputed here independently; build → parse round trips for SYN, SYN-ACK with data and RST;
 * every link type; Ethernet padding never counts as payload; VLAN tags and IP options are skipped;
 * every malformed header and every truncation is rejected, on exactly sized heap copies so ASan
 * catches any read past the end. The same for IPv6: its TCP checksum over RFC 8200's
 * pseudo-header, the hop limit, link types, extension headers skipped (and their limits),
 * fragments refused, and lying payload lengths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pcap/dlt.h>

#include "common/addr.h"
#include "common/err.h"
#include "worker/packet.h"

static const uint8_t mac_a[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static pkt_out_t base_pkt(void)
{
    pkt_out_t p;
    memset(&p, 0, sizeof(p));
    memcpy(p.src_mac, mac_a, 6);
    memcpy(p.dst_mac, mac_b, 6);
    p.seg.src = (lzr_addr_t){.family = ADDR_IPV4, .v4 = 0xc6120001}; /* 198.18.0.1 */
    p.seg.dst = (lzr_addr_t){.family = ADDR_IPV4, .v4 = 0xc6130a0b}; /* 198.19.10.11 */
    p.seg.sport = 40001;
    p.seg.dport = 8080;
    p.seg.seq = 0xdeadbeef;
    p.seg.ack = 0;
    p.seg.flags = TCP_SYN;
    p.seg.window = 65535;
    p.seg.ttl = 64;
    p.ip_id = 0x1234;
    return p;
}

/* Straightforward RFC 1071 sum, written apart from the module's: 16-bit words, end-around carry. */
static uint16_t ones_sum(const uint8_t *p, size_t n, uint32_t start)
{
    uint64_t s = start;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] * 256 + p[i + 1];
    if (n % 2)
        s += (uint32_t)p[n - 1] * 256;
    while (s > 0xffff)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* Asserts that both checksums of an Ethernet/IPv4/TCP frame verify. */
static void assert_checksums_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    size_t ihl = (ip[0] & 15) * 4;
    size_t total = (size_t)ip[2] * 256 + ip[3];
    assert_true(14 + total <= len);
    assert_int_equal(ones_sum(ip, ihl, 0), 0xffff);
    size_t seg = total - ihl;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)(seg >> 8);
    pseudo[11] = (uint8_t)seg;
    uint16_t ps = ones_sum(pseudo, 12, 0);
    assert_int_equal(ones_sum(ip + ihl, seg, ps), 0xffff);
}

/* A heap copy of exactly n bytes, so a read past n is an ASan error. */
static uint8_t *exact_copy(const uint8_t *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, src, n);
    return p;
}

static int parse_exact(const uint8_t *src, size_t n, int dlt, pkt_in_t *in)
{
    uint8_t *c = exact_copy(src, n);
    int rc = packet_parse(c, n, dlt, in);
    if (rc == LZR_OK) {
        /* The payload must lie inside the copy; re-point it at src so callers can inspect it. */
        assert_true(in->payload >= c && in->payload + in->payload_len <= c + n);
        in->payload = src + (in->payload - c);
    }
    free(c);
    return rc;
}

static void assert_matches(const pkt_in_t *in, const pkt_out_t *out)
{
    const pkt_seg_t *p = &out->seg;
    assert_int_equal(in->src.family, p->src.family);
    assert_int_equal(in->dst.family, p->dst.family);
    assert_true(addr_equal(&in->src, &p->src));
    assert_true(addr_equal(&in->dst, &p->dst));
    assert_int_equal(in->sport, p->sport);
    assert_int_equal(in->dport, p->dport);
    assert_int_equal(in->seq, p->seq);
    assert_int_equal(in->ack, p->ack);
    assert_int_equal(in->flags, p->flags);
    assert_int_equal(in->window, p->window);
    assert_int_equal(in->ttl, p->ttl);
    assert_int_equal(in->payload_len, p->payload_len);
    if (p->payload_len)
        assert_memory_equal(in->payload, p->payload, p->payload_len);
}

static void test_syn_layout_and_checksums(void **state)
{
    (void)state;
    uint8_t f[PACKET_MAX_FRAME];
    pkt_out_t p = base_pkt();
    p.mss_option = true;
    size_t n = packet_build(f, sizeof(f), &p);
    assert_int_equal(n, 14 + 20 + 24);

    assert_memory_equal(f, mac_b, 6);
    assert_memory_equal(f + 6, mac_a, 6);
    assert_int_equal(f[12], 0x08);
    assert_int_equal(f[13], 0x00);
    const uint8_t *ip = f + 14;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(ip[2] * 256 + ip[3], 44);
    assert_int_equal(ip[4] * 256 + ip[5], 0x1234);
    assert_int_equal(ip[6], 0x40); /* DF, offset 0 */
    assert_int_equal(ip[7], 0x00);
    assert_int_equal(ip[8], 64);
    assert_int_equal(ip[9], 6);
    const uint8_t saddr[4] = {198, 18, 0, 1}, daddr[4] = {198, 19, 10, 11};
    assert_memory_equal(ip + 12, saddr, 4);
    assert_memory_equal(ip + 16, daddr, 4);
    const uint8_t *tcp = ip + 20;
    assert_int_equal(tcp[0] * 256 + tcp[1], 40001);
    assert_int_equal(tcp[2] * 256 + tcp[3], 8080);
    const uint8_t seq[4] = {0xde, 0xad, 0xbe, 0xef};
    assert_memory_equal(tcp + 4, seq, 4);
    assert_int_equal(tcp[12], 6 << 4);
    assert_int_equal(tcp[13], TCP_SYN);
    assert_int_equal(tcp[14] * 256 + tcp[15], 65535);
    const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
    assert_memory_equal(tcp + 20, mss, 4);
    assert_checksums_ok(f, n);

    /* Without the option: data offset 5 and a 40-byte IP packet. */
    p.mss_option = false;
    n = packet_build(f, sizeof(f), &p);
    assert_int_equal(n, 54);
    assert_int_equal(f[14 + 20 + 12], 5 << 4);
    assert_checksums_ok(f, n);
}

/* A fixed vector worked out by hand: the IPv4 header 45 00 00 28 00 01 40 00 40 06 [sum]
 * 0a 00 00 01 0a 00 00 02 has words summing to 0xd932 (no carry), so its checksum is 0x26cd. */
static void test_known_ip_checksum(void **state)
{
    (void)state;
    uint8_t f[64];
    pkt_out_t p = base_pkt();
    p.seg.src.v4 = 0x0a000001;
    p.seg.dst.v4 = 0x0a000002;
    p.ip_id = 1;
    p.seg.ttl = 64;
    p.seg.flags = TCP_RST;
    size_t n = packet_build(f, sizeof(f), &p);
    assert_int_equal(n, 54);
    assert_int_equal(f[24], 0x26);
    assert_int_equal(f[25], 0xcd);
}

static void assert_checksum6_ok(const uint8_t *f, size_t len);

/* Builds p, expects a frame of want bytes whose checksums verify (IPv4's or IPv6's, as the
 * EtherType says), and parses it back to p's fields. */
static void roundtrip(const pkt_out_t *p, size_t want)
{
    uint8_t f[PACKET_MAX_FRAME];
    pkt_in_t in;
    size_t n = packet_build(f, sizeof(f), p);
    assert_int_equal(n, want);
    if (f[12] == 0x86)
        assert_checksum6_ok(f, n);
    else
        assert_checksums_ok(f, n);
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);
    assert_matches(&in, p);
}

/* Round trips over one family (base gives its packet, hdr its header bytes without options): a
 * SYN with the MSS option, a SYN-ACK the other way with a zero window and TTL (or hop limit) 1,
 * data of odd length with 255, and an RST acknowledging 0xffffffff. */
static void roundtrips(pkt_out_t (*base)(void), size_t hdr)
{
    static const uint8_t data[] = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nodd"; /* odd length */
    pkt_out_t syn = base();
    syn.mss_option = true;
    roundtrip(&syn, hdr + 4);

    pkt_out_t sa = base();
    sa.seg.src = syn.seg.dst;
    sa.seg.dst = syn.seg.src;
    sa.seg.flags = TCP_SYN | TCP_ACK;
    sa.seg.ack = 0xdeadbef0;
    sa.seg.window = 0;
    sa.seg.ttl = 1;
    roundtrip(&sa, hdr);

    pkt_out_t d = sa;
    d.seg.flags = TCP_ACK | TCP_PSH;
    d.seg.ttl = 255;
    d.seg.payload = data;
    d.seg.payload_len = sizeof(data) - 1;
    assert_int_equal(d.seg.payload_len % 2, 1);
    roundtrip(&d, hdr + d.seg.payload_len);

    pkt_out_t rst = base();
    rst.seg.flags = TCP_RST | TCP_ACK;
    rst.seg.seq = 7;
    rst.seg.ack = 0xffffffff;
    roundtrip(&rst, hdr);
}

static void test_roundtrip_syn_synack_rst(void **state)
{
    (void)state;
    roundtrips(base_pkt, 54);
}

static void test_build_capacity(void **state)
{
    (void)state;
    uint8_t f[PACKET_MAX_FRAME];
    static uint8_t big[1500];
    pkt_out_t p = base_pkt();
    p.seg.payload = big;
    p.seg.payload_len = 100;
    assert_int_equal(packet_build(f, 153, &p), 0);
    assert_int_equal(packet_build(f, 154, &p), 154);
    p.seg.payload_len = 1460;
    assert_int_equal(packet_build(f, sizeof(f), &p), PACKET_MAX_FRAME);
    p.seg.payload_len = 1461;
    assert_int_equal(packet_build(f, sizeof(f), &p), 0);
    /* A payload that cannot fit the 16-bit IP total length is refused whatever the buffer. */
    p.seg.payload_len = 70000;
    assert_int_equal(packet_build(f, SIZE_MAX, &p), 0);
}

/* Short frames are padded to 60 bytes by the sender's NIC; the padding is not TCP data. */
static void test_ethernet_padding_not_payload(void **state)
{
    (void)state;
    uint8_t f[64];
    pkt_out_t p = base_pkt();
    p.seg.flags = TCP_RST;
    size_t n = packet_build(f, sizeof(f), &p);
    assert_int_equal(n, 54);
    memset(f + n, 0xaa, 6);
    pkt_in_t in;
    assert_int_equal(parse_exact(f, 60, DLT_EN10MB, &in), LZR_OK);
    assert_int_equal(in.payload_len, 0);
    assert_int_equal(in.flags, TCP_RST);

    /* Same with 3 bytes of data: 57 bytes padded to 60 still carries exactly 3. */
    p.seg.payload = (const uint8_t *)"abc";
    p.seg.payload_len = 3;
    n = packet_build(f, sizeof(f), &p);
    assert_int_equal(n, 57);
    memset(f + n, 0, 3);
    assert_int_equal(parse_exact(f, 60, DLT_EN10MB, &in), LZR_OK);
    assert_int_equal(in.payload_len, 3);
    assert_memory_equal(in.payload, "abc", 3);
}

static size_t build_vlan(uint8_t *out, const pkt_out_t *p, uint16_t tpid)
{
    uint8_t f[PACKET_MAX_FRAME];
    size_t n = packet_build(f, sizeof(f), p);
    assert_true(n > 0);
    memcpy(out, f, 12);
    out[12] = (uint8_t)(tpid >> 8);
    out[13] = (uint8_t)tpid;
    out[14] = 0x00; /* PCP 0, VID 42 */
    out[15] = 42;
    memcpy(out + 16, f + 12, n - 12);
    return n + 4;
}

static void test_vlan_tagged(void **state)
{
    (void)state;
    uint8_t f[PACKET_MAX_FRAME + 4];
    pkt_out_t p = base_pkt();
    p.seg.flags = TCP_SYN | TCP_ACK;
    p.seg.payload = (const uint8_t *)"SSH-2.0-x\r\n";
    p.seg.payload_len = 11;
    size_t n = build_vlan(f, &p, 0x8100);
    pkt_in_t in;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);
    assert_matches(&in, &p);

    /* The 802.1ad TPID is read the same way. */
    size_t m = build_vlan(f, &p, 0x88a8);
    assert_int_equal(parse_exact(f, m, DLT_EN10MB, &in), LZR_OK);
    assert_matches(&in, &p);

    /* Two stacked tags: only one is unwrapped, and 0x8100 inside is not IPv4. */
    uint8_t g[PACKET_MAX_FRAME + 8];
    memcpy(g, f, 16);
    g[16] = 0x81;
    g[17] = 0x00;
    g[18] = 0x00;
    g[19] = 7;
    memcpy(g + 20, f + 16, m - 16);
    assert_int_equal(parse_exact(g, m + 4, DLT_EN10MB, &in), LZR_EPARSE);

    /* A tag saying IPv6 over an IPv4 packet is rejected: the version nibble disagrees. */
    f[16] = 0x86;
    f[17] = 0xdd;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_EPARSE);

    /* Every truncation of the tagged frame is rejected. */
    n = build_vlan(f, &p, 0x8100);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(parse_exact(f, k, DLT_EN10MB, &in), LZR_EPARSE);
}

/* Writes a Linux cooked header (SLL) for protocol at g: packet type, ARPHRD, address length, 8
 * address bytes, protocol; 16 bytes. */
static void sll_header(uint8_t *g, uint16_t protocol)
{
    memset(g, 0, 16);
    g[1] = 0; /* to us */
    g[3] = 1; /* ARPHRD_ETHER */
    g[5] = 6; /* address length */
    memcpy(g + 6, mac_b, 6);
    g[14] = (uint8_t)(protocol >> 8);
    g[15] = (uint8_t)protocol;
}

/* One family (base's packet, whose EtherType is ethertype) under raw IP (both DLT_RAW values
 * and LINKTYPE_RAW), DLT_IPV4 (IPv4 only), SLL and SLL2, with every truncation of the raw and
 * SLL2 forms refused. */
static void link_types(pkt_out_t (*base)(void), uint16_t ethertype)
{
    uint8_t f[PACKET_MAX_FRAME], g[PACKET_MAX_FRAME + 16];
    pkt_out_t p = base();
    p.seg.flags = TCP_SYN | TCP_ACK;
    p.seg.payload = (const uint8_t *)"+OK\r\n";
    p.seg.payload_len = 5;
    size_t n = packet_build(f, sizeof(f), &p);
    const uint8_t *ip = f + 14;
    size_t iplen = n - 14;
    pkt_in_t in;

    const int raw_types[] = {DLT_RAW, 12, 14, 101};
    for (size_t i = 0; i < sizeof(raw_types) / sizeof(raw_types[0]); i++) {
        memset(&in, 0, sizeof(in));
        assert_int_equal(parse_exact(ip, iplen, raw_types[i], &in), LZR_OK);
        assert_matches(&in, &p);
        for (size_t k = 0; k < iplen; k++)
            assert_int_equal(parse_exact(ip, k, raw_types[i], &in), LZR_EPARSE);
    }
    bool v4 = ethertype == 0x0800;
    assert_int_equal(parse_exact(ip, iplen, DLT_IPV4, &in), v4 ? LZR_OK : LZR_EPARSE);
    if (v4)
        assert_matches(&in, &p);

    sll_header(g, ethertype);
    memcpy(g + 16, ip, iplen);
    assert_int_equal(parse_exact(g, iplen + 16, DLT_LINUX_SLL, &in), LZR_OK);
    assert_matches(&in, &p);
    /* Parsed as Ethernet, the same bytes have 0x0000 at offset 12: no IP EtherType. */
    assert_int_equal(parse_exact(g, iplen + 16, DLT_EN10MB, &in), LZR_EPARSE);
    sll_header(g, v4 ? 0x86dd : 0x0800); /* the other family said, this one inside */
    assert_int_equal(parse_exact(g, iplen + 16, DLT_LINUX_SLL, &in), LZR_EPARSE);

    /* SLL2: protocol first, then reserved, interface index, ARPHRD, type, address length and 8
     * address bytes: 20 bytes in all. */
    memset(g, 0, 20);
    g[0] = (uint8_t)(ethertype >> 8);
    g[1] = (uint8_t)ethertype;
    g[7] = 3; /* interface 3 */
    g[9] = 1; /* ARPHRD_ETHER */
    g[11] = 6;
    memcpy(g + 12, mac_b, 6);
    memcpy(g + 20, ip, iplen);
    assert_int_equal(parse_exact(g, iplen + 20, DLT_LINUX_SLL2, &in), LZR_OK);
    assert_matches(&in, &p);
    for (size_t k = 0; k < iplen + 20; k++)
        assert_int_equal(parse_exact(g, k, DLT_LINUX_SLL2, &in), LZR_EPARSE);
}

static void test_raw_and_sll(void **state)
{
    (void)state;
    link_types(base_pkt, 0x0800);

    /* An Ethernet frame read as raw IP starts with a MAC, not version 4. */
    uint8_t f[PACKET_MAX_FRAME];
    pkt_out_t p = base_pkt();
    size_t n = packet_build(f, sizeof(f), &p);
    pkt_in_t in;
    assert_int_equal(parse_exact(f, n, DLT_RAW, &in), LZR_EPARSE);
    /* Link types we do not speak. */
    assert_int_equal(parse_exact(f, n, DLT_NULL, &in), LZR_EPARSE);
    assert_int_equal(parse_exact(f, n, -1, &in), LZR_EPARSE);
}

static void test_every_truncation(void **state)
{
    (void)state;
    static const uint8_t data[] = "EHLO lab\r\n";
    uint8_t f[PACKET_MAX_FRAME];
    pkt_out_t p = base_pkt();
    p.seg.flags = TCP_ACK | TCP_PSH;
    p.seg.payload = data;
    p.seg.payload_len = sizeof(data) - 1;
    p.mss_option = true;
    size_t n = packet_build(f, sizeof(f), &p);
    pkt_in_t in;
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(parse_exact(f, k, DLT_EN10MB, &in), LZR_EPARSE);
        if (k >= 14)
            assert_int_equal(parse_exact(f + 14, k - 14, DLT_RAW, &in), LZR_EPARSE);
    }
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);
    assert_int_equal(in.payload_len, p.seg.payload_len);
    assert_int_equal(packet_parse(NULL, 0, DLT_EN10MB, &in), LZR_EPARSE);
}

/* Builds a valid frame, lets mutate() damage it, and expects the parser's verdict. */
static void expect_after(void (*mutate)(uint8_t *f, size_t *n), int want)
{
    uint8_t f[PACKET_MAX_FRAME + 64];
    pkt_out_t p = base_pkt();
    p.seg.flags = TCP_ACK;
    p.seg.payload = (const uint8_t *)"0123456789";
    p.seg.payload_len = 10;
    size_t n = packet_build(f, sizeof(f), &p);
    mutate(f, &n);
    pkt_in_t in;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), want);
}

static void set_total(uint8_t *f, size_t total)
{
    f[16] = (uint8_t)(total >> 8);
    f[17] = (uint8_t)total;
}

static void m_ethertype_ipv6(uint8_t *f, size_t *n)
{
    (void)n; /* the type says IPv6, the header version 4 */
    f[12] = 0x86;
    f[13] = 0xdd;
}
static void m_ethertype_arp(uint8_t *f, size_t *n)
{
    (void)n;
    f[13] = 0x06;
}
static void m_version6(uint8_t *f, size_t *n)
{
    (void)n;
    f[14] = 0x65;
}
static void m_ihl4(uint8_t *f, size_t *n)
{
    (void)n;
    f[14] = 0x44;
}
static void m_ihl_past_end(uint8_t *f, size_t *n)
{
    (void)n;
    f[14] = 0x4f; /* 60-byte header, total 50 */
}
static void m_total_lt_header(uint8_t *f, size_t *n)
{
    (void)n;
    set_total(f, 19);
}
static void m_total_gt_captured(uint8_t *f, size_t *n)
{
    set_total(f, *n - 14 + 1);
}
static void m_more_fragments(uint8_t *f, size_t *n)
{
    (void)n;
    f[20] |= 0x20;
}
static void m_frag_offset(uint8_t *f, size_t *n)
{
    (void)n;
    f[21] = 0x01;
}
static void m_frag_offset_high(uint8_t *f, size_t *n)
{
    (void)n;
    f[20] = 0x50; /* DF and offset bits 0x1000 */
}
static void m_udp(uint8_t *f, size_t *n)
{
    (void)n;
    f[23] = 17;
}
static void m_doff4(uint8_t *f, size_t *n)
{
    (void)n;
    f[34 + 12] = 0x40;
}
static void m_doff_past_segment(uint8_t *f, size_t *n)
{
    (void)n;
    f[34 + 12] = 0xf0; /* 60-byte header in a 30-byte segment */
}
static void m_segment_lt_tcp_header(uint8_t *f, size_t *n)
{
    (void)n;
    set_total(f, 20 + 19);
}
static void m_doff_eats_payload(uint8_t *f, size_t *n)
{
    (void)n;
    f[34 + 12] = 0x70; /* 28-byte header: 2 bytes of data remain */
}
static void m_total_shorter_than_frame(uint8_t *f, size_t *n)
{
    (void)n;
    set_total(f, 20 + 20 + 4); /* only 4 of the 10 bytes are the segment's */
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    expect_after(m_ethertype_ipv6, LZR_EPARSE);
    expect_after(m_ethertype_arp, LZR_EPARSE);
    expect_after(m_version6, LZR_EPARSE);
    expect_after(m_ihl4, LZR_EPARSE);
    expect_after(m_ihl_past_end, LZR_EPARSE);
    expect_after(m_total_lt_header, LZR_EPARSE);
    expect_after(m_total_gt_captured, LZR_EPARSE);
    expect_after(m_more_fragments, LZR_EPARSE);
    expect_after(m_frag_offset, LZR_EPARSE);
    expect_after(m_frag_offset_high, LZR_EPARSE);
    expect_after(m_udp, LZR_EPARSE);
    expect_after(m_doff4, LZR_EPARSE);
    expect_after(m_doff_past_segment, LZR_EPARSE);
    expect_after(m_segment_lt_tcp_header, LZR_EPARSE);
    /* Still well-formed: a longer TCP header, and a total length shorter than the frame. */
    expect_after(m_doff_eats_payload, LZR_OK);
    expect_after(m_total_shorter_than_frame, LZR_OK);

    uint8_t f[PACKET_MAX_FRAME];
    pkt_out_t p = base_pkt();
    p.seg.payload = (const uint8_t *)"0123456789";
    p.seg.payload_len = 10;
    size_t n = packet_build(f, sizeof(f), &p);
    pkt_in_t in;
    f[34 + 12] = 0x70;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);
    assert_int_equal(in.payload_len, 2);
    assert_memory_equal(in.payload, "89", 2);
    f[34 + 12] = 0x50;
    set_total(f, 44);
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);
    assert_int_equal(in.payload_len, 4);
    assert_memory_equal(in.payload, "0123", 4);
}

/* A received packet may carry IP options: they are skipped, not mistaken for TCP. */
static void test_ip_options_skipped(void **state)
{
    (void)state;
    uint8_t f[PACKET_MAX_FRAME], g[PACKET_MAX_FRAME + 8];
    pkt_out_t p = base_pkt();
    p.seg.flags = TCP_SYN | TCP_ACK;
    p.seg.payload = (const uint8_t *)"hello";
    p.seg.payload_len = 5;
    size_t n = packet_build(f, sizeof(f), &p);
    /* Insert 8 bytes of options (a timestamp-ish blob ending in NOPs/EOL) after the IP header. */
    memcpy(g, f, 34);
    const uint8_t opts[8] = {0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00};
    memcpy(g + 34, opts, 8);
    memcpy(g + 42, f + 34, n - 34);
    g[14] = 0x47;
    set_total(g, n - 14 + 8);
    pkt_in_t in;
    assert_int_equal(parse_exact(g, n + 8, DLT_EN10MB, &in), LZR_OK);
    assert_matches(&in, &p);
    for (size_t k = 0; k < n + 8; k++)
        assert_int_equal(parse_exact(g, k, DLT_EN10MB, &in), LZR_EPARSE);
}

/* ---- IPv6 ---- */

#define E6 54 /* Ethernet + IPv6 header: where TCP (or the first extension header) starts */

static pkt_out_t base_pkt6(void)
{
    pkt_out_t p = base_pkt();
    assert_int_equal(addr_parse("2001:2::1", &p.seg.src), LZR_OK);
    assert_int_equal(addr_parse("2001:2:0:20::b", &p.seg.dst), LZR_OK);
    return p;
}

/* Asserts that the TCP checksum of an Ethernet/IPv6/TCP frame without extension headers
 * verifies over RFC 8200 §8.1's pseudo-header: source, destination, 32-bit upper-layer length,
 * three zero bytes, next header. */
static void assert_checksum6_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    size_t seg = (size_t)ip[4] * 256 + ip[5];
    assert_true(E6 + seg <= len);
    assert_int_equal(ip[6], 6);
    uint8_t pseudo[40];
    memcpy(pseudo, ip + 8, 32);
    pseudo[32] = 0;
    pseudo[33] = 0;
    pseudo[34] = (uint8_t)(seg >> 8);
    pseudo[35] = (uint8_t)seg;
    memset(pseudo + 36, 0, 3);
    pseudo[39] = 6;
    uint16_t ps = ones_sum(pseudo, sizeof pseudo, 0);
    assert_int_equal(ones_sum(ip + 40, seg, ps), 0xffff);
}

static void test_ipv6_syn_layout_and_checksum(void **state)
{
    (void)state;
    uint8_t f[PACKET_MAX_FRAME];
    pkt_out_t p = base_pkt6();
    p.mss_option = true;
    p.seg.ttl = 61;
    size_t n = packet_build(f, sizeof(f), &p);
    assert_int_equal(n, 14 + 40 + 24);
    assert_memory_equal(f, mac_b, 6);
    assert_memory_equal(f + 6, mac_a, 6);
    assert_int_equal(f[12], 0x86);
    assert_int_equal(f[13], 0xdd);
    const uint8_t *ip = f + 14;
    const uint8_t vtf[4] = {0x60, 0, 0, 0}; /* version 6, traffic class and flow label 0 */
    assert_memory_equal(ip, vtf, 4);
    assert_int_equal(ip[4] * 256 + ip[5], 24);
    assert_int_equal(ip[6], 6);
    assert_int_equal(ip[7], 61);
    const uint8_t src[16] = {0x20, 0x01, 0, 2, [15] = 1};
    const uint8_t dst[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0x20, [15] = 0x0b};
    assert_memory_equal(ip + 8, src, 16);
    assert_memory_equal(ip + 24, dst, 16);
    const uint8_t *tcp = ip + 40;
    assert_int_equal(tcp[0] * 256 + tcp[1], 40001);
    assert_int_equal(tcp[2] * 256 + tcp[3], 8080);
    assert_int_equal(tcp[12], 6 << 4);
    assert_int_equal(tcp[13], TCP_SYN);
    const uint8_t mss[4] = {2, 4, 0x05, 0xa0}; /* 1440: IPv6's header is 20 bytes longer */
    assert_memory_equal(tcp + 20, mss, 4);
    assert_checksum6_ok(f, n);

    /* One bit of either address changes the checksum: both are in the pseudo-header. */
    uint16_t sum = (uint16_t)(tcp[16] << 8 | tcp[17]);
    p.seg.dst.v6[15] ^= 1;
    packet_build(f, sizeof(f), &p);
    assert_int_not_equal(tcp[16] << 8 | tcp[17], sum);
    assert_checksum6_ok(f, n);
    p.seg.dst.v6[15] ^= 1;
    p.seg.src.v6[0] ^= 0x80;
    packet_build(f, sizeof(f), &p);
    assert_int_not_equal(tcp[16] << 8 | tcp[17], sum);
    assert_checksum6_ok(f, n);
}

static void test_ipv6_roundtrip(void **state)
{
    (void)state;
    roundtrips(base_pkt6, 74);
}

static void test_ipv6_build_limits(void **state)
{
    (void)state;
    static uint8_t f[14 + 40 + 65535 + 16], big[65536];
    pkt_out_t p = base_pkt6();
    p.seg.payload = big;
    p.seg.payload_len = 1440;
    assert_int_equal(packet_build(f, PACKET_MAX_FRAME, &p), PACKET_MAX_FRAME);
    p.seg.payload_len = 1441;
    assert_int_equal(packet_build(f, PACKET_MAX_FRAME, &p), 0);
    /* The payload length is 16 bits and does not count the IPv6 header, so IPv6 carries 20
     * bytes more than IPv4 (whose total length does). */
    p.seg.payload_len = 65535 - 20;
    assert_int_equal(packet_build(f, sizeof f, &p), 14 + 40 + 65535);
    assert_checksum6_ok(f, 14 + 40 + 65535);
    p.seg.payload_len++;
    assert_int_equal(packet_build(f, SIZE_MAX, &p), 0);
    pkt_out_t v4 = base_pkt();
    v4.seg.payload = big;
    v4.seg.payload_len = 65535 - 40;
    assert_int_equal(packet_build(f, sizeof f, &v4), 14 + 65535);
    v4.seg.payload_len++;
    assert_int_equal(packet_build(f, SIZE_MAX, &v4), 0);

    /* Mixed or missing families are the caller's mistake and build nothing. */
    p = base_pkt6();
    p.seg.dst = base_pkt().seg.dst;
    assert_int_equal(packet_build(f, sizeof f, &p), 0);
    p = base_pkt();
    p.seg.src = base_pkt6().seg.src;
    assert_int_equal(packet_build(f, sizeof f, &p), 0);
    p.seg.src.family = p.seg.dst.family = ADDR_NONE;
    assert_int_equal(packet_build(f, sizeof f, &p), 0);
}

/* IPv6 under every link type that can carry it (DLT_IPV4 cannot), and behind a VLAN tag. */
static void test_ipv6_link_types(void **state)
{
    (void)state;
    link_types(base_pkt6, 0x86dd);

    uint8_t g[PACKET_MAX_FRAME + 4];
    pkt_out_t p = base_pkt6();
    p.seg.payload = (const uint8_t *)"SSH-2.0-x\r\n";
    p.seg.payload_len = 11;
    size_t m = build_vlan(g, &p, 0x8100);
    pkt_in_t in;
    assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_OK);
    assert_matches(&in, &p);
    for (size_t k = 0; k < m; k++)
        assert_int_equal(parse_exact(g, k, DLT_EN10MB, &in), LZR_EPARSE);
}

/* Copies the IPv6 frame f (n bytes, no extension headers) into out with the chain ext (len
 * bytes, its own next-header fields filled in) after the IPv6 header, whose next header becomes
 * first; returns the new length. */
static size_t with_ext(uint8_t *out, const uint8_t *f, size_t n, uint8_t first, const uint8_t *ext,
                       size_t len)
{
    memcpy(out, f, E6);
    memcpy(out + E6, ext, len);
    memcpy(out + E6 + len, f + E6, n - E6);
    out[14 + 6] = first;
    size_t plen = (size_t)f[14 + 4] * 256 + f[14 + 5] + len;
    out[14 + 4] = (uint8_t)(plen >> 8);
    out[14 + 5] = (uint8_t)plen;
    return n + len;
}

/* Writes an extension header of 8 * units bytes at h: next header, length, then padding (PadN
 * options are all zero bytes for our purpose: the parser does not read them). */
static size_t ext_hdr(uint8_t *h, uint8_t next, uint8_t units)
{
    memset(h, 0, 8u * units);
    h[0] = next;
    h[1] = (uint8_t)(units - 1);
    return 8u * units;
}

static void test_ipv6_extension_headers(void **state)
{
    (void)state;
    uint8_t f[PACKET_MAX_FRAME], g[PACKET_MAX_FRAME + 256], ext[256];
    pkt_out_t p = base_pkt6();
    p.seg.flags = TCP_SYN | TCP_ACK;
    p.seg.ttl = 44;
    p.seg.payload = (const uint8_t *)"220 ready\r\n";
    p.seg.payload_len = 11;
    size_t n = packet_build(f, sizeof(f), &p);
    pkt_in_t in;

    /* Hop-by-hop (8), routing with no segments left (24), destination options (16), then TCP. */
    size_t len = ext_hdr(ext, 43, 1);
    len += ext_hdr(ext + len, 60, 3);
    ext[8 + 2] = 4; /* routing type 4 (segment routing), segments left 0 */
    len += ext_hdr(ext + len, 6, 2);
    size_t m = with_ext(g, f, n, 0, ext, len);
    assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_OK);
    assert_matches(&in, &p);
    for (size_t k = 0; k < m; k++)
        assert_int_equal(parse_exact(g, k, DLT_EN10MB, &in), LZR_EPARSE);

    /* A routing header with a segment left: the packet is on its way elsewhere. */
    g[E6 + 8 + 3] = 1;
    assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_EPARSE);

    /* Hop-by-hop anywhere but first is malformed (RFC 8200 §4.1). */
    len = ext_hdr(ext, 0, 1);
    len += ext_hdr(ext + len, 6, 1);
    m = with_ext(g, f, n, 60, ext, len);
    assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_EPARSE);

    /* PACKET_MAX_EXT destination options headers are walked; one more is refused. */
    len = 0;
    for (int i = 0; i < PACKET_MAX_EXT; i++)
        len += ext_hdr(ext + len, i + 1 < PACKET_MAX_EXT ? 60 : 6, 1);
    m = with_ext(g, f, n, 60, ext, len);
    assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_OK);
    assert_matches(&in, &p);
    ext[len - 8] = 60;
    len += ext_hdr(ext + len, 6, 1);
    m = with_ext(g, f, n, 60, ext, len);
    assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_EPARSE);

    /* A header longer than the payload length leaves, even when the capture holds it. */
    len = ext_hdr(ext, 6, 1);
    m = with_ext(g, f, n, 60, ext, len);
    g[E6 + 1] = (uint8_t)((m - E6) / 8); /* one unit past the end of the packet */
    assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_EPARSE);
    g[E6 + 1] = 0;
    g[14 + 5] = 4; /* payload length 4: the 8-byte header does not fit */
    g[14 + 4] = 0;
    assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_EPARSE);

    /* Fragments, and anything that is not TCP or a header we skip, are refused: fragment 44,
     * UDP 17, AH 51, ESP 50, ICMPv6 58, no next header 59. */
    const uint8_t refused[] = {44, 17, 51, 50, 58, 59};
    for (size_t i = 0; i < sizeof refused; i++) {
        len = ext_hdr(ext, 6, 1);
        m = with_ext(g, f, n, refused[i], ext, len);
        assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_EPARSE);
        len = ext_hdr(ext, refused[i], 1); /* the same behind a destination options header */
        len += ext_hdr(ext + len, 6, 1);
        m = with_ext(g, f, n, 60, ext, len);
        assert_int_equal(parse_exact(g, m, DLT_EN10MB, &in), LZR_EPARSE);
    }
}

static void set_plen(uint8_t *f, size_t plen)
{
    f[18] = (uint8_t)(plen >> 8);
    f[19] = (uint8_t)plen;
}

static void test_ipv6_lengths(void **state)
{
    (void)state;
    uint8_t f[PACKET_MAX_FRAME + 8];
    pkt_out_t p = base_pkt6();
    p.seg.flags = TCP_ACK | TCP_PSH;
    p.seg.payload = (const uint8_t *)"0123456789";
    p.seg.payload_len = 10;
    p.mss_option = true;
    size_t n = packet_build(f, sizeof(f), &p);
    pkt_in_t in;
    for (size_t k = 0; k < n; k++)
        assert_int_equal(parse_exact(f, k, DLT_EN10MB, &in), LZR_EPARSE);
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);

    /* Link padding after the packet is not payload. */
    memset(f + n, 0xaa, 8);
    assert_int_equal(parse_exact(f, n + 8, DLT_EN10MB, &in), LZR_OK);
    assert_int_equal(in.payload_len, 10);

    /* A payload length that claims more than was captured, or less than a TCP header. */
    set_plen(f, n - E6 + 1);
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_EPARSE);
    set_plen(f, 19);
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_EPARSE);
    set_plen(f, 0); /* a jumbogram's: not for us */
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_EPARSE);
    /* Shorter than the frame: the segment ends where it says, 4 bytes of data in. */
    set_plen(f, 24 + 4);
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);
    assert_int_equal(in.payload_len, 4);
    assert_memory_equal(in.payload, "0123", 4);
    /* A TCP data offset past the segment the payload length bounds. */
    f[E6 + 12] = 0x80;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_EPARSE);
    set_plen(f, 24 + 10);
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);
    assert_int_equal(in.payload_len, 2);
    f[E6 + 12] = 0x40;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_EPARSE);

    /* Under 0x86dd the version must be 6; an IPv6 header under 0x0800 is not IPv4. */
    f[E6 + 12] = 0x60;
    f[14] = 0x40;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_EPARSE);
    f[14] = 0x60;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_OK);
    f[12] = 0x08;
    f[13] = 0x00;
    assert_int_equal(parse_exact(f, n, DLT_EN10MB, &in), LZR_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn_layout_and_checksums),
        cmocka_unit_test(test_known_ip_checksum),
        cmocka_unit_test(test_roundtrip_syn_synack_rst),
        cmocka_unit_test(test_build_capacity),
        cmocka_unit_test(test_ethernet_padding_not_payload),
        cmocka_unit_test(test_vlan_tagged),
        cmocka_unit_test(test_raw_and_sll),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_ip_options_skipped),
        cmocka_unit_test(test_ipv6_syn_layout_and_checksum),
        cmocka_unit_test(test_ipv6_roundtrip),
        cmocka_unit_test(test_ipv6_build_limits),
        cmocka_unit_test(test_ipv6_link_types),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_ipv6_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
