/*
 * conntab: the worker's table of in-flight connections, one entry per (address, port) between
 * its first SYN-ACK and its classification, keyed by family, address (an IPv6 target's index in
 * targets6) and port. Everything is allocated by conntab_new: a pool of
 * conn_t whose position is the entry's stable id, a bitmap of live ids, and an open-addressing
 * index of uint32 slots (id + 1 in the low bits, 0 = empty; above it, the top bits of the key's
 * hash, so a probe passes over another key's slot without reading its entry), probed linearly
 * and cleaned by backward shifting on removal, so there are no tombstones and a probe run never
 * grows with churn. The index holds at
 * least twice the live entries: it starts at CONNTAB_INDEX_MIN slots and doubles as the table
 * fills, up to twice the capacity. Every lookup reads one random slot of it, so an index sized to
 * the connections in flight, not to the capacity, stays in the CPU's cache (a scan's 65,000 in
 * flight need 512 KiB; a million-connection capacity 8 MiB). Free ids form a stack threaded through
 * the free entries themselves; ids never handed out yet are taken from a high-water mark, so a
 * fresh table touches no pool memory.
 */
#include "worker/conntab.h"
#include "worker/bigmem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Largest capacity: the index needs a power of two ≥ 2 × capacity that fits a uint32 count. */
#define CONNTAB_MAX_CAPACITY (1u << 30)

#define NO_ID UINT32_MAX

/* Slots the index starts with (64 KiB); it doubles whenever it would be more than half full. */
#define CONNTAB_INDEX_MIN (1u << 14)

struct conntab {
    conn_t *pool;    /* capacity entries (bigmem); position = id */
    uint64_t *live;  /* bit per id: set while the entry is in the table */
    uint32_t *index; /* index_mask + 1 slots: tag | id + 1, 0 = empty; index_bytes of bigmem */
    size_t index_bytes;
    uint32_t index_mask;
    uint64_t index_max; /* slots it may grow to: a power of two ≥ 2 × capacity */
    uint32_t id_mask;   /* the slot bits that hold id + 1; the others hold the hash's tag */
    uint32_t capacity;
    uint32_t count;
    uint32_t fresh;     /* ids [fresh, capacity) have never been used */
    uint32_t free_head; /* stack of released ids, NO_ID when empty */
};

/* Mixes the 49-bit key (family bit, address or index, port) so nearby addresses and ports spread
 * over the whole index (the 64-bit finaliser of MurmurHash3: xorshifts around two odd
 * multipliers). */
static uint32_t hash_key(uint32_t daddr, uint16_t dport, bool v6)
{
    uint64_t k = ((uint64_t)v6 << 48) | ((uint64_t)daddr << 16) | dport;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return (uint32_t)k;
}

static int is_live(const conntab_t *t, uint32_t id)
{
    return (t->live[id >> 6] >> (id & 63)) & 1;
}

static void set_live(conntab_t *t, uint32_t id, int on)
{
    uint64_t bit = (uint64_t)1 << (id & 63);
    if (on)
        t->live[id >> 6] |= bit;
    else
        t->live[id >> 6] &= ~bit;
}

/* The next-free link of a released entry lives in its first four bytes. */
static uint32_t free_next(const conntab_t *t, uint32_t id)
{
    uint32_t next;
    memcpy(&next, &t->pool[id], sizeof(next));
    return next;
}

static void set_free_next(conntab_t *t, uint32_t id, uint32_t next)
{
    memcpy(&t->pool[id], &next, sizeof(next));
}

conntab_t *conntab_new(uint32_t capacity)
{
    if (capacity == 0 || capacity > CONNTAB_MAX_CAPACITY)
        return NULL;
    uint64_t slots = 2;
    while (slots < 2 * (uint64_t)capacity)
        slots <<= 1;

    conntab_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->capacity = capacity; /* before anything can fail: conntab_destroy sizes the pool by it */
    t->pool = bigmem_zalloc((size_t)capacity * sizeof(conn_t));
    t->live = calloc(((size_t)capacity + 63) / 64, sizeof(uint64_t));
    t->index_max = slots;
    if (slots > CONNTAB_INDEX_MIN)
        slots = CONNTAB_INDEX_MIN;
    t->index_bytes = slots * sizeof(uint32_t);
    t->index = bigmem_zalloc(t->index_bytes);
    if (!t->pool || !t->live || !t->index) {
        conntab_destroy(&t);
        return NULL;
    }
    t->index_mask = (uint32_t)(slots - 1);
    t->id_mask = 1;
    while (t->id_mask < capacity) /* id + 1 ≤ capacity */
        t->id_mask = t->id_mask << 1 | 1;
    t->free_head = NO_ID;
    return t;
}

void conntab_destroy(conntab_t **t)
{
    if (!t || !*t)
        return;
    bigmem_free((*t)->pool, (size_t)(*t)->capacity * sizeof(conn_t));
    free((*t)->live);
    bigmem_free((*t)->index, (*t)->index_bytes);
    free(*t);
    *t = NULL;
}

/* The entry a non-empty slot value e points to. */
static conn_t *slot_entry(const conntab_t *t, uint32_t e)
{
    return &t->pool[(e & t->id_mask) - 1];
}

/* The index slot holding key (daddr, dport, v6), or the empty slot that ends its probe run. An
 * entry is read only when its slot carries the key's tag: one in 2^(32 - id bits) of the others. */
static uint32_t find_slot(const conntab_t *t, uint32_t daddr, uint16_t dport, bool v6)
{
    uint32_t h = hash_key(daddr, dport, v6), tag = h & ~t->id_mask;
    uint32_t i = h & t->index_mask;
    for (;;) {
        uint32_t e = t->index[i];
        if (e == 0)
            return i;
        if ((e & ~t->id_mask) == tag) {
            const conn_t *c = slot_entry(t, e);
            if (c->daddr == daddr && c->dport == dport && c->v6 == v6)
                return i;
        }
        i = (i + 1) & t->index_mask;
    }
}

/* Doubles the index and puts every live entry into the new one. False when no memory is left
 * (the old index stays). */
static bool grow_index(conntab_t *t)
{
    uint64_t slots = ((uint64_t)t->index_mask + 1) * 2;
    uint32_t *bigger = bigmem_zalloc(slots * sizeof(uint32_t));
    if (!bigger)
        return false;
    uint32_t mask = (uint32_t)(slots - 1);
    for (uint64_t k = 0; k <= t->index_mask; k++) {
        uint32_t e = t->index[k];
        if (e == 0)
            continue;
        const conn_t *c = slot_entry(t, e);
        uint32_t i = hash_key(c->daddr, c->dport, c->v6) & mask;
        while (bigger[i])
            i = (i + 1) & mask;
        bigger[i] = e;
    }
    bigmem_free(t->index, t->index_bytes);
    t->index = bigger;
    t->index_bytes = slots * sizeof(uint32_t);
    t->index_mask = mask;
    return true;
}

conn_t *conntab_insert(conntab_t *t, uint32_t daddr, uint16_t dport, bool v6)
{
    if (t->count == t->capacity)
        return NULL;
    uint64_t slots = (uint64_t)t->index_mask + 1;
    /* Half full: double, or, without memory for that, go on to seven eighths. */
    if (t->count + 1 > slots / 2 && (slots >= t->index_max || !grow_index(t)) &&
        t->count + 1 > slots - slots / 8)
        return NULL;
    uint32_t slot = find_slot(t, daddr, dport, v6);
    if (t->index[slot] != 0)
        return NULL; /* key already present */

    uint32_t id;
    if (t->free_head != NO_ID) {
        id = t->free_head;
        t->free_head = free_next(t, id);
    } else {
        id = t->fresh++;
    }
    conn_t *c = &t->pool[id];
    memset(c, 0, sizeof(*c));
    c->daddr = daddr;
    c->dport = dport;
    c->v6 = v6;
    set_live(t, id, 1);
    t->index[slot] = (hash_key(daddr, dport, v6) & ~t->id_mask) | (id + 1);
    t->count++;
    return c;
}

conn_t *conntab_lookup(const conntab_t *t, uint32_t daddr, uint16_t dport, bool v6)
{
    uint32_t e = t->index[find_slot(t, daddr, dport, v6)];
    return e ? slot_entry(t, e) : NULL;
}

void conntab_remove(conntab_t *t, conn_t *c)
{
    if (!c)
        return;
    uint32_t id = conntab_id(t, c);
    assert(id < t->capacity && is_live(t, id));
    if (id >= t->capacity || !is_live(t, id))
        return;

    uint32_t mask = t->index_mask;
    uint32_t hole = find_slot(t, c->daddr, c->dport, c->v6);
    assert((t->index[hole] & t->id_mask) == id + 1);

    /* Backward-shift deletion: walk the run after the hole and pull back every entry whose home
     * slot does not lie cyclically in (hole, j], so each entry stays reachable from its home
     * without tombstones. */
    uint32_t j = hole;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t e = t->index[j];
        if (e == 0)
            break;
        const conn_t *o = slot_entry(t, e);
        uint32_t home = hash_key(o->daddr, o->dport, o->v6) & mask;
        int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        t->index[hole] = e;
        hole = j;
    }
    t->index[hole] = 0;

    set_live(t, id, 0);
    set_free_next(t, id, t->free_head);
    t->free_head = id;
    t->count--;
}

uint32_t conntab_id(const conntab_t *t, const conn_t *c)
{
    return (uint32_t)(c - t->pool);
}

conn_t *conntab_get(const conntab_t *t, uint32_t id)
{
    if (id >= t->capacity || !is_live(t, id))
        return NULL;
    return &t->pool[id];
}

conn_t *conntab_next(const conntab_t *t, uint32_t *id)
{
    /* Only ids below the high-water mark were ever handed out. */
    for (uint32_t i = *id; i < t->fresh;) {
        uint64_t word = t->live[i / 64] >> (i % 64);
        if (word) {
            i += (uint32_t)__builtin_ctzll(word);
            if (i >= t->fresh)
                break;
            *id = i;
            return &t->pool[i];
        }
        i = (i / 64 + 1) * 64;
    }
    return NULL;
}

uint32_t conntab_count(const conntab_t *t)
{
    return t->count;
}

uint32_t conntab_capacity(const conntab_t *t)
{
    return t->capacity;
}

size_t conntab_index_bytes(const conntab_t *t)
{
    return t->index_bytes;
}

size_t conntab_bytes_per_conn(const conntab_t *t)
{
    uint64_t total = (uint64_t)t->capacity * sizeof(conn_t) + t->index_max * sizeof(uint32_t) +
                     ((uint64_t)t->capacity + 63) / 64 * sizeof(uint64_t) + sizeof(*t);
    return (size_t)((total + t->capacity - 1) / t->capacity);
}
