/*
 * Unit tests for coordinator/report on a store filled by the test: per-port class shares
 * among SYN-ACKing pairs with the protocols found, the protocol table against IANA ports
 * ("only 25% of HTTP on port 80"), verdict counts, the block table with a known /24, an
 * SVG that is one well-formed document with a bar per port, and the AS section from a
 * prefix-to-AS table (ASes per behaviour, the share of ASes with a middlebox); a job of both
 * families gets an IPv6 block table and IPv6 blocks in every output, never merged with IPv4's and
 * never attributed to an AS.
 */
#include "common/err.h"
#include "coordinator/pfx2as.h"
#include "coordinator/report.h"
#include "coordinator/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static lzr_record_t rec(uint32_t ip, uint16_t port, lzr_class_t cls, const char *proto)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(ip);
    r.port = port;
    r.cls = cls;
    r.source_ip = addr_ipv4(IP(198, 18, 0, 11));
    snprintf(r.protocol, sizeof r.protocol, "%s", proto ? proto : "");
    return r;
}

static char *run(report_t *r, bool svg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(svg ? report_svg(r, f) : report_text(r, f), LZR_OK);
    fclose(f);
    return buf;
}

/* A store in a new directory under /tmp (its path in dir) holding one job, whose id goes to *job.
 */
static store_t *store_with_job(char *dir, uint64_t *job)
{
    char path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/lzr.db", dir);
    store_t *s = store_open(path, err, sizeof err);
    assert_non_null(s);
    store_job_t j;
    memset(&j, 0, sizeof j);
    snprintf(j.name, sizeof j.name, "rep");
    snprintf(j.filename, sizeof j.filename, "job.toml");
    j.toml = "";
    snprintf(j.key_hex, sizeof j.key_hex, "00112233445566778899aabbccddeeff");
    j.n_shards = 1;
    j.size = 1;
    j.perm = (perm_params_t){.size = 1, .prime = 2, .generator = 1, .start = 1};
    assert_int_equal(store_job_insert(s, &j, job, err, sizeof err), LZR_OK);
    return s;
}

static void store_remove(store_t **s, const char *dir)
{
    store_close(s);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_report(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-report-XXXXXX", err[256];
    uint64_t job;
    store_t *s = store_with_job(dir, &job);

    static lzr_record_t recs[400];
    size_t n = 0;
    /* HTTP on 80 once and on 8080 three times; TLS on 443; a closed port */
    recs[n++] = rec(IP(10, 0, 0, 1), 80, CLASS_SERVICE, "http");
    recs[n++] = rec(IP(10, 0, 0, 1), 22, CLASS_CLOSED, NULL);
    recs[n++] = rec(IP(10, 0, 0, 2), 8080, CLASS_SERVICE, "http");
    recs[n++] = rec(IP(10, 0, 0, 3), 8080, CLASS_SERVICE, "http");
    recs[n++] = rec(IP(10, 0, 0, 4), 8080, CLASS_SERVICE, "http");
    recs[n++] = rec(IP(10, 0, 0, 5), 443, CLASS_SERVICE, "tls");
    /* a zero-window /24 on port 80: 80 gets 1 service of 257 SYN-ACKing pairs */
    for (int i = 0; i < 256; i++)
        recs[n++] = rec(IP(10, 0, 1, i), 80, CLASS_ZERO_WINDOW, NULL);
    /* a shunning host (verdict) and a no_ack_data host (transient) */
    recs[n++] = rec(IP(10, 0, 2, 7), 80, CLASS_LOST_AFTER_SYNACK, NULL);
    recs[n++] = rec(IP(10, 0, 2, 9), 80, CLASS_NO_ACK_DATA, NULL);
    recs[n++] = rec(IP(10, 0, 2, 200), 80, CLASS_SILENT, NULL);
    assert_int_equal(store_put_batch(s, job, 0, "v1", recs, n, err, sizeof err), LZR_OK);
    store_verdict_t v[2] = {
        {.ip = {ADDR_IPV4, {IP(10, 0, 2, 7)}}, .port = 80, .verdict = "shunning", .evidence = "{}"},
        {.ip = {ADDR_IPV4, {IP(10, 0, 2, 9)}},
         .port = 80,
         .verdict = "transient",
         .evidence = "{}"},
    };
    assert_int_equal(store_verdicts_put(s, job, v, 2, err, sizeof err), LZR_OK);

    report_t *r = report_build(s, job, err, sizeof err);
    assert_non_null(r);
    assert_null(report_build(s, job + 1, err, sizeof err));
    assert_non_null(strstr(err, "no job"));
    char *text = run(r, false);
    /* port 80: 259 SYN-ACKing pairs (silent and closed are not), 1 service */
    assert_non_null(strstr(text, "\n80          259    0.4%"));
    assert_non_null(strstr(text, "http:1"));
    assert_non_null(strstr(text, "\n8080          3  100.0%"));
    assert_non_null(strstr(text, "http:3"));
    assert_null(strstr(text, "\n22 ")); /* only closed: no SYN-ACKing pair */
    assert_non_null(
        strstr(text, "\nhttp                      4     80        1   25.0%  8080:3\n"));
    assert_non_null(strstr(text, "only 25% of HTTP on port 80"));
    assert_null(strstr(text, "of TLS on port 443")); /* all on its port: nothing to say */
    assert_non_null(strstr(text, "  shunning           1\n"));
    assert_non_null(strstr(text, "  transient          1\n"));
    /* blocks: 10.0.0.1-5 service, 10.0.1.0/24 zero_window, 10.0.2.7 shunning, 10.0.2.9
     * no_ack_data (transient names no behaviour); 10.0.2.200 answered nothing */
    assert_non_null(strstr(text, "\nzero_window                256       1        0        0"
                                 "        1        0\n"));
    assert_non_null(strstr(text, "\nservice                      5       1        0        1"));
    assert_non_null(strstr(text, "\nshunning                     1       1        1"));
    assert_non_null(strstr(text, "\nno_ack_data                  1       1        1"));
    assert_null(strstr(text, "\nsilent "));
    assert_non_null(strstr(text, "10.0.1.0 - 10.0.1.255  256 addresses (/24)  zero_window"));
    free(text);

    char *svg = run(r, true);
    assert_true(strncmp(svg, "<?xml", 5) == 0);
    assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(svg, "</svg>\n"));
    assert_non_null(strstr(svg, "port 80: zero_window 256 of 259"));
    assert_non_null(strstr(svg, "zero_window: 1 block(s) of size /24"));
    assert_null(strstr(svg, "by AS"));
    free(svg);
    text = run(r, false);
    assert_null(strstr(text, "ASes")); /* no AS section without a pfx2as table */
    free(text);

    /* AS attribution: the service hosts 10.0.0.1-3 in one AS (.4 and .5 in no prefix), the
     * zero-window /24 split between two, the shunning host's /24 in a fourth, the no_ack_data
     * host in a fifth by a more specific /32; one AS of the file has no host. */
    const char *p2a = "# test ranges\n"
                      "10.0.0.0\t30\t64496\n"
                      "10.0.1.0\t25\t64497\n"
                      "10.0.1.128\t25\t64498_64499\n"
                      "10.0.2.0\t24\t64500\n"
                      "10.0.2.9\t32\t64501\n"
                      "192.0.2.0\t24\t64510\n";
    pfx2as_t *t = pfx2as_parse(p2a, strlen(p2a), "lab.txt", err, sizeof err);
    assert_non_null(t);
    assert_int_equal(report_attribute(r, t, "lab.txt"), LZR_OK);
    pfx2as_free(&t); /* the report keeps its own copies */
    text = run(r, false);
    assert_non_null(strstr(text, "ASes (longest-prefix match in lab.txt: 6 prefixes, 6 ASes)\n"));
    assert_non_null(strstr(text, "  261 hosts in 5 ASes; 2 hosts in no prefix\n"));
    assert_non_null(strstr(text, "  ASes with at least one middlebox: 4 of 5 (80.0%)\n"));
    assert_non_null(strstr(text, "\nzero_window                256     2  AS64497:128 "
                                 "AS64498_64499:128\n"));
    assert_non_null(strstr(text, "\nservice                      3     1  AS64496:3\n"));
    assert_non_null(strstr(text, "\nshunning                     1     1  AS64500:1\n"));
    assert_non_null(strstr(text, "\nno_ack_data                  1     1  AS64501:1\n"));
    free(text);
    svg = run(r, true);
    assert_non_null(strstr(svg, "addresses: 5 ASes, 4 with at least one middlebox (80.0%)"));
    assert_non_null(strstr(svg, "<title>zero_window: AS64498_64499 128 of 256 addresses</title>"));
    assert_non_null(strstr(svg, "width=\"230.0\" height=\"18\" fill=\"#d95f02\">"
                                "<title>zero_window: AS64498_64499"));
    assert_non_null(strstr(svg, ">256 addresses in 2 ASes</text>"));
    assert_non_null(strstr(svg, ">3 addresses in 1 AS</text>"));
    assert_non_null(strstr(svg, "</svg>\n"));
    free(svg);
    assert_true(report_is_middlebox("zero_window"));
    assert_true(report_is_middlebox("shunning"));
    assert_true(report_is_middlebox("mixed"));
    assert_false(report_is_middlebox("service"));
    assert_false(report_is_middlebox("closed"));
    assert_false(report_is_middlebox("churn"));
    report_free(&r);
    assert_null(r);
    store_remove(&s, dir);
}

/* A discovery-only job stores "open" records (a SYN-ACK, no handshake tried): the text table
 * gives them a column labelled from the class list, and the SVG a bar segment. */
static void test_open_records(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-report-XXXXXX", err[256];
    uint64_t job;
    store_t *s = store_with_job(dir, &job);
    lzr_record_t recs[4] = {
        rec(IP(10, 0, 0, 1), 80, CLASS_OPEN, NULL),
        rec(IP(10, 0, 0, 2), 80, CLASS_OPEN, NULL),
        rec(IP(10, 0, 0, 3), 80, CLASS_OPEN, NULL),
        rec(IP(10, 0, 0, 4), 80, CLASS_SERVICE, "http"),
    };
    assert_int_equal(store_put_batch(s, job, 0, "v1", recs, 4, err, sizeof err), LZR_OK);
    report_t *r = report_build(s, job, err, sizeof err);
    assert_non_null(r);
    char *text = run(r, false);
    assert_null(strstr(text, "(null)"));
    assert_non_null(strstr(text, "\nport     synack service    open  protocols\n"));
    assert_non_null(strstr(text, "\n80            4   25.0%   75.0%  http:1\n"));
    assert_non_null(strstr(text, "columns: service=service open=open\n"));
    free(text);
    char *svg = run(r, true);
    assert_null(strstr(svg, "(null)"));
    assert_non_null(strstr(svg, "port 80: open 3 of 4"));
    free(svg);
    report_free(&r);
    store_remove(&s, dir);
}

/* A record of the IPv6 host base + off (off added to the last byte pair). */
static lzr_record_t rec6(const char *base, unsigned off, uint16_t port, lzr_class_t cls,
                         const char *proto)
{
    lzr_record_t r = rec(0, port, cls, proto);
    assert_int_equal(addr_parse(base, &r.ip), LZR_OK);
    unsigned low = (unsigned)(r.ip.v6[14] << 8 | r.ip.v6[15]) + off;
    r.ip.v6[14] = (uint8_t)(low >> 8);
    r.ip.v6[15] = (uint8_t)low;
    assert_int_equal(addr_parse("2001:2::11", &r.source_ip), LZR_OK);
    return r;
}

/* IPv4 service 198.18.0.1; IPv6: a service 2001:2::c612:2 (its last 32 bits read 198.18.0.2), a
 * zero-window run 2001:2:0:1::100-1ff and two lost_after_synack hosts 2001:2:0:1::1:0-1. */
static void test_report_ipv6(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-report-XXXXXX", err[256];
    uint64_t job;
    store_t *s = store_with_job(dir, &job);
    static lzr_record_t recs[300];
    size_t n = 0;
    recs[n++] = rec(IP(198, 18, 0, 1), 80, CLASS_SERVICE, "http");
    recs[n++] = rec6("2001:2::c612:2", 0, 80, CLASS_SERVICE, "http");
    for (unsigned i = 0; i < 256; i++)
        recs[n++] = rec6("2001:2:0:1::100", i, 80, CLASS_ZERO_WINDOW, NULL);
    recs[n++] = rec6("2001:2:0:1::1:0", 0, 80, CLASS_LOST_AFTER_SYNACK, NULL);
    recs[n++] = rec6("2001:2:0:1::1:0", 1, 80, CLASS_LOST_AFTER_SYNACK, NULL);
    assert_int_equal(store_put_batch(s, job, 0, "v1", recs, n, err, sizeof err), LZR_OK);
    report_t *r = report_build(s, job, err, sizeof err);
    assert_non_null(r);
    char *text = run(r, false);
    assert_null(strstr(text, "Blocks of consecutive addresses"));
    const char *t4 = strstr(text, "Blocks of consecutive IPv4 addresses with the same behaviour\n"
                                  "behaviour            addresses  blocks      /32  /31-/25"
                                  "      /24   larger\n"
                                  "service                      1       1        1        0"
                                  "        0        0\n");
    assert_non_null(t4);
    const char *t6 = strstr(text, "Blocks of consecutive IPv6 addresses with the same behaviour\n"
                                  "behaviour            addresses  blocks      /128 /127-/121"
                                  "      /120    larger\n"
                                  "zero_window                256       1         0         0"
                                  "         1         0\n"
                                  "lost_after_synack            2       1         0         1"
                                  "         0         0\n"
                                  "service                      1       1         1         0"
                                  "         0         0\n");
    assert_non_null(t6);
    assert_true(t4 < t6);
    assert_non_null(strstr(text, "largest blocks:\n"
                                 "  2001:2:0:1::100 - 2001:2:0:1::1ff  256 addresses (/120)  "
                                 "zero_window\n"
                                 "  2001:2:0:1::1:0 - 2001:2:0:1::1:1  2 addresses (/127-/121)  "
                                 "lost_after_synack\n"));
    free(text);
    char *svg = run(r, true);
    assert_non_null(strstr(svg, "<title>service: 1 block(s) of size /32</title>"));
    assert_non_null(strstr(svg, "<title>service (IPv6): 1 block(s) of size /128</title>"));
    assert_non_null(strstr(svg, "<title>zero_window (IPv6): 1 block(s) of size /120</title>"));
    assert_non_null(strstr(svg, ">lost_after_synack (IPv6)</text>"));
    assert_non_null(strstr(svg, ">IPv6</text>\n<rect"));
    assert_non_null(strstr(svg, ">/127-/121</text>"));
    assert_non_null(strstr(svg, ">/31-/25</text>"));
    free(svg);

    /* the AS table is IPv4: the IPv6 hosts are counted aside and in no behaviour's ASes, even
     * though their low 32 bits fall in its prefix */
    const char *p2a = "198.18.0.0\t15\t64496\n";
    pfx2as_t *t = pfx2as_parse(p2a, strlen(p2a), "lab.txt", err, sizeof err);
    assert_non_null(t);
    assert_int_equal(report_attribute(r, t, "lab.txt"), LZR_OK);
    pfx2as_free(&t);
    text = run(r, false);
    const char *as = strstr(text, "ASes (longest-prefix match in lab.txt: 1 prefixes, 1 ASes)\n"
                                  "  1 hosts in 1 ASes; 0 hosts in no prefix\n"
                                  "  259 IPv6 hosts not looked up (the table is IPv4)\n");
    assert_non_null(as);
    assert_non_null(strstr(as, "\nservice                      1     1  AS64496:1\n  middlebox"));
    assert_null(strstr(as, "zero_window"));
    free(text);
    svg = run(r, true);
    assert_non_null(strstr(svg, "addresses: 1 ASes, 0 with at least one middlebox (0.0%)"));
    assert_null(strstr(svg, "<title>zero_window: AS"));
    assert_non_null(strstr(svg, "</svg>\n"));
    free(svg);
    report_free(&r);
    store_remove(&s, dir);
}

/* A job of IPv6 hosts only has no IPv4 block table. */
static void test_report_ipv6_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-report-XXXXXX", err[256];
    uint64_t job;
    store_t *s = store_with_job(dir, &job);
    lzr_record_t recs[2] = {
        rec6("2001:2::ffff", 0, 443, CLASS_SERVICE, "tls"),
        rec6("2001:2::1:0", 0, 443, CLASS_SERVICE, "tls"),
    };
    assert_int_equal(store_put_batch(s, job, 0, "v1", recs, 2, err, sizeof err), LZR_OK);
    report_t *r = report_build(s, job, err, sizeof err);
    assert_non_null(r);
    char *text = run(r, false);
    assert_null(strstr(text, "/32"));
    assert_null(strstr(text, "IPv4"));
    assert_non_null(strstr(text, "\nservice                      2       1         0         1"));
    assert_non_null(
        strstr(text, "  2001:2::ffff - 2001:2::1:0  2 addresses (/127-/121)  service\n"));
    free(text);
    report_free(&r);
    store_remove(&s, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_open_records),
        cmocka_unit_test(test_report_ipv6),
        cmocka_unit_test(test_report_ipv6_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
