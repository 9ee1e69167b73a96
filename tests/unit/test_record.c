/*
 * Unit tests for common/record: class names both ways, and the exact JSON line for full,
 * empty and hostile records, including the buffer-size limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/record.h"

static void test_class_names(void **state)
{
    (void)state;
    assert_string_equal(record_class_name(CLASS_SERVICE), "service");
    assert_string_equal(record_class_name(CLASS_ZERO_WINDOW), "zero_window");
    assert_string_equal(record_class_name(CLASS_ACKING_FIREWALL), "acking_firewall");
    assert_string_equal(record_class_name(CLASS_SILENT), "silent");
    assert_string_equal(record_class_name(CLASS_COUNT), "invalid");
    assert_string_equal(record_class_name((lzr_class_t)-1), "invalid");

    for (int c = 0; c < CLASS_COUNT; c++) {
        lzr_class_t back = CLASS_COUNT;
        assert_int_equal(record_class_parse(record_class_name((lzr_class_t)c), &back), LZR_OK);
        assert_int_equal(back, c);
    }
    lzr_class_t out = CLASS_CLOSED;
    assert_int_equal(record_class_parse("Service", &out), LZR_EINVAL);
    assert_int_equal(record_class_parse("invalid", &out), LZR_EINVAL);
    assert_int_equal(record_class_parse("", &out), LZR_EINVAL);
    assert_int_equal(record_class_parse(NULL, &out), LZR_EINVAL);
    assert_int_equal(out, CLASS_CLOSED);
}

/* The ssh service of docs/output.md's example. */
static void ssh_record(lzr_record_t *rp)
{
    lzr_record_t r;
    memset(&r, 0, sizeof(r));
    r.ip = addr_ipv4(0xc6120a05); /* 198.18.10.5 */
    r.port = 2222;
    r.source_ip = addr_ipv4(0xc6130001); /* 198.19.0.1 */
    r.cls = CLASS_SERVICE;
    strcpy(r.protocol, "ssh");
    strcpy(r.handshake, "wait");
    r.handshakes_tried = 1;
    r.window = 64240;
    r.ttl_synack = 64;
    r.ttl_last = 63;
    r.synack_retransmits = 2;
    r.acked_data = true;
    r.rtt_us = 1234;
    r.ts_us = 1795595400123456ULL; /* 2026-11-25T08:30:00.123456Z */
    const char *banner = "SSH-2.0-OpenSSH_9.2\r\n";
    r.data_len = (uint16_t)strlen(banner);
    memcpy(r.data, banner, r.data_len);
    *rp = r;
}

static void test_full_record(void **state)
{
    (void)state;
    lzr_record_t r;
    ssh_record(&r);

    const char *want = "{\"ip\":\"198.18.10.5\",\"port\":2222,\"source_ip\":\"198.19.0.1\","
                       "\"class\":\"service\",\"protocol\":\"ssh\",\"handshake\":\"wait\","
                       "\"handshakes_tried\":1,\"window\":64240,\"ttl_synack\":64,\"ttl_last\":63,"
                       "\"synack_retransmits\":2,\"acked_data\":true,\"data_len\":21,"
                       "\"data\":\"U1NILTIuMC1PcGVuU1NIXzkuMg0K\",\"rtt_us\":1234,"
                       "\"ts\":\"2026-11-25T08:30:00.123456Z\"}";
    char buf[4096];
    size_t n = record_to_json(&r, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));

    /* Exactly enough room (length + NUL) works; one byte less fails and leaves "". */
    char *tight = malloc(n + 1);
    assert_non_null(tight);
    assert_int_equal(record_to_json(&r, tight, n + 1), n);
    assert_string_equal(tight, want);
    assert_int_equal(record_to_json(&r, tight, n), 0);
    assert_string_equal(tight, "");
    free(tight);
}

/* The date and time of day are kept from one record to the next while the second is the same:
 * a record of another second, and then one of the first again, must each get their own. */
static void test_timestamp_seconds(void **state)
{
    (void)state;
    static const struct {
        uint64_t ts_us;
        const char *text;
    } cases[] = {
        {1795595400123456ULL, "\"ts\":\"2026-11-25T08:30:00.123456Z\"}"},
        {1795595400999999ULL, "\"ts\":\"2026-11-25T08:30:00.999999Z\"}"},
        {1795595401000000ULL, "\"ts\":\"2026-11-25T08:30:01.000000Z\"}"},
        {951868799000007ULL, "\"ts\":\"2000-02-29T23:59:59.000007Z\"}"},
        {1795595400000001ULL, "\"ts\":\"2026-11-25T08:30:00.000001Z\"}"},
        {0, "\"ts\":\"1970-01-01T00:00:00.000000Z\"}"},
    };
    lzr_record_t r;
    ssh_record(&r);
    char buf[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r.ts_us = cases[i].ts_us;
        size_t n = record_to_json(&r, buf, sizeof(buf));
        assert_true(n > strlen(cases[i].text));
        assert_string_equal(buf + n - strlen(cases[i].text), cases[i].text);
    }
}

static void test_empty_record(void **state)
{
    (void)state;
    lzr_record_t r;
    memset(&r, 0, sizeof(r));
    r.cls = CLASS_SILENT;
    r.ts_us = 951868799000007ULL; /* leap day, 7 µs: checks zero padding */
    r.ip = addr_ipv4(0xffffffff);
    r.source_ip = addr_ipv4(0);
    char buf[4096];
    record_to_json(&r, buf, sizeof(buf));
    assert_string_equal(
        buf,
        "{\"ip\":\"255.255.255.255\",\"port\":0,\"source_ip\":\"0.0.0.0\",\"class\":\"silent\","
        "\"protocol\":\"\",\"handshake\":\"\",\"handshakes_tried\":0,\"window\":0,"
        "\"ttl_synack\":0,\"ttl_last\":0,\"synack_retransmits\":0,\"acked_data\":false,"
        "\"data_len\":0,\"data\":\"\",\"rtt_us\":0,\"ts\":\"2000-02-29T23:59:59.000007Z\"}");
}

static void test_escaping(void **state)
{
    (void)state;
    lzr_record_t r;
    memset(&r, 0, sizeof(r));
    r.cls = CLASS_CLOSED;
    strcpy(r.protocol, "a\"b\\c\n\x01\x7f\xc3");
    /* A full field without its NUL must stop at the field's end. */
    memset(r.handshake, 'h', sizeof(r.handshake));
    char buf[4096];
    record_to_json(&r, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\"protocol\":\"a\\\"b\\\\c\\n\\u0001\\u007f\\u00c3\","));
    assert_non_null(strstr(buf, "\"handshake\":\"hhhhhhhhhhhhhhhhhhhhhhhh\","));
}

static void test_worst_case_fits_4k(void **state)
{
    (void)state;
    lzr_record_t r;
    memset(&r, 0xff, sizeof(r));
    r.acked_data = true; /* 0xff is not a valid bool */
    r.cls = CLASS_COUNT; /* invalid class still writes a line */
    r.data_len = LZR_DATA_MAX;
    r.ts_us = 253402300799999999ULL; /* 9999-12-31T23:59:59.999999Z */
    char buf[4096];
    size_t n = record_to_json(&r, buf, sizeof(buf));
    assert_true(n > 1368 && n < sizeof(buf));
    assert_non_null(strstr(buf, "\"class\":\"invalid\""));
    assert_non_null(strstr(buf, "\"data_len\":1024,"));
    assert_non_null(strstr(buf, "\"ts\":\"9999-12-31T23:59:59.999999Z\"}"));
    assert_non_null(strstr(buf, "\"data\":\"//////"));
    /* As an LZR-Go record every data byte is an invalid UTF-8 byte, written \ufffd: the longest
     * line there is, which LZR_LZRGO_MAX holds. */
    r.cls = CLASS_SERVICE;
    char go[LZR_LZRGO_MAX];
    n = record_to_lzrgo(&r, go, sizeof go);
    assert_true(n > 6 * LZR_DATA_MAX && n < sizeof go);
}

/* The ZGrab2 line of the worker's --format zgrab2 and the coordinator's export. */
static void test_zgrab2_line(void **state)
{
    (void)state;
    lzr_record_t r;
    memset(&r, 0, sizeof(r));
    r.ip = addr_ipv4(0xc6120a05);
    r.port = 2222;
    r.cls = CLASS_SERVICE;
    strcpy(r.protocol, "memcached_ascii");
    char buf[64];
    assert_int_equal(record_to_zgrab2(&r, buf, sizeof buf),
                     strlen("198.18.10.5,,memcached_ascii,2222"));
    assert_string_equal(buf, "198.18.10.5,,memcached_ascii,2222");
    /* Too small a buffer writes nothing. */
    assert_int_equal(record_to_zgrab2(&r, buf, 10), 0);
    assert_string_equal(buf, "");
    /* A label that would break the CSV is made harmless. */
    strcpy(r.protocol, "a,b\n");
    assert_true(record_to_zgrab2(&r, buf, sizeof buf) > 0);
    assert_string_equal(buf, "198.18.10.5,,a_b_,2222");
    /* Only services with a known protocol are handed on. */
    strcpy(r.protocol, "unknown");
    assert_int_equal(record_to_zgrab2(&r, buf, sizeof buf), 0);
    strcpy(r.protocol, "ssh");
    r.cls = CLASS_ZERO_WINDOW;
    assert_int_equal(record_to_zgrab2(&r, buf, sizeof buf), 0);
}

/* A golden LZR-Go record: the field names, order and values LZR-Go writes for a service. */
/* An IPv6 record's addresses are written in RFC 5952 text in every layout. */
static void test_ipv6_text(void **state)
{
    (void)state;
    lzr_record_t r;
    ssh_record(&r);
    assert_int_equal(addr_parse("2001:2:0:0:0:0:1:b", &r.ip), LZR_OK);
    assert_int_equal(addr_parse("2001:2::1", &r.source_ip), LZR_OK);
    char buf[LZR_LZRGO_MAX];
    assert_true(record_to_json(&r, buf, sizeof buf) > 0);
    assert_non_null(
        strstr(buf, "{\"ip\":\"2001:2::1:b\",\"port\":2222,\"source_ip\":\"2001:2::1\","));
    assert_true(record_to_zgrab2(&r, buf, sizeof buf) > 0);
    assert_string_equal(buf, "2001:2::1:b,,ssh,2222");
    assert_true(record_to_lzrgo(&r, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "{\"saddr\":\"2001:2::1:b\",\"daddr\":\"2001:2::1\","));
}

static void test_lzrgo_golden(void **state)
{
    (void)state;
    lzr_record_t r;
    ssh_record(&r); /* the target 198.18.10.5 is LZR-Go's saddr, the scanner 198.19.0.1 daddr */
    const char *want =
        "{\"saddr\":\"198.18.10.5\",\"daddr\":\"198.19.0.1\",\"sport\":2222,\"dport\":0,"
        "\"seqnum\":0,\"acknum\":0,\"window\":64240,\"ttl\":63,\"Counter\":0,\"ACK\":true,"
        "\"ACKed\":true,\"SYN\":false,\"RST\":false,\"FIN\":false,\"PUSH\":true,"
        "\"HandshakeNum\":0,\"fingerprint\":\"ssh\",\"Timestamp\":\"2026-11-25T08:30:00.123456Z\","
        "\"data\":\"SSH-2.0-OpenSSH_9.2\\r\\n\"}";
    char buf[LZR_LZRGO_MAX];
    assert_int_equal(record_to_lzrgo(&r, buf, sizeof buf), strlen(want));
    assert_string_equal(buf, want);
    /* Too small a buffer writes nothing. */
    assert_int_equal(record_to_lzrgo(&r, buf, strlen(want)), 0);
    assert_string_equal(buf, "");

    /* Data as Go's encoding/json writes a string: UTF-8 kept, bad bytes U+FFFD, HTML and
     * control characters escaped. */
    const uint8_t odd[] = {'<', 'a', '&', '>', 0x00, 0xc3, 0xa9, 0xff, 0xe2, 0x80, 0xa8, '"', '\\'};
    memcpy(r.data, odd, sizeof odd);
    r.data_len = sizeof odd;
    r.handshakes_tried = 3;
    strcpy(r.protocol, "unknown");
    r.ts_us = 1795595400000000ULL; /* a whole second: no fraction, as Go writes it */
    assert_true(record_to_lzrgo(&r, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"HandshakeNum\":2,\"fingerprint\":\"unknown\","
                                "\"Timestamp\":\"2026-11-25T08:30:00Z\","
                                "\"data\":\"\\u003ca\\u0026\\u003e\\u0000\xc3\xa9\\ufffd\\u2028"
                                "\\\"\\\\\"}"));

    /* A middlebox: no data, fingerprint unknown, the SYN-ACK the last packet seen. */
    memset(&r, 0, sizeof(r));
    r.ip = addr_ipv4(0xc6120a06);
    r.source_ip = addr_ipv4(0xc6130001);
    r.port = 443;
    r.cls = CLASS_ZERO_WINDOW;
    r.ttl_synack = 61;
    r.ts_us = 1795595400100000ULL;
    assert_true(record_to_lzrgo(&r, buf, sizeof buf) > 0);
    assert_string_equal(buf, "{\"saddr\":\"198.18.10.6\",\"daddr\":\"198.19.0.1\",\"sport\":443,"
                             "\"dport\":0,\"seqnum\":0,\"acknum\":0,\"window\":0,\"ttl\":61,"
                             "\"Counter\":0,\"ACK\":true,\"ACKed\":false,\"SYN\":true,"
                             "\"RST\":false,\"FIN\":false,\"PUSH\":false,\"HandshakeNum\":0,"
                             "\"fingerprint\":\"unknown\","
                             "\"Timestamp\":\"2026-11-25T08:30:00.1Z\"}");
    r.cls = CLASS_ACKING_FIREWALL;
    assert_true(record_to_lzrgo(&r, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"fingerprint\":\"unknown\""));
    assert_non_null(strstr(buf, ",\"ackingFirewall\":true}"));
    r.cls = CLASS_RST_AFTER_HANDSHAKE;
    assert_true(record_to_lzrgo(&r, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\"SYN\":false,\"RST\":true,\"FIN\":false"));
    /* Targets that never SYN-ACKed are not LZR-Go records. */
    r.cls = CLASS_CLOSED;
    assert_int_equal(record_to_lzrgo(&r, buf, sizeof buf), 0);
    r.cls = CLASS_SILENT;
    assert_int_equal(record_to_lzrgo(&r, buf, sizeof buf), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_names),       cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_timestamp_seconds), cmocka_unit_test(test_empty_record),
        cmocka_unit_test(test_escaping),          cmocka_unit_test(test_worst_case_fits_4k),
        cmocka_unit_test(test_zgrab2_line),       cmocka_unit_test(test_lzrgo_golden),
        cmocka_unit_test(test_ipv6_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
