/*
 * wait: the empty handshake. The ACK that completes the TCP handshake carries no data, and lzr
 * waits for a server that speaks first (SSH, FTP, SMTP, MySQL, ...) to send its banner. It
 * recognises nothing itself: whatever arrives is matched by the other fingerprints.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_wait_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    (void)buf;
    (void)cap;
    return 0;
}
