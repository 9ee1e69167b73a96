/*
 * xsk: frame output through an AF_XDP socket bound to one queue of an interface, in copy mode
 * (every driver has it; a veth has no other). Frames are written straight into a UMEM the kernel
 * shares, queued on a TX ring, and the kernel is kicked once a batch; it takes them without the
 * qdisc or the capture taps (a tcpdump on the same interface does not see them) and hands each
 * chunk back on the completion ring once the frame is gone. One socket per queue: a second
 * sender on the same interface needs a queue of its own.
 */
#ifndef LZR_WORKER_XSK_H
#define LZR_WORKER_XSK_H

#include <stddef.h>
#include <stdint.h>

typedef struct xsk xsk_t;

/* A socket on queue of ifindex; NULL with the reason in err (no AF_XDP in the kernel, no
 * CAP_NET_RAW, no such queue, the queue taken by another socket). */
xsk_t *xsk_open(int ifindex, uint32_t queue, char *err, size_t errlen);

/* Sends what is queued, waits up to a second for the kernel to hand every chunk back, frees,
 * and sets *x to NULL. */
void xsk_close(xsk_t **x);

/* A chunk for the next frame (at least 2,048 bytes), waiting for the kernel to return one when
 * all are in flight. */
uint8_t *xsk_slot(xsk_t *x);

/* Queues the frame just written to xsk_slot (len bytes); the kernel is not told yet. */
void xsk_commit(xsk_t *x, size_t len);

/* Tells the kernel about every queued frame and has it take them all. Returns how many it
 * dropped on the way (the device refused them). */
int xsk_flush(xsk_t *x);

#endif
