/*
 * compare: one walk over the job's vantage_results rows in (ip, port, source_ip) order. The rows
 * of one (ip, port) give, per pass, whether it was a service and whether it answered at all; the
 * rows of one address give the same per host. A pass is read from the row's shard (pass p's
 * copy of shard i is shard p × n_shards + i), so a shard scanned again after a lost worker
 * still counts once per pass. Items are kept only for what some passes saw and others did not.
 */
#include "coordinator/compare.h"

#include "common/err.h"
#include "common/targets.h"
#include "coordinator/export.h"

#include <stdlib.h>
#include <string.h>

/* The walk's state: the target and the host being accumulated. */
typedef struct walk {
    compare_t *c;
    uint32_t n_shards;
    int err;
    bool have_target;
    lzr_addr_t ip;
    uint16_t port;
    uint32_t t_pass_service, t_pass_answer; /* masks of passes */
    uint32_t t_services, t_answers;         /* its rows that were a service; that answered */
    bool t_classes_differ;                  /* two answering rows of different classes */
    compare_item_t t_item;                  /* its rows, as a service item */
    bool have_host;
    lzr_addr_t host_ip;
    uint32_t h_pass_answer;
    uint32_t *h_ports; /* answered ports per vantage (index as c->vantages) */
    compare_item_t h_item;
} walk_t;

static int vantage_cmp(const void *x, const void *y)
{
    const compare_vantage_t *a = x, *b = y;
    return addr_compare(&a->ip, &b->ip);
}

/* The index of the vantage of ip, added (with no shard) when it has none yet. */
static int vantage_index(walk_t *w, const lzr_addr_t *ip, size_t *idx)
{
    compare_t *c = w->c;
    for (size_t i = 0; i < c->n_vantages; i++)
        if (addr_equal(&c->vantages[i].ip, ip)) {
            *idx = i;
            return LZR_OK;
        }
    compare_vantage_t *g = realloc(c->vantages, (c->n_vantages + 1) * sizeof *g);
    if (!g)
        return LZR_ENOMEM;
    c->vantages = g;
    uint32_t *p = realloc(w->h_ports, (c->n_vantages + 1) * sizeof *p);
    if (!p)
        return LZR_ENOMEM;
    w->h_ports = p;
    w->h_ports[c->n_vantages] = 0;
    memset(&c->vantages[c->n_vantages], 0, sizeof c->vantages[0]);
    c->vantages[c->n_vantages].ip = *ip;
    *idx = c->n_vantages++;
    return LZR_OK;
}

static int item_add(compare_item_t **v, size_t *n, const compare_item_t *it)
{
    compare_item_t *g = realloc(*v, (*n + 1) * sizeof *g);
    if (!g)
        return LZR_ENOMEM;
    *v = g;
    (*v)[(*n)++] = *it;
    return LZR_OK;
}

/* Host items are kept apart while walking and appended after the services. */
typedef struct host_items {
    compare_item_t *v;
    size_t n;
} host_items_t;

/* Each target was scanned from `passes` scan IPs: a service that fewer of them saw as one is a
 * service item; a target that fewer of them got an answer from, or whose answers differ in
 * class, makes its host an item. */
static void target_flush(walk_t *w)
{
    compare_t *c = w->c;
    if (!w->have_target)
        return;
    w->have_target = false;
    if (w->t_pass_service) {
        c->union_services++;
        for (uint32_t p = 0; p < c->passes; p++)
            if (w->t_pass_service & (1u << p))
                c->pass_services[p]++;
    }
    if (w->t_services && w->t_services < c->passes && w->err == LZR_OK) {
        w->t_item.vantages_seen = w->t_services;
        w->err = item_add(&c->items, &c->n_items, &w->t_item);
    }
    bool differs = (w->t_answers && w->t_answers < c->passes) || w->t_classes_differ;
    if (!differs)
        return;
    w->h_item.targets_differ++;
    for (size_t i = 0; i < w->t_item.n_seen && w->h_item.n_seen < COMPARE_MAX_SEEN; i++)
        w->h_item.seen[w->h_item.n_seen++] = w->t_item.seen[i];
}

static void host_flush(walk_t *w, host_items_t *hosts)
{
    compare_t *c = w->c;
    if (!w->have_host)
        return;
    w->have_host = false;
    uint32_t answered = 0;
    for (size_t i = 0; i < c->n_vantages; i++)
        if (w->h_ports[i]) {
            c->vantages[i].hosts++;
            answered++;
        }
    if (w->h_pass_answer) {
        c->union_hosts++;
        for (uint32_t p = 0; p < c->passes; p++)
            if (w->h_pass_answer & (1u << p))
                c->pass_hosts[p]++;
    }
    if (w->h_item.targets_differ && w->err == LZR_OK) {
        w->h_item.vantages_seen = answered;
        w->err = item_add(&hosts->v, &hosts->n, &w->h_item);
    }
    memset(w->h_ports, 0, c->n_vantages * sizeof *w->h_ports);
    w->h_pass_answer = 0;
}

typedef struct walk_ctx {
    walk_t *w;
    host_items_t *hosts;
} walk_ctx_t;

static int on_row(void *ctx, const store_vantage_row_t *r)
{
    walk_ctx_t *x = ctx;
    walk_t *w = x->w;
    compare_t *c = w->c;
    if (w->have_target && (!addr_equal(&r->ip, &w->ip) || r->port != w->port))
        target_flush(w);
    if (w->have_host && !addr_equal(&r->ip, &w->host_ip))
        host_flush(w, x->hosts);
    if (w->err)
        return w->err;
    size_t v;
    int rc = vantage_index(w, &r->source_ip, &v);
    if (rc)
        return rc;
    if (!w->have_host) {
        w->have_host = true;
        w->host_ip = r->ip;
        memset(&w->h_item, 0, sizeof w->h_item);
        w->h_item.ip = r->ip;
        snprintf(w->h_item.verdict, sizeof w->h_item.verdict, "%s", r->verdict);
    }
    if (!w->have_target) {
        w->have_target = true;
        w->ip = r->ip;
        w->port = r->port;
        w->t_pass_service = w->t_pass_answer = w->t_services = w->t_answers = 0;
        w->t_classes_differ = false;
        memset(&w->t_item, 0, sizeof w->t_item);
        w->t_item.ip = r->ip;
        w->t_item.port = r->port;
        snprintf(w->t_item.verdict, sizeof w->t_item.verdict, "%s", r->verdict);
    }
    uint32_t pass = w->n_shards ? r->shard / w->n_shards : 0;
    if (pass >= c->passes)
        pass = c->passes - 1;
    lzr_class_t cls = r->cls < CLASS_COUNT ? r->cls : CLASS_SILENT;
    compare_vantage_t *cv = &c->vantages[v];
    snprintf(cv->worker, sizeof cv->worker, "%s", r->worker);
    cv->cls[cls]++;
    if (cls != CLASS_SILENT) {
        for (size_t i = 0; i < w->t_item.n_seen; i++)
            w->t_classes_differ |=
                w->t_item.seen[i].cls != CLASS_SILENT && w->t_item.seen[i].cls != cls;
        cv->answered++;
        w->t_answers++;
        w->t_pass_answer |= 1u << pass;
        w->h_pass_answer |= 1u << pass;
        w->h_ports[v]++;
    }
    if (cls == CLASS_SERVICE) {
        w->t_services++;
        w->t_pass_service |= 1u << pass;
    }
    if (w->t_item.n_seen < COMPARE_MAX_SEEN) {
        compare_seen_t *s = &w->t_item.seen[w->t_item.n_seen++];
        s->source_ip = r->source_ip;
        s->port = r->port;
        s->cls = cls;
        snprintf(s->protocol, sizeof s->protocol, "%s", r->protocol);
    }
    return LZR_OK;
}

compare_t *compare_build(store_t *s, uint64_t job_id, char *err, size_t errlen)
{
    store_job_t row;
    if (store_job_get(s, job_id, &row) != LZR_OK) {
        snprintf(err, errlen, "no job %llu", (unsigned long long)job_id);
        return NULL;
    }
    compare_t *c = calloc(1, sizeof *c);
    walk_t w;
    memset(&w, 0, sizeof w);
    host_items_t hosts = {0};
    store_vantage_share_t *shares = NULL;
    size_t n_shares = 0;
    int rc = c ? LZR_OK : LZR_ENOMEM;
    if (c) {
        c->job_id = job_id;
        snprintf(c->name, sizeof c->name, "%s", row.name);
        snprintf(c->state, sizeof c->state, "%s", row.state);
        c->passes = row.passes < 1                    ? 1
                    : row.passes > COMPARE_MAX_PASSES ? COMPARE_MAX_PASSES
                                                      : row.passes;
        w.c = c;
        w.n_shards = row.n_shards;
        rc = store_vantage_shares(s, job_id, &shares, &n_shares);
    }
    /* Every scan IP that finished a shard is a vantage, even one that saw nothing. A shard's
     * positions hold both families in proportion: an IPv4 scan IP scanned its share of the
     * IPv4 pairs, an IPv6 one of the IPv6 pairs. */
    double cycle = row.perm.prime > 1 ? (double)(row.perm.prime - 1) : 1.0;
    for (size_t i = 0; i < n_shares && rc == LZR_OK; i++) {
        size_t v;
        rc = vantage_index(&w, &shares[i].scan_ip, &v);
        uint64_t pairs = shares[i].scan_ip.family == ADDR_IPV6 ? row.size6 : row.size - row.size6;
        if (rc == LZR_OK) {
            c->vantages[v].shards = shares[i].shards;
            c->vantages[v].targets =
                (uint64_t)((double)shares[i].positions / cycle * (double)pairs + 0.5);
        }
    }
    free(shares);
    store_job_clear(&row);
    if (rc == LZR_OK) {
        walk_ctx_t x = {&w, &hosts};
        rc = store_vantage_each(s, job_id, on_row, &x);
        target_flush(&w);
        host_flush(&w, &hosts);
        if (rc == LZR_OK)
            rc = w.err;
    }
    if (rc == LZR_OK)
        c->n_service_items = c->n_items;
    for (size_t i = 0; i < hosts.n && rc == LZR_OK; i++)
        rc = item_add(&c->items, &c->n_items, &hosts.v[i]);
    free(hosts.v);
    free(w.h_ports);
    if (rc != LZR_OK) {
        snprintf(err, errlen, "job %llu: %s (%s)", (unsigned long long)job_id, lzr_strerror(rc),
                 store_errmsg(s));
        compare_free(&c);
        return NULL;
    }
    if (c->n_vantages > 1)
        qsort(c->vantages, c->n_vantages, sizeof *c->vantages, vantage_cmp);
    return c;
}

void compare_free(compare_t **cp)
{
    if (!cp || !*cp)
        return;
    free((*cp)->vantages);
    free((*cp)->items);
    free(*cp);
    *cp = NULL;
}

double compare_one_ip_services(const compare_t *c)
{
    uint64_t sum = 0;
    for (uint32_t p = 0; p < c->passes; p++)
        sum += c->pass_services[p];
    return c->passes ? (double)sum / c->passes : 0.0;
}

static double one_ip_hosts(const compare_t *c)
{
    uint64_t sum = 0;
    for (uint32_t p = 0; p < c->passes; p++)
        sum += c->pass_hosts[p];
    return c->passes ? (double)sum / c->passes : 0.0;
}

int compare_format_parse(const char *name, compare_format_t *out)
{
    if (strcmp(name, "text") == 0)
        *out = COMPARE_TEXT;
    else if (strcmp(name, "jsonl") == 0)
        *out = COMPARE_JSONL;
    else if (strcmp(name, "csv") == 0)
        *out = COMPARE_CSV;
    else
        return LZR_EINVAL;
    return LZR_OK;
}

/* ---- text -------------------------------------------------------------------------------- */

static void list_passes(const uint64_t *v, uint32_t n, FILE *out)
{
    for (uint32_t p = 0; p < n; p++)
        fprintf(out, "%s%llu", p ? ", " : "", (unsigned long long)v[p]);
}

static void text_item(const compare_item_t *it, uint32_t passes, FILE *out)
{
    char ip[ADDR_TEXT_MAX], src[ADDR_TEXT_MAX], where[ADDR_TEXT_MAX + 8];
    if (it->port) {
        snprintf(where, sizeof where, it->ip.family == ADDR_IPV6 ? "[%s]:%u" : "%s:%u",
                 addr_format(&it->ip, ip), (unsigned)it->port);
        fprintf(out, "  %-21s service from %u of %u scan IPs:", where, it->vantages_seen, passes);
    } else {
        fprintf(out, "  %-21s answered %u scan IP%s; %u %s:", addr_format(&it->ip, ip),
                it->vantages_seen, it->vantages_seen == 1 ? "" : "s", it->targets_differ,
                it->targets_differ == 1 ? "target differs" : "targets differ");
    }
    for (size_t i = 0; i < it->n_seen; i++) {
        const compare_seen_t *s = &it->seen[i];
        addr_format(&s->source_ip, src);
        fputs(i ? "; " : " ", out);
        if (!it->port)
            fprintf(out, ":%u ", (unsigned)s->port);
        fprintf(out, "%s %s%s%s", src, record_class_name(s->cls), s->protocol[0] ? "/" : "",
                s->protocol);
    }
    if (!it->port && it->n_seen == COMPARE_MAX_SEEN)
        fputs("; ...", out);
    fprintf(out, "  [verdict: %s]\n", it->verdict[0] ? it->verdict : "none");
}

static void text_items(const compare_t *c, size_t from, size_t to, const char *what, FILE *out)
{
    fprintf(out, "%s: %zu\n", what, to - from);
    for (size_t i = from; i < to && i - from < COMPARE_TEXT_ITEMS; i++)
        text_item(&c->items[i], c->passes, out);
    if (to - from > COMPARE_TEXT_ITEMS)
        fprintf(out, "  ... %zu more (lzr-coord compare %llu --format jsonl lists all)\n",
                to - from - COMPARE_TEXT_ITEMS, (unsigned long long)c->job_id);
}

static int write_text(const compare_t *c, FILE *out)
{
    fprintf(out,
            "Comparison across vantage points: job %llu (%s), %s; %u pass%s, each target from "
            "%u scan IP%s\n",
            (unsigned long long)c->job_id, c->name, c->state, c->passes, c->passes == 1 ? "" : "es",
            c->passes, c->passes == 1 ? "" : "s");
    if (c->passes < 2) {
        fputs("  not compared: the job file has no [vantage] compare = N (N > 1)\n", out);
        return ferror(out) ? LZR_EIO : LZR_OK;
    }
    fprintf(out, "%-15s %-12s %6s %9s %8s %6s %8s\n", "vantage", "worker", "shards", "targets",
            "answered", "hosts", "services");
    for (size_t i = 0; i < c->n_vantages; i++) {
        const compare_vantage_t *v = &c->vantages[i];
        char ip[ADDR_TEXT_MAX];
        fprintf(out, "%-15s %-12s %6u %9llu %8llu %6llu %8llu\n", addr_format(&v->ip, ip),
                v->worker[0] ? v->worker : "-", v->shards, (unsigned long long)v->targets,
                (unsigned long long)v->answered, (unsigned long long)v->hosts,
                (unsigned long long)v->cls[CLASS_SERVICE]);
    }
    /* Targets per class: one row per class any vantage saw, one column per vantage. */
    fprintf(out, "%-20s", "targets per class");
    for (size_t i = 0; i < c->n_vantages; i++) {
        char ip[ADDR_TEXT_MAX];
        fprintf(out, " %15s", addr_format(&c->vantages[i].ip, ip));
    }
    fputc('\n', out);
    for (int k = 0; k < CLASS_COUNT; k++) {
        bool any = false;
        for (size_t i = 0; i < c->n_vantages; i++)
            any |= c->vantages[i].cls[k] != 0;
        if (!any)
            continue;
        fprintf(out, "  %-18s", record_class_name((lzr_class_t)k));
        for (size_t i = 0; i < c->n_vantages; i++)
            fprintf(out, " %15llu", (unsigned long long)c->vantages[i].cls[k]);
        fputc('\n', out);
    }
    double one = compare_one_ip_services(c);
    fprintf(out, "services found with one source IP: %.1f (mean of the passes: ", one);
    list_passes(c->pass_services, c->passes, out);
    fprintf(out, "); with all %u together: %llu", c->passes, (unsigned long long)c->union_services);
    if (one > 0)
        fprintf(out, " (%+.1f%%)", 100.0 * ((double)c->union_services - one) / one);
    fputc('\n', out);
    fprintf(out, "hosts answering with one source IP: %.1f (", one_ip_hosts(c));
    list_passes(c->pass_hosts, c->passes, out);
    fprintf(out, "); with all %u together: %llu\n", c->passes, (unsigned long long)c->union_hosts);
    text_items(c, 0, c->n_service_items, "services seen from only some vantages", out);
    text_items(c, c->n_service_items, c->n_items, "hosts with targets seen from only some vantages",
               out);
    return ferror(out) ? LZR_EIO : LZR_OK;
}

/* ---- JSON lines and CSV ------------------------------------------------------------------ */

static int write_jsonl(const compare_t *c, FILE *out)
{
    char ip[ADDR_TEXT_MAX], w[64], proto[24], v[24];
    for (size_t i = 0; i < c->n_vantages; i++) {
        const compare_vantage_t *cv = &c->vantages[i];
        export_safe_name(cv->worker, w, sizeof w);
        fprintf(out,
                "{\"kind\":\"vantage\",\"job\":%llu,\"vantage\":\"%s\",\"worker\":\"%s\","
                "\"shards\":%u,\"targets\":%llu,\"answered\":%llu,\"hosts\":%llu,\"classes\":{",
                (unsigned long long)c->job_id, addr_format(&cv->ip, ip), w, cv->shards,
                (unsigned long long)cv->targets, (unsigned long long)cv->answered,
                (unsigned long long)cv->hosts);
        bool first = true;
        for (int k = 0; k < CLASS_COUNT; k++) {
            if (!cv->cls[k])
                continue;
            fprintf(out, "%s\"%s\":%llu", first ? "" : ",", record_class_name((lzr_class_t)k),
                    (unsigned long long)cv->cls[k]);
            first = false;
        }
        fputs("}}\n", out);
    }
    for (uint32_t p = 0; p < c->passes; p++)
        fprintf(out,
                "{\"kind\":\"pass\",\"job\":%llu,\"pass\":%u,\"services\":%llu,\"hosts\":%llu}\n",
                (unsigned long long)c->job_id, p + 1, (unsigned long long)c->pass_services[p],
                (unsigned long long)c->pass_hosts[p]);
    fprintf(out,
            "{\"kind\":\"union\",\"job\":%llu,\"passes\":%u,\"vantages\":%zu,\"services\":%llu,"
            "\"hosts\":%llu,\"one_ip_services\":%.1f,\"one_ip_hosts\":%.1f,"
            "\"only_some_services\":%zu,\"only_some_hosts\":%zu}\n",
            (unsigned long long)c->job_id, c->passes, c->n_vantages,
            (unsigned long long)c->union_services, (unsigned long long)c->union_hosts,
            compare_one_ip_services(c), one_ip_hosts(c), c->n_service_items,
            c->n_items - c->n_service_items);
    for (size_t i = 0; i < c->n_items; i++) {
        const compare_item_t *it = &c->items[i];
        export_safe_name(it->verdict, v, sizeof v);
        fprintf(out, "{\"kind\":\"only_some\",\"job\":%llu,\"what\":\"%s\",\"ip\":\"%s\",",
                (unsigned long long)c->job_id, it->port ? "service" : "host",
                addr_format(&it->ip, ip));
        if (it->port)
            fprintf(out, "\"port\":%u,", (unsigned)it->port);
        fprintf(out, "\"vantages_seen\":%u,\"passes\":%u,", it->vantages_seen, c->passes);
        if (!it->port)
            fprintf(out, "\"targets_differ\":%u,", it->targets_differ);
        if (v[0])
            fprintf(out, "\"verdict\":\"%s\",", v);
        fputs("\"seen\":[", out);
        for (size_t k = 0; k < it->n_seen; k++) {
            const compare_seen_t *s = &it->seen[k];
            export_safe_name(s->protocol, proto, sizeof proto);
            fprintf(out, "%s{\"vantage\":\"%s\",\"port\":%u,\"class\":\"%s\",\"protocol\":\"%s\"}",
                    k ? "," : "", addr_format(&s->source_ip, ip), (unsigned)s->port,
                    record_class_name(s->cls), proto);
        }
        fputs("]}\n", out);
    }
    return ferror(out) ? LZR_EIO : LZR_OK;
}

static int write_csv(const compare_t *c, FILE *out)
{
    char ip[ADDR_TEXT_MAX], src[ADDR_TEXT_MAX], w[64], proto[24], v[24];
    fputs("kind,pass,vantage,worker,ip,port,shards,targets,answered,hosts,services,class,protocol,"
          "vantages_seen,verdict\n",
          out);
    for (size_t i = 0; i < c->n_vantages; i++) {
        const compare_vantage_t *cv = &c->vantages[i];
        export_safe_name(cv->worker, w, sizeof w);
        addr_format(&cv->ip, src);
        fprintf(out, "vantage,,%s,%s,,,%u,%llu,%llu,%llu,%llu,,,,\n", src, w, cv->shards,
                (unsigned long long)cv->targets, (unsigned long long)cv->answered,
                (unsigned long long)cv->hosts, (unsigned long long)cv->cls[CLASS_SERVICE]);
        for (int k = 0; k < CLASS_COUNT; k++)
            if (cv->cls[k])
                fprintf(out, "vantage_class,,%s,%s,,,,%llu,,,,%s,,,\n", src, w,
                        (unsigned long long)cv->cls[k], record_class_name((lzr_class_t)k));
    }
    for (uint32_t p = 0; p < c->passes; p++)
        fprintf(out, "pass,%u,,,,,,,,%llu,%llu,,,,\n", p + 1, (unsigned long long)c->pass_hosts[p],
                (unsigned long long)c->pass_services[p]);
    fprintf(out, "union,,,,,,,,,%llu,%llu,,,%u,\n", (unsigned long long)c->union_hosts,
            (unsigned long long)c->union_services, c->passes);
    for (size_t i = 0; i < c->n_items; i++) {
        const compare_item_t *it = &c->items[i];
        export_safe_name(it->verdict, v, sizeof v);
        addr_format(&it->ip, ip);
        for (size_t k = 0; k < it->n_seen; k++) {
            const compare_seen_t *s = &it->seen[k];
            addr_format(&s->source_ip, src);
            export_safe_name(s->protocol, proto, sizeof proto);
            fprintf(out, "%s,,%s,,%s,%u,,,,,,%s,%s,%u,%s\n",
                    it->port ? "only_some_service" : "only_some_host", src, ip, (unsigned)s->port,
                    record_class_name(s->cls), proto, it->vantages_seen, v);
        }
    }
    return ferror(out) ? LZR_EIO : LZR_OK;
}

int compare_write(const compare_t *c, compare_format_t fmt, FILE *out)
{
    switch (fmt) {
    case COMPARE_JSONL:
        return write_jsonl(c, out);
    case COMPARE_CSV:
        return write_csv(c, out);
    default:
        return write_text(c, out);
    }
}

/* ---- SVG --------------------------------------------------------------------------------- */

#define SVG_BAR  18
#define SVG_GAP  6
#define SVG_LEFT 170
#define SVG_W    460

int compare_svg_height(const compare_t *c)
{
    return 60 + (int)(c->n_vantages + 1) * (SVG_BAR + SVG_GAP) + 30;
}

static void svg_bar(FILE *out, int y, const char *label, uint64_t n, uint64_t max,
                    const char *color, const char *note)
{
    double wd = max ? (double)SVG_W * (double)n / (double)max : 0.0;
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", SVG_LEFT - 8,
            y + SVG_BAR - 5, label);
    fprintf(out,
            "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
            "<title>%s: %llu services</title></rect>\n",
            SVG_LEFT, y, wd, SVG_BAR, color, label, (unsigned long long)n);
    fprintf(out, "<text x=\"%.1f\" y=\"%d\">%llu services%s</text>\n", SVG_LEFT + wd + 8,
            y + SVG_BAR - 5, (unsigned long long)n, note);
}

void compare_svg(const compare_t *c, FILE *out, int y)
{
    fprintf(out,
            "<text x=\"20\" y=\"%d\" font-size=\"13\">Services found per vantage point (scan IP) "
            "and by all %u per target together; one source IP finds %.1f on average</text>\n",
            y + 20, c->passes, compare_one_ip_services(c));
    uint64_t max = c->union_services;
    for (size_t i = 0; i < c->n_vantages; i++)
        if (c->vantages[i].cls[CLASS_SERVICE] > max)
            max = c->vantages[i].cls[CLASS_SERVICE];
    int by = y + 40;
    for (size_t i = 0; i < c->n_vantages; i++) {
        const compare_vantage_t *v = &c->vantages[i];
        char ip[ADDR_TEXT_MAX], label[128], note[64];
        char w[64];
        export_safe_name(v->worker, w, sizeof w);
        snprintf(label, sizeof label, "%s %s", addr_format(&v->ip, ip), w);
        snprintf(note, sizeof note, " (%u shards)", v->shards);
        svg_bar(out, by, label, v->cls[CLASS_SERVICE], max, "#42a5f5", note);
        by += SVG_BAR + SVG_GAP;
    }
    char note[96];
    snprintf(note, sizeof note, " (from only some scan IPs: %zu services, %zu hosts)",
             c->n_service_items, c->n_items - c->n_service_items);
    svg_bar(out, by, "all together", c->union_services, max, "#2e7d32", note);
}
