/*
 * packet: the worker's only code that turns probe fields into bytes on the wire and captured bytes
 * back into fields. Building writes Ethernet II + IPv4 (no options, DF set) or IPv6 (no extension
 * headers) + TCP (an MSS option on request) with every checksum filled in. Parsing accepts the
 * link types the capture side can hand us, checks every length against what was captured before
 * reading it, and rejects anything that is not an unfragmented IPv4 or IPv6 TCP segment. Byte
 * order conversion happens here only: both structs hold host-order values (IPv6 addresses stay
 * the 16 bytes they are).
 */
#include "worker/packet.h"

#include "common/err.h"

#include <pcap/dlt.h>
#include <string.h>

#define ETH_HLEN       14
#define VLAN_HLEN      4
#define SLL_HLEN       16
#define SLL2_HLEN      20
#define IP_HLEN        20
#define IP6_HLEN       40
#define IP6_EXT_MIN    8
#define TCP_HLEN       20
#define TCP_MSS_OPTLEN 4
#define TCP_MSS_VALUE  1460 /* a 1500-byte MTU less 40 bytes of IPv4 and TCP headers */
#define TCP_MSS_VALUE6 1440 /* the same MTU less IPv6's 60 */

#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_IPV6  0x86dd
#define ETHERTYPE_VLAN  0x8100
#define ETHERTYPE_QINQ  0x88a8
#define IPPROTO_TCP_NUM 6
#define IP_FLAG_DF      0x4000
#define IP_FLAG_MF      0x2000
#define IP_FRAG_OFFSET  0x1fff
#define IP6_HOPOPTS     0
#define IP6_ROUTING     43
#define IP6_DSTOPTS     60

/* pcap's raw-IP link type is 12 on most systems and 14 on OpenBSD; capture files say 101
 * (LINKTYPE_RAW). All three, and the explicit IPv4-only type, mean "the frame is an IP packet". */
#define LINKTYPE_RAW_FILE 101
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Adds len bytes to a running ones' complement sum of big-endian 16-bit words; an odd last byte
 * counts as the high half of a word padded with zero (RFC 1071). */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
    while (len >= 2) {
        sum += rd16(p);
        p += 2;
        len -= 2;
    }
    if (len)
        sum += (uint32_t)p[0] << 8;
    /* Fold early so a long payload cannot overflow 32 bits. */
    return (sum & 0xffff) + (sum >> 16);
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Writes the IPv4 header (no options, DF set) for a segment of seg_len bytes at ip. */
static void build_ipv4(uint8_t *ip, const pkt_out_t *p, size_t seg_len)
{
    ip[0] = 0x45; /* version 4, IHL 5 */
    ip[1] = 0;    /* DSCP/ECN */
    wr16(ip + 2, (uint16_t)(IP_HLEN + seg_len));
    wr16(ip + 4, p->ip_id);
    wr16(ip + 6, IP_FLAG_DF);
    ip[8] = p->seg.ttl;
    ip[9] = IPPROTO_TCP_NUM;
    wr16(ip + 10, 0);
    wr32(ip + 12, p->seg.src.v4);
    wr32(ip + 16, p->seg.dst.v4);
    wr16(ip + 10, fold(sum_bytes(0, ip, IP_HLEN)));
}

/* Writes the IPv6 header (no extension headers, traffic class and flow label 0) at ip. */
static void build_ipv6(uint8_t *ip, const pkt_out_t *p, size_t seg_len)
{
    wr32(ip, 0x60000000u); /* version 6 */
    wr16(ip + 4, (uint16_t)seg_len);
    ip[6] = IPPROTO_TCP_NUM;
    ip[7] = p->seg.ttl;
    memcpy(ip + 8, p->seg.src.v6, 16);
    memcpy(ip + 24, p->seg.dst.v6, 16);
}

/* Writes the TCP header, option and payload at tcp, and the checksum over them and the
 * pseudo-header. Both families' pseudo-headers sum to the same thing: the two addresses (addrs,
 * addr_len bytes as they stand in the IP header), the protocol number and the segment length
 * (RFC 793 §3.1 for IPv4's 16-bit length, RFC 8200 §8.1 for IPv6's 32-bit one, whose high half
 * is zero here). */
static void build_tcp(uint8_t *tcp, const pkt_out_t *p, size_t tcp_hlen, const uint8_t *addrs,
                      size_t addr_len, uint16_t mss)
{
    const pkt_seg_t *s = &p->seg;
    wr16(tcp, s->sport);
    wr16(tcp + 2, s->dport);
    wr32(tcp + 4, s->seq);
    wr32(tcp + 8, s->ack);
    tcp[12] = (uint8_t)((tcp_hlen / 4) << 4);
    tcp[13] = s->flags;
    wr16(tcp + 14, s->window);
    wr16(tcp + 16, 0); /* checksum, filled below */
    wr16(tcp + 18, 0); /* urgent pointer */
    if (p->mss_option) {
        tcp[20] = 2; /* kind: maximum segment size */
        tcp[21] = TCP_MSS_OPTLEN;
        wr16(tcp + 22, mss);
    }
    if (s->payload_len)
        memcpy(tcp + tcp_hlen, s->payload, s->payload_len);
    size_t seg_len = tcp_hlen + s->payload_len;
    uint32_t sum = sum_bytes(0, addrs, addr_len) + IPPROTO_TCP_NUM + (uint32_t)seg_len;
    sum = sum_bytes(sum, tcp, seg_len);
    wr16(tcp + 16, fold(sum));
}

size_t packet_build(uint8_t *frame, size_t cap, const pkt_out_t *p)
{
    const pkt_seg_t *s = &p->seg;
    bool v6 = s->src.family == ADDR_IPV6;
    if (s->src.family != s->dst.family || (!v6 && s->src.family != ADDR_IPV4))
        return 0;
    size_t ip_hlen = v6 ? IP6_HLEN : IP_HLEN;
    size_t tcp_hlen = TCP_HLEN + (p->mss_option ? TCP_MSS_OPTLEN : 0);
    /* IPv4's total length counts its header, IPv6's payload length does not; both are 16 bits. */
    if (s->payload_len > 0xffff - tcp_hlen - (v6 ? 0 : IP_HLEN))
        return 0;
    size_t seg_len = tcp_hlen + s->payload_len;
    size_t total = ETH_HLEN + ip_hlen + seg_len;
    if (total > cap || (s->payload_len && !s->payload))
        return 0;

    memcpy(frame, p->dst_mac, 6);
    memcpy(frame + 6, p->src_mac, 6);
    wr16(frame + 12, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
    uint8_t *ip = frame + ETH_HLEN;
    if (v6) {
        build_ipv6(ip, p, seg_len);
        build_tcp(ip + IP6_HLEN, p, tcp_hlen, ip + 8, 32, TCP_MSS_VALUE6);
    } else {
        build_ipv4(ip, p, seg_len);
        build_tcp(ip + IP_HLEN, p, tcp_hlen, ip + 12, 8, TCP_MSS_VALUE);
    }
    return total;
}

/* Parses the TCP segment at tcp (seg_len bytes, as the IP header bounds it) into out. Inline so
 * the IPv4 path per frame stays one function, as it was before IPv6 shared this. */
static inline int parse_tcp(const uint8_t *tcp, size_t seg_len, pkt_in_t *out)
{
    if (seg_len < TCP_HLEN)
        return LZR_EPARSE;
    size_t doff = (size_t)(tcp[12] >> 4) * 4;
    if (doff < TCP_HLEN || doff > seg_len)
        return LZR_EPARSE;
    out->sport = rd16(tcp);
    out->dport = rd16(tcp + 2);
    out->seq = rd32(tcp + 4);
    out->ack = rd32(tcp + 8);
    out->flags = tcp[13];
    out->window = rd16(tcp + 14);
    out->payload = tcp + doff;
    out->payload_len = seg_len - doff;
    return LZR_OK;
}

/* Parses the IPv4 packet at ip (len captured bytes) into out. */
static int parse_ipv4(const uint8_t *ip, size_t len, pkt_in_t *out)
{
    if (len < IP_HLEN || (ip[0] >> 4) != 4)
        return LZR_EPARSE;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    if (ihl < IP_HLEN || ihl > len)
        return LZR_EPARSE;
    /* The IP total length, not the capture length, bounds the packet: link-layer padding of short
     * frames follows it and is not payload. It must still lie within what was captured. */
    size_t ip_total = rd16(ip + 2);
    if (ip_total < ihl || ip_total > len)
        return LZR_EPARSE;
    uint16_t frag = rd16(ip + 6);
    if ((frag & IP_FLAG_MF) || (frag & IP_FRAG_OFFSET))
        return LZR_EPARSE;
    if (ip[9] != IPPROTO_TCP_NUM)
        return LZR_EPARSE;
    if (parse_tcp(ip + ihl, ip_total - ihl, out) != LZR_OK)
        return LZR_EPARSE;
    out->src.family = out->dst.family = ADDR_IPV4;
    out->src.v4 = rd32(ip + 12);
    out->dst.v4 = rd32(ip + 16);
    out->ttl = ip[8];
    return LZR_OK;
}

/* Parses the IPv6 packet at ip (len captured bytes) into out. Extension headers are walked by
 * their own length fields, each checked against what the payload length leaves; a fragment
 * header, a routing header not yet at its last segment (the packet is not for us), a hop-by-hop
 * header anywhere but first, or any other next header than TCP ends the walk with LZR_EPARSE. */
static int parse_ipv6(const uint8_t *ip, size_t len, pkt_in_t *out)
{
    if (len < IP6_HLEN || (ip[0] >> 4) != 6)
        return LZR_EPARSE;
    /* As IPv4's total length: the payload length, not the capture, says where the packet ends.
     * A jumbogram's zero is no exception: it leaves no room for TCP and is refused below. */
    size_t left = rd16(ip + 4);
    if (left > len - IP6_HLEN)
        return LZR_EPARSE;
    const uint8_t *h = ip + IP6_HLEN;
    uint8_t next = ip[6];
    for (int walked = 0; next != IPPROTO_TCP_NUM; walked++) {
        bool known =
            (next == IP6_HOPOPTS && walked == 0) || next == IP6_ROUTING || next == IP6_DSTOPTS;
        if (!known || walked == PACKET_MAX_EXT || left < IP6_EXT_MIN)
            return LZR_EPARSE;
        size_t hlen = ((size_t)h[1] + 1) * 8; /* in 8-byte units, not counting the first 8 */
        if (hlen > left || (next == IP6_ROUTING && h[3] != 0))
            return LZR_EPARSE;
        next = h[0];
        h += hlen;
        left -= hlen;
    }
    if (parse_tcp(h, left, out) != LZR_OK)
        return LZR_EPARSE;
    out->src.family = out->dst.family = ADDR_IPV6;
    memcpy(out->src.v6, ip + 8, 16);
    memcpy(out->dst.v6, ip + 24, 16);
    out->ttl = ip[7];
    return LZR_OK;
}

int packet_parse(const uint8_t *frame, size_t len, int linktype, pkt_in_t *out)
{
    size_t off;
    uint16_t ethertype;

    if (!frame)
        return LZR_EPARSE;
    switch (linktype) {
    case DLT_EN10MB:
        if (len < ETH_HLEN)
            return LZR_EPARSE;
        ethertype = rd16(frame + 12);
        off = ETH_HLEN;
        /* One 802.1Q (or 802.1ad) tag: the real type follows the 2-byte tag control field. */
        if (ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ) {
            if (len < ETH_HLEN + VLAN_HLEN)
                return LZR_EPARSE;
            ethertype = rd16(frame + 16);
            off += VLAN_HLEN;
        }
        break;
    case DLT_LINUX_SLL:
        if (len < SLL_HLEN)
            return LZR_EPARSE;
        ethertype = rd16(frame + 14);
        off = SLL_HLEN;
        break;
    case DLT_LINUX_SLL2:
        if (len < SLL2_HLEN)
            return LZR_EPARSE;
        ethertype = rd16(frame);
        off = SLL2_HLEN;
        break;
    case 12: /* DLT_RAW everywhere but OpenBSD */
    case 14: /* DLT_RAW on OpenBSD */
    case LINKTYPE_RAW_FILE:
        /* Raw IP says nothing of the family but the version nibble does. */
        ethertype = len && (frame[0] >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
        off = 0;
        break;
    case DLT_IPV4:
        ethertype = ETHERTYPE_IPV4;
        off = 0;
        break;
    default:
        return LZR_EPARSE;
    }
    if (ethertype == ETHERTYPE_IPV4)
        return parse_ipv4(frame + off, len - off, out);
    if (ethertype == ETHERTYPE_IPV6)
        return parse_ipv6(frame + off, len - off, out);
    return LZR_EPARSE;
}
