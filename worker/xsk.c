/*
 * xsk: an AF_XDP socket used for output only. The UMEM is cut into XSK_CHUNKS chunks of
 * XSK_CHUNK bytes, one frame each; a chunk is free until its frame is queued and free again when
 * the completion ring hands it back. The fill ring, which only receiving uses, is set up because
 * the kernel asks for it, and left empty. In copy mode the kernel takes at most a few dozen
 * descriptors per kick, so a flush kicks until the TX ring is empty.
 */
#include "worker/xsk.h"

#include "common/clock.h"

#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define XSK_CHUNK  2048
#define XSK_CHUNKS 2048       /* 4 MiB of UMEM: below the default RLIMIT_MEMLOCK of 8 MiB */
#define XSK_TX     1024       /* TX ring entries */
#define XSK_CQ     XSK_CHUNKS /* the completion ring holds every chunk in flight */
/* Waiting for the kernel: naps from the first to the most, doubling; after XSK_STUCK_MS with no
 * progress the device is taken for dead (link down, say) and frames are counted as dropped, while
 * a kick every XSK_REVIVE_MS checks whether it takes frames again. */
#define XSK_NAP_MIN_US 20
#define XSK_NAP_MAX_US 400
#define XSK_STUCK_MS   1000
#define XSK_REVIVE_MS  100
/* The kernel frees a closed socket's queue a moment after the close (its memory goes after a
 * grace period): a bind that finds the queue busy is tried again for this long. */
#define XSK_BIND_WAIT_MS 500

/* A ring as the kernel maps it. */
typedef struct ring {
    uint32_t *prod, *cons, *flags;
    void *desc;
    void *map;
    size_t map_len;
} ring_t;

struct xsk {
    int fd;
    uint8_t *umem;
    ring_t tx, cq, fq;
    uint32_t tx_prod; /* our producer index; the kernel sees it at the next kick */
    uint64_t free[XSK_CHUNKS];
    uint32_t n_free;
    uint64_t cur; /* the chunk xsk_slot handed out, while have_cur */
    bool have_cur;
    bool dead;         /* the kernel stopped taking frames: everything now counts as dropped */
    uint64_t tried_ms; /* when a dead socket was last kicked */
    int dropped;       /* since the last flush returned */
    uint8_t scratch[XSK_CHUNK]; /* what xsk_slot hands out once dead */
};

static int map_ring(int fd, const struct xdp_ring_offset *off, uint32_t entries, size_t entry,
                    off_t pgoff, ring_t *r)
{
    r->map_len = off->desc + entries * entry;
    r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        return -1;
    }
    r->prod = (uint32_t *)((char *)r->map + off->producer);
    r->cons = (uint32_t *)((char *)r->map + off->consumer);
    r->flags = (uint32_t *)((char *)r->map + off->flags);
    r->desc = (char *)r->map + off->desc;
    return 0;
}

/* The socket's rings and UMEM, registered and mapped; false with errno set. */
static bool setup(xsk_t *x)
{
    struct xdp_umem_reg reg = {.addr = (uintptr_t)x->umem,
                               .len = (uint64_t)XSK_CHUNKS * XSK_CHUNK,
                               .chunk_size = XSK_CHUNK};
    int fill = XSK_CHUNKS, comp = XSK_CQ, tx = XSK_TX;
    struct xdp_mmap_offsets off;
    socklen_t olen = sizeof off;
    return setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg) == 0 &&
           setsockopt(x->fd, SOL_XDP, XDP_UMEM_FILL_RING, &fill, sizeof fill) == 0 &&
           setsockopt(x->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &comp, sizeof comp) == 0 &&
           setsockopt(x->fd, SOL_XDP, XDP_TX_RING, &tx, sizeof tx) == 0 &&
           getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen) == 0 &&
           map_ring(x->fd, &off.tx, XSK_TX, sizeof(struct xdp_desc), XDP_PGOFF_TX_RING, &x->tx) ==
               0 &&
           map_ring(x->fd, &off.cr, XSK_CQ, sizeof(uint64_t), XDP_UMEM_PGOFF_COMPLETION_RING,
                    &x->cq) == 0 &&
           map_ring(x->fd, &off.fr, XSK_CHUNKS, sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING,
                    &x->fq) == 0;
}

static void release(xsk_t *x)
{
    ring_t *rings[] = {&x->tx, &x->cq, &x->fq};
    for (size_t i = 0; i < 3; i++)
        if (rings[i]->map)
            munmap(rings[i]->map, rings[i]->map_len);
    if (x->fd >= 0)
        close(x->fd);
    if (x->umem)
        munmap(x->umem, (size_t)XSK_CHUNKS * XSK_CHUNK);
    free(x);
}

xsk_t *xsk_open(int ifindex, uint32_t queue, char *err, size_t errlen)
{
    xsk_t *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->fd = socket(AF_XDP, SOCK_RAW, 0);
    if (x->fd < 0) {
        snprintf(err, errlen, "cannot open an AF_XDP socket: %s%s", strerror(errno),
                 errno == EPERM ? " (run as root or give the binary CAP_NET_RAW)" : "");
        release(x);
        return NULL;
    }
    x->umem = mmap(NULL, (size_t)XSK_CHUNKS * XSK_CHUNK, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (x->umem == MAP_FAILED) {
        x->umem = NULL;
        snprintf(err, errlen, "out of memory for the AF_XDP UMEM");
        release(x);
        return NULL;
    }
    if (!setup(x)) {
        snprintf(err, errlen, "cannot set up the AF_XDP rings: %s%s", strerror(errno),
                 errno == ENOBUFS || errno == ENOMEM ? " (the 4 MiB UMEM counts against "
                                                       "RLIMIT_MEMLOCK without CAP_IPC_LOCK)"
                                                     : "");
        release(x);
        return NULL;
    }
    struct sockaddr_xdp sa = {.sxdp_family = AF_XDP,
                              .sxdp_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
                              .sxdp_ifindex = (uint32_t)ifindex,
                              .sxdp_queue_id = queue};
    int rc;
    uint64_t t0 = clock_mono_ms();
    while ((rc = bind(x->fd, (struct sockaddr *)&sa, sizeof sa)) < 0 && errno == EBUSY &&
           clock_mono_ms() - t0 < XSK_BIND_WAIT_MS)
        usleep(5000);
    if (rc < 0) {
        char name[IF_NAMESIZE] = "?";
        if_indextoname((unsigned)ifindex, name);
        snprintf(err, errlen, "cannot bind an AF_XDP socket to queue %u of %s: %s%s", queue, name,
                 strerror(errno),
                 errno == EINVAL  ? " (the interface has no such queue)"
                 : errno == EBUSY ? " (another AF_XDP socket holds the queue)"
                                  : "");
        release(x);
        return NULL;
    }
    for (uint32_t c = XSK_CHUNKS; c-- > 0;)
        x->free[x->n_free++] = (uint64_t)c * XSK_CHUNK;
    return x;
}

/* Takes back the chunks the kernel is done with; returns how many. */
static uint32_t reclaim(xsk_t *x)
{
    uint32_t prod = __atomic_load_n(x->cq.prod, __ATOMIC_ACQUIRE), cons = *x->cq.cons;
    const uint64_t *addrs = x->cq.desc;
    uint32_t n = prod - cons;
    for (; cons != prod; cons++)
        x->free[x->n_free++] = addrs[cons & (XSK_CQ - 1)];
    __atomic_store_n(x->cq.cons, cons, __ATOMIC_RELEASE);
    return n;
}

/* Publishes the queued descriptors and has the kernel send some. */
static void kick(xsk_t *x)
{
    __atomic_store_n(x->tx.prod, x->tx_prod, __ATOMIC_RELEASE);
    if (!(__atomic_load_n(x->tx.flags, __ATOMIC_ACQUIRE) & XDP_RING_NEED_WAKEUP))
        return;
    /* EBUSY: the device dropped a frame; its chunk still comes back. (A dead socket's frames
     * were counted when it died.) */
    if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno == EBUSY && !x->dead)
        x->dropped++;
}

/* Kicks and naps until done(x) holds, or marks x dead after XSK_STUCK_MS in which the kernel
 * neither took a frame from the TX ring nor gave a chunk back (what the ring holds then counts
 * as dropped). */
static void wait_until(xsk_t *x, bool (*done)(const xsk_t *))
{
    unsigned nap = XSK_NAP_MIN_US;
    uint64_t since = 0;
    uint32_t seen = *x->tx.cons;
    while (!x->dead) {
        kick(x);
        uint32_t back = reclaim(x);
        if (done(x))
            return;
        uint32_t cons = __atomic_load_n(x->tx.cons, __ATOMIC_ACQUIRE);
        if (cons != seen || back) {
            seen = cons;
            since = 0;
            nap = XSK_NAP_MIN_US;
            continue;
        }
        if (!since) {
            since = clock_mono_ms();
        } else if (clock_mono_ms() - since >= XSK_STUCK_MS) {
            x->dead = true;
            x->tried_ms = clock_mono_ms();
            x->dropped += (int)(x->tx_prod - cons); /* queued, never taken */
        }
        usleep(nap);
        if (nap < XSK_NAP_MAX_US)
            nap *= 2;
    }
}

static bool chunk_free(const xsk_t *x)
{
    return x->n_free > 0;
}

static bool tx_room(const xsk_t *x)
{
    return x->tx_prod - __atomic_load_n(x->tx.cons, __ATOMIC_ACQUIRE) < XSK_TX;
}

static bool tx_empty(const xsk_t *x)
{
    return __atomic_load_n(x->tx.cons, __ATOMIC_ACQUIRE) == x->tx_prod;
}

static bool all_back(const xsk_t *x)
{
    return x->n_free == XSK_CHUNKS;
}

/* While dead, a kick now and then: once the kernel takes frames or hands chunks back again (the
 * link is back), x lives again. */
static void try_revive(xsk_t *x)
{
    uint64_t now = clock_mono_ms();
    if (now - x->tried_ms < XSK_REVIVE_MS)
        return;
    x->tried_ms = now;
    uint32_t cons = *x->tx.cons;
    kick(x);
    if (reclaim(x) || __atomic_load_n(x->tx.cons, __ATOMIC_ACQUIRE) != cons)
        x->dead = false;
}

uint8_t *xsk_slot(xsk_t *x)
{
    if (x->dead)
        try_revive(x);
    if (x->have_cur)
        return x->umem + x->cur;
    if (!x->n_free)
        reclaim(x);
    if (!x->n_free)
        wait_until(x, chunk_free);
    if (x->dead)
        return x->scratch;
    x->cur = x->free[--x->n_free];
    x->have_cur = true;
    return x->umem + x->cur;
}

void xsk_commit(xsk_t *x, size_t len)
{
    if (len == 0)
        return;
    if (x->dead) {
        x->dropped++;
        return;
    }
    if (!tx_room(x))
        wait_until(x, tx_room);
    if (x->dead) {
        x->dropped++;
        return;
    }
    struct xdp_desc *d = (struct xdp_desc *)x->tx.desc + (x->tx_prod & (XSK_TX - 1));
    *d = (struct xdp_desc){.addr = x->cur, .len = (uint32_t)len};
    x->tx_prod++;
    x->have_cur = false;
}

int xsk_flush(xsk_t *x)
{
    if (!tx_empty(x))
        wait_until(x, tx_empty);
    int dropped = x->dropped;
    x->dropped = 0;
    return dropped;
}

void xsk_close(xsk_t **x)
{
    if (!*x)
        return;
    xsk_flush(*x);
    if ((*x)->have_cur) {
        (*x)->free[(*x)->n_free++] = (*x)->cur;
        (*x)->have_cur = false;
    }
    wait_until(*x, all_back);
    release(*x);
    *x = NULL;
}
