/*
 * test_handshakes: the handshake table against real bytes. Every fixture under
 * tests/fixtures/handshakes/<protocol>/ (replies captured from Debian servers, or built from the
 * protocol's specification) must be fingerprinted as exactly its directory's protocol, and no
 * other protocol's matcher may claim it at the same or a higher priority (the negative matrix).
 * Decoys — pages and banners that merely mention another protocol, random bytes — must not fool
 * the matchers. Every probe must fit one segment, stay within the buffer it is given and be
 * well-formed for its protocol. Run from the repository root.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "worker/handshakes/handshake.h"
#include "worker/handshakes/hs_util.h"
#include "worker/handshakes/registry.h"

#define FIXTURE_DIR  "tests/fixtures/handshakes"
#define MAX_FIXTURES 512

typedef struct fixture {
    char proto[256];
    char path[600];
    uint8_t *data;
    size_t len;
} fixture_t;

static fixture_t fixtures[MAX_FIXTURES];
static size_t n_fixtures;

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static int load_fixtures(void **state)
{
    (void)state;
    DIR *top = opendir(FIXTURE_DIR);
    if (!top) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", FIXTURE_DIR);
        return -1;
    }
    struct dirent *pe;
    while ((pe = readdir(top))) {
        if (pe->d_name[0] == '.')
            continue;
        char dir[300];
        snprintf(dir, sizeof dir, "%s/%s", FIXTURE_DIR, pe->d_name);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *fe;
        while ((fe = readdir(d)) && n_fixtures < MAX_FIXTURES) {
            size_t nl = strlen(fe->d_name);
            if (nl < 5 || strcmp(fe->d_name + nl - 4, ".bin") != 0)
                continue;
            fixture_t *fx = &fixtures[n_fixtures];
            snprintf(fx->proto, sizeof fx->proto, "%s", pe->d_name);
            snprintf(fx->path, sizeof fx->path, "%s/%s", dir, fe->d_name);
            fx->data = read_file(fx->path, &fx->len);
            if (fx->data)
                n_fixtures++;
        }
        closedir(d);
    }
    closedir(top);
    return 0;
}

static int free_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < n_fixtures; i++)
        free(fixtures[i].data);
    n_fixtures = 0;
    return 0;
}

static const handshake_t *must_find(const char *name)
{
    const handshake_t *h = handshake_find(name);
    if (!h)
        fail_msg("handshake \"%s\" is not registered", name);
    return h;
}

/* --- the table ----------------------------------------------------------------------------- */

static void test_registry_entries(void **state)
{
    (void)state;
    size_t n = catalogue_count();
    assert_true(n >= 50);
    assert_null(handshake_at(n));
    for (size_t i = 0; i < n; i++) {
        const handshake_t *h = handshake_at(i);
        assert_non_null(h);
        assert_non_null(h->name);
        assert_true(strlen(h->name) > 0);
        assert_true(strspn(h->name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(h->name));
        assert_non_null(h->default_ports);
        assert_true(strlen(h->default_ports) > 0);
        assert_ptr_equal(handshake_find(h->name), h);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(handshake_at(j)->name, h->name);
        if (strcmp(h->name, "wait") == 0) {
            assert_null(h->match);
            assert_non_null(h->payload);
        } else {
            if (!h->match)
                fail_msg("%s has no matcher", h->name);
            assert_true(h->priority > 0);
        }
    }
    assert_null(handshake_find("nope"));
    assert_null(handshake_find(""));
    assert_null(handshake_find(NULL));
}

/* Every label LZR identifies, plus the odd-port protocols the issue names. */
static void test_registry_coverage(void **state)
{
    (void)state;
    static const char *const required[] = {
        "amqp",
        "bgp",
        "dnp3",
        "dns",
        "fox",
        "ftp",
        "http",
        "imap",
        "ipmi",
        "ipp",
        "kubernetes",
        "memcached_ascii",
        "memcached_binary",
        "modbus",
        "mongodb",
        "mqtt",
        "mssql",
        "mysql",
        "oracle",
        "pop3",
        "postgres",
        "pptp",
        "rdp",
        "redis",
        "rtsp",
        "siemens",
        "smb",
        "smtp",
        "ssh",
        "ssl",
        "telnet",
        "tls",
        "vnc",
        "x11",
        "sip",
        "xmpp",
        "ldap",
        "irc",
        "nntp",
        "rsync",
        "socks5",
        "java_rmi",
        "cassandra",
        "zookeeper",
        "kafka",
        "elasticsearch",
        "docker",
        "cwmp",
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        must_find(required[i]);
}

/* --- fixtures: positive tests and the negative matrix --------------------------------------- */

static void test_fixtures_positive(void **state)
{
    (void)state;
    int bad = 0;
    assert_true(n_fixtures >= 80);
    for (size_t i = 0; i < n_fixtures; i++) {
        const fixture_t *fx = &fixtures[i];
        const handshake_t *own = handshake_find(fx->proto);
        if (!own || !own->match) {
            fprintf(stderr, "%s: directory names no protocol with a matcher\n", fx->path);
            bad++;
            continue;
        }
        if (!handshake_match(own, fx->data, fx->len)) {
            fprintf(stderr, "%s: not matched by %s\n", fx->path, fx->proto);
            bad++;
        }
        const char *got = handshake_fingerprint(fx->data, fx->len);
        if (!got || strcmp(got, fx->proto) != 0) {
            fprintf(stderr, "%s: fingerprinted as %s\n", fx->path, got ? got : "(null)");
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* The fingerprint stops at the first match in priority order; it must name what running every
 * matcher and keeping the highest priority (ties: the earlier entry) names, for every fixture,
 * every fixture cut short and a few replies no matcher takes. */
static const char *fingerprint_every_matcher(const uint8_t *data, size_t len)
{
    const handshake_t *best = NULL;
    for (size_t j = 0; j < catalogue_count(); j++) {
        const handshake_t *h = handshake_at(j);
        if (h->match && (!best || h->priority > best->priority) && handshake_match(h, data, len))
            best = h;
    }
    return best ? best->name : "unknown";
}

static void test_fingerprint_order(void **state)
{
    (void)state;
    static const char *const odd[] = {
        "HTTP/1.1 200 OK\r\n",          "SSH-2.0-x\r\n", "+OK ready\r\n",
        "\x15\x03\x01\x00\x02\x02\x28", "zzz",           "220 "};
    int checked = 0;
    for (size_t i = 0; i < n_fixtures; i++) {
        const fixture_t *fx = &fixtures[i];
        for (size_t len = fx->len; len > 0; len = len > 8 ? len / 2 : len - 1) {
            assert_string_equal(handshake_fingerprint(fx->data, len),
                                fingerprint_every_matcher(fx->data, len));
            checked++;
        }
    }
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
        const uint8_t *p = (const uint8_t *)odd[k];
        assert_string_equal(handshake_fingerprint(p, strlen(odd[k])),
                            fingerprint_every_matcher(p, strlen(odd[k])));
    }
    assert_true(checked > 500);
}

static void test_negative_matrix(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < n_fixtures; i++) {
        const fixture_t *fx = &fixtures[i];
        const handshake_t *own = must_find(fx->proto);
        for (size_t j = 0; j < catalogue_count(); j++) {
            const handshake_t *h = handshake_at(j);
            if (h == own || !h->match || !handshake_match(h, fx->data, fx->len))
                continue;
            if (h->priority >= own->priority) {
                fprintf(stderr, "%s: also matched by %s at priority %d >= %d\n", fx->path, h->name,
                        h->priority, own->priority);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

static void test_every_matcher_has_fixture(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t j = 0; j < catalogue_count(); j++) {
        const handshake_t *h = handshake_at(j);
        if (!h->match)
            continue;
        size_t n = 0;
        for (size_t i = 0; i < n_fixtures; i++)
            n += strcmp(fixtures[i].proto, h->name) == 0;
        if (n == 0) {
            fprintf(stderr, "%s has no fixture\n", h->name);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Every matcher on every prefix of every fixture, each copied to a buffer of exactly that size,
 * so ASan catches any read past len. */
static void test_fixture_prefixes_in_bounds(void **state)
{
    (void)state;
    size_t runs = 0;
    for (size_t i = 0; i < n_fixtures; i++) {
        const fixture_t *fx = &fixtures[i];
        size_t top = fx->len < 300 ? fx->len : 300;
        for (size_t n = 1; n <= top; n++) {
            uint8_t *p = malloc(n);
            memcpy(p, fx->data, n);
            for (size_t j = 0; j < catalogue_count(); j++) {
                const handshake_t *h = handshake_at(j);
                if (h->match) {
                    (void)handshake_match(h, p, n);
                    runs++;
                }
            }
            assert_non_null(handshake_fingerprint(p, n));
            free(p);
        }
    }
    assert_true(runs > 1000);
}

/* --- decoys ---------------------------------------------------------------------------------- */

static const char *fp(const char *s)
{
    return handshake_fingerprint((const uint8_t *)s, strlen(s));
}

static void test_decoys_text(void **state)
{
    (void)state;
    /* a web page that quotes other protocols' banners is HTTP */
    assert_string_equal(fp("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
                           "SSH-2.0-OpenSSH_9.2\r\n220 FTP server ready\r\n+OK POP3\r\n"
                           "* OK IMAP4rev1\r\nRFB 003.008\n@RSYNCD: 31.0\n"),
                        "http");
    assert_string_equal(fp("HTTP/1.1 200 OK\r\n\r\n<stream:stream "
                           "xmlns:stream='http://etherx.jabber.org/streams'>"),
                        "http");
    /* keywords of an API in the body, but not its structure: plain http */
    assert_string_equal(fp("HTTP/1.1 200 OK\r\n\r\nServer: Docker/24.0 kind Status gitVersion "
                           "cluster_name application/ipp urn:dslforum"),
                        "http");
    /* a banner with a status line in mid-line is not HTTP (nor anything else) */
    assert_string_equal(fp("Welcome! This is not HTTP/1.1 200 OK\r\n"), "unknown");
    assert_string_equal(fp("Hello SSH-2.0-OpenSSH_9.2\r\n"), "unknown");
    assert_string_equal(fp("note: 220 FTP ready\r\n"), "unknown");
    assert_string_equal(fp("hello world\r\n"), "unknown");
    assert_string_equal(fp("-ERR invalid command\r\n"), "unknown");
    assert_string_equal(fp("HTTP/1.1 OK\r\n"), "unknown");
    assert_string_equal(fp("SSH-3.0-future\r\n"), "unknown");
    assert_string_equal(fp("RFB 3.8\n"), "unknown");
    /* 220 greetings: SMTP when the line says so, FTP otherwise */
    assert_string_equal(fp("220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n"), "smtp");
    assert_string_equal(fp("220-mx.example.net ESMTP Exim 4.96\r\n220 ok\r\n"), "smtp");
    assert_string_equal(fp("220 ProFTPD Server (Debian) [::ffff:198.18.16.14]\r\n"), "ftp");
    assert_string_equal(fp("220 Welcome\r\n"), "ftp");
    assert_string_equal(fp("220 smtp-relay-ftp.example.com FTP ready\r\n"), "ftp");
    assert_string_equal(fp("220 SMTPS-gateway ready\r\n"), "ftp");
    /* memcached's bare ERROR versus a STOMP ERROR frame */
    assert_string_equal(fp("ERROR\r\n"), "memcached_ascii");
    assert_string_equal(fp("ERROR\nmessage:bad frame\n\n"), "stomp");
    /* an HTTP 400 that is not about TLS stays http */
    assert_string_equal(fp("HTTP/1.1 400 Bad Request\r\n\r\nbad request\n"), "http");
    assert_string_equal(
        fp("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"),
        "tls");
}

static void test_decoys_binary(void **state)
{
    (void)state;
    /* a TLS alert record followed by HTTP text is TLS */
    static const uint8_t alert_http[] = {0x15, 3,   3,   0,   2,   2,   70,  'H', 'T', 'T',
                                         'P',  '/', '1', '.', '1', ' ', '4', '0', '0'};
    assert_string_equal(handshake_fingerprint(alert_http, sizeof alert_http), "tls");
    /* an alert with a bad length or level is not */
    static const uint8_t bad_alert[] = {0x15, 3, 3, 0, 3, 2, 70, 0};
    assert_string_equal(handshake_fingerprint(bad_alert, sizeof bad_alert), "unknown");
    static const uint8_t bad_level[] = {0x15, 3, 1, 0, 2, 9, 40};
    assert_string_equal(handshake_fingerprint(bad_level, sizeof bad_level), "unknown");
    /* a DNP3 header whose CRC is wrong */
    static const uint8_t dnp3[] = {0x05, 0x64, 0x05, 0x0b, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00};
    assert_string_equal(handshake_fingerprint(dnp3, sizeof dnp3), "unknown");
    /* three bytes of socks5 are not socks5 */
    static const uint8_t socks[] = {5, 0, 0};
    assert_string_equal(handshake_fingerprint(socks, sizeof socks), "unknown");
    /* empty input has no fingerprint */
    assert_null(handshake_fingerprint((const uint8_t *)"", 0));
    assert_null(handshake_fingerprint(NULL, 0));
    static const uint8_t zeros[64] = {0};
    assert_string_equal(handshake_fingerprint(zeros, sizeof zeros), "unknown");
    static uint8_t ones[64];
    memset(ones, 0xff, sizeof ones);
    assert_string_equal(handshake_fingerprint(ones, sizeof ones), "unknown");
}

/* Random bytes: a fixed seed, so the verdict is repeatable; almost nothing may match. */
static void test_decoys_random(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int hits = 0, total = 20000;
    uint8_t buf[512];
    for (int i = 0; i < total; i++) {
        size_t n = 1 + (size_t)(i % 512);
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[k] = (uint8_t)x;
        }
        const char *got = handshake_fingerprint(buf, n);
        assert_non_null(got);
        if (strcmp(got, "unknown") != 0) {
            if (hits < 10)
                fprintf(stderr, "random buffer %d (%zu bytes) matched %s\n", i, n, got);
            hits++;
        }
    }
    /* at most 0.1%: two-byte structures (telnet IAC) can line up by chance */
    assert_true(hits * 1000 <= total);
}

/* --- payloads -------------------------------------------------------------------------------- */

static const hs_target_t target = {.saddr = {.family = ADDR_IPV4, .v4 = 0xC6120001},
                                   .daddr = {.family = ADDR_IPV4, .v4 = 0xC6121005},
                                   .dport = 8443};

static size_t build(const char *name, const hs_target_t *t, uint8_t *buf)
{
    const handshake_t *h = must_find(name);
    assert_non_null(h->payload);
    return h->payload(t, buf, HANDSHAKE_MAX_PAYLOAD);
}

/* An IPv6 target: probes that name the host name it as a URL does ("[2001:2::5]"), an Oracle
 * connect descriptor bare; every probe that sends bytes to an IPv4 target still builds. */
static void test_ipv6_payloads(void **state)
{
    (void)state;
    hs_target_t t = {.dport = 8443};
    assert_int_equal(addr_parse("2001:2::1", &t.saddr), LZR_OK);
    assert_int_equal(addr_parse("2001:2:0:16::5", &t.daddr), LZR_OK);
    uint8_t buf[HANDSHAKE_MAX_PAYLOAD + 1];
    size_t n = build("http", &t, buf);
    buf[n] = 0;
    assert_non_null(strstr((char *)buf, "\r\nHost: [2001:2:0:16::5]:8443\r\n"));
    n = build("sip", &t, buf);
    buf[n] = 0;
    assert_non_null(strstr((char *)buf, "OPTIONS sip:[2001:2:0:16::5]:8443 SIP/2.0"));
    assert_non_null(strstr((char *)buf, "Via: SIP/2.0/TCP [2001:2::1];"));
    n = build("rtsp", &t, buf);
    buf[n] = 0;
    assert_non_null(strstr((char *)buf, "rtsp://[2001:2:0:16::5]:8443/"));
    n = build("oracle", &t, buf);
    assert_non_null(memmem(buf, n, "(HOST=2001:2:0:16::5)(PORT=8443)", 32));
    for (size_t i = 0; handshake_at(i); i++)
        if (handshake_at(i)->payload && build(handshake_at(i)->name, &target, buf) > 0)
            assert_true(build(handshake_at(i)->name, &t, buf) > 0);
}

static void test_payload_sizes_and_bounds(void **state)
{
    (void)state;
    uint8_t buf[HANDSHAKE_MAX_PAYLOAD + 64], again[HANDSHAKE_MAX_PAYLOAD];
    size_t probes = 0;
    for (size_t i = 0; i < catalogue_count(); i++) {
        const handshake_t *h = handshake_at(i);
        if (!h->payload)
            continue;
        size_t n = h->payload(&target, buf, HANDSHAKE_MAX_PAYLOAD);
        if (strcmp(h->name, "wait") == 0) {
            assert_int_equal(n, 0);
            continue;
        }
        probes++;
        if (n == 0 || n > HANDSHAKE_MAX_PAYLOAD)
            fail_msg("%s: payload of %zu bytes", h->name, n);
        /* the same target gives the same bytes */
        assert_int_equal(h->payload(&target, again, sizeof again), n);
        assert_memory_equal(buf, again, n);
        /* with too little room it writes nothing past cap and says so */
        for (size_t cap = 0; cap < n; cap += (cap < 16 ? 1 : 7)) {
            memset(buf, 0xa5, sizeof buf);
            size_t m = h->payload(&target, buf, cap);
            if (m != 0)
                fail_msg("%s: returned %zu with cap %zu < %zu", h->name, m, cap, n);
            for (size_t k = cap; k < sizeof buf; k++)
                if (buf[k] != 0xa5)
                    fail_msg("%s: wrote byte %zu with cap %zu", h->name, k, cap);
        }
    }
    assert_true(probes >= 40);
}

static void test_payload_tls(void **state)
{
    (void)state;
    uint8_t b[HANDSHAKE_MAX_PAYLOAD];
    size_t n = build("tls", &target, b);
    assert_true(n > 100);
    assert_int_equal(b[0], 0x16);
    assert_int_equal((b[1] << 8) | b[2], 0x0301);
    assert_int_equal((size_t)((b[3] << 8) | b[4]), n - 5);
    assert_int_equal(b[5], 0x01);
    assert_int_equal((size_t)((b[6] << 16) | (b[7] << 8) | b[8]), n - 9);
    assert_int_equal((b[9] << 8) | b[10], 0x0303);
    size_t i = 11 + 32;
    assert_int_equal(b[i], 32);
    i += 1 + b[i];
    size_t cs = (size_t)((b[i] << 8) | b[i + 1]);
    assert_true(cs >= 2 && cs % 2 == 0);
    bool has_gcm = false;
    for (size_t k = 0; k < cs; k += 2)
        has_gcm |= ((b[i + 2 + k] << 8) | b[i + 3 + k]) == 0xc02f;
    assert_true(has_gcm);
    i += 2 + cs;
    assert_int_equal(b[i], 1);
    assert_int_equal(b[i + 1], 0);
    i += 2;
    size_t el = (size_t)((b[i] << 8) | b[i + 1]);
    i += 2;
    assert_int_equal(i + el, n);
    bool versions13 = false, sni = false, groups = false;
    while (i < n) {
        assert_true(i + 4 <= n);
        unsigned type = (unsigned)((b[i] << 8) | b[i + 1]);
        size_t len = (size_t)((b[i + 2] << 8) | b[i + 3]);
        assert_true(i + 4 + len <= n);
        if (type == 0x002b) {
            assert_int_equal(b[i + 4], len - 1);
            for (size_t k = 0; k + 1 < b[i + 4]; k += 2)
                versions13 |= ((b[i + 5 + k] << 8) | b[i + 6 + k]) == 0x0304;
        }
        sni |= type == 0x0000;
        groups |= type == 0x000a;
        i += 4 + len;
    }
    assert_int_equal(i, n);
    assert_true(versions13);
    assert_true(groups);
    assert_false(sni);
}

static void test_payload_dns(void **state)
{
    (void)state;
    uint8_t b[HANDSHAKE_MAX_PAYLOAD];
    size_t n = build("dns", &target, b);
    assert_int_equal((size_t)((b[0] << 8) | b[1]), n - 2);
    assert_int_equal(b[4] & 0x80, 0);        /* a query */
    assert_int_equal((b[6] << 8) | b[7], 1); /* one question */
    size_t i = 14;
    while (i < n && b[i] != 0)
        i += 1 + b[i];
    assert_int_equal(i + 5, n); /* root label, type, class end the message */
}

static void test_payload_http(void **state)
{
    (void)state;
    uint8_t b[HANDSHAKE_MAX_PAYLOAD + 1];
    size_t n = build("http", &target, b);
    b[n] = '\0';
    const char *s = (const char *)b;
    assert_true(strncmp(s, "GET / HTTP/1.1\r\n", 16) == 0);
    assert_true(n >= 4 && memcmp(s + n - 4, "\r\n\r\n", 4) == 0);
    assert_non_null(strstr(s, "\r\nHost: 198.18.16.5:8443\r\n"));
    assert_ptr_equal(strstr(s, "\r\n\r\n"), s + n - 4);
    hs_target_t t80 = target;
    t80.dport = 80;
    n = build("http", &t80, b);
    b[n] = '\0';
    assert_non_null(strstr(s, "\r\nHost: 198.18.16.5\r\n"));
    static const char want[] = "GET / HTTP/1.1\r\nHost: 198.18.16.5\r\nUser-Agent: lzr\r\n"
                               "Accept: */*\r\n\r\n";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(b, want, n);
    /* The request and a NUL must fit, or nothing is built. */
    assert_int_equal(hs_http_request(&t80, "GET", "/", NULL, b, sizeof want), n);
    assert_int_equal(hs_http_request(&t80, "GET", "/", NULL, b, sizeof want - 1), 0);
    assert_int_equal(hs_http_request(&t80, "GET", "/", "X: y\r\n", b, sizeof want), 0);
    /* the other HTTP-shaped probes are complete requests too */
    static const char *const others[] = {"kubernetes", "docker", "elasticsearch", "couchdb", "cwmp",
                                         "rtsp",       "sip"};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
        n = build(others[k], &target, b);
        b[n] = '\0';
        if (!strstr(s, "198.18.16.5") || memcmp(s + n - 4, "\r\n\r\n", 4) != 0)
            fail_msg("%s probe lacks the target or the blank line", others[k]);
    }
}

static void test_payload_ipp(void **state)
{
    (void)state;
    uint8_t b[HANDSHAKE_MAX_PAYLOAD + 1];
    size_t n = build("ipp", &target, b);
    b[n] = '\0';
    const char *cl = strstr((char *)b, "Content-Length: ");
    const char *end = strstr((char *)b, "\r\n\r\n");
    assert_non_null(cl);
    assert_non_null(end);
    size_t body = n - (size_t)(end + 4 - (char *)b);
    assert_int_equal(strtoul(cl + 16, NULL, 10), body);
    assert_int_equal(end[4], 0x01);   /* IPP 1.1 */
    assert_int_equal(b[n - 1], 0x03); /* end-of-attributes */
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Length fields of the binary probes agree with the bytes built. */
static void test_payload_length_fields(void **state)
{
    (void)state;
    uint8_t b[HANDSHAKE_MAX_PAYLOAD];
    size_t n;
    n = build("pptp", &target, b);
    assert_int_equal(n, 156);
    assert_int_equal((b[0] << 8) | b[1], 156);
    assert_int_equal(be32(b + 4), 0x1a2b3c4d);
    n = build("postgres", &target, b);
    assert_int_equal(be32(b), n);
    assert_int_equal(be32(b + 4), 0x00030000);
    assert_int_equal(b[n - 1], 0);
    n = build("mongodb", &target, b);
    assert_int_equal(le32(b), n);
    assert_int_equal(le32(b + 12), 2004);
    n = build("kafka", &target, b);
    assert_int_equal(be32(b) + 4, n);
    n = build("zookeeper", &target, b);
    assert_int_equal(be32(b) + 4, n);
    n = build("smb", &target, b);
    assert_int_equal(be32(b) & 0xffffff, n - 4);
    assert_memory_equal(b + 4, "\xffSMB", 4);
    n = build("oracle", &target, b);
    assert_int_equal((b[0] << 8) | b[1], n);
    assert_int_equal((size_t)((b[24] << 8) | b[25]) + 58, n); /* connect data length */
    n = build("msrpc", &target, b);
    assert_int_equal(b[8] | (b[9] << 8), n);
    n = build("mssql", &target, b);
    assert_int_equal((b[2] << 8) | b[3], n);
    n = build("opcua", &target, b);
    assert_int_equal(le32(b + 4), n);
    n = build("bgp", &target, b);
    assert_int_equal((b[16] << 8) | b[17], n);
    n = build("siemens", &target, b);
    assert_int_equal((b[2] << 8) | b[3], n);
    assert_int_equal(b[4] + 5, n);
    n = build("rdp", &target, b);
    assert_int_equal((b[2] << 8) | b[3], n);
    assert_int_equal(b[4] + 5, n);
    n = build("modbus", &target, b);
    assert_int_equal((b[4] << 8) | b[5], n - 6);
    n = build("rpcbind", &target, b);
    assert_int_equal(be32(b), 0x80000000u | (uint32_t)(n - 4));
    n = build("mqtt", &target, b);
    assert_int_equal(b[1], n - 2);
    n = build("ldap", &target, b);
    assert_int_equal(b[1], n - 2);
    n = build("git", &target, b);
    char hex[5] = {0};
    memcpy(hex, b, 4);
    assert_int_equal(strtoul(hex, NULL, 16), n);
    n = build("memcached_binary", &target, b);
    assert_int_equal(n, 24);
    assert_int_equal(b[0], 0x80);
    n = build("dnp3", &target, b);
    assert_int_equal(n, 10);
    /* the dnp3 probe carries a CRC its own fingerprint accepts, with the direction bit set */
    assert_true(handshake_match(must_find("dnp3"), b, n));
}

/* --- list parsing and the printed table ------------------------------------------------------ */

static void test_list_parse(void **state)
{
    (void)state;
    const handshake_t *out[HANDSHAKE_MAX_LIST];
    char err[256];
    int n =
        handshake_list_parse("wait,tls,http,dns,pptp", out, HANDSHAKE_MAX_LIST, err, sizeof err);
    assert_int_equal(n, 5);
    assert_string_equal(out[0]->name, "wait");
    assert_string_equal(out[1]->name, "tls");
    assert_string_equal(out[2]->name, "http");
    assert_string_equal(out[3]->name, "dns");
    assert_string_equal(out[4]->name, "pptp");
    assert_int_equal(handshake_list_parse(" tls , http ", out, HANDSHAKE_MAX_LIST, err, sizeof err),
                     2);
    assert_string_equal(out[1]->name, "http");

    assert_int_equal(handshake_list_parse("wait,bogus,tls", out, 8, err, sizeof err), LZR_EPARSE);
    assert_non_null(strstr(err, "\"bogus\""));
    assert_int_equal(handshake_list_parse("tls,ssl", out, 8, err, sizeof err), LZR_EPARSE);
    assert_non_null(strstr(err, "\"ssl\""));
    assert_int_equal(handshake_list_parse("mysql", out, 8, err, sizeof err), LZR_EPARSE);
    assert_non_null(strstr(err, "\"mysql\""));
    assert_int_equal(handshake_list_parse("tls,,http", out, 8, err, sizeof err), LZR_EPARSE);
    assert_non_null(strstr(err, "empty entry at position 2"));
    assert_int_equal(handshake_list_parse("", out, 8, err, sizeof err), LZR_EPARSE);
    assert_int_equal(handshake_list_parse("tls,http,tls", out, 8, err, sizeof err), LZR_EPARSE);
    assert_non_null(strstr(err, "\"tls\" is listed twice"));
    assert_int_equal(handshake_list_parse("wait,tls,http", out, 2, err, sizeof err), LZR_ERANGE);
    assert_non_null(strstr(err, "\"http\""));
    assert_int_equal(handshake_list_parse(NULL, out, 8, err, sizeof err), LZR_EINVAL);
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(handshake_list_parse(longname, out, 8, err, sizeof err), LZR_EPARSE);
    assert_non_null(strstr(err, "xxxx"));
    /* a tiny or absent error buffer is never overrun */
    char tiny[4];
    assert_int_equal(handshake_list_parse("bogus", out, 8, tiny, sizeof tiny), LZR_EPARSE);
    assert_int_equal(strlen(tiny), 3);
    assert_int_equal(handshake_list_parse("bogus", out, 8, NULL, 0), LZR_EPARSE);
}

static void test_for_port(void **state)
{
    (void)state;
    const handshake_t *out[8];
    assert_int_equal(handshake_for_port(1883, out, 8), 1);
    assert_string_equal(out[0]->name, "mqtt");
    assert_int_equal(handshake_for_port(5432, out, 8), 1);
    assert_string_equal(out[0]->name, "postgres");
    assert_int_equal(handshake_for_port(6379, out, 8), 1);
    assert_string_equal(out[0]->name, "redis");
    assert_int_equal(handshake_for_port(11211, out, 8), 2);
    assert_string_equal(out[0]->name, "memcached_ascii");
    assert_string_equal(out[1]->name, "memcached_binary");
    /* mysql has no probe, so 3306 brings only wait (which has no matcher): nothing */
    assert_int_equal(handshake_for_port(3306, out, 8), 0);
    assert_int_equal(handshake_for_port(9, out, 8), 0);
    /* "443" must not match 4430 or 44 */
    assert_int_equal(handshake_for_port(44, out, 8), 0);
    assert_int_equal(handshake_for_port(80, out, 0), 1);
    assert_int_equal(handshake_for_port(80, NULL, 0), 1);
}

static void test_print_table(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    handshake_print_table(f);
    fclose(f);
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, catalogue_count() + 1);
    assert_non_null(strstr(text, "\npptp "));
    assert_non_null(strstr(text, "156  1723\n"));
    assert_non_null(strstr(text, "\nssl "));
    assert_non_null(strstr(text, "\nwait "));
    free(text);
}

/* hs_find against libc's memmem over every needle of up to 5 bytes at every offset of 200
 * haystacks of a three-letter alphabet (many partial matches, matches at both ends, none). */
static void test_find_matches_memmem(void **state)
{
    (void)state;
    uint32_t x = 12345;
    uint8_t hay[48];
    char needle[6];
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)(round % 48);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            hay[i] = (uint8_t)("ab\r"[(x >> 16) % 3]);
        }
        for (size_t n = 0; n <= 5; n++)
            for (size_t at = 0; at + n <= len; at++) {
                memcpy(needle, hay + at, n);
                needle[n] = 'b' + (char)(round % 2); /* a needle one longer: not always there */
                for (size_t m = n; m <= n + 1; m++)
                    assert_ptr_equal(hs_find(hay, len, needle, m),
                                     m ? memmem(hay, len, needle, m) : (void *)hay);
            }
    }
    assert_null(hs_find((const uint8_t *)"abc", 3, "abcd", 4));
    const uint8_t *reply = (const uint8_t *)"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody";
    assert_ptr_equal(hs_find(reply, strlen((const char *)reply), "\r\n\r\n", 4), reply + 21);
}

/* value of header name in text, or NULL when absent (through one hs_reply_t, so lookups after
 * the first use the lines it kept). */
static const char *header_of(hs_reply_t *r, const char *name, char *buf, size_t cap)
{
    const uint8_t *v;
    size_t vl;
    if (!hs_reply_header(r, name, &v, &vl))
        return NULL;
    assert_true(vl < cap);
    memcpy(buf, v, vl);
    buf[vl] = '\0';
    return buf;
}

/* The header block cut once: lookups by name, case aside, trimmed values, the status line and
 * the body left out, lines past the HS_REPLY_HEADERS kept found by scanning on, and the end of
 * the block where CR LF CR LF or, failing it, LF LF is. */
static void test_reply_headers(void **state)
{
    (void)state;
    char text[4096], v[64];
    size_t n = (size_t)snprintf(text, sizeof text,
                                "Server: on-the-status-line\r\n"
                                "Server:  Docker/1.2 \t\r\n"
                                "x-lower: v\r\n"
                                "Serverx: no\r\n"
                                "Colon:a:b\r\n");
    for (int k = 0; k < HS_REPLY_HEADERS + 8; k++)
        n += (size_t)snprintf(text + n, sizeof text - n, "H%d: %d\r\n", k, k);
    n += (size_t)snprintf(text + n, sizeof text - n, "\r\nAfter: body\r\n");
    hs_reply_t r;
    hs_reply_init(&r, (const uint8_t *)text, n);
    for (int pass = 0; pass < 2; pass++) {
        assert_string_equal(header_of(&r, "Server", v, sizeof v), "Docker/1.2");
        assert_string_equal(header_of(&r, "X-LOWER", v, sizeof v), "v");
        assert_string_equal(header_of(&r, "Colon", v, sizeof v), "a:b");
        assert_string_equal(header_of(&r, "H0", v, sizeof v), "0");
        assert_string_equal(header_of(&r, "H35", v, sizeof v), "35"); /* past the kept lines */
        assert_string_equal(header_of(&r, "H39", v, sizeof v), "39");
        assert_null(header_of(&r, "H40", v, sizeof v));
        assert_null(header_of(&r, "After", v, sizeof v)); /* in the body */
        assert_null(header_of(&r, "Serve", v, sizeof v));
        assert_true(hs_reply_header_starts(&r, "server", "docker/"));
        assert_true(hs_reply_header_has(&r, "Server", "ER/1"));
        assert_false(hs_reply_header_has(&r, "Server", "nginx"));
    }
    size_t bl;
    const uint8_t *b = hs_reply_body(&r, &bl);
    assert_non_null(b);
    assert_int_equal(bl, strlen("After: body\r\n"));
    assert_memory_equal(b, "After: body\r\n", bl);

    /* LF LF ends the block only when CR LF CR LF never comes; then there is no body. */
    const char *lf = "HTTP/1.0 200 OK\nA: 1\n\nB: 2\n";
    hs_reply_init(&r, (const uint8_t *)lf, strlen(lf));
    assert_string_equal(header_of(&r, "A", v, sizeof v), "1");
    assert_null(header_of(&r, "B", v, sizeof v));
    assert_null(hs_reply_body(&r, &bl));
    const char *both = "HTTP/1.0 200 OK\nA: 1\n\nB: 2\r\n\r\nC: 3";
    hs_reply_init(&r, (const uint8_t *)both, strlen(both));
    assert_string_equal(header_of(&r, "B", v, sizeof v), "2");
    assert_null(header_of(&r, "C", v, sizeof v));
    assert_string_equal((const char *)hs_reply_body(&r, &bl), "C: 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_entries),
        cmocka_unit_test(test_registry_coverage),
        cmocka_unit_test(test_fixtures_positive),
        cmocka_unit_test(test_fingerprint_order),
        cmocka_unit_test(test_negative_matrix),
        cmocka_unit_test(test_every_matcher_has_fixture),
        cmocka_unit_test(test_fixture_prefixes_in_bounds),
        cmocka_unit_test(test_decoys_text),
        cmocka_unit_test(test_decoys_binary),
        cmocka_unit_test(test_decoys_random),
        cmocka_unit_test(test_payload_sizes_and_bounds),
        cmocka_unit_test(test_payload_tls),
        cmocka_unit_test(test_payload_dns),
        cmocka_unit_test(test_payload_http),
        cmocka_unit_test(test_payload_ipp),
        cmocka_unit_test(test_payload_length_fields),
        cmocka_unit_test(test_list_parse),
        cmocka_unit_test(test_for_port),
        cmocka_unit_test(test_print_table),
        cmocka_unit_test(test_ipv6_payloads),
        cmocka_unit_test(test_find_matches_memmem),
        cmocka_unit_test(test_reply_headers),
    };
    return cmocka_run_group_tests(tests, load_fixtures, free_fixtures);
}
