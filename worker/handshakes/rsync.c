/*
 * rsync: an rsync daemon greets first with "@RSYNCD: <major>.<minor>\n", so the probe is nothing.
 * The fingerprint is that greeting: the tag, a space, and a version number.
 */
#include "worker/handshakes/hs_util.h"

bool hs_rsync_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (!hs_starts(data, len, "@RSYNCD: ") || len < 10)
        return false;
    size_t i = 9;
    while (i < len && data[i] >= '0' && data[i] <= '9')
        i++;
    return i > 9 && (i == len || data[i] == '.' || data[i] == '\n' || data[i] == ' ');
}
