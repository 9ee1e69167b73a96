/*
 * verify: non-blocking connects bound to a source IP, watched with poll. A completed connect is
 * ANSWER_SYNACK, ECONNREFUSED is ANSWER_RST, anything still pending at the deadline is
 * ANSWER_SILENT. The trigger test runs its four steps in rounds across all targets, so n
 * targets cost four rounds, not 4n.
 */
#include "worker/verify.h"

#include "common/clock.h"
#include "common/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VERIFY_SETTLE_MS 300 /* pause between trigger steps, so the host's rule has fired */

/* Two newlines: the paper's data probe, accepted by any TCP server as bytes. */
static const uint8_t trigger_data[] = "\r\n\r\n";

/* Closes fd with a RST instead of a FIN: nothing of the attempt lingers in the kernel. */
static void abort_conn(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* a and port as a socket address in *out; returns its length. */
static socklen_t sockaddr_of(const lzr_addr_t *a, uint16_t port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (a->family == ADDR_IPV6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, a->v6, 16);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)out;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    s4->sin_addr.s_addr = htonl(a->v4);
    return sizeof *s4;
}

static int open_attempt(const verify_attempt_t *a, char *err, size_t errlen)
{
    bool v6 = a->src.family == ADDR_IPV6;
    if (a->dst.family != a->src.family) {
        snprintf(err, errlen, "an attempt from an IPv%d address to an IPv%d one", a->src.family,
                 a->dst.family);
        return LZR_EINVAL;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return LZR_ESYS;
    }
    struct sockaddr_storage src, dst;
    socklen_t len = sockaddr_of(&a->src, 0, &src);
    sockaddr_of(&a->dst, a->port, &dst);
    if (bind(fd, (struct sockaddr *)&src, len) < 0) {
        char text[ADDR_TEXT_MAX];
        snprintf(err, errlen, "bind to %s: %s (is it assigned here?)", addr_format(&a->src, text),
                 strerror(errno));
        close(fd);
        return LZR_ESYS;
    }
    if (connect(fd, (struct sockaddr *)&dst, len) < 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        close(fd);
        return LZR_ESYS;
    }
    return fd;
}

int verify_attempts(verify_attempt_t *a, size_t n, uint32_t timeout_ms, char *err, size_t errlen)
{
    if (n == 0)
        return LZR_OK;
    struct pollfd *pfd = calloc(n, sizeof *pfd);
    if (!pfd) {
        snprintf(err, errlen, "out of memory");
        return LZR_ENOMEM;
    }
    int rc = LZR_OK;
    size_t pending = 0;
    for (size_t i = 0; i < n; i++) {
        a[i].answer = ANSWER_SILENT;
        pfd[i].fd = -1;
        int fd = open_attempt(&a[i], err, errlen);
        if (fd < 0) {
            rc = fd;
            break;
        }
        pfd[i].fd = fd;
        pfd[i].events = POLLOUT;
        pending++;
    }
    uint64_t deadline = clock_mono_ms() + timeout_ms;
    while (rc == LZR_OK && pending > 0) {
        uint64_t now = clock_mono_ms();
        if (now >= deadline)
            break;
        if (poll(pfd, n, (int)(deadline - now)) <= 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (pfd[i].fd < 0 || !pfd[i].revents)
                continue;
            int soerr = 0;
            socklen_t len = sizeof soerr;
            getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            if (soerr == 0) {
                a[i].answer = ANSWER_SYNACK;
                if (a[i].payload) {
                    ssize_t sent = send(pfd[i].fd, a[i].payload, a[i].paylen, MSG_NOSIGNAL);
                    (void)sent; /* delivery is the host's business; the next attempt tells */
                    clock_sleep_ms(50);
                }
            } else if (soerr == ECONNREFUSED) {
                a[i].answer = ANSWER_RST;
            } else if (soerr == ECONNRESET) {
                /* reset after the handshake completed (a RST-after-handshake middlebox): the
                 * SYN was answered */
                a[i].answer = ANSWER_SYNACK;
            } else {
                a[i].answer = ANSWER_SILENT; /* unreachable, timed out in the kernel */
            }
            /* Always with a RST: a socket closed with a FIN behind unacknowledged data would
             * retransmit that data for minutes, and each copy reaching a dynamically
             * blocking host blocks this source again, long after the test. */
            abort_conn(pfd[i].fd);
            pfd[i].fd = -1;
            pending--;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (pfd[i].fd >= 0)
            abort_conn(pfd[i].fd);
    }
    free(pfd);
    return rc;
}

/* Whether target i takes part in trigger step `step`, given the answers so far. */
static bool in_step(int step, bool wanted, answer_t first, answer_t after_bare, answer_t data)
{
    switch (step) {
    case 1:
        return wanted;
    case 2: /* a closed port's RST is a contact too: a shunning host then ignores the next SYN */
        return wanted && (first == ANSWER_SYNACK || first == ANSWER_RST);
    case 3:
        return wanted && after_bare == ANSWER_SYNACK;
    default:
        return wanted && data == ANSWER_SYNACK;
    }
}

int verify_trigger(const lzr_addr_t *trigger_ip, const verify_target_t *t, const bool *want,
                   size_t n, uint32_t timeout_ms, verify_evidence_t *ev, char *err, size_t errlen)
{
    verify_attempt_t *a = calloc(n + 1, sizeof *a);
    size_t *idx = calloc(n + 1, sizeof *idx);
    answer_t *first = calloc(n + 1, sizeof *first), *data = calloc(n + 1, sizeof *data);
    int rc = (a && idx && first && data) ? LZR_OK : LZR_ENOMEM;
    if (rc != LZR_OK)
        snprintf(err, errlen, "out of memory");
    /* 1: a bare handshake, whose SYN is what shunning reacts to; 2: another — answered?
     * 3: a handshake that sends data, what dynamic blocking reacts to; 4: another. */
    for (int step = 1; step <= 4 && rc == LZR_OK; step++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (!in_step(step, want[i], first[i], ev[i].after_bare, data[i]))
                continue;
            a[m] = (verify_attempt_t){.src = *trigger_ip, .dst = t[i].ip, .port = t[i].port};
            if (step == 3) {
                a[m].payload = trigger_data;
                a[m].paylen = sizeof trigger_data - 1;
            }
            idx[m++] = i;
        }
        if (m == 0)
            break;
        rc = verify_attempts(a, m, timeout_ms, err, errlen);
        for (size_t k = 0; k < m && rc == LZR_OK; k++) {
            size_t i = idx[k];
            if (step == 1)
                first[i] = a[k].answer;
            else if (step == 2)
                ev[i].after_bare = a[k].answer;
            else if (step == 3)
                data[i] = a[k].answer;
            else
                ev[i].after_data = a[k].answer;
        }
        clock_sleep_ms(VERIFY_SETTLE_MS);
    }
    free(a);
    free(idx);
    free(first);
    free(data);
    return rc;
}

int verify_run(const lzr_addr_t *orig_ip, const lzr_addr_t *fresh_ip, const lzr_addr_t *trigger_ip,
               verify_target_t *t, size_t n, uint32_t timeout_ms, verify_evidence_t *ev, char *err,
               size_t errlen)
{
    verify_attempt_t *a = calloc(3 * n + 1, sizeof *a);
    bool *want = calloc(n + 1, sizeof *want);
    if (!a || !want) {
        free(a);
        free(want);
        snprintf(err, errlen, "out of memory");
        return LZR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (!t[i].random_port)
            t[i].random_port = verdict_random_port(0, &t[i].ip, t[i].port);
        memset(&ev[i], 0, sizeof ev[i]);
        /* A fresh IP gets one SYN only: a shunning host would ignore a second one. */
        a[3 * i + 0] = (verify_attempt_t){.src = *orig_ip, .dst = t[i].ip, .port = t[i].port};
        a[3 * i + 1] = (verify_attempt_t){.src = *fresh_ip, .dst = t[i].ip, .port = t[i].port};
        a[3 * i + 2] =
            (verify_attempt_t){.src = *orig_ip, .dst = t[i].ip, .port = t[i].random_port};
    }
    int rc = verify_attempts(a, 3 * n, timeout_ms, err, errlen);
    for (size_t i = 0; rc == LZR_OK && i < n; i++) {
        ev[i].orig = a[3 * i + 0].answer;
        ev[i].fresh = a[3 * i + 1].answer;
        ev[i].orig_random = a[3 * i + 2].answer;
        want[i] = verdict_blocked(&ev[i]);
    }
    if (rc == LZR_OK)
        rc = verify_trigger(trigger_ip, t, want, n, timeout_ms, ev, err, errlen);
    free(a);
    free(want);
    return rc;
}
