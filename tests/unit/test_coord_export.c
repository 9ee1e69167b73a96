/*
 * Unit tests for coordinator/export: the exact lines `lzr-coord results` writes in each format,
 * which records the ZGrab2 format skips, and that odd names cannot break a CSV line.
 */
#include "common/err.h"
#include "coordinator/export.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static lzr_record_t rec(void)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(0xC6121010); /* 198.18.16.16 */
    r.port = 8080;
    r.source_ip = addr_ipv4(0xC612000B);
    r.cls = CLASS_SERVICE;
    strcpy(r.protocol, "http");
    strcpy(r.handshake, "http");
    r.handshakes_tried = 3;
    r.window = 64240;
    r.ttl_synack = 63;
    r.ttl_last = 63;
    r.acked_data = true;
    r.rtt_us = 250;
    r.ts_us = 1000000;
    r.data_len = 4;
    memcpy(r.data, "HTTP", 4);
    return r;
}

/* Runs one export into a memory stream and returns what was written (caller frees). */
static char *run(export_format_t fmt, const lzr_record_t *r, const char *worker,
                 const char *verdict, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    export_header(f, fmt);
    *rc = export_record_verdict(f, fmt, r, worker, verdict);
    fclose(f);
    return buf;
}

static void test_formats_parse(void **state)
{
    (void)state;
    export_format_t f;
    assert_int_equal(export_format_parse("jsonl", &f), LZR_OK);
    assert_int_equal(f, EXPORT_JSONL);
    assert_int_equal(export_format_parse("csv", &f), LZR_OK);
    assert_int_equal(f, EXPORT_CSV);
    assert_int_equal(export_format_parse("zgrab2", &f), LZR_OK);
    assert_int_equal(f, EXPORT_ZGRAB2);
    assert_int_equal(export_format_parse("lzr-go", &f), LZR_OK);
    assert_int_equal(f, EXPORT_LZRGO);
    assert_int_equal(export_format_parse("xml", &f), LZR_EINVAL);
}

static void test_zgrab2(void **state)
{
    (void)state;
    lzr_record_t r = rec();
    int rc;
    char *out = run(EXPORT_ZGRAB2, &r, "v1", NULL, &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(out, "198.18.16.16,,http,8080\n");
    free(out);
    strcpy(r.protocol, "unknown");
    out = run(EXPORT_ZGRAB2, &r, "v1", NULL, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "");
    free(out);
    r = rec();
    r.cls = CLASS_ZERO_WINDOW;
    out = run(EXPORT_ZGRAB2, &r, "v1", NULL, &rc);
    assert_int_equal(rc, 0);
    free(out);
}

/* A golden LZR-Go record from `lzr-coord results --format lzr-go`: the same line as the worker's
 * --format lzr-go, without lzr's own fields. */
static void test_lzrgo(void **state)
{
    (void)state;
    lzr_record_t r = rec();
    int rc;
    char *out = run(EXPORT_LZRGO, &r, "v1", "shunning", &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(out, "{\"saddr\":\"198.18.16.16\",\"daddr\":\"198.18.0.11\",\"sport\":8080,"
                             "\"dport\":0,\"seqnum\":0,\"acknum\":0,\"window\":64240,\"ttl\":63,"
                             "\"Counter\":0,\"ACK\":true,\"ACKed\":true,\"SYN\":false,"
                             "\"RST\":false,\"FIN\":false,\"PUSH\":true,\"HandshakeNum\":2,"
                             "\"fingerprint\":\"http\",\"Timestamp\":\"1970-01-01T00:00:01Z\","
                             "\"data\":\"HTTP\"}\n");
    free(out);
    r.cls = CLASS_SILENT;
    out = run(EXPORT_LZRGO, &r, "v1", NULL, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "");
    free(out);
    /* Verdicts have no LZR-Go form. */
    FILE *f = fopen("/dev/null", "w");
    lzr_addr_t a1 = addr_ipv4(1), a2 = addr_ipv4(2), a3 = addr_ipv4(3);
    assert_int_equal(export_verdict(f, EXPORT_LZRGO, &a1, 80, "shunning", &a2, &a3, "{}"),
                     LZR_EINVAL);
    fclose(f);
}

static void test_csv(void **state)
{
    (void)state;
    lzr_record_t r = rec();
    int rc;
    char *out = run(EXPORT_CSV, &r, "v1", NULL, &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(out, "ip,port,class,protocol,handshake,handshakes_tried,window,ttl_synack,"
                             "ttl_last,synack_retransmits,acked_data,rtt_us,ts_us,source_ip,"
                             "worker,data,verdict\n"
                             "198.18.16.16,8080,service,http,http,3,64240,63,63,0,1,250,1000000,"
                             "198.18.0.11,v1,SFRUUA==,\n");
    free(out);
    /* A verified host's row ends with its verdict. */
    out = run(EXPORT_CSV, &r, "v1", "shunning", &rc);
    assert_non_null(strstr(out, ",v1,SFRUUA==,shunning\n"));
    free(out);
    /* A hostile protocol label or worker name cannot add columns or lines. */
    strcpy(r.protocol, "a,b\n\"c");
    out = run(EXPORT_CSV, &r, "w,1\n", NULL, &rc);
    char *line2 = strchr(out, '\n') + 1;
    assert_non_null(strstr(line2, ",a_b__c,"));
    assert_non_null(strstr(line2, ",w_1_,"));
    assert_ptr_equal(strchr(line2, '\n'), line2 + strlen(line2) - 1);
    size_t commas = 0;
    for (char *p = line2; *p; p++)
        commas += *p == ',';
    assert_int_equal(commas, 16);
    free(out);
}

static void test_jsonl(void **state)
{
    (void)state;
    lzr_record_t r = rec();
    int rc;
    char *out = run(EXPORT_JSONL, &r, "v2", NULL, &rc);
    assert_int_equal(rc, 1);
    char json[4096];
    size_t n = record_to_json(&r, json, sizeof json);
    assert_true(n > 2);
    /* The worker's own JSON, with the worker's name as the last field. */
    assert_memory_equal(out, json, n - 1);
    assert_string_equal(out + n - 1, ",\"worker\":\"v2\"}\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_parse), cmocka_unit_test(test_zgrab2),
        cmocka_unit_test(test_lzrgo),         cmocka_unit_test(test_csv),
        cmocka_unit_test(test_jsonl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
