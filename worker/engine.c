/*
 * engine: two threads around the LZR state machine. The calling thread walks the shard of the
 * permutation and sends paced, stateless discovery SYNs; the receive thread owns the capture
 * handle, the state machine, its timers and its own sender. The walk's targets come from the
 * permutation or from a list (common/input), read a line at a time between batches so a pipe is
 * probed as it is written. With send_threads > 1 the walk is split: each SYN walker takes a
 * contiguous slice of the shard on a thread of its own, with its own sender and a share of the
 * rate. The only things the threads share are the stop flag, the in-flight count that slows the
 * SYNs when the table fills, the receive side's lag that pauses them when it falls behind the
 * wire, and counters.
 */
#include "worker/engine.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/pairs.h"
#include "worker/capture.h"
#include "worker/firewall.h"
#include "worker/lzr.h"
#include "worker/netif.h"
#include "worker/packet.h"
#include "worker/pacer.h"
#include "worker/send.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define ENGINE_CAPACITY     (1u << 20) /* connections in flight at most */
#define ENGINE_HIGH_WATER   (ENGINE_CAPACITY - ENGINE_CAPACITY / 8)
#define ENGINE_BURST        256
#define ENGINE_LINGER_MS    1000 /* after the last SYN, wait this long for stragglers too */
#define ENGINE_DRAIN_NAP_MS 100  /* the longest sleep of the drain: how late it sees a stop */
/* The SYN walk pauses while the receive thread's newest frame waited longer than this in the
 * capture buffer, or its last turn ended longer ago (it is stuck handing a record on — the
 * coordinator's queue is full): well before the 128 MiB buffer fills and the kernel starts
 * dropping replies. */
#define ENGINE_LAG_MAX_US 50000
/* Frames handled per turn of the receive loop, so its timers run and its lag is published
 * even while replies pour in. */
#define ENGINE_RX_CHUNK 2048
/* The receive thread's nice value. Every reply it falls behind on waits in the capture ring, and
 * the ring overflows long before the walk's pause (above) can take effect when something else
 * (another process, the targets' kernel work, our own SYN walk) holds the cores. Ahead of the
 * walk, the receive side is served first and the walk slows by itself instead. */
#define ENGINE_RX_NICE (-10)
/* Blocklisted elements skipped per turn of the SYN walk at most, so a shard the host's
 * blocklist covers still sees the stop flag and reports progress. */
#define ENGINE_SKIP_TURN 65536

typedef struct walker walker_t;

typedef struct engine {
    const engine_config_t *cfg;
    engine_emit_fn emit;
    engine_tick_fn tick;
    void *ctx;
    engine_stats_t *stats; /* the caller's: refreshed at each tick */
    engine_stats_t walk;   /* the SYN walk's own counters (main thread only) */
    uint64_t next_tick_ns;
    sender_t *tx_syn, *tx_rx;
    uint8_t src_mac[6], dst_mac[6], dst_mac6[6];
    engine_startup_t startup;
    int ifindex;
    walker_t *walkers; /* the SYN walkers; walkers[0] runs on the calling thread */
    uint32_t n_walkers;
    atomic_uint walkers_done;
    pthread_t rx;
    lzr_t *lzr;
    capture_t *cap;
    pthread_mutex_t lock; /* guards lzr's counters while the main thread reads them */
    atomic_uint in_flight;
    atomic_uint_fast64_t rx_lag_us;
    atomic_uint_fast64_t rx_turn_ns; /* when the receive thread last finished a turn */
    atomic_int rx_stop;
    uint64_t pcap_drops0; /* the handle's drop count before this run (a kept handle) */
} engine_t;

static void on_frame(void *ctx, const uint8_t *frame, size_t caplen)
{
    engine_t *e = ctx;
    lzr_on_frame(e->lzr, frame, caplen, capture_linktype(e->cap), clock_mono_ns() / 1000);
}

static void *rx_main(void *arg)
{
    engine_t *e = arg;
    while (!atomic_load(&e->rx_stop)) {
        /* Wait for frames outside the lock; 5 ms bounds the timers' jitter. */
        capture_wait(e->cap, 5);
        pthread_mutex_lock(&e->lock);
        capture_dispatch(e->cap, on_frame, e, ENGINE_RX_CHUNK);
        atomic_store(&e->rx_lag_us, capture_lag_us(e->cap));
        lzr_on_time(e->lzr, clock_mono_ns() / 1000, capture_seen_us(e->cap));
        atomic_store(&e->in_flight, lzr_in_flight(e->lzr));
        pthread_mutex_unlock(&e->lock);
        atomic_store(&e->rx_turn_ns, clock_mono_ns());
    }
    return NULL;
}

/* Starts the receive thread at ENGINE_RX_NICE when this process may raise a priority (root, or
 * CAP_SYS_NICE), else at the caller's. A thread inherits its creator's nice value, so the
 * caller takes it for the moment of pthread_create and gives it back (lowering a priority is
 * always allowed). */
static int start_rx(engine_t *e)
{
    errno = 0;
    int own = getpriority(PRIO_PROCESS, (id_t)gettid());
    e->startup.rx_raised = errno == 0 && own > ENGINE_RX_NICE &&
                           setpriority(PRIO_PROCESS, (id_t)gettid(), ENGINE_RX_NICE) == 0;
    int rc = pthread_create(&e->rx, NULL, rx_main, e);
    if (e->startup.rx_raised)
        setpriority(PRIO_PROCESS, (id_t)gettid(), own);
    return rc;
}

int engine_preflight(const engine_config_t *cfg, firewall_proof_t *proof, char *err, size_t errlen)
{
    if (geteuid() != 0) {
        int fd = socket(AF_PACKET, SOCK_RAW, 0);
        if (fd < 0) {
            snprintf(err, errlen,
                     "lzr-worker needs root or CAP_NET_RAW to send raw frames (run it as root, "
                     "or `setcap cap_net_raw,cap_net_admin,cap_sys_nice+ep bin/lzr-worker`; "
                     "cap_sys_nice lets the receive thread run ahead of the SYN walk)");
            return LZR_EPERM;
        }
        close(fd);
    }
    lzr_addr_t src4 = {.family = ADDR_IPV4, .v4 = cfg->source_ip};
    bool v6 = cfg->source_ip6.family == ADDR_IPV6, v4 = cfg->source_ip || !v6;
    int rc = netif_index(cfg->iface, err, errlen);
    if (rc >= 0 && v4)
        rc = netif_has_ip(cfg->iface, &src4, err, errlen);
    if (rc >= 0 && v6)
        rc = netif_has_ip(cfg->iface, &cfg->source_ip6, err, errlen);
    if (rc < 0)
        return rc;
    if (cfg->sport_lo > cfg->sport_hi || cfg->sport_lo < 1024) {
        snprintf(err, errlen, "source ports %u-%u: need LO-HI with 1024 <= LO <= HI", cfg->sport_lo,
                 cfg->sport_hi);
        return LZR_ERANGE;
    }
    rc = firewall_check_ephemeral(cfg->sport_lo, cfg->sport_hi, err, errlen);
    if (rc < 0)
        return rc;
    if (v4)
        rc = firewall_selftest(&src4, cfg->sport_lo, cfg->sport_hi, proof, err, errlen);
    if (rc == LZR_OK && v6) /* the IPv6 path has rules of its own (nft's ip6) */
        rc = firewall_selftest(&cfg->source_ip6, cfg->sport_lo, cfg->sport_hi, v4 ? NULL : proof,
                               err, errlen);
    return rc;
}

/* The IPv4 targets of the walk: an IPv6 target's walk index is this plus its targets6 index. */
static uint64_t count4(const engine_config_t *cfg)
{
    return cfg->targets ? targets_count(cfg->targets) : 0;
}

static uint64_t count6(const engine_config_t *cfg)
{
    return cfg->targets6 ? targets6_count(cfg->targets6) : 0;
}

/* Where the probes come from: the shard of the permutation, or a list being read. */
typedef struct source {
    const engine_config_t *cfg;
    perm_iter_t it;
    input_target_t cur; /* a listed address being taken over the scan's ports */
    size_t port_i;
    bool have_cur;
    uint64_t n4; /* count4: walk indices from here on are IPv6 targets */
    bool more;   /* false at the end of the shard or the list */
    int rc;      /* a list's read error, with its message in err */
    char err[512];
} source_t;

/* A source over the cycle positions [begin, end) of the shard, or over the list. */
static void source_init(source_t *s, const engine_config_t *cfg, uint64_t begin, uint64_t end)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->n4 = count4(cfg);
    s->more = true;
    if (!cfg->input)
        perm_iter_init(&s->it, &cfg->perm, begin, end);
}

/* The next listed (address, port), waiting up to wait_ms for a line; false when none came or
 * at the end (more false). */
static bool list_pair(source_t *s, lzr_addr_t *addr, uint16_t *port, int wait_ms)
{
    const port_list_t *ports = s->cfg->ports;
    while (!s->have_cur) {
        int rc = input_next(s->cfg->input, wait_ms, &s->cur, s->err, sizeof s->err);
        if (rc == 0)
            return false;
        if (rc < 0) {
            s->more = false;
            s->rc = rc == LZR_EEMPTY ? LZR_OK : rc;
            return false;
        }
        s->have_cur = s->cur.has_port || ports->n > 0; /* no ports: scan.c refuses such lines */
        s->port_i = 0;
    }
    *addr = s->cur.addr;
    if (s->cur.has_port) {
        *port = s->cur.port;
        s->have_cur = false;
    } else {
        *port = ports->ports[s->port_i++];
        s->have_cur = s->port_i < ports->n;
    }
    return true;
}

/* The next (address, port) of the walk or the list; walk indices from count4 on are IPv6. */
static bool source_pair(source_t *s, lzr_addr_t *addr, uint16_t *port, int wait_ms)
{
    if (s->cfg->input)
        return list_pair(s, addr, port, wait_ms);
    uint64_t el, nports = s->cfg->ports->n;
    if (!perm_next(&s->it, &el)) {
        s->more = false;
        return false;
    }
    if (s->cfg->pairs) {
        addr->family = ADDR_IPV4;
        addr->v4 = pair_addr(s->cfg->pairs[el]);
        *port = pair_port(s->cfg->pairs[el]);
        return true;
    }
    uint64_t ai = el / nports, n4 = s->n4;
    *port = s->cfg->ports->ports[el % nports];
    if (ai < n4) {
        addr->family = ADDR_IPV4;
        addr->v4 = targets_at(s->cfg->targets, ai);
    } else {
        addr->family = ADDR_IPV6;
        memcpy(addr->v6, targets6_at(s->cfg->targets6, ai - n4), 16);
    }
    return true;
}

/* True when addr must not be probed: the host's blocklist holds it, or it is a listed address
 * outside the scan's set (a reserved range not lifted, an exclude). */
static bool blocked(const engine_config_t *cfg, const lzr_addr_t *addr)
{
    if (addr->family == ADDR_IPV6) {
        const struct in6_addr *a6 = (const struct in6_addr *)addr->v6;
        if (cfg->blocklist6 && targets6_excludes(cfg->blocklist6, a6))
            return true;
        return cfg->input && (!cfg->targets6 || targets6_index_of(cfg->targets6, a6) < 0);
    }
    if (cfg->blocklist && targets_contains(cfg->blocklist, addr->v4))
        return true;
    return cfg->input && cfg->targets && !targets_contains(cfg->targets, addr->v4);
}

/* The next probe into syn (destination, source port, sequence number), skipping blocked
 * targets, which are counted in walk; *skipped counts them too, for the caller's bound per turn.
 * False at the end (s->more false), with *skipped at limit, or when a list has no line ready. */
static bool walk_next(source_t *s, engine_stats_t *walk, pkt_out_t *syn, uint64_t *skipped,
                      uint64_t limit, int wait_ms)
{
    const engine_config_t *cfg = s->cfg;
    while (*skipped < limit) {
        if (!source_pair(s, &syn->seg.dst, &syn->seg.dport, wait_ms))
            return false;
        walk->targets_done++;
        if (blocked(cfg, &syn->seg.dst)) {
            walk->blocked++; /* skipped elements take no share of the rate */
            (*skipped)++;
            continue;
        }
        if (syn->seg.src.family != syn->seg.dst.family) /* our scan IP of the target's family */
            syn->seg.src =
                syn->seg.dst.family == ADDR_IPV6 ? cfg->source_ip6 : addr_ipv4(cfg->source_ip);
        cookie_t ck = cookie_make(&cfg->key, &syn->seg.src, &syn->seg.dst, syn->seg.dport, 0,
                                  cfg->sport_lo, cfg->sport_hi);
        syn->seg.sport = ck.sport;
        syn->seg.seq = ck.seq;
        return true;
    }
    return false;
}

/* LZR_EINVAL with a message when the scan has IPv6 targets but no IPv6 scan IP. */
static int check_scan_ips(const engine_config_t *cfg, char *err, size_t errlen)
{
    if (count6(cfg) && cfg->source_ip6.family != ADDR_IPV6) {
        snprintf(err, errlen, "IPv6 targets need an IPv6 scan IP (--source-ip6)");
        return LZR_EINVAL;
    }
    return LZR_OK;
}

int engine_dry_run(const engine_config_t *cfg, FILE *out, engine_control_t *ctl,
                   engine_stats_t *stats, char *err, size_t errlen)
{
    memset(stats, 0, sizeof *stats);
    int rc = check_scan_ips(cfg, err, errlen);
    if (rc != LZR_OK)
        return rc;
    source_t src;
    source_init(&src, cfg, cfg->pos_begin, cfg->pos_end);
    pkt_out_t syn = {
        .seg = {.src = {.family = ADDR_IPV4, .v4 = cfg->source_ip}, .dst = {.family = ADDR_IPV4}}};
    char sa[ADDR_TEXT_MAX], da[ADDR_TEXT_MAX];
    while (src.more && !atomic_load(&ctl->stop) &&
           !(cfg->max_probes && stats->syns >= cfg->max_probes)) {
        uint64_t skipped = 0;
        if (!walk_next(&src, stats, &syn, &skipped, UINT64_MAX, 100))
            continue; /* a pipe with no line yet, or the end */
        const char *fmt = syn.seg.dst.family == ADDR_IPV6 ? "[%s]:%u > [%s]:%u seq %u\n"
                                                          : "%s:%u > %s:%u seq %u\n";
        fprintf(out, fmt, addr_format(&syn.seg.src, sa), syn.seg.sport,
                addr_format(&syn.seg.dst, da), syn.seg.dport, syn.seg.seq);
        stats->syns++;
    }
    if (src.rc != LZR_OK)
        snprintf(err, errlen, "%s", src.err);
    else if (ferror(out))
        snprintf(err, errlen, "write error");
    return src.rc != LZR_OK ? src.rc : ferror(out) ? LZR_EIO : LZR_OK;
}

/* One SYN walker: its slice of the shard's positions, its sender, its share of the rate and its
 * counters. With --send-threads N the slices are N contiguous parts of the shard; the first
 * walker runs on the calling thread and uses the engine's own sender and counters. */
struct walker {
    engine_t *e;
    engine_control_t *ctl;
    source_t src;
    uint64_t begin;        /* the slice's first position (for the silent report) */
    sender_t *tx;          /* engine's tx_syn for walker 0, its own otherwise */
    engine_stats_t *stats; /* engine's walk for walker 0, own otherwise */
    engine_stats_t own;
    uint16_t ip_id;
    addr_family_t mac_family; /* whose next hop syn's destination MAC is (engine_walk's syn) */
    uint64_t t0;              /* the run's start, for the first SYN's time (walker 0) */
    pthread_t th;
};

/* The SYNs w's sender took: read from the sender while it is open, kept in w's counters once
 * the walk released it (walkers_release). */
static uint64_t walker_sent(const walker_t *w)
{
    return w->tx ? sender_sent(w->tx) : w->stats->sent;
}

/* Adds the other walkers' counters to s (read while they run: progress, not exact figures). */
static void add_walkers(const engine_t *e, engine_stats_t *s)
{
    for (uint32_t k = 1; k < e->n_walkers; k++) {
        const walker_t *w = &e->walkers[k];
        s->syns += __atomic_load_n(&w->own.syns, __ATOMIC_RELAXED);
        s->targets_done += __atomic_load_n(&w->own.targets_done, __ATOMIC_RELAXED);
        s->blocked += __atomic_load_n(&w->own.blocked, __ATOMIC_RELAXED);
        s->rx_wait_ms += __atomic_load_n(&w->own.rx_wait_ms, __ATOMIC_RELAXED);
        s->hold_wait_ms += __atomic_load_n(&w->own.hold_wait_ms, __ATOMIC_RELAXED);
        s->sent += walker_sent(w);
    }
}

/* Refreshes the caller's counters and calls its tick function, once a second or when forced. */
static void report(engine_t *e, uint64_t now_ns, bool force)
{
    if (!force && now_ns < e->next_tick_ns)
        return;
    e->next_tick_ns = now_ns + 1000000000u;
    e->walk.sent = walker_sent(&e->walkers[0]);
    *e->stats = e->walk;
    add_walkers(e, e->stats);
    pthread_mutex_lock(&e->lock);
    lzr_add_stats(e->lzr, e->stats);
    pthread_mutex_unlock(&e->lock);
    e->stats->in_flight = atomic_load(&e->in_flight);
    e->stats->pcap_drops = capture_drops(e->cap) - e->pcap_drops0;
    if (e->tick)
        e->tick(e->ctx, e->stats);
}

/* Frees what engine_open made (a capture handle the caller keeps stays open). */
static void engine_close(engine_t *e)
{
    lzr_destroy(&e->lzr);
    if (e->cap != e->cfg->capture) { /* the engine opened it: kept for the caller, or closed */
        if (e->cfg->capture_kept)
            *e->cfg->capture_kept = e->cap;
        else
            capture_close(&e->cap);
    }
    sender_destroy(&e->tx_rx);
    sender_destroy(&e->tx_syn);
    pthread_mutex_destroy(&e->lock);
}

/* The next hops' MACs of each family the scan has targets of: --gateway-mac for both, or the
 * kernel's neighbour tables (the route towards the first target of each family). A list's
 * first line has one family; the other family's next hop, when the scan has its scan IP, is
 * the default route's, or the first family's when it has none. */
static int next_hops(engine_t *e, char *err, size_t errlen)
{
    const engine_config_t *cfg = e->cfg;
    if (cfg->have_gateway_mac) {
        memcpy(e->dst_mac, cfg->gateway_mac, 6);
        memcpy(e->dst_mac6, cfg->gateway_mac, 6);
        return LZR_OK;
    }
    lzr_addr_t first4 = {.family = ADDR_IPV4}, first6 = {.family = ADDR_IPV6};
    bool want4 = count4(cfg) || !count6(cfg), want6 = count6(cfg) > 0;
    if (cfg->input) {
        first4.v4 = cfg->first_target;
        if (cfg->first_target6.family == ADDR_IPV6)
            first6 = cfg->first_target6; /* else ::, the default route */
        want4 = cfg->source_ip != 0 || cfg->source_ip6.family != ADDR_IPV6;
        want6 = cfg->source_ip6.family == ADDR_IPV6;
    } else {
        if (count4(cfg))
            first4.v4 = targets_at(cfg->targets, 0);
        if (want6)
            memcpy(first6.v6, targets6_at(cfg->targets6, 0), 16);
    }
    /* A list's other family may fall back on its first family's next hop: its error is
     * kept aside. */
    bool spare4 = cfg->input && cfg->first_target6.family == ADDR_IPV6,
         spare6 = cfg->input && !spare4;
    char sub[256];
    int rc4 = want4 ? netif_gateway_mac(cfg->iface, &first4, e->dst_mac, spare4 ? sub : err,
                                        spare4 ? sizeof sub : errlen)
                    : LZR_OK;
    int rc6 = want6 ? netif_gateway_mac(cfg->iface, &first6, e->dst_mac6, spare6 ? sub : err,
                                        spare6 ? sizeof sub : errlen)
                    : LZR_OK;
    if (spare4 && rc4 != LZR_OK && rc6 == LZR_OK) {
        memcpy(e->dst_mac, e->dst_mac6, 6);
        rc4 = LZR_OK;
    }
    if (spare6 && rc6 != LZR_OK && rc4 == LZR_OK) {
        memcpy(e->dst_mac6, e->dst_mac, 6);
        rc6 = LZR_OK;
    }
    return rc4 != LZR_OK ? rc4 : rc6;
}

/* Resolves the interface and the next hop, opens the senders and the capture, builds the state
 * machine and starts the receive thread; on failure frees what it made. */
static int engine_open(engine_t *e, char *err, size_t errlen)
{
    const engine_config_t *cfg = e->cfg;
    uint64_t t0 = clock_mono_ns();
    int ifindex = netif_index(cfg->iface, err, errlen);
    if (ifindex < 0)
        return ifindex;
    int rc = netif_mac(cfg->iface, e->src_mac, err, errlen);
    if (rc < 0)
        return rc;
    rc = next_hops(e, err, errlen);
    if (rc < 0)
        return rc;
    uint64_t t1 = clock_mono_ns();
    e->startup.iface_us = (t1 - t0) / 1000;
    pthread_mutex_init(&e->lock, NULL);
    e->ifindex = ifindex;
    e->tx_syn = sender_open(cfg->send_path, ifindex, 0, err, errlen);
    e->tx_rx = !e->tx_syn                   ? NULL
               : cfg->send_path == SEND_XSK ? sender_new(ifindex, err, errlen)
                                            : sender_open(cfg->send_path, ifindex, 0, err, errlen);
    uint64_t t2 = clock_mono_ns();
    if (cfg->capture && e->tx_rx) {
        /* Kept open by the caller and lent to this run: filtered to its source ports (a pipelined
         * shard has its own slice), and what waits in it is dropped. */
        if (capture_refilter(cfg->capture, cfg->source_ip, &cfg->source_ip6, cfg->sport_lo,
                             cfg->sport_hi, err, errlen) == LZR_OK) {
            e->cap = cfg->capture;
            e->pcap_drops0 = capture_drops(e->cap);
        }
    } else if (e->tx_rx) {
        e->cap = capture_open(cfg->iface, cfg->source_ip, &cfg->source_ip6, cfg->sport_lo,
                              cfg->sport_hi, err, errlen);
    }
    uint64_t t3 = clock_mono_ns();
    e->startup.capture_us = (t3 - t2) / 1000;
    e->lzr = e->cap ? lzr_new(cfg, e->tx_rx, e->src_mac, e->dst_mac, e->emit, e->ctx,
                              ENGINE_CAPACITY, clock_mono_ns() / 1000)
                    : NULL;
    if (e->lzr)
        lzr_set_next_hop6(e->lzr, e->dst_mac6);
    atomic_store(&e->rx_turn_ns, clock_mono_ns());
    if (!e->lzr || start_rx(e) != 0) {
        if (e->cap && !e->lzr)
            snprintf(err, errlen, "out of memory for %u connections%s", ENGINE_CAPACITY,
                     cfg->report_all ? " and --all's map of every target (one bit each)" : "");
        engine_close(e);
        return LZR_ESYS;
    }
    e->startup.tables_us = (clock_mono_ns() - t3 + t2 - t1) / 1000;
    return LZR_OK;
}

/* True when the walk must wait this turn (it slept 1 ms): the connection table is nearly full,
 * the record consumer holds, or the receive side is behind the wire. */
static bool walk_paused(engine_t *e, engine_stats_t *walk, engine_control_t *ctl, uint64_t now)
{
    if (atomic_load(&e->in_flight) >= ENGINE_HIGH_WATER) {
        usleep(1000); /* the table is nearly full: let connections finish first */
        return true;
    }
    if (atomic_load(&ctl->hold)) {
        walk->hold_wait_ms++;
        usleep(1000);
        return true;
    }
    uint64_t turn = atomic_load(&e->rx_turn_ns);
    if (atomic_load(&e->rx_lag_us) > ENGINE_LAG_MAX_US ||
        (now > turn && now - turn > ENGINE_LAG_MAX_US * 1000u)) {
        /* Replies wait unread: more SYNs would only bring more than the kernel can hold. */
        walk->rx_wait_ms++;
        usleep(1000);
        return true;
    }
    return false;
}

/* Sends up to n SYNs of w's walk as one batch. */
static void send_batch(walker_t *w, pkt_out_t *syn, uint64_t n)
{
    uint64_t skipped = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!walk_next(&w->src, w->stats, syn, &skipped, ENGINE_SKIP_TURN, i == 0 ? 1 : 0))
            break; /* a list waits at most 1 ms per turn for its next line */
        syn->ip_id = w->ip_id++;
        if (syn->seg.dst.family != w->mac_family) { /* the next hop of the other family */
            w->mac_family = syn->seg.dst.family;
            memcpy(syn->dst_mac, w->mac_family == ADDR_IPV6 ? w->e->dst_mac6 : w->e->dst_mac, 6);
        }
        sender_commit(w->tx, packet_build(sender_slot(w->tx), PACKET_MAX_FRAME, syn));
        __atomic_store_n(&w->stats->syns, w->stats->syns + 1, __ATOMIC_RELAXED);
    }
    sender_flush(w->tx);
}

/* w's share of a total rate over every walker (0: unlimited stays unlimited). */
static uint32_t walker_rate(const walker_t *w, uint32_t rate)
{
    uint32_t n = w->e->n_walkers;
    return rate ? (rate / n ? rate / n : 1) : 0;
}

/* A walker's SYN walk: paced, bounded, paused when the far side cannot keep up. Walker 0 also
 * reports. */
static void engine_walk(walker_t *w)
{
    engine_t *e = w->e;
    engine_control_t *ctl = w->ctl;
    source_t *src = &w->src;
    const engine_config_t *cfg = e->cfg;
    engine_stats_t *walk = w->stats;
    bool first = w == &e->walkers[0];
    pacer_t pacer;
    uint32_t total = cfg->rate, rate = walker_rate(w, total);
    pacer_init(&pacer, rate, rate ? (rate / 100 + 1) : ENGINE_BURST, clock_mono_ns());
    pkt_out_t syn = {.seg = {.src = {.family = ADDR_IPV4, .v4 = cfg->source_ip},
                             .dst = {.family = ADDR_IPV4},
                             .flags = TCP_SYN,
                             .window = 65535,
                             .ttl = 64},
                     .mss_option = true};
    memcpy(syn.src_mac, e->src_mac, 6);
    memcpy(syn.dst_mac, e->dst_mac, 6);
    w->mac_family = ADDR_IPV4;
    uint64_t walk_start = clock_mono_ns();
    while (src->more && !atomic_load(&ctl->stop)) {
        uint64_t now = clock_mono_ns();
        if (first)
            report(e, now, false);
        if (cfg->max_runtime_ms && now - walk_start >= cfg->max_runtime_ms * 1000000u)
            break;
        uint32_t update = atomic_load(&ctl->rate);
        if (update && update != total) {
            total = update;
            rate = walker_rate(w, total);
            pacer_init(&pacer, rate, rate / 100 + 1, now);
        }
        if (walk_paused(e, walk, ctl, now))
            continue;
        uint64_t n = pacer_take(&pacer, now, SENDER_BATCH);
        if (cfg->max_probes && n > cfg->max_probes - walk->syns)
            n = cfg->max_probes - walk->syns;
        if (n == 0) {
            uint64_t wait = pacer_wait_ns(&pacer, now);
            struct timespec ts = {0, (long)(wait < 1000000 ? wait : 1000000)};
            nanosleep(&ts, NULL);
            continue;
        }
        send_batch(w, &syn, n);
        if (first && !walk->startup.first_syn_us && walk->syns)
            walk->startup.first_syn_us = (clock_mono_ns() - w->t0) / 1000;
        if (cfg->max_probes && walk->syns >= cfg->max_probes)
            break;
    }
}

static void *walker_main(void *arg)
{
    walker_t *w = arg;
    engine_walk(w);
    atomic_fetch_add(&w->e->walkers_done, 1);
    return NULL;
}

/* Sets up the walkers of a run: one, or cfg->send_threads over contiguous slices of the shard
 * (a list, or a bound on probes, which must take the permutation's first elements in order,
 * keeps one). The others get their own senders. LZR_ESYS with a message in err. */
static int walkers_open(engine_t *e, engine_control_t *ctl, uint64_t t0, char *err, size_t errlen)
{
    const engine_config_t *cfg = e->cfg;
    uint32_t n = cfg->send_threads > 1 && !cfg->input && !cfg->max_probes ? cfg->send_threads : 1;
    e->walkers = calloc(n, sizeof *e->walkers);
    if (!e->walkers) {
        snprintf(err, errlen, "out of memory for %u send threads", n);
        return LZR_ESYS;
    }
    e->n_walkers = n;
    uint64_t span = cfg->pos_end - cfg->pos_begin;
    for (uint32_t k = 0; k < n; k++) {
        walker_t *w = &e->walkers[k];
        *w = (walker_t){.e = e, .ctl = ctl, .ip_id = 1, .t0 = t0};
        w->begin = cfg->pos_begin + span * k / n;
        source_init(&w->src, cfg, w->begin, cfg->pos_begin + span * (k + 1) / n);
        w->stats = k ? &w->own : &e->walk;
        w->tx = k ? sender_open(cfg->send_path, e->ifindex, k, err, errlen) : e->tx_syn;
        if (!w->tx)
            return LZR_ESYS;
    }
    return LZR_OK;
}

/* Frees the walkers, and their own senders where the walk did not release them (a run that
 * failed to start). */
static void walkers_close(engine_t *e)
{
    for (uint32_t k = 1; e->walkers && k < e->n_walkers; k++)
        sender_destroy(&e->walkers[k].tx);
    free(e->walkers);
    e->walkers = NULL;
    e->n_walkers = 0;
}

/* Closes the walk's senders once every walker is done: the SYNs they took stay in the walkers'
 * counters, and the next shard's walk can open the same queue while this run's connections
 * finish (an AF_XDP queue takes one socket). */
static void walkers_release(engine_t *e)
{
    for (uint32_t k = 0; k < e->n_walkers; k++) {
        walker_t *w = &e->walkers[k];
        sender_flush(w->tx);
        w->stats->sent = sender_sent(w->tx);
        sender_destroy(&w->tx);
    }
    e->tx_syn = NULL; /* walker 0's sender, closed above */
}

/* Runs every walker to the end of its slice: the others on threads of their own, the first
 * here, which then reports until they are done. */
static void walkers_run(engine_t *e)
{
    uint32_t started = 1;
    for (uint32_t k = 1; k < e->n_walkers; k++, started++)
        if (pthread_create(&e->walkers[k].th, NULL, walker_main, &e->walkers[k]) != 0)
            break;
    engine_walk(&e->walkers[0]);
    while (atomic_load(&e->walkers_done) < started - 1) {
        report(e, clock_mono_ns(), false);
        usleep(10000);
    }
    for (uint32_t k = 1; k < started; k++)
        pthread_join(e->walkers[k].th, NULL);
    /* A walker whose thread did not start leaves its slice unsent: walk it here. */
    for (uint32_t k = started; k < e->n_walkers; k++)
        engine_walk(&e->walkers[k]);
    walkers_release(e);
}

/* Waits for late SYN-ACKs, then for every connection to reach its verdict; when told to stop,
 * resets the connections still open instead. */
static void engine_drain(engine_t *e, engine_control_t *ctl)
{
    const engine_config_t *cfg = e->cfg;
    uint64_t linger = cfg->cooldown_ms                     ? cfg->cooldown_ms
                      : cfg->timeout_ms > ENGINE_LINGER_MS ? cfg->timeout_ms
                                                           : ENGINE_LINGER_MS;
    uint64_t quiet_until = clock_mono_ns() + linger * 1000000u;
    while (!atomic_load(&ctl->stop)) {
        uint64_t now = clock_mono_ns();
        if (now >= quiet_until && atomic_load(&e->in_flight) == 0)
            break;
        report(e, now, false);
        /* Until the linger ends there is nothing to do but report, so sleep to the next report
         * or the linger's end (at most ENGINE_DRAIN_NAP_MS, to see a stop); after it, look for
         * the last connection's end every 10 ms. A wake-up costs a context switch, and a drain
         * of several seconds had cost a hundred of them a second. */
        uint64_t wake = now + 10000000u;
        if (now < quiet_until) {
            wake = now + ENGINE_DRAIN_NAP_MS * 1000000u;
            if (quiet_until < wake)
                wake = quiet_until;
            if (e->next_tick_ns > now && e->next_tick_ns < wake)
                wake = e->next_tick_ns;
        }
        struct timespec ts = {0, (long)(wake - now)};
        nanosleep(&ts, NULL);
    }
    atomic_store(&e->rx_stop, 1);
    pthread_join(e->rx, NULL);
    if (atomic_load(&ctl->stop))
        lzr_abort(e->lzr); /* stopped: leave no connection open at a target */
}

int engine_run(const engine_config_t *cfg, engine_control_t *ctl, engine_emit_fn emit,
               engine_tick_fn tick, void *ctx, engine_stats_t *stats, char *err, size_t errlen)
{
    memset(stats, 0, sizeof *stats);
    if (cfg->input && cfg->report_all) {
        snprintf(err, errlen, "a target list cannot report silent targets (--all)");
        return LZR_EINVAL;
    }
    int rc = check_scan_ips(cfg, err, errlen);
    if (rc != LZR_OK)
        return rc;
    uint64_t t0 = clock_mono_ns();
    engine_t e = {.cfg = cfg, .emit = emit, .tick = tick, .ctx = ctx, .stats = stats};
    rc = engine_open(&e, err, errlen);
    if (rc == LZR_OK && (rc = walkers_open(&e, ctl, t0, err, errlen)) != LZR_OK) {
        atomic_store(&e.rx_stop, 1);
        pthread_join(e.rx, NULL);
        walkers_close(&e);
        engine_close(&e);
    }
    if (rc != LZR_OK)
        return rc;
    e.walk.startup = e.startup;
    if (!cfg->input) {
        /* The shard's share of the elements, for the ETA: positions above size are skipped. */
        uint64_t span = cfg->pos_end - cfg->pos_begin;
        e.walk.targets_total =
            (uint64_t)((double)span * (double)cfg->perm.size / (double)(cfg->perm.prime - 1));
    }
    e.next_tick_ns = clock_mono_ns() + 1000000000u;
    walkers_run(&e);
    e.walk.walk_done = true;
    report(&e, clock_mono_ns(), true); /* tell the caller at once: its next shard may start */
    engine_drain(&e, ctl);
    /* Each slice up to where its walk stopped (bounds). */
    for (uint32_t k = 0; k < e.n_walkers && !atomic_load(&ctl->stop) && !cfg->input; k++)
        lzr_report_silent(e.lzr, e.walkers[k].begin, e.walkers[k].src.it.pos);
    report(&e, clock_mono_ns(), true);
    source_t *src = &e.walkers[0].src;
    rc = src->rc;
    if (rc != LZR_OK)
        snprintf(err, errlen, "%s", src->err);
    walkers_close(&e);
    engine_close(&e);
    return rc;
}
