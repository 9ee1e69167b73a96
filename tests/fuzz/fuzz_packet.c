/*
 * Fuzz harness for worker/packet: every input is parsed as a captured frame under each link type
 * the parser knows (and one it does not), IPv4 and IPv6 alike. ASan catches any read past the
 * input; the harness itself checks that an accepted frame's payload lies inside it and ends where
 * the IP header's length says, and that rebuilding the parsed fields (in the parsed family) and
 * parsing the result gives the same fields back.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "worker/packet.h"

#define DLT_IPV4_TYPE 228

static const int linktypes[] = {DLT_EN10MB, DLT_RAW,       12,  14, DLT_LINUX_SLL,
                                101,        DLT_IPV4_TYPE, 276, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the IP header starts in an accepted frame of linktype. */
static size_t ip_offset(int linktype, const uint8_t *f)
{
    switch (linktype) {
    case DLT_EN10MB:
        return f[12] == 0x81 || f[12] == 0x88 ? 18 : 14;
    case DLT_LINUX_SLL:
        return 16;
    case 276:
        return 20;
    default:
        return 0;
    }
}

/* The frame length packet_build gives for a segment of this family without options. */
static size_t built_len(const pkt_in_t *in)
{
    return (in->dst.family == ADDR_IPV6 ? 74 : 54) + in->payload_len;
}

static void roundtrip(const pkt_in_t *in)
{
    static uint8_t frame[PACKET_MAX_FRAME];
    pkt_out_t o;
    memset(&o, 0, sizeof(o));
    o.seg = *in;
    size_t n = packet_build(frame, sizeof(frame), &o);
    if (built_len(in) <= PACKET_MAX_FRAME) {
        if (n != built_len(in))
            abort();
    } else if (n != 0) {
        abort();
    }
    if (n == 0)
        return;
    pkt_in_t back;
    if (packet_parse(frame, n, DLT_EN10MB, &back) != LZR_OK)
        abort();
    if (!addr_equal(&back.src, &in->src) || !addr_equal(&back.dst, &in->dst) ||
        back.sport != in->sport || back.dport != in->dport || back.seq != in->seq ||
        back.ack != in->ack || back.flags != in->flags || back.window != in->window ||
        back.ttl != in->ttl || back.payload_len != in->payload_len ||
        memcmp(back.payload, in->payload, in->payload_len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++) {
        pkt_in_t in;
        if (packet_parse(data, size, linktypes[i], &in) != LZR_OK)
            continue;
        if (linktypes[i] == 0)
            abort(); /* DLT_NULL is not a link type we accept */
        if (in.src.family != in.dst.family ||
            (in.dst.family == ADDR_IPV6 && linktypes[i] == DLT_IPV4_TYPE))
            abort(); /* one family per packet, and the IPv4-only type never gives IPv6 */
        if (in.payload < data || in.payload > data + size ||
            in.payload_len > (size_t)(data + size - in.payload))
            abort();
        /* The payload ends exactly where IPv4's total length or IPv6's payload length says,
         * whatever follows it. */
        const uint8_t *ip = data + ip_offset(linktypes[i], data);
        const uint8_t *end = in.dst.family == ADDR_IPV6 ? ip + 40 + ((size_t)ip[4] << 8 | ip[5])
                                                        : ip + ((size_t)ip[2] << 8 | ip[3]);
        if (in.payload + in.payload_len != end)
            abort();
        roundtrip(&in);
    }
    return 0;
}
