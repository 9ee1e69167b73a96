/*
 * fuzz_pfx2as: arbitrary bytes into pfx2as_parse, as if read from a prefix-to-AS file. A refusal
 * must come with a "name:line: " message; an accepted table must answer lookups of a few
 * addresses with one of its own labels (AS numbers joined by '_' or ','), or none. ASan and
 * UBSan catch overreads, leaks and shift overflow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/pfx2as.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0; /* longer files add time, not new paths */
    char err[256] = "";
    pfx2as_t *t = pfx2as_parse((const char *)data, size, "f", err, sizeof err);
    if (!t) {
        if (strncmp(err, "f:", 2) != 0)
            abort();
        return 0;
    }
    const uint32_t probe[] = {0, 1, 0x0a000001, 0xc6120001, 0x7fffffff, 0xffffffff};
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        const char *o = pfx2as_lookup(t, probe[i]);
        if (o && (!o[0] || strspn(o, "0123456789_,") != strlen(o)))
            abort();
    }
    if (pfx2as_origins(t) > pfx2as_count(t))
        abort();
    pfx2as_free(&t);
    return 0;
}
