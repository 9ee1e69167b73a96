/*
 * fuzz_targets: arbitrary text into the parsers of operator input, targets_parse_range,
 * ports_parse and a whole target set, IPv4 and IPv6. For the set, the input is split at '|' into
 * allow, exclude and lift lists. Results are checked for internal consistency (ranges ordered,
 * ports unique and non-zero, indexed addresses ascending and members of the set) and refusals must
 * come with a message; ASan and UBSan catch leaks, overreads and overflow.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/ports.h"
#include "common/targets.h"
#include "common/targets6.h"

static void check_range(const char *text)
{
    uint32_t lo = 0, hi = 0;
    char err[256] = "";
    int rc = targets_parse_range(text, &lo, &hi, err, sizeof(err));
    if (rc == LZR_OK && lo > hi)
        abort();
    if (rc != LZR_OK && (rc != LZR_EPARSE || err[0] != '"'))
        abort(); /* every refusal quotes the input */
}

static void check_ports(const char *text)
{
    port_list_t l;
    char err[256] = "";
    int rc = ports_parse(text, &l, err, sizeof(err));
    if (rc != LZR_OK) {
        if ((rc != LZR_EPARSE && rc != LZR_ERANGE) || err[0] != '"' || l.ports || l.n)
            abort();
        return;
    }
    static uint8_t seen[65536];
    memset(seen, 0, sizeof(seen));
    if (l.n == 0)
        abort();
    for (size_t i = 0; i < l.n; i++) {
        if (l.ports[i] == 0 || seen[l.ports[i]])
            abort();
        seen[l.ports[i]] = 1;
    }
    ports_free(&l);
}

/* Splits text at its first two '|' into allow, exclude and lift lists (NULL when absent). */
static void split_lists(char *text, char *parts[3])
{
    parts[0] = text;
    parts[1] = parts[2] = NULL;
    for (int i = 1; i < 3; i++) {
        char *bar = parts[i - 1] ? strchr(parts[i - 1], '|') : NULL;
        if (!bar)
            break;
        *bar = '\0';
        parts[i] = bar + 1;
    }
}

/* The IPv6 set: ascending distinct addresses, each found again at its own index. */
static void check_set6(char *text)
{
    char *parts[3];
    split_lists(text, parts);
    char err[512] = "";
    targets6_t *t = targets6_new();
    if (!t)
        return;
    if (parts[2] && targets6_lift_reserved(t, parts[2], err, sizeof(err)) != LZR_OK && !err[0])
        abort();
    if (targets6_allow(t, parts[0], err, sizeof(err)) != LZR_OK && !err[0])
        abort();
    if (parts[1] && targets6_exclude(t, parts[1], err, sizeof(err)) != LZR_OK && !err[0])
        abort();
    err[0] = '\0';
    if (targets6_finalize(t, err, sizeof(err)) != LZR_OK) {
        if (!err[0])
            abort();
    } else {
        uint64_t n = targets6_count(t);
        for (uint64_t i = 0; i < n; i += 1 + n / 64) {
            if (targets6_index_of(t, targets6_at(t, i)) != (int64_t)i)
                abort();
            if (i && memcmp(targets6_at(t, i - 1), targets6_at(t, i), 16) >= 0)
                abort();
        }
    }
    targets6_destroy(&t);
}

static void check_set(char *text)
{
    char *parts[3];
    split_lists(text, parts);
    char err[512] = "";
    targets_t *t = targets_new();
    if (!t)
        return;
    if (parts[2] && targets_lift_reserved(t, parts[2], err, sizeof(err)) != LZR_OK && !err[0])
        abort();
    if (targets_allow(t, parts[0], err, sizeof(err)) != LZR_OK && !err[0])
        abort();
    if (parts[1] && targets_exclude(t, parts[1], err, sizeof(err)) != LZR_OK && !err[0])
        abort();
    err[0] = '\0';
    int rc = targets_finalize(t, err, sizeof(err));
    if (rc != LZR_OK) {
        if (!err[0] || targets_count(t) != 0)
            abort();
    } else {
        uint64_t n = targets_count(t);
        if (n == 0 || n > (UINT64_C(1) << 32))
            abort();
        /* Probes in ascending index order; for tiny sets some repeat or fall out of range. */
        uint64_t probe[] = {0, 1, n / 3, n / 2, n - 2, n - 1};
        uint64_t last = 0;
        uint32_t prev = 0;
        for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
            if (probe[i] >= n || (i > 0 && probe[i] <= last))
                continue;
            uint32_t a = targets_at(t, probe[i]);
            if (!targets_contains(t, a) || (i > 0 && a <= prev))
                abort();
            last = probe[i];
            prev = a;
        }
    }
    targets_destroy(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0; /* longer lists add time, not new paths */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_range(text);
    check_ports(text);
    char *copy = size <= 512 ? strdup(text) : NULL; /* an IPv6 set expands every entry */
    check_set(text);
    if (copy)
        check_set6(copy);
    free(copy);
    free(text);
    return 0;
}
