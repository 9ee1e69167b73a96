/*
 * lzr: per-target state from the first SYN-ACK to the verdict. A target lives in one conn_t of
 * the connection table; its timer in the wheel says what to do when the target stays quiet
 * (retransmit, give up on this handshake, give up on the target). Evidence from every
 * handshake is folded into conn_t's flags, and the class comes from that evidence when the
 * handshake list runs out (DESIGN.md §1 step 3).
 *
 * A target's handshakes come in three tiers: the job's list, then up to PORT_EXTRA probes of
 * the protocols its port is known for, then — only for a target that behaved like a real
 * service, holding one connection open and closing another, yet sent nothing we could name —
 * the fallback tier: quiet protocols (MQTT, Redis, PostgreSQL) whose servers never answer a
 * foreign probe. Middleboxes, lost and silent targets never reach it.
 */
#include "worker/lzr.h"

#include "common/clock.h"
#include "common/cookie.h"
#include "common/err.h"
#include "common/text.h"
#include "worker/conntab.h"
#include "worker/handshakes/registry.h"
#include "worker/packet.h"
#include "worker/timerwheel.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* conn_t.state */
enum {
    ST_DATA = 1,  /* our ACK (with the handshake's payload) is out; waiting for the target */
    ST_ZW,        /* the SYN-ACK had a zero window; waiting for it to open */
    ST_SYN,       /* a SYN for the next handshake is out on a new connection */
    ST_AFW,       /* waiting for the acking-firewall probes to come back */
    ST_AFW_CHILD, /* one acking-firewall probe; rseq0 holds the parent's id */
};

/* conn_t.flags: evidence gathered over the target's handshakes */
enum {
    F_ACKED = 0x01,     /* some handshake's data was acknowledged */
    F_RST = 0x02,       /* a handshake ended in the target's RST */
    F_FIN = 0x04,       /* a handshake ended in the target's FIN */
    F_UNACKED = 0x08,   /* a handshake's data was never acknowledged */
    F_RETX = 0x10,      /* the SYN-ACK was retransmitted after our ACK */
    F_AFW_DONE = 0x20,  /* the acking-firewall test ran */
    F_CUR_ACKED = 0x40, /* the current connection's data was acknowledged */
    F_HELD = 0x80,      /* a connection stayed open and quiet to our timeout, its data acked */
};

#define SALT_AFW        0x100u /* salts of acking-firewall probes: SALT_AFW + i */
#define SALT_AFW_PORT   0x200u /* salts that pick their ports */
#define TICK_MS         10
#define WHEEL_SLOTS     8192
#define DONE_SLOTS      (1u << 16)
#define DONE_CHALLENGED (1ull << 63) /* a done-ring key flag: the target's SYN was re-sent */
#define OUR_WINDOW      65535
#define OUR_TTL         64
#define MAX_SYNACK_ECHO 3 /* ACKs we resend for retransmitted SYN-ACKs */
#define PORT_EXTRA      2 /* probes of a port's own protocols tried after the job's list */

struct lzr {
    const engine_config_t *cfg;
    sender_t *tx;
    uint8_t src_mac[6], dst_mac[6];
    uint8_t dst_mac6[6]; /* the next hop towards the IPv6 targets */
    engine_emit_fn emit;
    void *ctx;
    conntab_t *tab;
    timerwheel_t *wheel;
    uint64_t now_us;
    uint16_t ip_id;
    /* Targets classified lately, so a late retransmitted SYN-ACK does not start them again.
     * Direct-mapped and lossy: a collision only forgets an old entry. */
    uint64_t done[DONE_SLOTS];
    /* port → index + 1 in the job's port list; 0: a port a target list named that the list of
     * ports lacks, which takes the spare last index (no own probes of its port). */
    uint16_t *port_index;
    /* Per port index: the probes of the protocols expected on that port (registry's default
     * ports) that the job's list lacks, tried after it — so postgres on 5432 is named even
     * when the list has no postgres probe. */
    const handshake_t *(*extra)[PORT_EXTRA];
    uint8_t *n_extra;
    /* Per port index: the job's fallback handshakes not already among the two tiers above. */
    const handshake_t *(*fallback)[HANDSHAKE_MAX_FALLBACK];
    uint8_t *n_fallback;
    /* With --all: one bit per permutation element that answered, so the targets that never
     * answered can be reported as silent at the end. */
    uint8_t *answered;
    uint64_t n4; /* IPv4 targets: an IPv6 target's walk index is n4 + its index in targets6 */
    uint64_t replies, invalid, late, hits, dups, table_full, challenged;
    uint64_t per_class[CLASS_COUNT];
};

static uint64_t now_ms(const lzr_t *l)
{
    return l->now_us / 1000;
}

lzr_t *lzr_new(const engine_config_t *cfg, sender_t *tx, const uint8_t src_mac[6],
               const uint8_t dst_mac[6], engine_emit_fn emit, void *ctx, uint32_t capacity,
               uint64_t now_us)
{
    lzr_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->cfg = cfg;
    l->tx = tx;
    memcpy(l->src_mac, src_mac, 6);
    memcpy(l->dst_mac, dst_mac, 6);
    memcpy(l->dst_mac6, dst_mac, 6);
    l->n4 = cfg->targets ? targets_count(cfg->targets) : 0;
    l->emit = emit;
    l->ctx = ctx;
    l->now_us = now_us;
    l->tab = conntab_new(capacity);
    l->wheel = timerwheel_new(capacity, TICK_MS, WHEEL_SLOTS, now_us / 1000);
    if (cfg->report_all)
        l->answered = calloc(cfg->perm.size / 8 + 1, 1);
    l->port_index = calloc(65536, sizeof *l->port_index);
    size_t slots = cfg->ports->n + 1; /* the last: ports outside the list */
    l->extra = calloc(slots, sizeof *l->extra);
    l->n_extra = calloc(slots, 1);
    l->fallback = calloc(slots, sizeof *l->fallback);
    l->n_fallback = calloc(slots, 1);
    if (!l->tab || !l->wheel || (cfg->report_all && !l->answered) || !l->port_index || !l->extra ||
        !l->n_extra || !l->fallback || !l->n_fallback) {
        lzr_destroy(&l);
        return NULL;
    }
    for (size_t i = 0; i < slots; i++) {
        const handshake_t *own[8];
        size_t n = 0;
        if (i < cfg->ports->n) {
            l->port_index[cfg->ports->ports[i]] = (uint16_t)(i + 1);
            n = handshake_for_port(cfg->ports->ports[i], own, 8);
        }
        for (size_t k = 0; k < n && k < 8 && l->n_extra[i] < PORT_EXTRA; k++) {
            bool listed = false;
            for (size_t j = 0; j < cfg->n_handshakes; j++)
                listed |= cfg->handshakes[j] == own[k];
            if (!listed)
                l->extra[i][l->n_extra[i]++] = own[k];
        }
        for (size_t k = 0; k < cfg->n_fallback && k < HANDSHAKE_MAX_FALLBACK; k++) {
            bool tried = false;
            for (size_t j = 0; j < cfg->n_handshakes; j++)
                tried |= cfg->handshakes[j] == cfg->fallback[k];
            for (size_t j = 0; j < l->n_extra[i]; j++)
                tried |= l->extra[i][j] == cfg->fallback[k];
            if (!tried)
                l->fallback[i][l->n_fallback[i]++] = cfg->fallback[k];
        }
    }
    return l;
}

void lzr_set_next_hop6(lzr_t *l, const uint8_t mac[6])
{
    memcpy(l->dst_mac6, mac, 6);
}

int lzr_fallback_parse(const char *csv, const handshake_t *out[HANDSHAKE_MAX_FALLBACK], char *err,
                       size_t errlen)
{
    if (csv[strspn(csv, " \t")] == '\0')
        return 0;
    return handshake_list_parse(csv, out, HANDSHAKE_MAX_FALLBACK, err, errlen);
}

void lzr_destroy(lzr_t **l)
{
    if (!*l)
        return;
    free((*l)->answered);
    free((*l)->port_index);
    free((*l)->extra);
    free((*l)->n_extra);
    free((*l)->fallback);
    free((*l)->n_fallback);
    conntab_destroy(&(*l)->tab);
    timerwheel_destroy(&(*l)->wheel);
    free(*l);
    *l = NULL;
}

uint32_t lzr_in_flight(const lzr_t *l)
{
    return conntab_count(l->tab);
}

void lzr_add_stats(const lzr_t *l, engine_stats_t *s)
{
    s->replies += l->replies;
    s->invalid += l->invalid;
    s->late += l->late;
    s->challenged += l->challenged;
    s->hits += l->hits;
    s->sent += sender_sent(l->tx);
    for (int i = 0; i < CLASS_COUNT; i++)
        s->per_class[i] += l->per_class[i];
}

static uint64_t done_key(uint32_t daddr, uint16_t dport, bool v6)
{
    return ((uint64_t)v6 << 48 | (uint64_t)daddr << 16 | dport) + 1;
}

static uint32_t done_slot(uint64_t key)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 48) & (DONE_SLOTS - 1);
}

/* ---- the handshakes of a target: the job's list, its port's own, the fallback tier ---- */

/* The per-port tables' index of port: its place in the list, or the spare last one. */
static size_t port_slot(const lzr_t *l, uint16_t port)
{
    return l->port_index[port] ? l->port_index[port] - 1u : l->cfg->ports->n;
}

static const handshake_t *handshake_of(const lzr_t *l, const conn_t *c)
{
    size_t pi = port_slot(l, c->dport);
    size_t own = l->cfg->n_handshakes + l->n_extra[pi];
    if (c->hs < l->cfg->n_handshakes)
        return l->cfg->handshakes[c->hs];
    if (c->hs < own)
        return l->extra[pi][c->hs - l->cfg->n_handshakes];
    return l->fallback[pi][c->hs - own];
}

/* A target earns the fallback tier by acting like an application that reads what it is sent:
 * it kept one connection open and quiet (acknowledging any data) until our timeout, and ended
 * another itself with a FIN or RST — redis dropping an HTTP request, mosquitto resetting on a
 * ClientHello. The paper's middleboxes act the same on every connection (always close, always
 * hold, never acknowledge, retransmit the SYN-ACK), so none of them qualifies. */
static bool fallback_eligible(const conn_t *c)
{
    return (c->flags & F_HELD) && (c->flags & (F_RST | F_FIN)) && !(c->flags & F_RETX);
}

static bool has_next_handshake(const lzr_t *l, const conn_t *c)
{
    size_t pi = port_slot(l, c->dport);
    size_t own = l->cfg->n_handshakes + l->n_extra[pi];
    size_t next = c->hs + 1u;
    if (next < own)
        return true;
    if (next >= own + l->n_fallback[pi])
        return false;
    return next > own || fallback_eligible(c); /* the tier is entered once, then walked */
}

/* ---- addresses: an IPv4 target's key is its address, an IPv6 target's its index ---- */

/* The address of the target keyed daddr (an IPv6 target: its index in targets6). */
static lzr_addr_t target_addr(const lzr_t *l, uint32_t daddr, bool v6)
{
    lzr_addr_t a = {.family = ADDR_IPV4, .v4 = daddr};
    if (v6) {
        a.family = ADDR_IPV6;
        memcpy(a.v6, targets6_at(l->cfg->targets6, daddr), 16);
    }
    return a;
}

/* Our scan IP for a target of that family. */
static lzr_addr_t source_addr(const lzr_t *l, bool v6)
{
    if (v6)
        return l->cfg->source_ip6;
    return addr_ipv4(l->cfg->source_ip);
}

/* ---- sending ---- */

static void send_tcp(lzr_t *l, uint32_t daddr, bool v6, uint16_t sport, uint16_t dport,
                     uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *payload,
                     size_t paylen)
{
    pkt_out_t p = {.seg = {.src = {.family = ADDR_IPV4, .v4 = l->cfg->source_ip},
                           .dst = {.family = ADDR_IPV4, .v4 = daddr},
                           .sport = sport,
                           .dport = dport,
                           .seq = seq,
                           .ack = ack,
                           .flags = flags,
                           .window = OUR_WINDOW,
                           .ttl = OUR_TTL,
                           .payload = payload,
                           .payload_len = paylen},
                   .ip_id = l->ip_id++,
                   .mss_option = (flags & TCP_SYN) != 0};
    memcpy(p.src_mac, l->src_mac, 6);
    memcpy(p.dst_mac, l->dst_mac, 6);
    if (v6) { /* IPv4 is built in place above: its frames pay for no family switch */
        p.seg.src = l->cfg->source_ip6;
        p.seg.dst = target_addr(l, daddr, true);
        memcpy(p.dst_mac, l->dst_mac6, 6);
    }
    sender_commit(l->tx, packet_build(sender_slot(l->tx), PACKET_MAX_FRAME, &p));
}

/* The ACK that completes the handshake, carrying the current handshake's payload (none for
 * "wait" or while the window is shut). */
static void send_probe(lzr_t *l, conn_t *c, bool with_payload)
{
    const handshake_t *hs = handshake_of(l, c);
    uint8_t buf[HANDSHAKE_MAX_PAYLOAD];
    size_t n = 0;
    if (with_payload && hs->payload) {
        hs_target_t t = {.saddr = source_addr(l, c->v6),
                         .daddr = target_addr(l, c->daddr, c->v6),
                         .dport = c->dport};
        n = hs->payload(&t, buf, sizeof buf);
    }
    c->paylen = (uint16_t)n;
    send_tcp(l, c->daddr, c->v6, c->sport, c->dport, c->seq0 + 1, c->rseq0 + 1,
             TCP_ACK | (n ? TCP_PSH : 0), buf, n);
}

/* Resets c. A target takes a RST only at the sequence number it expects next (RFC 5961 §3); when
 * our probe was never acknowledged we cannot tell whether it arrived (its ACK may be what got
 * lost), so the RST goes at both places: one of the two closes the connection, the other at
 * most draws a challenge ACK. With only the first, a host whose ACKs never reach us keeps every
 * connection open, and a later SYN on the same four-tuple meets it instead of a listener. */
static void send_rst(lzr_t *l, const conn_t *c)
{
    bool acked = c->flags & F_CUR_ACKED;
    uint32_t seq = c->seq0 + 1 + (acked ? c->paylen : 0);
    send_tcp(l, c->daddr, c->v6, c->sport, c->dport, seq, 0, TCP_RST, NULL, 0);
    if (c->paylen && !acked)
        send_tcp(l, c->daddr, c->v6, c->sport, c->dport, seq + c->paylen, 0, TCP_RST, NULL, 0);
}

/* The cookie of connection salt to c's target, its source port in [lo, hi]. */
static cookie_t target_cookie(const lzr_t *l, const conn_t *c, uint32_t salt, uint16_t lo,
                              uint16_t hi)
{
    lzr_addr_t src = source_addr(l, c->v6);
    lzr_addr_t dst = target_addr(l, c->daddr, c->v6);
    return cookie_make(&l->cfg->key, &src, &dst, c->dport, salt, lo, hi);
}

static void send_syn(lzr_t *l, conn_t *c, uint32_t salt)
{
    cookie_t ck = target_cookie(l, c, salt, l->cfg->sport_lo, l->cfg->sport_hi);
    c->sport = ck.sport;
    c->seq0 = ck.seq;
    send_tcp(l, c->daddr, c->v6, c->sport, c->dport, c->seq0, 0, TCP_SYN, NULL, 0);
}

/* ---- records ---- */

/* Counts the verdict and, when it is reported, hands the target's record to the emitter. */
static void emit_record(lzr_t *l, const conn_t *c, lzr_class_t cls, const uint8_t *data, size_t len)
{
    l->per_class[cls]++;
    bool answered = cls != CLASS_SILENT && cls != CLASS_CLOSED;
    if (answered)
        l->hits++;
    if (!answered && !l->cfg->report_all)
        return;
    lzr_record_t r;
    memset(&r, 0, offsetof(lzr_record_t, data));
    r.ip = target_addr(l, c->daddr, c->v6);
    r.port = c->dport;
    r.source_ip = source_addr(l, c->v6);
    r.cls = cls;
    if (cls == CLASS_SERVICE) {
        const char *proto = handshake_fingerprint(data, len);
        text_copy(r.protocol, sizeof r.protocol, proto ? proto : "unknown");
        text_copy(r.handshake, sizeof r.handshake, handshake_of(l, c)->name);
    }
    r.handshakes_tried = c->tried;
    r.window = c->window;
    r.ttl_synack = c->ttl_synack;
    r.ttl_last = c->ttl_last;
    r.synack_retransmits = c->synack_retx;
    r.acked_data = (c->flags & F_ACKED) != 0;
    r.rtt_us = c->rtt_us;
    r.ts_us = clock_wall_us();
    r.data_len = (uint16_t)(len < LZR_DATA_MAX ? len : LZR_DATA_MAX);
    if (r.data_len)
        memcpy(r.data, data, r.data_len);
    l->emit(l->ctx, &r);
}

/* The target's verdict: report it, remember it is done, and free its state. */
static void finish(lzr_t *l, conn_t *c, lzr_class_t cls, const uint8_t *data, size_t len)
{
    emit_record(l, c, cls, data, len);
    uint64_t key = done_key(c->daddr, c->dport, c->v6);
    l->done[done_slot(key)] = key;
    timerwheel_cancel(l->wheel, conntab_id(l->tab, c));
    conntab_remove(l->tab, c);
}

/* ---- transitions ---- */

static void arm(lzr_t *l, conn_t *c, uint32_t after_ms)
{
    timerwheel_schedule(l->wheel, conntab_id(l->tab, c), now_ms(l) + after_ms);
}

/* The first timer after a probe: a retransmission when one is due, else the handshake's end. */
static void arm_probe_timer(lzr_t *l, conn_t *c)
{
    c->retries = 0;
    bool retransmit = l->cfg->retransmit_ms < l->cfg->timeout_ms;
    arm(l, c, retransmit ? l->cfg->retransmit_ms : l->cfg->timeout_ms);
}

static void classify_final(lzr_t *l, conn_t *c)
{
    lzr_class_t cls;
    if ((c->flags & F_RETX) && !(c->flags & F_ACKED))
        cls = CLASS_MID_HANDSHAKE_DROP;
    else if ((c->flags & F_UNACKED) && !(c->flags & (F_ACKED | F_RST | F_FIN)))
        cls = CLASS_NO_ACK_DATA;
    else if (c->flags & F_RST)
        cls = CLASS_RST_AFTER_HANDSHAKE;
    else if (c->flags & F_FIN)
        cls = CLASS_FIN_AFTER_HANDSHAKE;
    else
        cls = CLASS_ACKS_NO_DATA;
    finish(l, c, cls, NULL, 0);
}

static void open_next(lzr_t *l, conn_t *c)
{
    c->hs++;
    c->flags &= (uint8_t)~F_CUR_ACKED;
    c->paylen = 0;
    c->retries = 0;
    c->state = ST_SYN;
    send_syn(l, c, c->hs);
    arm_probe_timer(l, c);
}

static void start_afw(lzr_t *l, conn_t *c)
{
    uint32_t parent = conntab_id(l->tab, c);
    uint32_t n = l->cfg->acking_firewall_probes;
    c->flags |= F_AFW_DONE;
    c->aux = 0;  /* probes out */
    c->aux2 = 0; /* probes answered */
    for (uint32_t i = 0; i < n && i < 64; i++) {
        cookie_t pick = target_cookie(l, c, SALT_AFW_PORT + i, 0, 0);
        uint16_t port = (uint16_t)(32768 + (pick.seq % 32768));
        conn_t *child = conntab_insert(l->tab, c->daddr, port, c->v6);
        if (!child)
            continue; /* the port is being scanned or probed already */
        child->state = ST_AFW_CHILD;
        child->rseq0 = parent;
        send_syn(l, child, SALT_AFW + i);
        arm(l, child, l->cfg->timeout_ms);
        c->aux++;
    }
    c->state = ST_AFW;
    arm(l, c, l->cfg->timeout_ms);
}

/* The current handshake is over without data: keep its evidence, close the connection and
 * move on — to the acking-firewall test, the next handshake, or the verdict. */
static void handshake_over(lzr_t *l, conn_t *c, bool they_reset)
{
    if (c->paylen && !(c->flags & F_CUR_ACKED))
        c->flags |= F_UNACKED;
    if (!they_reset)
        send_rst(l, c);
    if (l->cfg->acking_firewall_probes && !(c->flags & F_AFW_DONE) && c->hs == 0)
        start_afw(l, c);
    else if (has_next_handshake(l, c))
        open_next(l, c);
    else
        classify_final(l, c);
}

static void on_timer(void *ctx, uint32_t id)
{
    lzr_t *l = ctx;
    conn_t *c = conntab_get(l->tab, id);
    uint32_t rest = l->cfg->timeout_ms > l->cfg->retransmit_ms
                        ? l->cfg->timeout_ms - l->cfg->retransmit_ms
                        : l->cfg->timeout_ms;
    switch (c->state) {
    case ST_DATA:
        /* The retransmit time: a probe not yet acknowledged goes out once more; one that was
         * waits on for its answer to the timeout (a server that took the request may need
         * seconds to answer it). `wait` sent nothing and ends here: a server that speaks
         * first does so at once. */
        if (c->retries == 0 && c->paylen && l->cfg->retransmit_ms < l->cfg->timeout_ms) {
            c->retries = 1;
            if (!(c->flags & F_CUR_ACKED))
                send_probe(l, c, true);
            arm(l, c, rest);
            return;
        }
        if (!c->paylen || (c->flags & F_CUR_ACKED))
            c->flags |= F_HELD;
        handshake_over(l, c, false);
        return;
    case ST_ZW:
        if (c->retries == 0 && l->cfg->retransmit_ms < l->cfg->timeout_ms) {
            c->retries = 1;
            send_probe(l, c, false); /* a window probe */
            arm(l, c, rest);
            return;
        }
        send_rst(l, c);
        finish(l, c, CLASS_ZERO_WINDOW, NULL, 0);
        return;
    case ST_SYN:
        if (c->retries == 0 && l->cfg->retransmit_ms < l->cfg->timeout_ms) {
            c->retries = 1;
            send_tcp(l, c->daddr, c->v6, c->sport, c->dport, c->seq0, 0, TCP_SYN, NULL, 0);
            arm(l, c, rest);
            return;
        }
        finish(l, c, CLASS_LOST_AFTER_SYNACK, NULL, 0);
        return;
    case ST_AFW:
        if (c->aux && c->aux2 * 2 > c->aux) {
            finish(l, c, CLASS_ACKING_FIREWALL, NULL, 0);
            return;
        }
        if (has_next_handshake(l, c))
            open_next(l, c);
        else
            classify_final(l, c);
        return;
    case ST_AFW_CHILD:
    default:
        timerwheel_cancel(l->wheel, id);
        conntab_remove(l->tab, c);
        return;
    }
}

void lzr_abort(lzr_t *l)
{
    uint32_t id = 0;
    for (conn_t *c; (c = conntab_next(l->tab, &id)); id++) {
        if (c->state != ST_AFW) /* its connection was reset when its probes went out */
            send_rst(l, c);
        timerwheel_cancel(l->wheel, id);
        conntab_remove(l->tab, c);
    }
    sender_flush(l->tx);
}

static void mark_answered(lzr_t *l, uint32_t addr, bool v6, uint16_t port)
{
    if (!l->answered || !l->port_index[port])
        return;
    int64_t ai = v6 ? (int64_t)(l->n4 + addr) : targets_index_of(l->cfg->targets, addr);
    if (ai < 0)
        return;
    uint64_t el = (uint64_t)ai * l->cfg->ports->n + l->port_index[port] - 1;
    l->answered[el / 8] |= (uint8_t)(1u << (el % 8));
}

void lzr_report_silent(lzr_t *l, uint64_t pos_begin, uint64_t pos_end)
{
    if (!l->answered)
        return;
    perm_iter_t it;
    uint64_t el, nports = l->cfg->ports->n;
    perm_iter_init(&it, &l->cfg->perm, pos_begin, pos_end);
    while (perm_next(&it, &el)) {
        if (l->answered[el / 8] & (1u << (el % 8)))
            continue;
        uint64_t ai = el / nports;
        conn_t c = {.dport = l->cfg->ports->ports[el % nports], .v6 = ai >= l->n4};
        c.daddr = c.v6 ? (uint32_t)(ai - l->n4) : targets_at(l->cfg->targets, ai);
        if (!c.v6 && l->cfg->blocklist && targets_contains(l->cfg->blocklist, c.daddr))
            continue; /* never probed, so not silent either */
        if (c.v6 && l->cfg->blocklist6 &&
            targets6_excludes(l->cfg->blocklist6, targets6_at(l->cfg->targets6, c.daddr)))
            continue;
        emit_record(l, &c, CLASS_SILENT, NULL, 0);
    }
}

/* A discovery SYN-ACK or RST (salt 0) for a target without state, keyed daddr (v6: its index
 * in targets6). */
static void on_new(lzr_t *l, const pkt_in_t *p, uint32_t daddr, bool v6)
{
    if (!cookie_validate(&l->cfg->key, &p->dst, p->dport, &p->src, p->sport, p->ack, 0,
                         l->cfg->sport_lo, l->cfg->sport_hi)) {
        l->invalid++;
        return;
    }
    uint64_t key = done_key(daddr, p->sport, v6);
    if (l->done[done_slot(key)] == key) {
        l->dups++;
        return;
    }
    l->replies++;
    mark_answered(l, daddr, v6, p->sport);
    if (p->flags & TCP_RST) {
        l->done[done_slot(key)] = key;
        conn_t closed = {.daddr = daddr, .dport = p->sport, .ttl_last = p->ttl, .v6 = v6};
        emit_record(l, &closed, CLASS_CLOSED, NULL, 0);
        return;
    }
    if ((p->flags & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK))
        return;
    if (l->cfg->discovery_only) {
        conn_t open = {.daddr = daddr,
                       .dport = p->sport,
                       .window = p->window,
                       .ttl_synack = p->ttl,
                       .ttl_last = p->ttl,
                       .v6 = v6};
        l->done[done_slot(key)] = key;
        send_tcp(l, daddr, v6, p->dport, p->sport, p->ack, 0, TCP_RST, NULL, 0);
        emit_record(l, &open, CLASS_OPEN, NULL, 0);
        return;
    }
    conn_t *c = conntab_insert(l->tab, daddr, p->sport, v6);
    if (!c) {
        l->table_full++;
        return;
    }
    c->sport = p->dport;
    c->seq0 = p->ack - 1;
    c->rseq0 = p->seq;
    c->window = p->window;
    c->ttl_synack = c->ttl_last = p->ttl;
    c->tried = 1;
    c->sent_us = (uint32_t)l->now_us;
    if (p->window == 0) {
        c->state = ST_ZW;
        send_probe(l, c, false);
    } else {
        c->state = ST_DATA;
        send_probe(l, c, true);
    }
    arm_probe_timer(l, c);
}

static void on_data(lzr_t *l, conn_t *c, const pkt_in_t *p)
{
    send_tcp(l, c->daddr, c->v6, c->sport, c->dport, c->seq0 + 1 + c->paylen, 0, TCP_RST, NULL, 0);
    finish(l, c, CLASS_SERVICE, p->payload, p->payload_len);
}

static void on_afw_child(lzr_t *l, conn_t *c, const pkt_in_t *p)
{
    if ((p->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && p->ack == c->seq0 + 1) {
        conn_t *parent = conntab_get(l->tab, c->rseq0);
        if (parent && parent->daddr == c->daddr && parent->v6 == c->v6 && parent->state == ST_AFW)
            parent->aux2++;
        send_tcp(l, c->daddr, c->v6, c->sport, c->dport, c->seq0 + 1, 0, TCP_RST, NULL, 0);
    } else if (!(p->flags & TCP_RST)) {
        return;
    }
    timerwheel_cancel(l->wheel, conntab_id(l->tab, c));
    conntab_remove(l->tab, c);
}

static void on_known(lzr_t *l, conn_t *c, const pkt_in_t *p)
{
    if (p->dport != c->sport) {
        l->late++; /* a packet of an earlier connection to this target */
        return;
    }
    l->replies++;
    c->ttl_last = p->ttl;
    bool synack = (p->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
    switch (c->state) {
    case ST_AFW_CHILD:
        on_afw_child(l, c, p);
        return;
    case ST_SYN:
        if (p->ack != c->seq0 + 1)
            return;
        if (p->flags & TCP_RST) {
            finish(l, c, CLASS_LOST_AFTER_SYNACK, NULL, 0);
            return;
        }
        if (!synack)
            return;
        c->rseq0 = p->seq;
        c->tried++;
        c->state = ST_DATA;
        send_probe(l, c, true);
        arm_probe_timer(l, c);
        return;
    case ST_ZW:
    case ST_DATA:
        break;
    default:
        return; /* ST_AFW: the parent's old connection; nothing to learn */
    }
    if (c->rtt_us == 0 && c->hs == 0) { /* 0 = not taken yet; a taken RTT is at least 1 µs */
        uint32_t rtt = (uint32_t)l->now_us - c->sent_us;
        c->rtt_us = rtt ? rtt : 1;
    }
    if (p->payload_len > 0) {
        on_data(l, c, p);
        return;
    }
    if (synack) {
        /* The target never saw our ACK, or ignores it: it is still in SYN-RECEIVED. */
        if (c->synack_retx < UINT8_MAX)
            c->synack_retx++;
        c->flags |= F_RETX;
        if (c->synack_retx <= MAX_SYNACK_ECHO)
            send_probe(l, c, c->state == ST_DATA);
        return;
    }
    if (p->flags & TCP_RST) {
        if (c->state == ST_ZW) {
            finish(l, c, CLASS_ZERO_WINDOW, NULL, 0);
            return;
        }
        c->flags |= F_RST;
        handshake_over(l, c, true);
        return;
    }
    if (c->state == ST_ZW) {
        if ((p->flags & TCP_ACK) && p->window > 0) { /* the window opened after all */
            c->state = ST_DATA;
            send_probe(l, c, true);
            arm_probe_timer(l, c);
        }
        return;
    }
    if ((p->flags & TCP_ACK) && c->paylen && p->ack == c->seq0 + 1 + c->paylen)
        c->flags |= F_CUR_ACKED | F_ACKED;
    if (p->flags & TCP_FIN) {
        c->flags |= F_FIN;
        handshake_over(l, c, false);
    }
}

/* The key of a frame's sender (an IPv6 target: its index in targets6) into *daddr; false when
 * the frame is not to our scan IP of its family or comes from no IPv6 target of ours. */
static bool frame_key(const lzr_t *l, const pkt_in_t *p, uint32_t *daddr)
{
    if (p->dst.family == ADDR_IPV4) {
        *daddr = p->src.v4;
        return p->dst.v4 == l->cfg->source_ip;
    }
    if (!l->cfg->targets6 || !addr_equal(&p->dst, &l->cfg->source_ip6))
        return false;
    int64_t i = targets6_index_of(l->cfg->targets6, (const struct in6_addr *)p->src.v6);
    *daddr = (uint32_t)i;
    return i >= 0 && i <= UINT32_MAX;
}

/* A bare ACK from a target without state, to the source port our discovery SYN to it uses: the
 * target still holds an older connection on that four-tuple (from an earlier scan from this
 * scan IP, one that was killed, say) and answered our SYN with a challenge ACK (RFC 5961 §4),
 * not a SYN-ACK. As a TCP stack would, reset that connection at the sequence number the ACK
 * expects and send the SYN again, once per target (the done ring remembers it, flagged). */
static bool on_challenge_ack(lzr_t *l, const pkt_in_t *p, uint32_t daddr, bool v6)
{
    if ((p->flags & (TCP_SYN | TCP_RST | TCP_FIN | TCP_ACK)) != TCP_ACK || p->payload_len ||
        !l->port_index[p->sport])
        return false;
    conn_t c = {.daddr = daddr, .dport = p->sport, .v6 = v6};
    cookie_t ck = target_cookie(l, &c, 0, l->cfg->sport_lo, l->cfg->sport_hi);
    uint64_t key = done_key(daddr, p->sport, v6) | DONE_CHALLENGED;
    if (ck.sport != p->dport || l->done[done_slot(key)] == key)
        return false;
    l->done[done_slot(key)] = key;
    l->challenged++;
    send_tcp(l, daddr, v6, p->dport, p->sport, p->ack, 0, TCP_RST, NULL, 0);
    send_syn(l, &c, 0); /* the discovery SYN, as the walk sent it */
    return true;
}

void lzr_on_frame(lzr_t *l, const uint8_t *frame, size_t len, int linktype, uint64_t now_us)
{
    pkt_in_t p;
    uint32_t daddr;
    l->now_us = now_us;
    if (packet_parse(frame, len, linktype, &p) != LZR_OK || !frame_key(l, &p, &daddr)) {
        l->invalid++;
        return;
    }
    bool v6 = p.dst.family == ADDR_IPV6;
    conn_t *c = conntab_lookup(l->tab, daddr, p.sport, v6);
    if (c) {
        on_known(l, c, &p);
        return;
    }
    if (p.flags & (TCP_SYN | TCP_RST)) {
        on_new(l, &p, daddr, v6);
        return;
    }
    uint64_t key = done_key(daddr, p.sport, v6);
    if (l->done[done_slot(key)] == key)
        l->late++; /* the server's last segments after we reset a finished target */
    else if (!on_challenge_ack(l, &p, daddr, v6))
        l->invalid++;
}

void lzr_on_time(lzr_t *l, uint64_t now_us, uint64_t due_us)
{
    l->now_us = now_us;
    timerwheel_advance(l->wheel, due_us / 1000, on_timer, l);
    sender_flush(l->tx);
}
