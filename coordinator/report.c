/*
 * report: one pass over the job's results in (ip, port) order fills per-port class counters,
 * per-(port, protocol) counters and, host by host, the block aggregation; a second pass over
 * the verdicts counts them. Text and SVG are both written from those counters.
 */
#include "coordinator/report.h"
#include "common/grow.h"

#include "common/catalogue.h"
#include "common/err.h"
#include "coordinator/blocks.h"
#include "coordinator/compare.h"
#include "coordinator/pfx2as.h"

#include <stdlib.h>
#include <string.h>

#define MAX_HOST_ROWS 4096 /* ports of one host considered for its behaviour */
#define TOP_BLOCKS    8    /* largest blocks listed in the text */
#define TOP_ASES      3    /* ASes with the most addresses listed per behaviour */

typedef struct proto_count {
    char name[24];
    uint64_t n;
} proto_count_t;

typedef struct port_stats {
    uint16_t port;
    uint64_t cls[CLASS_COUNT];
    proto_count_t *protos;
    size_t n_protos;
} port_stats_t;

/* Services of one protocol, on its IANA port and elsewhere. */
typedef struct proto_stats {
    char name[24];
    uint64_t total, on_iana;
    uint16_t iana;
    proto_count_t *ports; /* name holds the port number as text */
    size_t n_ports;
} proto_stats_t;

/* Addresses of one AS (one ORIGIN label of the pfx2as file), with one behaviour or in all. */
typedef struct as_count {
    char origin[PFX2AS_ORIGIN_MAX];
    char behaviour[24];
    uint64_t n, mbox;
} as_count_t;

struct report {
    uint64_t job_id;
    char name[64];
    char state[16];
    uint64_t results;
    port_stats_t *ports;
    size_t n_ports;
    proto_stats_t *protos;
    size_t n_protos;
    uint64_t verdicts[8];
    char verdict_names[8][24];
    size_t n_verdict_kinds;
    blocks_t blocks;
    blocks_row_t *rows;
    size_t n_rows;
    /* host being accumulated */
    lzr_addr_t host_ip;
    bool have_host;
    lzr_class_t host_cls[MAX_HOST_ROWS];
    size_t host_n;
    char host_verdict[24];
    int err;
    compare_t *cmp; /* the comparison across vantage points, for a job of several passes */
    /* AS attribution (report_attribute); as_beh is sorted by behaviour, addresses descending */
    bool attributed;
    char pfx2as_name[256];
    size_t pfx2as_prefixes, pfx2as_origins;
    as_count_t *as_beh;
    size_t n_as_beh;
    as_count_t *ases; /* per AS: n = addresses, mbox = middlebox addresses; most first */
    size_t n_ases;
    uint64_t unrouted; /* IPv4 hosts no prefix covers */
    uint64_t unlooked; /* IPv6 hosts: the table is IPv4, they are in no AS */
};

/* The class list's columns for the text table's labels and the SVG's bar colours. */
static const char *const short_names[CLASS_COUNT] = {
#define LZR_CLASS_SHORT(e, name, short, colour) [e] = short,
    LZR_CLASS_LIST(LZR_CLASS_SHORT)
#undef LZR_CLASS_SHORT
};

static const char *const class_colors[CLASS_COUNT] = {
#define LZR_CLASS_COLOUR(e, name, short, colour) [e] = colour,
    LZR_CLASS_LIST(LZR_CLASS_COLOUR)
#undef LZR_CLASS_COLOUR
};

static int count_add(proto_count_t **v, size_t *n, const char *name, uint64_t by)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*v)[i].name, name) == 0) {
            (*v)[i].n += by;
            return LZR_OK;
        }
    }
    proto_count_t *g = realloc(*v, (*n + 1) * sizeof *g);
    if (!g)
        return LZR_ENOMEM;
    *v = g;
    snprintf(g[*n].name, sizeof g[*n].name, "%s", name);
    g[*n].n = by;
    (*n)++;
    return LZR_OK;
}

static int count_cmp(const void *x, const void *y)
{
    const proto_count_t *a = x, *b = y;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->name, b->name);
}

static port_stats_t *port_get(report_t *r, uint16_t port)
{
    for (size_t i = r->n_ports; i > 0; i--)
        if (r->ports[i - 1].port == port)
            return &r->ports[i - 1];
    port_stats_t *g = realloc(r->ports, (r->n_ports + 1) * sizeof *g);
    if (!g)
        return NULL;
    r->ports = g;
    port_stats_t *p = &r->ports[r->n_ports++];
    memset(p, 0, sizeof *p);
    p->port = port;
    return p;
}

static proto_stats_t *proto_get(report_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_protos; i++)
        if (strcmp(r->protos[i].name, name) == 0)
            return &r->protos[i];
    proto_stats_t *g = realloc(r->protos, (r->n_protos + 1) * sizeof *g);
    if (!g)
        return NULL;
    r->protos = g;
    proto_stats_t *p = &r->protos[r->n_protos++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->iana = catalogue_iana_port(name);
    return p;
}

static void host_flush(report_t *r)
{
    if (!r->have_host)
        return;
    const char *b = blocks_behaviour(r->host_cls, r->host_n, r->host_verdict);
    if (b && blocks_add(&r->blocks, &r->host_ip, b) != LZR_OK)
        r->err = LZR_ENOMEM;
    r->have_host = false;
    r->host_n = 0;
    r->host_verdict[0] = '\0';
}

static int on_row(void *ctx, const lzr_record_t *rec, const char *worker, const char *verdict)
{
    (void)worker;
    report_t *r = ctx;
    r->results++;
    if (!r->have_host || !addr_equal(&rec->ip, &r->host_ip)) {
        host_flush(r);
        r->have_host = true;
        r->host_ip = rec->ip;
    }
    if (r->host_n < MAX_HOST_ROWS)
        r->host_cls[r->host_n++] = rec->cls;
    if (verdict && verdict[0])
        snprintf(r->host_verdict, sizeof r->host_verdict, "%s", verdict);
    port_stats_t *p = port_get(r, rec->port);
    if (!p)
        return LZR_ENOMEM;
    p->cls[rec->cls]++;
    if (rec->cls == CLASS_SERVICE) {
        const char *name = rec->protocol[0] ? rec->protocol : "unknown";
        if (count_add(&p->protos, &p->n_protos, name, 1) != LZR_OK)
            return LZR_ENOMEM;
        proto_stats_t *ps = proto_get(r, name);
        if (!ps)
            return LZR_ENOMEM;
        ps->total++;
        if (ps->iana && ps->iana == rec->port) {
            ps->on_iana++;
        } else {
            char pn[8];
            snprintf(pn, sizeof pn, "%u", (unsigned)rec->port);
            if (count_add(&ps->ports, &ps->n_ports, pn, 1) != LZR_OK)
                return LZR_ENOMEM;
        }
    }
    return r->err;
}

static int on_verdict(void *ctx, const store_verdict_t *v)
{
    report_t *r = ctx;
    for (size_t i = 0; i < r->n_verdict_kinds; i++) {
        if (strcmp(r->verdict_names[i], v->verdict) == 0) {
            r->verdicts[i]++;
            return LZR_OK;
        }
    }
    if (r->n_verdict_kinds < 8) {
        snprintf(r->verdict_names[r->n_verdict_kinds], sizeof r->verdict_names[0], "%s",
                 v->verdict);
        r->verdicts[r->n_verdict_kinds++] = 1;
    }
    return LZR_OK;
}

static int port_cmp(const void *x, const void *y)
{
    const port_stats_t *a = x, *b = y;
    return (int)a->port - (int)b->port;
}

static int proto_cmp(const void *x, const void *y)
{
    const proto_stats_t *a = x, *b = y;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return strcmp(a->name, b->name);
}

report_t *report_build(store_t *s, uint64_t job_id, char *err, size_t errlen)
{
    store_job_t row;
    if (store_job_get(s, job_id, &row) != LZR_OK) {
        snprintf(err, errlen, "no job %llu", (unsigned long long)job_id);
        return NULL;
    }
    report_t *r = calloc(1, sizeof *r);
    if (!r) {
        store_job_clear(&row);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->job_id = job_id;
    snprintf(r->name, sizeof r->name, "%s", row.name);
    snprintf(r->state, sizeof r->state, "%s", row.state);
    bool compared = row.passes > 1;
    store_job_clear(&row);
    int rc = store_results_each_verdict(s, job_id, NULL, NULL, on_row, r);
    host_flush(r);
    if (rc == LZR_OK)
        rc = r->err;
    if (rc == LZR_OK)
        rc = store_verdicts_each(s, job_id, on_verdict, r);
    if (rc == LZR_OK)
        rc = blocks_table(&r->blocks, &r->rows, &r->n_rows);
    if (rc == LZR_OK && compared) {
        r->cmp = compare_build(s, job_id, err, errlen);
        if (!r->cmp) {
            report_free(&r);
            return NULL;
        }
    }
    if (rc != LZR_OK) {
        snprintf(err, errlen, "job %llu: %s (%s)", (unsigned long long)job_id, lzr_strerror(rc),
                 store_errmsg(s));
        report_free(&r);
        return NULL;
    }
    if (r->n_ports > 1)
        qsort(r->ports, r->n_ports, sizeof *r->ports, port_cmp);
    for (size_t i = 0; i < r->n_ports; i++)
        if (r->ports[i].n_protos > 1)
            qsort(r->ports[i].protos, r->ports[i].n_protos, sizeof(proto_count_t), count_cmp);
    if (r->n_protos > 1)
        qsort(r->protos, r->n_protos, sizeof *r->protos, proto_cmp);
    for (size_t i = 0; i < r->n_protos; i++)
        if (r->protos[i].n_ports > 1)
            qsort(r->protos[i].ports, r->protos[i].n_ports, sizeof(proto_count_t), count_cmp);
    return r;
}

void report_free(report_t **rp)
{
    report_t *r = rp ? *rp : NULL;
    if (!r)
        return;
    for (size_t i = 0; i < r->n_ports; i++)
        free(r->ports[i].protos);
    free(r->ports);
    for (size_t i = 0; i < r->n_protos; i++)
        free(r->protos[i].ports);
    free(r->protos);
    blocks_free(&r->blocks);
    free(r->rows);
    compare_free(&r->cmp);
    free(r->as_beh);
    free(r->ases);
    free(r);
    *rp = NULL;
}

/* (ip, port) pairs of a port that answered the SYN with a SYN-ACK: all but closed and silent. */
static uint64_t synacked(const port_stats_t *p)
{
    uint64_t n = 0;
    for (int c = 0; c < CLASS_COUNT; c++)
        if (c != CLASS_CLOSED && c != CLASS_SILENT)
            n += p->cls[c];
    return n;
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void upper(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 32) : in[i];
    out[i] = '\0';
}

/* The IPv4 rows of the block table, which come before its IPv6 rows. */
static size_t rows_v4(const report_t *r)
{
    size_t n = 0;
    while (n < r->n_rows && r->rows[n].family == ADDR_IPV4)
        n++;
    return n;
}

/* ---- AS attribution ---------------------------------------------------------------------- */

bool report_is_middlebox(const char *behaviour)
{
    return strcmp(behaviour, record_class_name(CLASS_SERVICE)) != 0 &&
           strcmp(behaviour, record_class_name(CLASS_CLOSED)) != 0 &&
           strcmp(behaviour, verdict_name(VERDICT_CHURN)) != 0;
}

static int as_key_cmp(const void *x, const void *y)
{
    const as_count_t *a = x, *b = y;
    int c = strcmp(a->behaviour, b->behaviour);
    return c ? c : strcmp(a->origin, b->origin);
}

static int as_origin_cmp(const void *x, const void *y)
{
    return strcmp(((const as_count_t *)x)->origin, ((const as_count_t *)y)->origin);
}

/* By behaviour, then most addresses first, then by label. */
static int as_rank_cmp(const void *x, const void *y)
{
    const as_count_t *a = x, *b = y;
    int c = strcmp(a->behaviour, b->behaviour);
    if (c)
        return c;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->origin, b->origin);
}

static int as_total_cmp(const void *x, const void *y)
{
    const as_count_t *a = x, *b = y;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->origin, b->origin);
}

static int as_append(as_count_t **v, size_t *n, size_t *cap, const char *origin,
                     const char *behaviour, uint64_t by)
{
    as_count_t *g = grow(*v, *n, cap, sizeof *g, 64);
    if (!g)
        return LZR_ENOMEM;
    *v = g;
    as_count_t *c = &(*v)[(*n)++];
    snprintf(c->origin, sizeof c->origin, "%s", origin);
    snprintf(c->behaviour, sizeof c->behaviour, "%s", behaviour);
    c->n = by;
    c->mbox = report_is_middlebox(behaviour) ? by : 0;
    return LZR_OK;
}

/* Merges neighbours that cmp finds equal, summing their counts; v must be sorted by cmp. */
static size_t as_merge(as_count_t *v, size_t n, int (*cmp)(const void *, const void *))
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && cmp(&v[k - 1], &v[i]) == 0) {
            v[k - 1].n += v[i].n;
            v[k - 1].mbox += v[i].mbox;
        } else {
            v[k++] = v[i];
        }
    }
    return k;
}

int report_attribute(report_t *r, const pfx2as_t *t, const char *name)
{
    as_count_t *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t unrouted = 0, unlooked = 0;
    /* Runs of addresses with one behaviour and one origin become one entry each; the table
     * holds IPv4 prefixes only, so IPv6 blocks are counted aside. */
    for (size_t i = 0; i < r->blocks.n; i++) {
        const block_t *b = &r->blocks.v[i];
        if (b->first.family != ADDR_IPV4) {
            unlooked += b->size;
            continue;
        }
        const char *run = NULL;
        uint64_t run_n = 0;
        for (uint64_t ip = b->first.v4; ip <= b->last.v4; ip++) {
            const char *o = pfx2as_lookup(t, (uint32_t)ip);
            if (!o) {
                unrouted++;
                continue;
            }
            if (run && strcmp(run, o) == 0) {
                run_n++;
                continue;
            }
            if (run && as_append(&v, &n, &cap, run, b->behaviour, run_n) != LZR_OK)
                goto nomem;
            run = o;
            run_n = 1;
        }
        if (run && as_append(&v, &n, &cap, run, b->behaviour, run_n) != LZR_OK)
            goto nomem;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, as_key_cmp);
    n = as_merge(v, n, as_key_cmp);
    as_count_t *ases = n ? malloc(n * sizeof *ases) : NULL;
    if (n && !ases)
        goto nomem;
    if (n)
        memcpy(ases, v, n * sizeof *ases);
    if (n > 1)
        qsort(ases, n, sizeof *ases, as_origin_cmp);
    size_t n_ases = as_merge(ases, n, as_origin_cmp);
    for (size_t i = 0; i < n_ases; i++)
        ases[i].behaviour[0] = '\0';
    if (n_ases > 1)
        qsort(ases, n_ases, sizeof *ases, as_total_cmp);
    if (n > 1)
        qsort(v, n, sizeof *v, as_rank_cmp);
    free(r->as_beh);
    free(r->ases);
    r->as_beh = v;
    r->n_as_beh = n;
    r->ases = ases;
    r->n_ases = n_ases;
    r->unrouted = unrouted;
    r->unlooked = unlooked;
    r->pfx2as_prefixes = pfx2as_count(t);
    r->pfx2as_origins = pfx2as_origins(t);
    snprintf(r->pfx2as_name, sizeof r->pfx2as_name, "%s", name ? name : "pfx2as");
    r->attributed = true;
    return LZR_OK;
nomem:
    free(v);
    return LZR_ENOMEM;
}

/* The slice of as_beh for one behaviour: its first index and count. */
static size_t as_of_behaviour(const report_t *r, const char *behaviour, size_t *first)
{
    size_t n = 0;
    *first = 0;
    for (size_t i = 0; i < r->n_as_beh; i++) {
        if (strcmp(r->as_beh[i].behaviour, behaviour) != 0)
            continue;
        if (n++ == 0)
            *first = i;
    }
    return n;
}

static size_t as_with_middlebox(const report_t *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_ases; i++)
        k += r->ases[i].mbox > 0;
    return k;
}

static void as_text(const report_t *r, FILE *out)
{
    size_t mb = as_with_middlebox(r);
    uint64_t hosts = 0;
    for (size_t i = 0; i < r->n_ases; i++)
        hosts += r->ases[i].n;
    fprintf(out, "ASes (longest-prefix match in %s: %zu prefixes, %zu ASes)\n", r->pfx2as_name,
            r->pfx2as_prefixes, r->pfx2as_origins);
    fprintf(out, "  %llu hosts in %zu ASes; %llu hosts in no prefix\n", (unsigned long long)hosts,
            r->n_ases, (unsigned long long)r->unrouted);
    if (r->unlooked)
        fprintf(out, "  %llu IPv6 hosts not looked up (the table is IPv4)\n",
                (unsigned long long)r->unlooked);
    fprintf(out, "  ASes with at least one middlebox: %zu of %zu (%.1f%%)\n", mb, r->n_ases,
            pct(mb, r->n_ases));
    fprintf(out, "%-20s %9s %5s  %s\n", "behaviour", "addresses", "ASes", "ASes with the most");
    for (size_t i = 0; i < rows_v4(r); i++) {
        size_t first, k = as_of_behaviour(r, r->rows[i].behaviour, &first);
        uint64_t addrs = 0;
        for (size_t j = 0; j < k; j++)
            addrs += r->as_beh[first + j].n;
        fprintf(out, "%-20s %9llu %5zu ", r->rows[i].behaviour, (unsigned long long)addrs, k);
        for (size_t j = 0; j < k && j < TOP_ASES; j++)
            fprintf(out, " AS%s:%llu", r->as_beh[first + j].origin,
                    (unsigned long long)r->as_beh[first + j].n);
        if (k > TOP_ASES)
            fprintf(out, " +%zu more", k - TOP_ASES);
        fputc('\n', out);
    }
    fputs("  middlebox: a host whose behaviour is neither service, closed nor churn\n", out);
}

/* The per-port table: the share of each class among a port's SYN-ACKing pairs (a column for
 * each class present anywhere among them) and the port's most frequent protocols. */
static void text_ports(const report_t *r, FILE *out)
{
    /* Classes present anywhere among SYN-ACKed pairs get a column. */
    bool col[CLASS_COUNT] = {false};
    for (size_t i = 0; i < r->n_ports; i++)
        for (int c = 0; c < CLASS_COUNT; c++)
            if (c != CLASS_CLOSED && c != CLASS_SILENT && r->ports[i].cls[c])
                col[c] = true;
    fputs("Per port: share of the SYN-ACKing (ip, port) pairs by class, and the protocols "
          "found\n",
          out);
    fprintf(out, "%-6s %8s", "port", "synack");
    for (int c = 0; c < CLASS_COUNT; c++)
        if (col[c])
            fprintf(out, " %7s", short_names[c]);
    fputs("  protocols\n", out);
    for (size_t i = 0; i < r->n_ports; i++) {
        const port_stats_t *p = &r->ports[i];
        uint64_t n = synacked(p);
        if (n == 0)
            continue;
        fprintf(out, "%-6u %8llu", (unsigned)p->port, (unsigned long long)n);
        for (int c = 0; c < CLASS_COUNT; c++)
            if (col[c])
                fprintf(out, " %6.1f%%", pct(p->cls[c], n));
        fputs(" ", out);
        for (size_t k = 0; k < p->n_protos && k < 5; k++)
            fprintf(out, " %s:%llu", p->protos[k].name, (unsigned long long)p->protos[k].n);
        if (p->n_protos > 5)
            fprintf(out, " +%zu more", p->n_protos - 5);
        fputc('\n', out);
    }
    fputs("columns:", out);
    for (int c = 0; c < CLASS_COUNT; c++)
        if (col[c])
            fprintf(out, " %s=%s", short_names[c], record_class_name((lzr_class_t)c));
    fputs("\n\n", out);
}

/* Each protocol's services, on its IANA port and elsewhere, and a line for each protocol found
 * off its port. */
static void text_protocols(const report_t *r, FILE *out)
{
    fputs("Protocols and their IANA port\n", out);
    fprintf(out, "%-18s %8s %6s %8s %7s  %s\n", "protocol", "services", "iana", "on iana", "share",
            "elsewhere");
    for (size_t i = 0; i < r->n_protos; i++) {
        const proto_stats_t *p = &r->protos[i];
        char iana_s[8] = "-";
        if (p->iana)
            snprintf(iana_s, sizeof iana_s, "%u", (unsigned)p->iana);
        fprintf(out, "%-18s %8llu %6s %8llu %6.1f%% ", p->name, (unsigned long long)p->total,
                iana_s, (unsigned long long)p->on_iana, pct(p->on_iana, p->total));
        for (size_t k = 0; k < p->n_ports && k < 6; k++)
            fprintf(out, " %s:%llu", p->ports[k].name, (unsigned long long)p->ports[k].n);
        if (p->n_ports > 6)
            fprintf(out, " +%zu ports", p->n_ports - 6);
        fputc('\n', out);
    }
    for (size_t i = 0; i < r->n_protos; i++) {
        const proto_stats_t *p = &r->protos[i];
        if (!p->iana || p->total == 0 || p->on_iana == p->total)
            continue;
        char up[24];
        upper(p->name, up, sizeof up);
        fprintf(out, "  only %.0f%% of %s on port %u\n", pct(p->on_iana, p->total), up,
                (unsigned)p->iana);
    }
    fputc('\n', out);
}

/* One family's table of the block aggregation: rows[from, to) under title, a column per size
 * bin named as a prefix of family f (IPv6's names need a wider column). */
static void text_blocks_family(const report_t *r, FILE *out, addr_family_t f, const char *title,
                               size_t from, size_t to)
{
    int w = f == ADDR_IPV4 ? 8 : 9;
    fputs(title, out);
    fprintf(out, "%-20s %9s %7s", "behaviour", "addresses", "blocks");
    for (int b = 0; b < BLOCK_BINS; b++)
        fprintf(out, " %*s", w, blocks_bin_name(f, (block_bin_t)b));
    fputc('\n', out);
    for (size_t i = from; i < to; i++) {
        const blocks_row_t *row = &r->rows[i];
        fprintf(out, "%-20s %9llu %7llu", row->behaviour, (unsigned long long)row->addresses,
                (unsigned long long)row->blocks);
        for (int b = 0; b < BLOCK_BINS; b++)
            fprintf(out, " %*llu", w, (unsigned long long)row->bins[b]);
        fputc('\n', out);
    }
}

/* The block tables: IPv4's as it always was, and when the job has IPv6 blocks, a table of
 * those after it (and the IPv4 one only when it has rows, its title naming its family). */
static void text_blocks(const report_t *r, FILE *out)
{
    size_t n4 = rows_v4(r);
    bool v6 = n4 < r->n_rows;
    if (n4 || !v6)
        text_blocks_family(r, out, ADDR_IPV4,
                           v6 ? "Blocks of consecutive IPv4 addresses with the same behaviour\n"
                              : "Blocks of consecutive addresses with the same behaviour\n",
                           0, n4);
    if (v6)
        text_blocks_family(r, out, ADDR_IPV6,
                           "Blocks of consecutive IPv6 addresses with the same behaviour\n", n4,
                           r->n_rows);
}

/* The TOP_BLOCKS largest blocks, by size then address. */
static void text_largest_blocks(const report_t *r, FILE *out)
{
    size_t shown[TOP_BLOCKS];
    size_t n_shown = 0;
    for (size_t k = 0; k < TOP_BLOCKS; k++) {
        size_t best = SIZE_MAX;
        uint64_t best_size = 1;
        for (size_t i = 0; i < r->blocks.n; i++) {
            uint64_t sz = r->blocks.v[i].size;
            bool taken = false;
            for (size_t j = 0; j < n_shown; j++)
                taken |= shown[j] == i;
            if (!taken && sz > best_size) {
                best = i;
                best_size = sz;
            }
        }
        if (best == SIZE_MAX)
            break;
        shown[n_shown++] = best;
    }
    if (n_shown)
        fputs("largest blocks:\n", out);
    for (size_t k = 0; k < n_shown; k++) {
        const block_t *b = &r->blocks.v[shown[k]];
        char a[ADDR_TEXT_MAX], z[ADDR_TEXT_MAX];
        fprintf(out, "  %s - %s  %llu addresses (%s)  %s\n", addr_format(&b->first, a),
                addr_format(&b->last, z), (unsigned long long)b->size,
                blocks_bin_name(b->first.family, blocks_bin(b->size)), b->behaviour);
    }
}

int report_text(const report_t *r, FILE *out)
{
    fprintf(out, "job %llu (%s): %s; %llu results\n\n", (unsigned long long)r->job_id, r->name,
            r->state, (unsigned long long)r->results);
    text_ports(r, out);
    text_protocols(r, out);
    fputs("Multi-vantage verdicts\n", out);
    if (r->n_verdict_kinds == 0)
        fputs("  none (verification off, or no candidate)\n", out);
    for (size_t i = 0; i < r->n_verdict_kinds; i++)
        fprintf(out, "  %-18s %llu\n", r->verdict_names[i], (unsigned long long)r->verdicts[i]);
    fputc('\n', out);

    if (r->cmp) {
        compare_write(r->cmp, COMPARE_TEXT, out);
        fputc('\n', out);
    }

    text_blocks(r, out);
    text_largest_blocks(r, out);
    if (r->attributed) {
        fputc('\n', out);
        as_text(r, out);
    }
    return ferror(out) ? LZR_EIO : LZR_OK;
}

/* ---- SVG --------------------------------------------------------------------------------- */

static const char *const bin_colors[BLOCK_BINS] = {"#90caf9", "#42a5f5", "#1565c0", "#0d2c6b"};

/* Writes s with XML's special characters escaped. */
static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

/* ---- SVG: AS panel ----------------------------------------------------------------------- */

static const char *const as_colors[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a",
                                        "#66a61e", "#e6ab02", "#a6761d", "#17becf"};
#define AS_COLORS (sizeof as_colors / sizeof as_colors[0])

/* An AS's colour follows its rank by addresses; ASes beyond the palette share grey. */
static const char *as_color(const report_t *r, const char *origin)
{
    for (size_t i = 0; i < r->n_ases && i < AS_COLORS; i++)
        if (strcmp(r->ases[i].origin, origin) == 0)
            return as_colors[i];
    return "#bdbdbd";
}

static int as_svg_height(const report_t *r)
{
    return r->attributed ? 60 + (int)rows_v4(r) * 24 + 40 : 0;
}

/* One bar per behaviour, 100% wide, split by the ASes of its addresses; a title with the share
 * of ASes with a middlebox and a legend of the ASes with the most addresses. */
static void as_svg(const report_t *r, FILE *out, int y0)
{
    const int bleft = 170, barw = 460, barh = 18, gap = 6;
    size_t mb = as_with_middlebox(r);
    fprintf(out,
            "<text x=\"20\" y=\"%d\" font-size=\"13\">The ASes of each behaviour's addresses: "
            "%zu ASes, %zu with at least one middlebox (%.1f%%)</text>\n",
            y0 + 20, r->n_ases, mb, pct(mb, r->n_ases));
    int y = y0 + 40;
    for (size_t i = 0; i < rows_v4(r); i++) {
        size_t first, k = as_of_behaviour(r, r->rows[i].behaviour, &first);
        uint64_t total = 0;
        for (size_t j = 0; j < k; j++)
            total += r->as_beh[first + j].n;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", bleft - 8, y + barh - 5);
        xml_text(out, r->rows[i].behaviour);
        fputs("</text>\n", out);
        double x = bleft;
        for (size_t j = 0; j < k; j++) {
            const as_count_t *c = &r->as_beh[first + j];
            double w = (double)barw * (double)c->n / (double)total;
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                    "<title>",
                    x, y, w, barh, as_color(r, c->origin));
            xml_text(out, c->behaviour);
            fputs(": AS", out);
            xml_text(out, c->origin);
            fprintf(out, " %llu of %llu addresses</title></rect>\n", (unsigned long long)c->n,
                    (unsigned long long)total);
            x += w;
        }
        fprintf(out, "<text x=\"%d\" y=\"%d\">%llu address%s in %zu AS%s</text>\n",
                bleft + barw + 8, y + barh - 5, (unsigned long long)total, total == 1 ? "" : "es",
                k, k == 1 ? "" : "es");
        y += barh + gap;
    }
    int lx = bleft;
    for (size_t i = 0; i < r->n_ases && i < AS_COLORS; i++) {
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", lx, y + 10,
                as_colors[i]);
        fprintf(out, "<text x=\"%d\" y=\"%d\">AS", lx + 16, y + 21);
        xml_text(out, r->ases[i].origin);
        fputs("</text>\n", out);
        lx += 100;
    }
}

/* The SVG's layout: bars start at SVG_LEFT (per port) or SVG_BLOCK_LEFT (per behaviour). */
enum {
    SVG_WIDTH = 1000,
    SVG_LEFT = 70,
    SVG_BLOCK_LEFT = 170,
    SVG_BAR_W = 560,
    SVG_BAR_H = 18,
    SVG_GAP = 6,
    SVG_LEGEND_LINE = 22,
};

/* A bar per SYN-ACKing port from y on: each class's share, and the port's top protocols. */
static void svg_port_bars(const report_t *r, FILE *out, int y)
{
    for (size_t i = 0; i < r->n_ports; i++) {
        const port_stats_t *p = &r->ports[i];
        uint64_t n = synacked(p);
        if (n == 0)
            continue;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%u</text>\n", SVG_LEFT - 8,
                y + SVG_BAR_H - 5, (unsigned)p->port);
        double x = SVG_LEFT;
        for (int c = 0; c < CLASS_COUNT; c++) {
            if (c == CLASS_CLOSED || c == CLASS_SILENT || !p->cls[c])
                continue;
            double w = (double)SVG_BAR_W * (double)p->cls[c] / (double)n;
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                    "<title>port %u: %s %llu of %llu</title></rect>\n",
                    x, y, w, SVG_BAR_H, class_colors[c], (unsigned)p->port,
                    record_class_name((lzr_class_t)c), (unsigned long long)p->cls[c],
                    (unsigned long long)n);
            x += w;
        }
        fprintf(out, "<text x=\"%d\" y=\"%d\">n=%llu", SVG_LEFT + SVG_BAR_W + 8, y + SVG_BAR_H - 5,
                (unsigned long long)n);
        for (size_t k = 0; k < p->n_protos && k < 3; k++) {
            fputs(k ? ", " : "  ", out);
            xml_text(out, p->protos[k].name);
            fprintf(out, " %llu", (unsigned long long)p->protos[k].n);
        }
        fputs("</text>\n", out);
        y += SVG_BAR_H + SVG_GAP;
    }
}

/* The legend of the port bars at y: the classes that appear, two rows. */
static void svg_class_legend(const report_t *r, FILE *out, int y)
{
    int lx = SVG_LEFT, ly = y, shown = 0;
    for (int c = 0; c < CLASS_COUNT; c++) {
        bool any = false;
        for (size_t i = 0; i < r->n_ports && !any; i++)
            any = r->ports[i].cls[c] && c != CLASS_CLOSED && c != CLASS_SILENT;
        if (!any)
            continue;
        if (shown == 5) {
            lx = SVG_LEFT;
            ly += 22;
        }
        fprintf(out,
                "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\">%s</text>\n",
                lx, ly, class_colors[c], lx + 16, ly + 11, record_class_name((lzr_class_t)c));
        lx += 170;
        shown++;
    }
}

/* One behaviour's bar at y: its blocks by size bin, bar length against max_blocks. An IPv6 row
 * is labelled "behaviour (IPv6)" and names its bins as IPv6 prefixes. */
static void svg_block_bar(const blocks_row_t *row, uint64_t max_blocks, FILE *out, int y)
{
    char label[40];
    snprintf(label, sizeof label, "%s%s", row->behaviour,
             row->family == ADDR_IPV6 ? " (IPv6)" : "");
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", SVG_BLOCK_LEFT - 8,
            y + SVG_BAR_H - 5);
    xml_text(out, label);
    fputs("</text>\n", out);
    double x = SVG_BLOCK_LEFT;
    for (int b = 0; b < BLOCK_BINS; b++) {
        if (!row->bins[b])
            continue;
        double w = (double)(SVG_BAR_W - 100) * (double)row->bins[b] / (double)max_blocks;
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                "<title>%s: %llu block(s) of size %s</title></rect>\n",
                x, y, w, SVG_BAR_H, bin_colors[b], label, (unsigned long long)row->bins[b],
                blocks_bin_name(row->family, (block_bin_t)b));
        x += w;
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%d\">%llu blocks, %llu addresses (", x + 8,
            y + SVG_BAR_H - 5, (unsigned long long)row->blocks, (unsigned long long)row->addresses);
    bool first = true;
    for (int b = 0; b < BLOCK_BINS; b++) {
        if (!row->bins[b])
            continue;
        fprintf(out, "%s%s: %llu", first ? "" : ", ", blocks_bin_name(row->family, (block_bin_t)b),
                (unsigned long long)row->bins[b]);
        first = false;
    }
    fputs(")</text>\n", out);
}

/* The block chart: its title at y_title, a bar per behaviour from y on, the bins' legend at
 * y_legend, named as IPv4 prefixes, and when there are IPv6 rows, a second line naming the
 * same colours as IPv6 prefixes (each line then labelled with its family). */
static void svg_blocks(const report_t *r, FILE *out, int y_title, int y, int y_legend)
{
    fprintf(out,
            "<text x=\"20\" y=\"%d\" font-size=\"13\">Blocks of consecutive addresses with the "
            "same behaviour, by size (bar length: number of blocks)</text>\n",
            y_title + 20);
    uint64_t max_blocks = 1;
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].blocks > max_blocks)
            max_blocks = r->rows[i].blocks;
    for (size_t i = 0; i < r->n_rows; i++) {
        svg_block_bar(&r->rows[i], max_blocks, out, y);
        y += SVG_BAR_H + SVG_GAP;
    }
    bool v6 = rows_v4(r) < r->n_rows;
    for (int f = 0; f < (v6 ? 2 : 1); f++) {
        addr_family_t fam = f ? ADDR_IPV6 : ADDR_IPV4;
        int lx = SVG_BLOCK_LEFT, ly = y_legend + f * SVG_LEGEND_LINE;
        if (v6)
            fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">IPv%d</text>\n",
                    SVG_BLOCK_LEFT - 8, ly + 11, f ? 6 : 4);
        for (int b = 0; b < BLOCK_BINS; b++) {
            fprintf(out,
                    "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                    "<text x=\"%d\" y=\"%d\">%s</text>\n",
                    lx, ly, bin_colors[b], lx + 16, ly + 11, blocks_bin_name(fam, (block_bin_t)b));
            lx += 110;
        }
    }
}

int report_svg(const report_t *r, FILE *out)
{
    size_t n_bars = 0;
    for (size_t i = 0; i < r->n_ports; i++)
        n_bars += synacked(&r->ports[i]) > 0;
    int y_ports = 70;
    int y_legend = y_ports + (int)n_bars * (SVG_BAR_H + SVG_GAP) + 10;
    int y_blocks_title = y_legend + 2 * 22 + 40;
    int y_blocks = y_blocks_title + 40;
    int y_bin_legend = y_blocks + (int)r->n_rows * (SVG_BAR_H + SVG_GAP) + 10;
    int y_compare = y_bin_legend + 40 + (rows_v4(r) < r->n_rows ? SVG_LEGEND_LINE : 0);
    int y_as = y_compare + (r->cmp ? compare_svg_height(r->cmp) : 0);
    int height = y_as + as_svg_height(r);
    char title[160];
    snprintf(title, sizeof title, "lzr job %llu (%s)", (unsigned long long)r->job_id, r->name);

    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
            "font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            SVG_WIDTH, height, SVG_WIDTH, height);
    fputs("<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\">", out);
    xml_text(out, title);
    fputs("</text>\n", out);
    fprintf(out, "<text x=\"20\" y=\"50\" font-size=\"13\">What answered a SYN with a SYN-ACK, per "
                 "port: share of each class; protocols found on the right</text>\n");
    svg_port_bars(r, out, y_ports);
    svg_class_legend(r, out, y_legend);
    svg_blocks(r, out, y_blocks_title, y_blocks, y_bin_legend);
    if (r->cmp)
        compare_svg(r->cmp, out, y_compare);
    if (r->attributed)
        as_svg(r, out, y_as);
    fputs("</svg>\n", out);
    return ferror(out) ? LZR_EIO : LZR_OK;
}
