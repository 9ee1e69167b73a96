/*
 * send: AF_PACKET output in batches of SENDER_BATCH frames per sendmmsg, or (sender_new_ring)
 * through a PACKET_TX_RING shared with the kernel and kicked once a batch, bypassing the qdisc,
 * or (sender_new_xsk) through an AF_XDP socket (xsk.c). The packet socket is bound to the
 * interface, so frames need no per-message address; its own receive path is disabled
 * (protocol 0) because capture is libpcap's job.
 */
#include "worker/send.h"

#include "common/err.h"
#include "worker/packet.h"
#include "worker/xsk.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* The TX ring: RING_FRAMES slots of RING_FRAME bytes (a TPACKET_V2 header, then the frame). */
#define RING_FRAME  2048
#define RING_FRAMES 1024
#define RING_DATA   (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
_Static_assert(RING_DATA + PACKET_MAX_FRAME <= RING_FRAME, "a frame fits a ring slot");

/* sendmmsg's waits for a full device queue: the first, and the most it doubles to (a 1 GbE
 * link empties a 1,000-frame queue of SYNs in 670 µs, so the queue never runs dry). */
#define SENDER_NAP_MIN_US 50
#define SENDER_NAP_MAX_US 400

/* A sendmmsg batch: the frames built in our memory and the messages that point at them (about
 * 100 KB; a TX ring or AF_XDP sender builds its frames in memory shared with the kernel and has
 * none). */
typedef struct batch {
    struct mmsghdr msgs[SENDER_BATCH];
    struct iovec iov[SENDER_BATCH];
    uint8_t frames[SENDER_BATCH][PACKET_MAX_FRAME];
} batch_t;

struct sender {
    int fd;
    size_t pending;
    uint64_t sent, failed;
    uint8_t *ring;           /* the mmap'd TX ring, or NULL */
    xsk_t *xsk;              /* the AF_XDP socket, or NULL */
    batch_t *batch;          /* with neither: the sendmmsg batch */
    unsigned cur;            /* the ring slot sender_slot hands out */
    size_t last_i, last_len; /* the frame committed last (sendmmsg and sink only) */
};

/* A sender with no socket and, with a batch, frames built in its own memory. */
static sender_t *sender_alloc(bool batch)
{
    sender_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = -1;
    if (!batch)
        return s;
    batch_t *b = calloc(1, sizeof *b);
    if (!b) {
        free(s);
        return NULL;
    }
    for (int i = 0; i < SENDER_BATCH; i++) {
        b->iov[i].iov_base = b->frames[i];
        b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
        b->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    s->batch = b;
    return s;
}

sender_t *sender_new_sink(void)
{
    return sender_alloc(true);
}

/* Maps a TPACKET_V2 TX ring on s's socket with the qdisc bypassed; LZR_ESYS with a message. */
static int ring_setup(sender_t *s, char *err, size_t errlen)
{
    int v = TPACKET_V2, one = 1;
    struct tpacket_req req = {.tp_block_size = RING_FRAME * 2,
                              .tp_block_nr = RING_FRAMES / 2,
                              .tp_frame_size = RING_FRAME,
                              .tp_frame_nr = RING_FRAMES};
    if (setsockopt(s->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0 ||
        setsockopt(s->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0 ||
        setsockopt(s->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) {
        snprintf(err, errlen, "cannot set up a PACKET_TX_RING: %s", strerror(errno));
        return LZR_ESYS;
    }
    void *m =
        mmap(NULL, (size_t)RING_FRAME * RING_FRAMES, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "cannot map the TX ring: %s", strerror(errno));
        return LZR_ESYS;
    }
    s->ring = m;
    return LZR_OK;
}

static struct tpacket2_hdr *ring_slot(const sender_t *s, unsigned i)
{
    return (struct tpacket2_hdr *)(s->ring + (size_t)i * RING_FRAME);
}

/* Asks the kernel to send the ring's queued frames; with wait, until they have left. */
static void ring_kick(sender_t *s, bool wait)
{
    while (send(s->fd, NULL, 0, wait ? 0 : MSG_DONTWAIT) < 0 && errno == EINTR)
        ;
    s->sent += s->pending;
    s->pending = 0;
}

sender_t *sender_new_xsk(int ifindex, uint32_t queue, char *err, size_t errlen)
{
    xsk_t *x = xsk_open(ifindex, queue, err, errlen);
    if (!x)
        return NULL;
    sender_t *s = sender_alloc(false);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        xsk_close(&x);
        return NULL;
    }
    s->xsk = x;
    return s;
}

/* A sender on a packet socket bound to ifindex, with a sendmmsg batch or not (a TX ring's). */
static sender_t *sender_socket(int ifindex, bool batch, char *err, size_t errlen)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open an AF_PACKET socket: %s%s", strerror(errno),
                 errno == EPERM ? " (run as root or give the binary CAP_NET_RAW)" : "");
        return NULL;
    }
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = 0, .sll_ifindex = ifindex};
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        snprintf(err, errlen, "cannot bind the raw socket to interface %d: %s", ifindex,
                 strerror(errno));
        close(fd);
        return NULL;
    }
    /* No PACKET_QDISC_BYPASS: it would hide our frames from tcpdump on the same host. */
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    sender_t *s = sender_alloc(batch);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    s->fd = fd;
    return s;
}

sender_t *sender_new(int ifindex, char *err, size_t errlen)
{
    return sender_socket(ifindex, true, err, errlen);
}

sender_t *sender_new_ring(int ifindex, char *err, size_t errlen)
{
    sender_t *s = sender_socket(ifindex, false, err, errlen);
    if (s && ring_setup(s, err, errlen) != LZR_OK)
        sender_destroy(&s);
    return s;
}

const char *send_path_name(send_path_t path)
{
    return path == SEND_XSK ? "AF_XDP" : path == SEND_TX_RING ? "a PACKET_TX_RING" : "sendmmsg";
}

sender_t *sender_open(send_path_t path, int ifindex, uint32_t queue, char *err, size_t errlen)
{
    switch (path) {
    case SEND_TX_RING:
        return sender_new_ring(ifindex, err, errlen);
    case SEND_XSK:
        return sender_new_xsk(ifindex, queue, err, errlen);
    default:
        return sender_new(ifindex, err, errlen);
    }
}

void sender_destroy(sender_t **s)
{
    if (!*s)
        return;
    sender_flush(*s);
    if ((*s)->ring) {
        ring_kick(*s, true);
        munmap((*s)->ring, (size_t)RING_FRAME * RING_FRAMES);
    }
    xsk_close(&(*s)->xsk);
    if ((*s)->fd >= 0)
        close((*s)->fd);
    free((*s)->batch);
    free(*s);
    *s = NULL;
}

uint8_t *sender_slot(sender_t *s)
{
    if (s->xsk)
        return xsk_slot(s->xsk);
    if (!s->ring)
        return s->batch->frames[s->pending];
    struct tpacket2_hdr *h = ring_slot(s, s->cur);
    /* The kernel still owns the slot: send what is queued and wait for it to leave. */
    while (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) {
        if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_WRONG_FORMAT) {
            s->failed++;
            s->sent--;
            __atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
            break;
        }
        ring_kick(s, true);
    }
    return (uint8_t *)h + RING_DATA;
}

void sender_commit(sender_t *s, size_t len)
{
    if (len == 0)
        return;
    if (s->xsk) {
        xsk_commit(s->xsk, len);
    } else if (s->ring) {
        struct tpacket2_hdr *h = ring_slot(s, s->cur);
        h->tp_len = (uint32_t)len;
        __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
        s->cur = (s->cur + 1) % RING_FRAMES;
    } else {
        s->batch->iov[s->pending].iov_len = len;
        s->last_i = s->pending;
        s->last_len = len;
    }
    if (++s->pending == SENDER_BATCH)
        sender_flush(s);
}

const uint8_t *sender_last(const sender_t *s, size_t *len)
{
    *len = s->ring || s->xsk ? 0 : s->last_len;
    return *len ? s->batch->frames[s->last_i] : NULL;
}

int sender_flush(sender_t *s)
{
    if (s->xsk) {
        int dropped = s->pending ? xsk_flush(s->xsk) : 0;
        s->sent += s->pending - (size_t)dropped;
        s->failed += (uint64_t)dropped;
        s->pending = 0;
        return dropped;
    }
    if (s->ring) {
        if (s->pending)
            ring_kick(s, false);
        return 0;
    }
    size_t done = 0;
    int refused = 0;
    useconds_t nap = SENDER_NAP_MIN_US;
    while (s->fd >= 0 && done < s->pending) {
        int n = sendmmsg(s->fd, s->batch->msgs + done, (unsigned)(s->pending - done), 0);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EINTR))
            continue;
        if (n < 0 && (errno == ENOBUFS || errno == EAGAIN)) {
            /* The device queue is full: wait for it rather than drop, twice as long each time
             * within one flush, so a slow link costs a few wake-ups per batch. */
            usleep(nap);
            if (nap < SENDER_NAP_MAX_US)
                nap *= 2;
            continue;
        }
        /* The kernel refused the frame at done: count it and go on with the rest. */
        refused++;
        done++;
    }
    s->sent += s->pending - (size_t)refused;
    s->failed += (uint64_t)refused;
    s->pending = 0;
    return refused;
}

uint64_t sender_sent(const sender_t *s)
{
    return s->sent;
}

uint64_t sender_failed(const sender_t *s)
{
    return s->failed;
}
