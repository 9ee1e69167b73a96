/*
 * fuzz_fingerprint: arbitrary bytes, as any server on the Internet may send, into
 * handshake_fingerprint and into every registered matcher directly (the fingerprint stops early
 * once a higher priority has matched, so some matchers would otherwise go unexercised). The
 * input is copied to a buffer of exactly its size so a read past len is caught. Seeds: one file
 * per fixture in tests/fuzz/corpus/fingerprint/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/catalogue.h"
#include "worker/handshakes/handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    const char *name = handshake_fingerprint(copy, size);
    if ((size == 0) != (name == NULL))
        abort();
    for (size_t i = 0; i < catalogue_count(); i++) {
        const handshake_t *h = handshake_at(i);
        if (h->match && size > 0 && handshake_match(h, copy, size) && h->priority <= 0)
            abort();
    }
    /* the winner must really match: a table or priority bug would name a protocol whose matcher
     * rejects the input */
    if (name && strcmp(name, "unknown") != 0) {
        const handshake_t *h = handshake_find(name);
        if (!h || !h->match || !handshake_match(h, copy, size))
            abort();
    }
    free(copy);
    return 0;
}
