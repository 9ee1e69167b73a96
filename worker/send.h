/*
 * send: batched raw frame output on one interface through an AF_PACKET socket. Callers fill
 * frames in place (sender_slot), commit them, and the batch leaves in one sendmmsg call (or one
 * kick of a TX ring, or of an AF_XDP socket) when it is full or flushed. Each thread that sends
 * owns its own sender; nothing here is shared.
 */
#ifndef LZR_SEND_H
#define LZR_SEND_H

#include <stddef.h>
#include <stdint.h>

#define SENDER_BATCH 64

typedef struct sender sender_t;

/* How a sender hands frames to the kernel. */
typedef enum send_path {
    SEND_MMSG,    /* sendmmsg on an AF_PACKET socket, through the qdisc (the default) */
    SEND_TX_RING, /* a PACKET_TX_RING, the qdisc bypassed (sender_new_ring) */
    SEND_XSK,     /* an AF_XDP socket on one queue (sender_new_xsk) */
} send_path_t;

/* A sender on ifindex; NULL with a message in err when the socket cannot be opened (no
 * CAP_NET_RAW, say). */
sender_t *sender_new(int ifindex, char *err, size_t errlen);

/* A sender on ifindex that writes frames into a PACKET_TX_RING (TPACKET_V2, 1,024 slots) and
 * kicks the kernel once a batch, bypassing the qdisc (PACKET_QDISC_BYPASS): fewer copies and
 * system calls than sendmmsg, but frames skip the qdisc, so a local tcpdump on the interface does
 * not see them. NULL with a message in err when the ring cannot be set up. */
sender_t *sender_new_ring(int ifindex, char *err, size_t errlen);

/* A sender through an AF_XDP socket on queue of ifindex (xsk.h), in copy mode: frames are written
 * into memory the kernel shares and skip the qdisc, so a local tcpdump on the interface does not
 * see them. One per queue. NULL with a message in err when the socket cannot be set up. */
sender_t *sender_new_xsk(int ifindex, uint32_t queue, char *err, size_t errlen);

/* The path's name for a log line: "sendmmsg", "a PACKET_TX_RING" or "AF_XDP". */
const char *send_path_name(send_path_t path);

/* A sender of the given path on ifindex; queue matters only to SEND_XSK. */
sender_t *sender_open(send_path_t path, int ifindex, uint32_t queue, char *err, size_t errlen);

/* A sender that builds and counts frames but hands none to the kernel: for fuzzing the state
 * machine and measuring it without a network. */
sender_t *sender_new_sink(void);

/* Flushes what is pending, closes the socket, frees, and sets *s to NULL. */
void sender_destroy(sender_t **s);

/* The buffer for the next frame (PACKET_MAX_FRAME bytes). */
uint8_t *sender_slot(sender_t *s);

/* Queues the frame just written to sender_slot (len bytes); flushes a full batch. */
void sender_commit(sender_t *s, size_t len);

/* The frame committed last and its length in *len, until the next sender_slot is written (the
 * sink's frames are what a test reads back); NULL for a TX-ring or AF_XDP sender or before any. */
const uint8_t *sender_last(const sender_t *s, size_t *len);

/* Sends every queued frame. Returns how many the kernel refused (they are counted too). */
int sender_flush(sender_t *s);

/* Frames handed to the kernel so far, and frames it refused. */
uint64_t sender_sent(const sender_t *s);
uint64_t sender_failed(const sender_t *s);

#endif
