/*
 * packet: the worker's only code that turns probe fields into bytes on the wire and captured bytes
 * back into fields. Building writes Ethernet II + IPv4 (no options, DF set) + TCP (an MSS option on
 * request) with both checksums filled in. Parsing accepts the three link types the capture side
 * can hand us, checks every length against what was captured before reading it, and rejects
 * anything that is not an unfragmented IPv4/TCP segment. Byte order conversion happens here only:
 * both structs hold host-order values.
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
#define TCP_HLEN       20
#define TCP_MSS_OPTLEN 4
#define TCP_MSS_VALUE  1460

#define ETHERTYPE_IPV4  0x0800
#define ETHERTYPE_VLAN  0x8100
#define ETHERTYPE_QINQ  0x88a8
#define IPPROTO_TCP_NUM 6
#define IP_FLAG_DF      0x4000
#define IP_FLAG_MF      0x2000
#define IP_FRAG_OFFSET  0x1fff

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

size_t packet_build(uint8_t *frame, size_t cap, const pkt_out_t *p)
{
    size_t tcp_hlen = TCP_HLEN + (p->mss_option ? TCP_MSS_OPTLEN : 0);
    if (p->payload_len > 0xffff - IP_HLEN - tcp_hlen)
        return 0;
    size_t ip_total = IP_HLEN + tcp_hlen + p->payload_len;
    size_t total = ETH_HLEN + ip_total;
    if (total > cap || (p->payload_len && !p->payload))
        return 0;

    uint8_t *eth = frame;
    memcpy(eth, p->dst_mac, 6);
    memcpy(eth + 6, p->src_mac, 6);
    wr16(eth + 12, ETHERTYPE_IPV4);

    uint8_t *ip = eth + ETH_HLEN;
    ip[0] = 0x45; /* version 4, IHL 5 */
    ip[1] = 0;    /* DSCP/ECN */
    wr16(ip + 2, (uint16_t)ip_total);
    wr16(ip + 4, p->ip_id);
    wr16(ip + 6, IP_FLAG_DF);
    ip[8] = p->ttl;
    ip[9] = IPPROTO_TCP_NUM;
    wr16(ip + 10, 0);
    wr32(ip + 12, p->saddr);
    wr32(ip + 16, p->daddr);
    wr16(ip + 10, fold(sum_bytes(0, ip, IP_HLEN)));

    uint8_t *tcp = ip + IP_HLEN;
    wr16(tcp, p->sport);
    wr16(tcp + 2, p->dport);
    wr32(tcp + 4, p->seq);
    wr32(tcp + 8, p->ack);
    tcp[12] = (uint8_t)((tcp_hlen / 4) << 4);
    tcp[13] = p->flags;
    wr16(tcp + 14, p->window);
    wr16(tcp + 16, 0); /* checksum, filled below */
    wr16(tcp + 18, 0); /* urgent pointer */
    if (p->mss_option) {
        tcp[20] = 2; /* kind: maximum segment size */
        tcp[21] = TCP_MSS_OPTLEN;
        wr16(tcp + 22, TCP_MSS_VALUE);
    }
    if (p->payload_len)
        memcpy(tcp + tcp_hlen, p->payload, p->payload_len);

    /* The TCP checksum covers a pseudo-header (addresses, zero, protocol, TCP length) and the
     * whole segment. */
    size_t seg_len = tcp_hlen + p->payload_len;
    uint8_t pseudo[12];
    wr32(pseudo, p->saddr);
    wr32(pseudo + 4, p->daddr);
    pseudo[8] = 0;
    pseudo[9] = IPPROTO_TCP_NUM;
    wr16(pseudo + 10, (uint16_t)seg_len);
    uint32_t sum = sum_bytes(0, pseudo, sizeof(pseudo));
    sum = sum_bytes(sum, tcp, seg_len);
    wr16(tcp + 16, fold(sum));
    return total;
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

    const uint8_t *tcp = ip + ihl;
    size_t seg_len = ip_total - ihl;
    if (seg_len < TCP_HLEN)
        return LZR_EPARSE;
    size_t doff = (size_t)(tcp[12] >> 4) * 4;
    if (doff < TCP_HLEN || doff > seg_len)
        return LZR_EPARSE;

    out->saddr = rd32(ip + 12);
    out->daddr = rd32(ip + 16);
    out->ttl = ip[8];
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
    case DLT_IPV4:
        ethertype = ETHERTYPE_IPV4;
        off = 0;
        break;
    default:
        return LZR_EPARSE;
    }
    if (ethertype != ETHERTYPE_IPV4)
        return LZR_EPARSE;
    return parse_ipv4(frame + off, len - off, out);
}
