/*
 * svn: svnserve speaks first with a greeting in its S-expression protocol, "( success ( 2 2 ( )
 * ( edit-pipeline ...", so the probe is nothing. The fingerprint is "( success ( " followed by
 * the minimum protocol version number.
 */
#include "worker/handshakes/hs_util.h"

bool hs_svn_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    return hs_starts(data, len, "( success ( ") && len > 12 && data[12] >= '0' && data[12] <= '9';
}
