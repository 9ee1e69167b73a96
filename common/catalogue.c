/*
 * catalogue: the protocol list of catalogue.h as a table, and its lookups.
 */
#include "common/catalogue.h"

#include <string.h>

#define LZR_PROTO_ENTRY(n, iana, ports, prio, kind)                                                \
    {#n, iana, ports, LZR_PRIO_##prio, PROTO_##kind},
static const protocol_t table[LZR_PROTOCOL_COUNT] = {LZR_PROTOCOLS(LZR_PROTO_ENTRY)};
#undef LZR_PROTO_ENTRY

size_t catalogue_count(void)
{
    return LZR_PROTOCOL_COUNT;
}

const protocol_t *catalogue_at(size_t i)
{
    return i < LZR_PROTOCOL_COUNT ? &table[i] : NULL;
}

const protocol_t *catalogue_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < LZR_PROTOCOL_COUNT; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

uint16_t catalogue_iana_port(const char *name)
{
    const protocol_t *p = catalogue_find(name);
    return p ? p->iana_port : 0;
}
