/*
 * engine: two threads around the LZR state machine. The calling thread walks the shard of the
 * permutation and sends paced, stateless discovery SYNs; the receive thread owns the capture
 * handle, the state machine, its timers and its own sender. The walk's targets come from the
 * permutation or from a list (common/input), read a line at a time between batches so a pipe is
 * probed as it is written. The only things the threads share are the stop flag, the in-flight count
 * that slows the SYNs when the table fills, the receive side's lag that pauses them when it falls
 * behind the wire, and counters.
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
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ENGINE_CAPACITY   (1u << 20) /* connections in flight at most */
#define ENGINE_HIGH_WATER (ENGINE_CAPACITY - ENGINE_CAPACITY / 8)
#define ENGINE_BURST      256
#define ENGINE_LINGER_MS  1000 /* after the last SYN, wait this long for stragglers too */
/* The SYN walk pauses while the receive thread's newest frame waited longer than this in the
 * capture buffer, or its last turn ended longer ago (it is stuck handing a record on — the
 * coordinator's queue is full): well before the 64 MiB buffer fills and the kernel starts
 * dropping replies. */
#define ENGINE_LAG_MAX_US 50000
/* Frames handled per turn of the receive loop, so its timers run and its lag is published
 * even while replies pour in. */
#define ENGINE_RX_CHUNK 2048
/* Blocklisted elements skipped per turn of the SYN walk at most, so a shard the host's
 * blocklist covers still sees the stop flag and reports progress. */
#define ENGINE_SKIP_TURN 65536

typedef struct engine {
    const engine_config_t *cfg;
    engine_emit_fn emit;
    engine_tick_fn tick;
    void *ctx;
    engine_stats_t *stats; /* the caller's: refreshed at each tick */
    engine_stats_t walk;   /* the SYN walk's own counters (main thread only) */
    uint64_t next_tick_ns;
    sender_t *tx_syn, *tx_rx;
    uint8_t src_mac[6], dst_mac[6];
    engine_startup_t startup;
    uint16_t ip_id;
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
        lzr_on_time(e->lzr, clock_mono_ns() / 1000);
        atomic_store(&e->in_flight, lzr_in_flight(e->lzr));
        pthread_mutex_unlock(&e->lock);
        atomic_store(&e->rx_turn_ns, clock_mono_ns());
    }
    return NULL;
}

int engine_preflight(const engine_config_t *cfg, firewall_proof_t *proof, char *err, size_t errlen)
{
    if (geteuid() != 0) {
        int fd = socket(AF_PACKET, SOCK_RAW, 0);
        if (fd < 0) {
            snprintf(err, errlen,
                     "lzr-worker needs root or CAP_NET_RAW to send raw frames (run it as root, "
                     "or `setcap cap_net_raw,cap_net_admin+ep bin/lzr-worker`)");
            return LZR_EPERM;
        }
        close(fd);
    }
    int rc = netif_index(cfg->iface, err, errlen);
    if (rc < 0)
        return rc;
    rc = netif_has_ip(cfg->iface, cfg->source_ip, err, errlen);
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
    return firewall_selftest(cfg->source_ip, cfg->sport_lo, cfg->sport_hi, proof, err, errlen);
}

/* Where the probes come from: the shard of the permutation, or a list being read. */
typedef struct source {
    const engine_config_t *cfg;
    perm_iter_t it;
    input_target_t cur; /* a listed address being taken over the scan's ports */
    size_t port_i;
    bool have_cur;
    bool more; /* false at the end of the shard or the list */
    int rc;    /* a list's read error, with its message in err */
    char err[512];
} source_t;

static void source_init(source_t *s, const engine_config_t *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->more = true;
    if (!cfg->input)
        perm_iter_init(&s->it, &cfg->perm, cfg->pos_begin, cfg->pos_end);
}

/* The next listed (address, port), waiting up to wait_ms for a line; false when none came or
 * at the end (more false). */
static bool list_pair(source_t *s, uint32_t *addr, uint16_t *port, int wait_ms)
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

static bool source_pair(source_t *s, uint32_t *addr, uint16_t *port, int wait_ms)
{
    if (s->cfg->input)
        return list_pair(s, addr, port, wait_ms);
    uint64_t el, nports = s->cfg->ports->n;
    if (!perm_next(&s->it, &el)) {
        s->more = false;
        return false;
    }
    if (s->cfg->pairs) {
        *addr = pair_addr(s->cfg->pairs[el]);
        *port = pair_port(s->cfg->pairs[el]);
    } else {
        *addr = targets_at(s->cfg->targets, el / nports);
        *port = s->cfg->ports->ports[el % nports];
    }
    return true;
}

/* True when addr must not be probed: the host's blocklist holds it, or it is a listed address
 * outside the scan's set (a reserved range not lifted, an exclude). */
static bool blocked(const engine_config_t *cfg, uint32_t addr)
{
    if (cfg->blocklist && targets_contains(cfg->blocklist, addr))
        return true;
    return cfg->input && cfg->targets && !targets_contains(cfg->targets, addr);
}

/* The next probe into syn (destination, source port, sequence number), skipping blocked
 * targets, which are counted in walk; *skipped counts them too, for the caller's bound per turn.
 * False at the end (s->more false), with *skipped at limit, or when a list has no line ready. */
static bool walk_next(source_t *s, engine_stats_t *walk, pkt_out_t *syn, uint64_t *skipped,
                      uint64_t limit, int wait_ms)
{
    const engine_config_t *cfg = s->cfg;
    while (*skipped < limit) {
        if (!source_pair(s, &syn->seg.dst.v4, &syn->seg.dport, wait_ms))
            return false;
        walk->targets_done++;
        if (blocked(cfg, syn->seg.dst.v4)) {
            walk->blocked++; /* skipped elements take no share of the rate */
            (*skipped)++;
            continue;
        }
        cookie_t ck = cookie_make(&cfg->key, &syn->seg.src, &syn->seg.dst, syn->seg.dport, 0,
                                  cfg->sport_lo, cfg->sport_hi);
        syn->seg.sport = ck.sport;
        syn->seg.seq = ck.seq;
        return true;
    }
    return false;
}

int engine_dry_run(const engine_config_t *cfg, FILE *out, engine_control_t *ctl,
                   engine_stats_t *stats, char *err, size_t errlen)
{
    memset(stats, 0, sizeof *stats);
    source_t src;
    source_init(&src, cfg);
    pkt_out_t syn = {
        .seg = {.src = {.family = ADDR_IPV4, .v4 = cfg->source_ip}, .dst = {.family = ADDR_IPV4}}};
    char sa[16], da[16];
    targets_ntoa(cfg->source_ip, sa);
    while (src.more && !atomic_load(&ctl->stop) &&
           !(cfg->max_probes && stats->syns >= cfg->max_probes)) {
        uint64_t skipped = 0;
        if (!walk_next(&src, stats, &syn, &skipped, UINT64_MAX, 100))
            continue; /* a pipe with no line yet, or the end */
        fprintf(out, "%s:%u > %s:%u seq %u\n", sa, syn.seg.sport, targets_ntoa(syn.seg.dst.v4, da),
                syn.seg.dport, syn.seg.seq);
        stats->syns++;
    }
    if (src.rc != LZR_OK)
        snprintf(err, errlen, "%s", src.err);
    else if (ferror(out))
        snprintf(err, errlen, "write error");
    return src.rc != LZR_OK ? src.rc : ferror(out) ? LZR_EIO : LZR_OK;
}

/* Refreshes the caller's counters and calls its tick function, once a second or when forced. */
static void report(engine_t *e, uint64_t now_ns, bool force)
{
    if (!force && now_ns < e->next_tick_ns)
        return;
    e->next_tick_ns = now_ns + 1000000000u;
    e->walk.sent = sender_sent(e->tx_syn);
    *e->stats = e->walk;
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
    if (e->cap != e->cfg->capture)
        capture_close(&e->cap);
    sender_destroy(&e->tx_rx);
    sender_destroy(&e->tx_syn);
    pthread_mutex_destroy(&e->lock);
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
    if (cfg->have_gateway_mac) {
        memcpy(e->dst_mac, cfg->gateway_mac, 6);
    } else {
        uint32_t first = cfg->input ? cfg->first_target : targets_at(cfg->targets, 0);
        rc = netif_gateway_mac(cfg->iface, first, e->dst_mac, err, errlen);
        if (rc < 0)
            return rc;
    }
    uint64_t t1 = clock_mono_ns();
    e->startup.iface_us = (t1 - t0) / 1000;
    pthread_mutex_init(&e->lock, NULL);
    sender_t *(*open_sender)(int, char *, size_t) = cfg->tx_ring ? sender_new_ring : sender_new;
    e->tx_syn = open_sender(ifindex, err, errlen);
    e->tx_rx = e->tx_syn ? open_sender(ifindex, err, errlen) : NULL;
    uint64_t t2 = clock_mono_ns();
    if (cfg->capture && e->tx_rx) {
        e->cap = cfg->capture; /* kept open by the caller: only what waits in it is dropped */
        capture_discard(e->cap);
        e->pcap_drops0 = capture_drops(e->cap);
    } else if (e->tx_rx) {
        e->cap =
            capture_open(cfg->iface, cfg->source_ip, cfg->sport_lo, cfg->sport_hi, err, errlen);
    }
    uint64_t t3 = clock_mono_ns();
    e->startup.capture_us = (t3 - t2) / 1000;
    e->lzr = e->cap ? lzr_new(cfg, e->tx_rx, e->src_mac, e->dst_mac, e->emit, e->ctx,
                              ENGINE_CAPACITY, clock_mono_ns() / 1000)
                    : NULL;
    atomic_store(&e->rx_turn_ns, clock_mono_ns());
    if (!e->lzr || pthread_create(&e->rx, NULL, rx_main, e) != 0) {
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
static bool walk_paused(engine_t *e, engine_control_t *ctl, uint64_t now)
{
    if (atomic_load(&e->in_flight) >= ENGINE_HIGH_WATER) {
        usleep(1000); /* the table is nearly full: let connections finish first */
        return true;
    }
    if (atomic_load(&ctl->hold)) {
        e->walk.hold_wait_ms++;
        usleep(1000);
        return true;
    }
    uint64_t turn = atomic_load(&e->rx_turn_ns);
    if (atomic_load(&e->rx_lag_us) > ENGINE_LAG_MAX_US ||
        (now > turn && now - turn > ENGINE_LAG_MAX_US * 1000u)) {
        /* Replies wait unread: more SYNs would only bring more than the kernel can hold. */
        e->walk.rx_wait_ms++;
        usleep(1000);
        return true;
    }
    return false;
}

/* Sends up to n SYNs of the walk as one batch. */
static void send_batch(engine_t *e, source_t *src, pkt_out_t *syn, uint64_t n)
{
    uint64_t skipped = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!walk_next(src, &e->walk, syn, &skipped, ENGINE_SKIP_TURN, i == 0 ? 1 : 0))
            break; /* a list waits at most 1 ms per turn for its next line */
        syn->ip_id = e->ip_id++;
        sender_commit(e->tx_syn, packet_build(sender_slot(e->tx_syn), PACKET_MAX_FRAME, syn));
        e->walk.syns++;
    }
    sender_flush(e->tx_syn);
}

/* The SYN walk: paced, bounded, paused when the far side cannot keep up. */
static void engine_walk(engine_t *e, source_t *src, engine_control_t *ctl, uint64_t t0)
{
    const engine_config_t *cfg = e->cfg;
    engine_stats_t *walk = &e->walk;
    pacer_t pacer;
    uint32_t rate = cfg->rate;
    pacer_init(&pacer, rate, rate ? (rate / 100 + 1) : ENGINE_BURST, clock_mono_ns());
    pkt_out_t syn = {.seg = {.src = {.family = ADDR_IPV4, .v4 = cfg->source_ip},
                             .dst = {.family = ADDR_IPV4},
                             .flags = TCP_SYN,
                             .window = 65535,
                             .ttl = 64},
                     .mss_option = true};
    memcpy(syn.src_mac, e->src_mac, 6);
    memcpy(syn.dst_mac, e->dst_mac, 6);
    uint64_t walk_start = clock_mono_ns();
    while (src->more && !atomic_load(&ctl->stop)) {
        uint64_t now = clock_mono_ns();
        report(e, now, false);
        if (cfg->max_runtime_ms && now - walk_start >= cfg->max_runtime_ms * 1000000u)
            break;
        uint32_t update = atomic_load(&ctl->rate);
        if (update && update != rate) {
            rate = update;
            pacer_init(&pacer, rate, rate / 100 + 1, now);
        }
        if (walk_paused(e, ctl, now))
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
        send_batch(e, src, &syn, n);
        if (!walk->startup.first_syn_us && walk->syns)
            walk->startup.first_syn_us = (clock_mono_ns() - t0) / 1000;
        if (cfg->max_probes && walk->syns >= cfg->max_probes)
            break;
    }
}

/* Waits for late SYN-ACKs, then for every connection to reach its verdict. */
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
        usleep(10000);
    }
    atomic_store(&e->rx_stop, 1);
    pthread_join(e->rx, NULL);
}

int engine_run(const engine_config_t *cfg, engine_control_t *ctl, engine_emit_fn emit,
               engine_tick_fn tick, void *ctx, engine_stats_t *stats, char *err, size_t errlen)
{
    memset(stats, 0, sizeof *stats);
    if (cfg->input && cfg->report_all) {
        snprintf(err, errlen, "a target list cannot report silent targets (--all)");
        return LZR_EINVAL;
    }
    uint64_t t0 = clock_mono_ns();
    engine_t e = {.cfg = cfg, .emit = emit, .tick = tick, .ctx = ctx, .stats = stats, .ip_id = 1};
    int rc = engine_open(&e, err, errlen);
    if (rc != LZR_OK)
        return rc;
    source_t src;
    source_init(&src, cfg);
    e.walk.startup = e.startup;
    if (!cfg->input) {
        /* The shard's share of the elements, for the ETA: positions above size are skipped. */
        uint64_t span = cfg->pos_end - cfg->pos_begin;
        e.walk.targets_total =
            (uint64_t)((double)span * (double)cfg->perm.size / (double)(cfg->perm.prime - 1));
    }
    e.next_tick_ns = clock_mono_ns() + 1000000000u;
    engine_walk(&e, &src, ctl, t0);
    e.walk.walk_done = true;
    report(&e, clock_mono_ns(), true); /* tell the caller at once: its next shard may start */
    engine_drain(&e, ctl);
    if (!atomic_load(&ctl->stop) && !cfg->input)
        lzr_report_silent(e.lzr, src.it.pos); /* up to where the walk stopped (bounds) */
    sender_flush(e.tx_syn);
    report(&e, clock_mono_ns(), true);
    engine_close(&e);
    if (src.rc != LZR_OK)
        snprintf(err, errlen, "%s", src.err);
    return src.rc;
}
