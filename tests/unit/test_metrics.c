/*
 * Unit tests for coordinator/metrics: the text exposition (a HELP and a TYPE line before each
 * metric's samples, every sample of a known metric, label values escaped, milliseconds shown
 * as seconds), the per-worker tally over several leases, and a real HTTP server on a loopback
 * port scraped with a plain socket (503 before the first snapshot, 200 with the snapshot, 404
 * elsewhere, a malformed address and a port in use refused).
 */
#include "coordinator/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

static metrics_snapshot_t *sample_snapshot(void)
{
    metrics_snapshot_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->jobs[METRICS_RUNNING] = 2;
    s->jobs[METRICS_DONE] = 5;
    s->shards_pending = 3;
    s->shards_leased = 2;
    s->shards_done = 11;
    s->records_stored = 12345;
    s->records_per_s = 250.5;
    s->batch_retries = 4;
    s->verify_job = 7;
    s->verify_candidates = 9;
    s->verify_done = 6;
    s->n_workers = 2;
    snprintf(s->workers[0].name, sizeof s->workers[0].name, "w1");
    s->workers[0].packets_per_s = 1000;
    s->workers[0].rate = 1200;
    s->workers[0].total =
        (metrics_counters_t){.sent = 777, .syns = 100, .replies = 70, .hold_wait_ms = 1500};
    snprintf(s->workers[1].name, sizeof s->workers[1].name, "a\"b\\c\nd");
    s->workers[1].total.pcap_drops = 3;
    return s;
}

static char *render(const metrics_snapshot_t *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(metrics_render(f, s), 0);
    fclose(f);
    return text;
}

/* Every sample line's metric name was announced by "# HELP name" and "# TYPE name" lines. */
static void assert_announced(const char *text)
{
    char announced[64][64];
    size_t n = 0;
    char *copy = strdup(text), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char name[64];
        if (sscanf(l, "# TYPE %63s", name) == 1) {
            assert_true(n < 64);
            snprintf(announced[n++], 64, "%s", name);
            continue;
        }
        if (l[0] == '#')
            continue;
        size_t k = strcspn(l, "{ ");
        assert_true(n > 0);
        assert_int_equal(strncmp(l, announced[n - 1], k), 0);
        assert_int_equal(strlen(announced[n - 1]), k);
    }
    free(copy);
}

static void test_render(void **state)
{
    (void)state;
    metrics_snapshot_t *s = sample_snapshot();
    char *text = render(s);
    assert_announced(text);
    static const char *const want[] = {
        "# HELP lzr_jobs ",
        "# TYPE lzr_jobs gauge\n",
        "lzr_jobs{state=\"running\"} 2\n",
        "lzr_jobs{state=\"done\"} 5\n",
        "lzr_jobs{state=\"waiting\"} 0\n",
        "lzr_shards{state=\"pending\"} 3\n",
        "lzr_shards{state=\"leased\"} 2\n",
        "lzr_shards{state=\"done\"} 11\n",
        "lzr_workers_connected 2\n",
        "# TYPE lzr_records_stored_total counter\n",
        "lzr_records_stored_total 12345\n",
        "lzr_records_stored_per_second 250.500\n",
        "lzr_batch_retries_total 4\n",
        "lzr_verify_job 7\n",
        "lzr_verify_candidates 9\n",
        "lzr_verify_verdicts 6\n",
        "lzr_worker_packets_per_second{worker=\"w1\"} 1000\n",
        "lzr_worker_rate{worker=\"w1\"} 1200\n",
        "lzr_worker_packets_sent_total{worker=\"w1\"} 777\n",
        "lzr_worker_probes_sent_total{worker=\"w1\"} 100\n",
        "lzr_worker_replies_total{worker=\"w1\"} 70\n",
        "lzr_worker_hold_seconds_total{worker=\"w1\"} 1.5\n",
        "# TYPE lzr_worker_pcap_drops_total counter\n",
        "lzr_worker_pcap_drops_total{worker=\"a\\\"b\\\\c\\nd\"} 3\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i]))
            fail_msg("missing %s in:\n%s", want[i], text);
    /* The raw newline of the name never reaches the page. */
    assert_null(strstr(text, "a\"b"));
    free(text);
    free(s);
}

static void test_tally(void **state)
{
    (void)state;
    metrics_tally_t t = {0};
    Lzr__Heartbeat hb = LZR__HEARTBEAT__INIT;
    hb.sent = 10;
    hb.syns = 3;
    hb.hold_wait_ms = 5;
    metrics_tally_note(&t, 1, 0, &hb);
    hb.sent = 20;
    metrics_tally_note(&t, 1, 0, &hb); /* the same shard, further on */
    hb.sent = 5;
    hb.hold_wait_ms = 1;
    metrics_tally_note(&t, 1, 1, &hb); /* the next shard starts over */
    metrics_counters_t c = metrics_tally_total(&t);
    assert_int_equal(c.sent, 25);
    assert_int_equal(c.syns, 6);
    assert_int_equal(c.hold_wait_ms, 6);
    hb.sent = 2;
    metrics_tally_note(&t, 1, 1, &hb); /* the same shard leased again: fewer than before */
    assert_int_equal(metrics_tally_total(&t).sent, 27);
}

/* Pipelined shards: shard 0's tails end after the tally moved to shard 1; its ShardDone adds
 * only what came after its last heartbeat. */
static void test_tally_late(void **state)
{
    (void)state;
    metrics_tally_t t = {0};
    Lzr__Heartbeat hb = LZR__HEARTBEAT__INIT;
    hb.sent = 100;
    hb.hits = 4;
    metrics_tally_note(&t, 1, 0, &hb);
    metrics_counters_t seen = t.cur; /* shard 0 drains from here */
    hb.sent = 30;
    hb.hits = 1;
    metrics_tally_note(&t, 1, 1, &hb);
    hb.sent = 120; /* shard 0's final counters */
    hb.hits = 9;
    metrics_tally_late(&t, &seen, &hb);
    metrics_counters_t c = metrics_tally_total(&t);
    assert_int_equal(c.sent, 150);
    assert_int_equal(c.hits, 10);
}

/* GET path from 127.0.0.1:port over a plain socket; returns the whole response. */
static char *http_get(uint16_t port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int n =
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len - 1)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return buf;
}

static void test_server(void **state)
{
    (void)state;
    char err[256];
    metrics_t *m = metrics_start("127.0.0.1:0", err, sizeof err);
    assert_non_null(m);
    uint16_t port = metrics_port(m);
    assert_true(port > 0);
    char *r = http_get(port, "/metrics");
    assert_non_null(strstr(r, "HTTP/1.1 503"));
    free(r);
    metrics_snapshot_t *s = sample_snapshot();
    metrics_publish(m, s);
    s->n_workers = 0; /* the server shows its own copy */
    r = http_get(port, "/metrics");
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    assert_non_null(strstr(r, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "\r\n\r\n# HELP lzr_jobs "));
    assert_non_null(strstr(r, "lzr_workers_connected 2\n"));
    assert_non_null(strstr(r, "lzr_worker_probes_sent_total{worker=\"w1\"} 100\n"));
    free(r);
    r = http_get(port, "/");
    assert_non_null(strstr(r, "HTTP/1.1 404"));
    free(r);
    metrics_stop(&m);
    assert_null(m);
    free(s);
}

static void test_addresses(void **state)
{
    (void)state;
    char err[256];
    static const char *const bad[] = {
        "9100",      "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "host.example:9100",
        "[::1:9100", "1.2.3.4:x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        metrics_t *m = metrics_start(bad[i], err, sizeof err);
        if (m)
            fail_msg("%s accepted", bad[i]);
        assert_non_null(strstr(err, bad[i]));
    }
    metrics_t *m = metrics_start(":0", err, sizeof err); /* every address, IPv4 included */
    assert_non_null(m);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", metrics_port(m));
    assert_null(metrics_start(taken, err, sizeof err));
    assert_non_null(strstr(err, taken));
    assert_non_null(strstr(err, "in use"));
    metrics_snapshot_t *s = sample_snapshot();
    metrics_publish(m, s);
    char *r = http_get(metrics_port(m), "/metrics");
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    free(r);
    metrics_stop(&m);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),     cmocka_unit_test(test_tally),
        cmocka_unit_test(test_tally_late), cmocka_unit_test(test_server),
        cmocka_unit_test(test_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
