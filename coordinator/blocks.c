/*
 * blocks: a run-length pass over hosts in address order, and a small table built from it. IPv6
 * addresses are compared and stepped as 128-bit numbers, byte by byte in network order.
 */
#include "coordinator/blocks.h"
#include "common/grow.h"

#include "common/err.h"
#include "common/verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

block_bin_t blocks_bin(uint64_t size)
{
    if (size <= 1)
        return BLOCK_BIN_32;
    if (size <= 128)
        return BLOCK_BIN_31_25;
    if (size <= 256)
        return BLOCK_BIN_24;
    return BLOCK_BIN_LARGER;
}

const char *blocks_bin_name(addr_family_t f, block_bin_t b)
{
    static const char *const v4[BLOCK_BINS] = {"/32", "/31-/25", "/24", "larger"};
    static const char *const v6[BLOCK_BINS] = {"/128", "/127-/121", "/120", "larger"};
    if ((unsigned)b >= BLOCK_BINS || (f != ADDR_IPV4 && f != ADDR_IPV6))
        return "invalid";
    return f == ADDR_IPV4 ? v4[b] : v6[b];
}

const char *blocks_behaviour(const lzr_class_t *cls, size_t n, const char *verdict)
{
    if (verdict_names_behaviour(verdict))
        return verdict;
    bool closed = false;
    int seen = -1;
    bool lost = false, mixed = false;
    for (size_t i = 0; i < n; i++) {
        switch (cls[i]) {
        case CLASS_SERVICE:
            return record_class_name(CLASS_SERVICE);
        case CLASS_SILENT:
            break;
        case CLASS_CLOSED:
            closed = true;
            break;
        case CLASS_LOST_AFTER_SYNACK:
            lost = true;
            break;
        default:
            if (seen >= 0 && seen != (int)cls[i])
                mixed = true;
            seen = (int)cls[i];
        }
    }
    if (mixed)
        return "mixed";
    if (seen >= 0)
        return record_class_name((lzr_class_t)seen);
    if (lost)
        return record_class_name(CLASS_LOST_AFTER_SYNACK);
    return closed ? record_class_name(CLASS_CLOSED) : NULL;
}

/* Whether b is a + 1 in the same family (no wrap past the family's last address). */
static bool follows(const lzr_addr_t *a, const lzr_addr_t *b)
{
    if (a->family != b->family)
        return false;
    if (a->family == ADDR_IPV4)
        return a->v4 != UINT32_MAX && b->v4 == a->v4 + 1;
    /* a + 1 adds one to the last byte and carries through trailing 0xff bytes */
    int i = 15;
    for (; i >= 0 && a->v6[i] == 0xff; i--)
        if (b->v6[i] != 0)
            return false;
    return i >= 0 && b->v6[i] == a->v6[i] + 1 && memcmp(a->v6, b->v6, (size_t)i) == 0;
}

int blocks_add(blocks_t *b, const lzr_addr_t *ip, const char *behaviour)
{
    if (ip->family != ADDR_IPV4 && ip->family != ADDR_IPV6)
        return LZR_EINVAL;
    if (b->n) {
        block_t *last = &b->v[b->n - 1];
        if (addr_compare(ip, &last->last) <= 0)
            return LZR_EINVAL;
        if (follows(&last->last, ip) && strcmp(last->behaviour, behaviour) == 0) {
            last->last = *ip;
            last->size++;
            return LZR_OK;
        }
    }
    block_t *g = grow(b->v, b->n, &b->cap, sizeof *g, 64);
    if (!g)
        return LZR_ENOMEM;
    b->v = g;
    block_t *nb = &b->v[b->n++];
    nb->first = nb->last = *ip;
    nb->size = 1;
    snprintf(nb->behaviour, sizeof nb->behaviour, "%s", behaviour);
    return LZR_OK;
}

void blocks_free(blocks_t *b)
{
    free(b->v);
    memset(b, 0, sizeof *b);
}

static int row_cmp(const void *x, const void *y)
{
    const blocks_row_t *a = x, *b = y;
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if (a->addresses != b->addresses)
        return a->addresses > b->addresses ? -1 : 1;
    return strcmp(a->behaviour, b->behaviour);
}

int blocks_table(const blocks_t *b, blocks_row_t **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < b->n; i++) {
        const block_t *bl = &b->v[i];
        blocks_row_t *r = NULL;
        for (size_t k = 0; k < *n && !r; k++)
            if ((*rows)[k].family == bl->first.family &&
                strcmp((*rows)[k].behaviour, bl->behaviour) == 0)
                r = &(*rows)[k];
        if (!r) {
            blocks_row_t *g = grow(*rows, *n, &cap, sizeof *g, 16);
            if (!g) {
                free(*rows);
                *rows = NULL;
                *n = 0;
                return LZR_ENOMEM;
            }
            *rows = g;
            r = &(*rows)[(*n)++];
            memset(r, 0, sizeof *r);
            r->family = bl->first.family;
            snprintf(r->behaviour, sizeof r->behaviour, "%s", bl->behaviour);
        }
        r->addresses += bl->size;
        r->blocks++;
        r->bins[blocks_bin(bl->size)]++;
    }
    if (*n > 1)
        qsort(*rows, *n, sizeof **rows, row_cmp);
    return LZR_OK;
}
