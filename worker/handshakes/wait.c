/*
 * wait: the empty handshake. The ACK that completes the TCP handshake carries no data, and lzr
 * waits for a server that speaks first (SSH, FTP, SMTP, MySQL, ...) to send its banner. It
 * recognises nothing itself: whatever arrives is matched by the other fingerprints.
 */
#include "worker/handshakes/hs_util.h"

static size_t wait_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    (void)buf;
    (void)cap;
    return 0;
}

const handshake_t hs_wait = {
    .name = "wait",
    .default_ports = "21,22,23,25,110,143,3306,5900",
    .priority = 0,
    .payload = wait_payload,
    .match = NULL,
};
