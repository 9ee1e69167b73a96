/*
 * capture: libpcap set up for a scanner — a TPACKET_V3 ring of blocks handed over whole, a large
 * kernel buffer, a snap length that keeps the first kilobyte of payload, and a compiled filter on
 * our addresses (IPv4 and, when the scan has one, IPv6) and port range so the kernel discards
 * everything else before it is copied. Frames we send ourselves are not captured at all.
 */
#include "worker/capture.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/targets.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define CAPTURE_SNAPLEN 1600
/* Without immediate mode libpcap uses TPACKET_V3: the kernel packs frames into blocks (256 KiB
 * each, 512 of them here) and hands a block over when it is full or CAPTURE_BLOCK_MS after its
 * first frame, so the receive thread takes one status word a block rather than one a frame:
 * 16-25 % less CPU per probe than immediate mode's TPACKET_V2 on the lab's load range at an
 * unlimited rate. A sparse frame waits at most that long. With 1 ms, 2 of 22 such scans dropped
 * a few replies (1 and 3), likely because sparse replies use up a block a millisecond and 512
 * blocks last only half a second of a slow receive turn; with 10 ms none of 14 did. */
#define CAPTURE_BLOCK_MS 10
/* How long a frame may sit in the kernel's open block before a reader can see it: the block's
 * retire timer, plus as much again for the timer's jiffy granularity and a busy softirq. */
#define CAPTURE_HIDDEN_US (2 * CAPTURE_BLOCK_MS * 1000)

struct capture {
    pcap_t *p;
    int fd;
    int linktype;
    capture_fn fn;
    void *ctx;
    int64_t newest_us; /* capture time of the last frame handed out */
    uint64_t lag_us;   /* the last dispatch's age of its newest frame */
    uint64_t seen_us;  /* monotonic: every frame captured before it has been handed out */
};

static void discard_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    (void)user;
    (void)h;
    (void)bytes;
}

void capture_filter(char *buf, size_t len, uint32_t addr, const lzr_addr_t *addr6, uint16_t lo,
                    uint16_t hi)
{
    char ip[16], ip6[ADDR_TEXT_MAX], v4[96] = "", v6[224] = "";
    if (addr || !addr6 || addr6->family != ADDR_IPV6)
        snprintf(v4, sizeof v4, "tcp and dst host %s and dst portrange %u-%u",
                 targets_ntoa(addr, ip), lo, hi);
    /* An IPv6 reply with extension headers before its TCP header (hop-by-hop, routing,
     * destination options) passes too: BPF cannot find its ports, packet.c walks the headers
     * with length checks and drops what is not ours. */
    if (addr6 && addr6->family == ADDR_IPV6)
        snprintf(v6, sizeof v6,
                 "dst host %s and (tcp and dst portrange %u-%u or ip6[6] == 0 or ip6[6] == 43 or "
                 "ip6[6] == 60)",
                 addr_format(addr6, ip6), lo, hi);
    if (v4[0] && v6[0])
        snprintf(buf, len, "(%s) or (%s)", v4, v6);
    else
        snprintf(buf, len, "%s", v4[0] ? v4 : v6);
}

/* Compiles capture_filter's text for p and puts it on p's socket; LZR_EINVAL with a message.
 * The filter goes on the socket directly: pcap_setfilter would then walk the whole empty ring to
 * discard frames taken before it, faulting in every page of the mapping (most of an open's
 * time). Frames that passed the filter before are the caller's to read and drop. */
static int attach_filter(pcap_t *p, uint32_t addr, const lzr_addr_t *addr6, uint16_t lo,
                         uint16_t hi, char *err, size_t errlen)
{
    char filter[CAPTURE_FILTER_MAX];
    capture_filter(filter, sizeof filter, addr, addr6, lo, hi);
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, errlen, "pcap filter \"%s\": %s", filter, pcap_geterr(p));
        return LZR_EINVAL;
    }
    struct sock_fprog fprog = {.len = (unsigned short)prog.bf_len,
                               .filter = (struct sock_filter *)prog.bf_insns};
    int rc = setsockopt(pcap_fileno(p), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
    pcap_freecode(&prog);
    if (rc < 0) {
        snprintf(err, errlen, "pcap filter \"%s\": %s", filter, strerror(errno));
        return LZR_EINVAL;
    }
    return LZR_OK;
}

capture_t *capture_open(const char *iface, uint32_t addr, const lzr_addr_t *addr6, uint16_t lo,
                        uint16_t hi, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, perr);
    if (!p) {
        snprintf(err, errlen, "pcap on %s: %s", iface, perr);
        return NULL;
    }
    pcap_set_snaplen(p, CAPTURE_SNAPLEN);
    pcap_set_promisc(p, 0);
    pcap_set_immediate_mode(p, 0);
    pcap_set_timeout(p, CAPTURE_BLOCK_MS);
    pcap_set_buffer_size(p, CAPTURE_RING_BYTES);
    if (pcap_activate(p) < 0) {
        snprintf(err, errlen, "pcap on %s: %s", iface, pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    if (pcap_setnonblock(p, 1, perr) < 0 || pcap_get_selectable_fd(p) < 0) {
        snprintf(err, errlen, "pcap on %s cannot be polled", iface);
        pcap_close(p);
        return NULL;
    }
    /* Our own frames would each be cloned, time-stamped and run through the filter (which
     * drops them: their destination is never ours) in the sending call: 2 % of a full-mode
     * scan's CPU. Kernels before 4.20 lack the option and keep doing that. */
    int one = 1;
    setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    if (attach_filter(p, addr, addr6, lo, hi, err, errlen) != LZR_OK) {
        pcap_close(p);
        return NULL;
    }
    capture_t *c = calloc(1, sizeof *c);
    if (!c) {
        pcap_close(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->p = p;
    c->fd = pcap_get_selectable_fd(p);
    c->linktype = pcap_datalink(p);
    capture_discard(c); /* frames taken before the filter was attached */
    return c;
}

int capture_refilter(capture_t *c, uint32_t addr, const lzr_addr_t *addr6, uint16_t lo, uint16_t hi,
                     char *err, size_t errlen)
{
    int rc = attach_filter(c->p, addr, addr6, lo, hi, err, errlen);
    capture_discard(c); /* frames the previous filter let in */
    return rc;
}

void capture_idle(capture_t *c)
{
    struct sock_filter none = BPF_STMT(BPF_RET | BPF_K, 0); /* keep 0 bytes of every frame */
    struct sock_fprog prog = {.len = 1, .filter = &none};
    setsockopt(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
    capture_discard(c);
}

void capture_close(capture_t **c)
{
    if (!*c)
        return;
    pcap_close((*c)->p);
    free(*c);
    *c = NULL;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    capture_t *c = (capture_t *)user;
    c->newest_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    c->fn(c->ctx, bytes, h->caplen);
}

bool capture_wait(capture_t *c, int timeout_ms)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    return poll(&pfd, 1, timeout_ms) > 0;
}

int capture_dispatch(capture_t *c, capture_fn fn, void *ctx, int max)
{
    c->fn = fn;
    c->ctx = ctx;
    int total = 0;
    while (total < max) {
        int want = max - total < 512 ? max - total : 512;
        int n = pcap_dispatch(c->p, want, on_frame, (u_char *)c);
        if (n < 0)
            return LZR_EIO;
        total += n;
        if (n < want)
            break;
    }
    /* The kernel stamps frames with the wall clock as they enter the buffer. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t mono = clock_mono_ns() / 1000;
    int64_t age = total > 0 ? (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000 - c->newest_us : 0;
    c->lag_us = age > 0 ? (uint64_t)age : 0;
    /* Stopped at max: frames after the newest one handed out wait unread. Else only the open
     * block's may, none older than CAPTURE_HIDDEN_US. */
    uint64_t hidden = total < max ? CAPTURE_HIDDEN_US : c->lag_us;
    if (mono > hidden && mono - hidden > c->seen_us)
        c->seen_us = mono - hidden;
    return total;
}

int capture_discard(capture_t *c)
{
    int total = 0, n;
    while ((n = pcap_dispatch(c->p, 512, discard_frame, NULL)) > 0)
        total += n;
    return total;
}

uint64_t capture_lag_us(const capture_t *c)
{
    return c->lag_us;
}

uint64_t capture_seen_us(const capture_t *c)
{
    return c->seen_us;
}

int capture_linktype(const capture_t *c)
{
    return c->linktype;
}

uint64_t capture_drops(capture_t *c)
{
    struct pcap_stat st;
    if (pcap_stats(c->p, &st) < 0)
        return 0;
    return st.ps_drop + st.ps_ifdrop;
}
