/*
 * engine: two threads around the LZR state machine. The calling thread walks the shard of the
 * permutation and sends paced, stateless discovery SYNs; the receive thread owns the capture
 * handle, the state machine, its timers and its own sender. The only things they share are the
 * stop flag, the in-flight count that slows the SYNs when the table fills, the receive side's
 * lag that pauses them when it falls behind the wire, and counters.
 */
#include "worker/engine.h"

#include "common/clock.h"
#include "common/err.h"
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
    sender_t *tx_syn;
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

/* The next probe of the walk into syn (destination, source port, sequence number): the next
 * element of the shard whose address the host's blocklist does not hold. Skipped elements are
 * counted in walk; *skipped counts them too, for the caller's bound per turn. False at the end
 * of the shard, or with *skipped at limit. */
static bool walk_next(const engine_config_t *cfg, perm_iter_t *it, engine_stats_t *walk,
                      pkt_out_t *syn, uint64_t *skipped, uint64_t limit, bool *more)
{
    uint64_t nports = cfg->ports->n, el;
    while (*skipped < limit) {
        if (!perm_next(it, &el)) {
            *more = false;
            return false;
        }
        walk->targets_done++;
        syn->daddr = targets_at(cfg->targets, el / nports);
        if (cfg->blocklist && targets_contains(cfg->blocklist, syn->daddr)) {
            walk->blocked++; /* skipped elements take no share of the rate */
            (*skipped)++;
            continue;
        }
        syn->dport = cfg->ports->ports[el % nports];
        cookie_t ck = cookie_make(&cfg->key, cfg->source_ip, syn->daddr, syn->dport, 0,
                                  cfg->sport_lo, cfg->sport_hi);
        syn->sport = ck.sport;
        syn->seq = ck.seq;
        return true;
    }
    return false;
}

int engine_dry_run(const engine_config_t *cfg, FILE *out, volatile sig_atomic_t *stop,
                   engine_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    perm_iter_t it;
    perm_iter_init(&it, &cfg->perm, cfg->pos_begin, cfg->pos_end);
    pkt_out_t syn = {.saddr = cfg->source_ip};
    bool more = true;
    char src[16], dst[16];
    targets_ntoa(cfg->source_ip, src);
    while (more && !*stop && !(cfg->max_probes && stats->syns >= cfg->max_probes)) {
        uint64_t skipped = 0;
        if (!walk_next(cfg, &it, stats, &syn, &skipped, UINT64_MAX, &more))
            break;
        fprintf(out, "%s:%u > %s:%u seq %u\n", src, syn.sport, targets_ntoa(syn.daddr, dst),
                syn.dport, syn.seq);
        stats->syns++;
    }
    return ferror(out) ? LZR_EIO : LZR_OK;
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

int engine_run(const engine_config_t *cfg, engine_emit_fn emit, engine_tick_fn tick, void *ctx,
               volatile sig_atomic_t *stop, engine_stats_t *stats, char *err, size_t errlen)
{
    memset(stats, 0, sizeof *stats);
    uint64_t t0 = clock_mono_ns();
    engine_startup_t su = {0};
    int ifindex = netif_index(cfg->iface, err, errlen);
    if (ifindex < 0)
        return ifindex;
    uint8_t src_mac[6], dst_mac[6];
    int rc = netif_mac(cfg->iface, src_mac, err, errlen);
    if (rc < 0)
        return rc;
    if (cfg->have_gateway_mac) {
        memcpy(dst_mac, cfg->gateway_mac, 6);
    } else {
        rc = netif_gateway_mac(cfg->iface, targets_at(cfg->targets, 0), dst_mac, err, errlen);
        if (rc < 0)
            return rc;
    }

    uint64_t t1 = clock_mono_ns();
    su.iface_us = (t1 - t0) / 1000;

    engine_t e = {.cfg = cfg, .emit = emit, .tick = tick, .ctx = ctx, .stats = stats};
    pthread_mutex_init(&e.lock, NULL);
    sender_t *tx_syn = e.tx_syn = sender_new(ifindex, err, errlen);
    sender_t *tx_rx = tx_syn ? sender_new(ifindex, err, errlen) : NULL;
    uint64_t t2 = clock_mono_ns();
    if (cfg->capture && tx_rx) {
        e.cap = cfg->capture; /* kept open by the caller: only what waits in it is dropped */
        capture_discard(e.cap);
        e.pcap_drops0 = capture_drops(e.cap);
    } else if (tx_rx) {
        e.cap = capture_open(cfg->iface, cfg->source_ip, cfg->sport_lo, cfg->sport_hi, err, errlen);
    }
    uint64_t t3 = clock_mono_ns();
    su.capture_us = (t3 - t2) / 1000;
    e.lzr = e.cap ? lzr_new(cfg, tx_rx, src_mac, dst_mac, emit, ctx, ENGINE_CAPACITY,
                            clock_mono_ns() / 1000)
                  : NULL;
    pthread_t rx;
    atomic_store(&e.rx_turn_ns, clock_mono_ns());
    if (!e.lzr || pthread_create(&rx, NULL, rx_main, &e) != 0) {
        if (e.cap && !e.lzr)
            snprintf(err, errlen, "out of memory for %u connections%s", ENGINE_CAPACITY,
                     cfg->report_all ? " and --all's map of every target (one bit each)" : "");
        lzr_destroy(&e.lzr);
        if (e.cap != cfg->capture)
            capture_close(&e.cap);
        sender_destroy(&tx_rx);
        sender_destroy(&tx_syn);
        pthread_mutex_destroy(&e.lock);
        return LZR_ESYS;
    }

    /* Walk the shard: element → (address index, port index). */
    perm_iter_t it;
    perm_iter_init(&it, &cfg->perm, cfg->pos_begin, cfg->pos_end);
    engine_stats_t *walk = &e.walk;
    su.tables_us = (clock_mono_ns() - t3 + t2 - t1) / 1000;
    walk->startup = su;
    uint64_t span = cfg->pos_end - cfg->pos_begin, size = cfg->perm.size;
    /* The shard's share of the elements, for the ETA: positions above size are skipped. */
    walk->targets_total = (uint64_t)((double)span * (double)size / (double)(cfg->perm.prime - 1));
    pacer_t pacer;
    uint32_t rate = cfg->rate;
    pacer_init(&pacer, rate, rate ? (rate / 100 + 1) : ENGINE_BURST, clock_mono_ns());
    e.next_tick_ns = clock_mono_ns() + 1000000000u;
    bool more = true;
    uint16_t ip_id = 1;
    pkt_out_t syn = {
        .saddr = cfg->source_ip, .flags = TCP_SYN, .window = 65535, .ttl = 64, .mss_option = true};
    memcpy(syn.src_mac, src_mac, 6);
    memcpy(syn.dst_mac, dst_mac, 6);

    uint64_t walk_start = clock_mono_ns();
    while (more && !*stop) {
        uint64_t now = clock_mono_ns();
        report(&e, now, false);
        if (cfg->max_runtime_ms && now - walk_start >= cfg->max_runtime_ms * 1000000u)
            break;
        uint32_t update = atomic_load(&cfg->rate_update);
        if (update && update != rate) {
            rate = update;
            pacer_init(&pacer, rate, rate / 100 + 1, now);
        }
        if (atomic_load(&e.in_flight) >= ENGINE_HIGH_WATER) {
            usleep(1000); /* the table is nearly full: let connections finish first */
            continue;
        }
        if (atomic_load(&cfg->hold)) {
            walk->hold_wait_ms++;
            usleep(1000);
            continue;
        }
        uint64_t turn = atomic_load(&e.rx_turn_ns);
        if (atomic_load(&e.rx_lag_us) > ENGINE_LAG_MAX_US ||
            (now > turn && now - turn > ENGINE_LAG_MAX_US * 1000u)) {
            /* Replies wait unread: more SYNs would only bring more than the kernel can hold. */
            walk->rx_wait_ms++;
            usleep(1000);
            continue;
        }
        uint64_t n = pacer_take(&pacer, now, SENDER_BATCH);
        if (cfg->max_probes && n > cfg->max_probes - walk->syns)
            n = cfg->max_probes - walk->syns;
        if (n == 0) {
            uint64_t wait = pacer_wait_ns(&pacer, now);
            struct timespec ts = {0, (long)(wait < 1000000 ? wait : 1000000)};
            nanosleep(&ts, NULL);
            continue;
        }
        uint64_t skipped = 0;
        for (uint64_t i = 0; i < n; i++) {
            if (!walk_next(cfg, &it, walk, &syn, &skipped, ENGINE_SKIP_TURN, &more))
                break;
            syn.ip_id = ip_id++;
            sender_commit(tx_syn, packet_build(sender_slot(tx_syn), PACKET_MAX_FRAME, &syn));
            walk->syns++;
        }
        sender_flush(tx_syn);
        if (!walk->startup.first_syn_us && walk->syns)
            walk->startup.first_syn_us = (clock_mono_ns() - t0) / 1000;
        if (cfg->max_probes && walk->syns >= cfg->max_probes)
            more = false;
    }

    /* Drain: wait for late SYN-ACKs, then for every connection to reach its verdict. */
    uint64_t linger = cfg->cooldown_ms                     ? cfg->cooldown_ms
                      : cfg->timeout_ms > ENGINE_LINGER_MS ? cfg->timeout_ms
                                                           : ENGINE_LINGER_MS;
    uint64_t quiet_until = clock_mono_ns() + linger * 1000000u;
    while (!*stop) {
        uint64_t now = clock_mono_ns();
        if (now >= quiet_until && atomic_load(&e.in_flight) == 0)
            break;
        report(&e, now, false);
        usleep(10000);
    }
    atomic_store(&e.rx_stop, 1);
    pthread_join(rx, NULL);
    if (!*stop)
        lzr_report_silent(e.lzr, it.pos); /* up to where the walk stopped (bounds) */
    sender_flush(tx_syn);
    report(&e, clock_mono_ns(), true);
    lzr_destroy(&e.lzr);
    if (e.cap != cfg->capture)
        capture_close(&e.cap);
    sender_destroy(&tx_rx);
    sender_destroy(&tx_syn);
    pthread_mutex_destroy(&e.lock);
    return LZR_OK;
}
