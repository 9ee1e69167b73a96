/*
 * send: AF_PACKET output in batches of SENDER_BATCH frames per sendmmsg. The socket is bound to
 * the interface, so frames need no per-message address; its own receive path is disabled
 * (protocol 0) because capture is libpcap's job.
 */
#include "worker/send.h"

#include "common/err.h"
#include "worker/packet.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sender {
    int fd;
    size_t pending;
    uint64_t sent, failed;
    struct mmsghdr msgs[SENDER_BATCH];
    struct iovec iov[SENDER_BATCH];
    uint8_t frames[SENDER_BATCH][PACKET_MAX_FRAME];
};

sender_t *sender_new_sink(void)
{
    sender_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = -1;
    for (int i = 0; i < SENDER_BATCH; i++) {
        s->iov[i].iov_base = s->frames[i];
        s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
        s->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    return s;
}

sender_t *sender_new(int ifindex, char *err, size_t errlen)
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
    sender_t *s = sender_new_sink();
    if (!s) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    s->fd = fd;
    return s;
}

void sender_destroy(sender_t **s)
{
    if (!*s)
        return;
    sender_flush(*s);
    if ((*s)->fd >= 0)
        close((*s)->fd);
    free(*s);
    *s = NULL;
}

uint8_t *sender_slot(sender_t *s)
{
    return s->frames[s->pending];
}

void sender_commit(sender_t *s, size_t len)
{
    if (len == 0)
        return;
    s->iov[s->pending].iov_len = len;
    if (++s->pending == SENDER_BATCH)
        sender_flush(s);
}

int sender_flush(sender_t *s)
{
    size_t done = 0;
    int refused = 0;
    while (s->fd >= 0 && done < s->pending) {
        int n = sendmmsg(s->fd, s->msgs + done, (unsigned)(s->pending - done), 0);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EINTR))
            continue;
        if (n < 0 && (errno == ENOBUFS || errno == EAGAIN)) {
            usleep(50); /* the device queue is full: wait for it rather than drop */
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
