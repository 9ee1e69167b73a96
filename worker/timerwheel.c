/*
 * timerwheel: the worker's timeouts (retransmits, handshake deadlines), one per connection id.
 * A hashed wheel of nslots slots, one tick each; a timer due at tick e lives in slot e % nslots.
 * Every list is circular and doubly linked through one node array: ids [0, capacity) are the
 * timers, and the entries after them are sentinels — one per slot, one "pending" list for timers
 * armed in the past, and one list that holds the slot being fired, so a callback can cancel or
 * re-arm anything (itself, or a neighbour about to fire) by plain unlinking. A node is 12 bytes:
 * next, prev and the low 32 bits of its due tick. A disarmed id has next == prev == 0, which no
 * linked node can have (every list holds a sentinel, and 0 is a timer, not a sentinel), so the
 * array comes zeroed from bigmem: the kernel hands those pages out as they are first touched,
 * and a wheel for a million ids costs nothing to create.
 *
 * Time is cut into ticks of tick_ms on an absolute grid (tick = ms / tick_ms). A timer for when_ms
 * is due at tick ceil(when_ms / tick_ms) and fires on the first advance whose floor(now_ms /
 * tick_ms) reaches it: never before when_ms, and less than one tick after it when advance is
 * called often enough. Due ticks are kept as 32-bit values relative to the current tick, so a
 * timer can be at most 2^31 - 1 ticks ahead (24 days at 1 ms); later ones are held at that limit.
 */
#include "worker/timerwheel.h"
#include "worker/bigmem.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

#define MAX_AHEAD   0x7fffffffu
#define MAX_SLOTS   (1u << 24)
#define MAX_ENTRIES (UINT32_MAX - 1)

typedef struct tw_node {
    uint32_t next, prev;
    uint32_t due; /* low 32 bits of the due tick */
} tw_node_t;

struct timerwheel {
    tw_node_t *nodes; /* capacity timers, then nslots slot sentinels, pending, firing */
    uint32_t capacity;
    uint32_t nslots;
    uint32_t tick_ms;
    uint32_t armed;
    uint32_t pending; /* sentinel: timers armed at or before the current tick */
    uint32_t firing;  /* sentinel: the slot being fired */
    uint64_t cur;     /* last tick whose timers have all fired */
    bool in_advance;
};

static bool list_empty(const timerwheel_t *w, uint32_t head)
{
    return w->nodes[head].next == head;
}

static void list_init(timerwheel_t *w, uint32_t head)
{
    w->nodes[head].next = head;
    w->nodes[head].prev = head;
}

static void link_tail(timerwheel_t *w, uint32_t head, uint32_t id)
{
    tw_node_t *n = w->nodes;
    uint32_t last = n[head].prev;
    n[id].prev = last;
    n[id].next = head;
    n[last].next = id;
    n[head].prev = id;
}

static void unlink_node(timerwheel_t *w, uint32_t id)
{
    tw_node_t *n = w->nodes;
    n[n[id].prev].next = n[id].next;
    n[n[id].next].prev = n[id].prev;
    n[id].next = 0;
    n[id].prev = 0;
}

static bool is_armed(const timerwheel_t *w, uint32_t id)
{
    return (w->nodes[id].next | w->nodes[id].prev) != 0;
}

/* Moves every node of list from onto the (empty) list to in O(1). */
static void splice_all(timerwheel_t *w, uint32_t from, uint32_t to)
{
    tw_node_t *n = w->nodes;
    if (list_empty(w, from))
        return;
    uint32_t first = n[from].next, last = n[from].prev;
    n[to].next = first;
    n[to].prev = last;
    n[first].prev = to;
    n[last].next = to;
    list_init(w, from);
}

static uint32_t slot_head(const timerwheel_t *w, uint64_t tick)
{
    return w->capacity + (uint32_t)(tick % w->nslots);
}

timerwheel_t *timerwheel_new(uint32_t capacity, uint32_t tick_ms, uint32_t nslots, uint64_t now_ms)
{
    if (capacity == 0 || tick_ms == 0 || nslots == 0 || nslots > MAX_SLOTS ||
        (uint64_t)capacity + nslots + 2 > MAX_ENTRIES)
        return NULL;
    timerwheel_t *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    size_t entries = (size_t)capacity + nslots + 2;
    w->nodes = bigmem_zalloc(entries * sizeof(tw_node_t)); /* every timer disarmed */
    if (!w->nodes) {
        free(w);
        return NULL;
    }
    for (size_t i = capacity; i < entries; i++)
        list_init(w, (uint32_t)i);
    w->capacity = capacity;
    w->nslots = nslots;
    w->tick_ms = tick_ms;
    w->pending = capacity + nslots;
    w->firing = capacity + nslots + 1;
    w->cur = now_ms / tick_ms;
    return w;
}

void timerwheel_destroy(timerwheel_t **w)
{
    if (!w || !*w)
        return;
    bigmem_free((*w)->nodes, ((size_t)(*w)->capacity + (*w)->nslots + 2) * sizeof(tw_node_t));
    free(*w);
    *w = NULL;
}

void timerwheel_cancel(timerwheel_t *w, uint32_t id)
{
    assert(id < w->capacity);
    if (id >= w->capacity || !is_armed(w, id))
        return;
    unlink_node(w, id);
    w->armed--;
}

void timerwheel_schedule(timerwheel_t *w, uint32_t id, uint64_t when_ms)
{
    assert(id < w->capacity);
    if (id >= w->capacity)
        return;
    timerwheel_cancel(w, id);

    uint64_t due = when_ms / w->tick_ms + (when_ms % w->tick_ms != 0);
    if (due <= w->cur) {
        /* Already due: fires on the next advance, even one that does not move the clock. */
        w->nodes[id].due = (uint32_t)w->cur;
        link_tail(w, w->pending, id);
    } else {
        if (due - w->cur > MAX_AHEAD)
            due = w->cur + MAX_AHEAD;
        w->nodes[id].due = (uint32_t)due;
        link_tail(w, slot_head(w, due), id);
    }
    w->armed++;
}

/* Detaches list head into the firing list, then fires its timers that are due by tick; the
 * others (a later turn of the wheel) go back to their slot. Each node is taken off the firing
 * list before its callback runs, so the callback may unlink any node, including the next one. */
static size_t fire_list(timerwheel_t *w, uint32_t head, uint64_t tick, bool check_due,
                        timerwheel_fn fn, void *ctx)
{
    size_t fired = 0;
    splice_all(w, head, w->firing);
    while (!list_empty(w, w->firing)) {
        uint32_t id = w->nodes[w->firing].next;
        unlink_node(w, id);
        if (check_due && (int32_t)(w->nodes[id].due - (uint32_t)tick) > 0) {
            link_tail(w, head, id);
            continue;
        }
        w->armed--;
        fired++;
        fn(ctx, id);
    }
    return fired;
}

/* Ticks from the current one to the earliest timer in a slot, or UINT64_MAX when none is. */
static uint64_t ticks_to_earliest(const timerwheel_t *w)
{
    uint64_t best = UINT64_MAX;
    for (uint32_t s = 0; s < w->nslots; s++) {
        uint32_t head = w->capacity + s;
        for (uint32_t id = w->nodes[head].next; id != head; id = w->nodes[id].next) {
            uint64_t d = (uint32_t)(w->nodes[id].due - (uint32_t)w->cur);
            if (d < best)
                best = d;
        }
    }
    return best;
}

size_t timerwheel_advance(timerwheel_t *w, uint64_t now_ms, timerwheel_fn fn, void *ctx)
{
    assert(!w->in_advance);
    if (w->in_advance)
        return 0;
    w->in_advance = true;

    /* Timers armed in the past first: their ticks are at or before the current one. Timers a
     * callback arms in the past from here on wait for the next advance, so a callback that keeps
     * re-arming itself "now" cannot spin forever. */
    size_t fired = fire_list(w, w->pending, w->cur, false, fn, ctx);

    uint64_t target = now_ms / w->tick_ms;
    uint64_t since_scan = w->nslots; /* ticks walked since the last look for the earliest timer */
    while (w->cur < target) {
        if (w->armed == 0) {
            w->cur = target;
            break;
        }
        /* A jump longer than a turn would visit every slot many times; skip straight to the tick
         * before the earliest timer instead (re-checked once per turn walked). */
        if (target - w->cur > w->nslots && since_scan >= w->nslots) {
            since_scan = 0;
            uint64_t d = ticks_to_earliest(w);
            if (d > 1) {
                uint64_t skip = d - 1 < target - w->cur ? d - 1 : target - w->cur;
                w->cur += skip;
                continue;
            }
        }
        w->cur++;
        since_scan++;
        fired += fire_list(w, slot_head(w, w->cur), w->cur, true, fn, ctx);
    }
    w->in_advance = false;
    return fired;
}

uint32_t timerwheel_armed(const timerwheel_t *w)
{
    return w->armed;
}

size_t timerwheel_bytes_per_id(const timerwheel_t *w)
{
    uint64_t total = ((uint64_t)w->capacity + w->nslots + 2) * sizeof(tw_node_t) + sizeof(*w);
    return (size_t)((total + w->capacity - 1) / w->capacity);
}
