/*
 * bench_conntab: the memory a worker needs for a million connections in flight. It fills a
 * connection table with N distinct (address, port) keys, arms one timer per connection in a timer
 * wheel with the engine's resolution, checks every entry can be found again, and prints key=value
 * lines: the accounted bytes per connection (conntab + wheel), the process RSS before and after,
 * and the time per insert. tests/bench/run.sh turns them into docs/benchmarks.md. Exit status 1
 * when anything is missing or the inputs are bad; it never asserts timings.
 */
#include "worker/conntab.h"
#include "worker/timerwheel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The engine's wheel geometry (worker/lzr.c). */
#define BENCH_TICK_MS 10
#define BENCH_SLOTS   8192

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* VmRSS of this process in KiB, or -1 when /proc/self/status cannot be read. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* A spread of keys: consecutive connection numbers scrambled over the address space, 4 ports. */
static void key_of(uint32_t i, uint32_t *addr, uint16_t *port)
{
    uint32_t x = i >> 2;
    *addr = (x * 2654435761u) ^ 0x0a000000u; /* odd multiplier: a bijection on 32 bits */
    *port = (uint16_t)(80 + 1000 * (i & 3));
}

static void count_fire(void *ctx, uint32_t id)
{
    (void)id;
    ++*(uint64_t *)ctx;
}

int main(int argc, char **argv)
{
    uint32_t n = 1000000;
    if (argc > 1) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(argv[1], &end, 10);
        if (errno || *end || v == 0 || v > (1u << 24)) {
            fprintf(stderr, "bench_conntab: \"%s\" is not a connection count in 1..16777216\n",
                    argv[1]);
            return 1;
        }
        n = (uint32_t)v;
    }

    long rss0 = rss_kib();
    uint64_t t0 = now_ns();
    conntab_t *tab = conntab_new(n);
    timerwheel_t *wheel = timerwheel_new(n, BENCH_TICK_MS, BENCH_SLOTS, 0);
    if (!tab || !wheel) {
        fprintf(stderr, "bench_conntab: cannot allocate a table for %" PRIu32 " connections\n", n);
        conntab_destroy(&tab);
        timerwheel_destroy(&wheel);
        return 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t addr;
        uint16_t port;
        key_of(i, &addr, &port);
        conn_t *c = conntab_insert(tab, addr, port, false);
        if (!c) {
            fprintf(stderr, "bench_conntab: insert %" PRIu32 " of %" PRIu32 " failed\n", i, n);
            return 1;
        }
        c->sport = (uint16_t)(40000 + i % 25536);
        c->seq0 = i;
        /* Timeouts spread over 5 s, as handshakes with --timeout-ms 5000 would be. */
        timerwheel_schedule(wheel, conntab_id(tab, c), 1 + (uint64_t)(i % 5000));
    }
    uint64_t t1 = now_ns();
    long rss1 = rss_kib();

    uint32_t found = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t addr;
        uint16_t port;
        key_of(i, &addr, &port);
        const conn_t *c = conntab_lookup(tab, addr, port, false);
        found += c && c->seq0 == i;
    }
    uint64_t t2 = now_ns();

    size_t per_tab = conntab_bytes_per_conn(tab), index_bytes = conntab_index_bytes(tab);
    size_t per_wheel = timerwheel_bytes_per_id(wheel);
    uint32_t live = conntab_count(tab), armed = timerwheel_armed(wheel);
    uint64_t fired = 0;
    timerwheel_advance(wheel, 5001, count_fire, &fired);

    printf("connections=%" PRIu32 "\n", n);
    printf("live=%" PRIu32 "\n", live);
    printf("armed=%" PRIu32 "\n", armed);
    printf("found=%" PRIu32 "\n", found);
    printf("fired=%" PRIu64 "\n", fired);
    printf("conntab_bytes_per_conn=%zu\n", per_tab);
    printf("index_bytes=%zu\n", index_bytes);
    printf("timerwheel_bytes_per_id=%zu\n", per_wheel);
    printf("bytes_per_conn=%zu\n", per_tab + per_wheel);
    printf("rss_before_kib=%ld\n", rss0);
    printf("rss_kib=%ld\n", rss1);
    printf("rss_delta_bytes_per_conn=%.1f\n", (double)(rss1 - rss0) * 1024.0 / n);
    printf("insert_ns=%.1f\n", (double)(t1 - t0) / n);
    printf("lookup_ns=%.1f\n", (double)(t2 - t1) / n);

    int ok = live == n && armed == n && found == n && fired == n && rss0 >= 0 && rss1 >= 0;
    conntab_destroy(&tab);
    timerwheel_destroy(&wheel);
    if (!ok) {
        fprintf(stderr, "bench_conntab: expected %" PRIu32 " live, armed, found and fired\n", n);
        return 1;
    }
    return 0;
}
