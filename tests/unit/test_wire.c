/*
 * Unit tests for common/wire: envelopes round-trip through real ZeroMQ sockets (inproc and
 * CURVE over TCP with zauth), and malformed, oversized or foreign bytes become errors.
 */
#include "common/err.h"
#include "common/wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static lzr_record_t sample_record(uint32_t ip, uint16_t port)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(ip);
    r.port = port;
    r.source_ip = addr_ipv4(0xC6120101);
    r.cls = CLASS_SERVICE;
    strcpy(r.protocol, "http");
    strcpy(r.handshake, "http");
    r.handshakes_tried = 3;
    r.window = 64240;
    r.ttl_synack = 63;
    r.ttl_last = 62;
    r.synack_retransmits = 1;
    r.acked_data = true;
    r.rtt_us = 1234;
    r.ts_us = 1700000000123456ull;
    r.data_len = 5;
    memcpy(r.data, "HTTP/", 5);
    return r;
}

static void test_record_roundtrip(void **state)
{
    (void)state;
    lzr_record_t recs[3] = {sample_record(0xC6120203, 80), sample_record(0xC6120204, 8080),
                            sample_record(0xC6120205, 65535)};
    recs[2].cls = CLASS_ZERO_WINDOW;
    recs[2].data_len = LZR_DATA_MAX;
    memset(recs[2].data, 0xAB, LZR_DATA_MAX);
    Lzr__Record m[3], *mp[3];
    for (int i = 0; i < 3; i++) {
        wire_record_from(&m[i], &recs[i]);
        mp[i] = &m[i];
    }
    Lzr__ResultBatch b = LZR__RESULT_BATCH__INIT;
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = 7;
    lease.shard = 3;
    b.lease = &lease;
    b.seq = 42;
    b.n_records = 3;
    b.records = mp;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_BATCH;
    env.batch = &b;

    uint8_t *buf;
    size_t len;
    assert_int_equal(wire_pack(&env, &buf, &len), LZR_OK);
    char err[256];
    Lzr__Envelope *got = wire_unpack(buf, len, err, sizeof err);
    free(buf);
    assert_non_null(got);
    assert_int_equal(got->body_case, LZR__ENVELOPE__BODY_BATCH);
    assert_int_equal(got->batch->seq, 42);
    assert_int_equal(got->batch->lease->job_id, 7);
    assert_int_equal(got->batch->lease->shard, 3);
    assert_int_equal(got->batch->n_records, 3);
    for (int i = 0; i < 3; i++) {
        lzr_record_t r;
        assert_int_equal(wire_record_to(got->batch->records[i], &r, err, sizeof err), LZR_OK);
        assert_int_equal(r.ip.v4, recs[i].ip.v4);
        assert_int_equal(r.port, recs[i].port);
        assert_int_equal(r.source_ip.v4, recs[i].source_ip.v4);
        assert_int_equal(r.cls, recs[i].cls);
        assert_string_equal(r.protocol, recs[i].protocol);
        assert_string_equal(r.handshake, recs[i].handshake);
        assert_int_equal(r.handshakes_tried, 3);
        assert_int_equal(r.window, 64240);
        assert_int_equal(r.ttl_synack, 63);
        assert_int_equal(r.ttl_last, 62);
        assert_int_equal(r.synack_retransmits, 1);
        assert_true(r.acked_data);
        assert_int_equal(r.rtt_us, 1234);
        assert_int_equal(r.ts_us, 1700000000123456ull);
        assert_int_equal(r.data_len, recs[i].data_len);
        assert_memory_equal(r.data, recs[i].data, r.data_len);
    }
    wire_free(&got);
    assert_null(got);
}

/* wire_envelope sets the body of whichever case it is given, and the envelope encodes as that
 * case with that message. */
static void test_envelope_body(void **state)
{
    (void)state;
    Lzr__OkReply ok = LZR__OK_REPLY__INIT;
    ok.message = "fine";
    Lzr__Ack ack = LZR__ACK__INIT;
    ack.seq = 9;
    struct {
        Lzr__Envelope__BodyCase body;
        void *msg;
    } cases[] = {{LZR__ENVELOPE__BODY_OK, &ok}, {LZR__ENVELOPE__BODY_ACK, &ack}};
    for (size_t i = 0; i < 2; i++) {
        Lzr__Envelope env = wire_envelope(cases[i].body, cases[i].msg);
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(wire_pack(&env, &buf, &len), LZR_OK);
        char err[128];
        Lzr__Envelope *back = wire_unpack(buf, len, err, sizeof err);
        assert_non_null(back);
        assert_int_equal(back->body_case, cases[i].body);
        if (cases[i].body == LZR__ENVELOPE__BODY_OK)
            assert_string_equal(back->ok->message, "fine");
        else
            assert_int_equal(back->ack->seq, 9);
        wire_free(&back);
        free(buf);
    }
}

static void test_record_ranges(void **state)
{
    (void)state;
    lzr_record_t src = sample_record(1, 80), out;
    Lzr__Record m;
    char err[256];

    wire_record_from(&m, &src);
    m.port = 0;
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_ERANGE);
    assert_non_null(strstr(err, "port 0"));
    m.port = 70000;
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_ERANGE);

    wire_record_from(&m, &src);
    m.cls = CLASS_COUNT;
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_ERANGE);
    assert_non_null(strstr(err, "class"));

    wire_record_from(&m, &src);
    m.ttl_last = 256;
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_ERANGE);

    wire_record_from(&m, &src);
    m.protocol = "a-protocol-name-that-is-far-too-long";
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_ERANGE);
    assert_non_null(strstr(err, "protocol"));

    static uint8_t big[LZR_DATA_MAX + 1];
    wire_record_from(&m, &src);
    m.data.data = big;
    m.data.len = sizeof big;
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_ERANGE);
}

/* An IPv6 record travels in ip6 and source_ip6; a record that mixes the families, or whose
 * IPv6 fields are not 16 bytes, is refused. */
static void test_record_ipv6(void **state)
{
    (void)state;
    lzr_record_t src = sample_record(1, 80), out;
    assert_int_equal(addr_parse("2001:2::1:b", &src.ip), LZR_OK);
    assert_int_equal(addr_parse("2001:2::1", &src.source_ip), LZR_OK);
    Lzr__Record m;
    char err[256];
    wire_record_from(&m, &src);
    assert_int_equal(m.ip, 0);
    assert_int_equal(m.ip6.len, 16);
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_OK);
    assert_true(addr_equal(&out.ip, &src.ip));
    assert_true(addr_equal(&out.source_ip, &src.source_ip));
    assert_int_equal(out.port, 80);

    m.source_ip6.len = 0; /* an IPv6 target probed from an IPv4 scan IP */
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_EPROTO);
    assert_non_null(strstr(err, "mix families"));
    wire_record_from(&m, &src);
    m.ip6.len = 4;
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_EPROTO);
    wire_record_from(&m, &src);
    m.ip = 5; /* both families at once */
    assert_int_equal(wire_record_to(&m, &out, err, sizeof err), LZR_EPROTO);
}

static void test_unpack_rejects(void **state)
{
    (void)state;
    char err[256];
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
    assert_null(wire_unpack(garbage, sizeof garbage, err, sizeof err));
    assert_non_null(strstr(err, "not a valid"));

    /* A valid envelope without a body. */
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    uint8_t *buf;
    size_t len;
    assert_int_equal(wire_pack(&env, &buf, &len), LZR_OK);
    assert_null(wire_unpack(buf, len, err, sizeof err));
    assert_non_null(strstr(err, "no message"));
    free(buf);

    /* Another protocol version: pack, then patch the version byte (field 1, varint). */
    Lzr__Ack ack = LZR__ACK__INIT;
    ack.seq = 5;
    env.body_case = LZR__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    assert_int_equal(wire_pack(&env, &buf, &len), LZR_OK);
    assert_int_equal(buf[0], 0x08);
    assert_int_equal(buf[1], 1);
    buf[1] = 2;
    assert_null(wire_unpack(buf, len, err, sizeof err));
    assert_non_null(strstr(err, "version 2"));
    free(buf);

    /* Oversized input is refused before decoding. */
    size_t huge = LZR_WIRE_MAX_BYTES + 1;
    uint8_t *big = calloc(1, huge);
    assert_non_null(big);
    assert_null(wire_unpack(big, huge, err, sizeof err));
    assert_non_null(strstr(err, "exceeds"));
    free(big);
}

static void test_pack_oversized(void **state)
{
    (void)state;
    Lzr__SubmitRequest s = LZR__SUBMIT_REQUEST__INIT;
    size_t n = LZR_WIRE_MAX_BYTES + 10;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, 'x', n);
    text[n] = '\0';
    s.job_toml = text;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_SUBMIT;
    env.submit = &s;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(wire_pack(&env, &buf, &len), LZR_ERANGE);
    assert_null(buf);
    free(text);
}

static void test_router_dealer(void **state)
{
    (void)state;
    zsock_t *router = zsock_new_router("inproc://wire-test");
    zsock_t *dealer = zsock_new_dealer(">inproc://wire-test");
    assert_non_null(router);
    assert_non_null(dealer);
    zsock_set_rcvtimeo(router, 2000);
    zsock_set_rcvtimeo(dealer, 2000);
    char err[256];

    Lzr__Hello h = LZR__HELLO__INIT;
    h.name = "w1";
    h.scan_ip = 0xC6120102;
    uint32_t fresh[2] = {0xC6120103, 0xC6120104};
    h.n_fresh_ips = 2;
    h.fresh_ips = fresh;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    assert_int_equal(wire_send(dealer, NULL, &env, err, sizeof err), LZR_OK);

    /* Garbage from the same peer first: a frame of junk, then a three-frame message. */
    zstr_send(dealer, "garbage that is no protobuf \xff\xff\xff");
    zstr_sendx(dealer, "a", "b", "c", NULL);
    assert_int_equal(wire_send(dealer, NULL, &env, err, sizeof err), LZR_OK);

    zframe_t *id = NULL;
    Lzr__Envelope *got = NULL;
    char uid[41];
    assert_int_equal(wire_recv(router, &id, uid, &got, err, sizeof err), LZR_OK);
    assert_non_null(id);
    assert_string_equal(uid, "");
    assert_int_equal(got->body_case, LZR__ENVELOPE__BODY_HELLO);
    assert_string_equal(got->hello->name, "w1");
    assert_int_equal(got->hello->n_fresh_ips, 2);
    assert_int_equal(got->hello->fresh_ips[1], 0xC6120104);
    wire_free(&got);
    zframe_destroy(&id);

    assert_int_equal(wire_recv(router, &id, NULL, &got, err, sizeof err), LZR_EPROTO);
    assert_null(got);
    assert_non_null(id); /* the sender is still known, so it can be told */
    zframe_destroy(&id);
    assert_int_equal(wire_recv(router, &id, NULL, &got, err, sizeof err), LZR_EPROTO);
    assert_non_null(strstr(err, "frames"));
    zframe_destroy(&id);

    assert_int_equal(wire_recv(router, &id, NULL, &got, err, sizeof err), LZR_OK);
    assert_int_equal(got->body_case, LZR__ENVELOPE__BODY_HELLO);
    wire_free(&got);

    /* Reply through the routing id. */
    Lzr__Welcome w = LZR__WELCOME__INIT;
    w.heartbeat_ms = 2000;
    Lzr__Envelope reply = LZR__ENVELOPE__INIT;
    reply.body_case = LZR__ENVELOPE__BODY_WELCOME;
    reply.welcome = &w;
    assert_int_equal(wire_send(router, id, &reply, err, sizeof err), LZR_OK);
    zframe_destroy(&id);
    assert_int_equal(wire_recv(dealer, NULL, NULL, &got, err, sizeof err), LZR_OK);
    assert_int_equal(got->body_case, LZR__ENVELOPE__BODY_WELCOME);
    assert_int_equal(got->welcome->heartbeat_ms, 2000);
    wire_free(&got);

    zsock_destroy(&dealer);
    zsock_destroy(&router);
}

/* CURVE with zauth: a client whose certificate is in the allowed directory gets through and is
 * identified by its public key; a client with another key gets nothing through. */
static void test_curve_auth(void **state)
{
    (void)state;
    char dir[] = "/tmp/lzr-wire-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];

    zcert_t *server = zcert_new();
    zcert_t *good = zcert_new();
    zcert_t *bad = zcert_new();
    snprintf(path, sizeof path, "%s/good.key", dir);
    assert_int_equal(zcert_save_public(good, path), 0);

    zactor_t *auth = zactor_new(zauth, NULL);
    assert_non_null(auth);
    zstr_sendx(auth, "CURVE", dir, NULL);
    zsock_wait(auth);

    zsock_t *router = zsock_new(ZMQ_ROUTER);
    zcert_apply(server, router);
    zsock_set_curve_server(router, 1);
    zsock_set_zap_domain(router, "lzr");
    int port = zsock_bind(router, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    zsock_set_rcvtimeo(router, 1500);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);

    zsock_t *cg = zsock_new(ZMQ_DEALER);
    zcert_apply(good, cg);
    zsock_set_curve_serverkey(cg, zcert_public_txt(server));
    assert_int_equal(zsock_connect(cg, "%s", ep), 0);
    zsock_t *cb = zsock_new(ZMQ_DEALER);
    zcert_apply(bad, cb);
    zsock_set_curve_serverkey(cb, zcert_public_txt(server));
    assert_int_equal(zsock_connect(cb, "%s", ep), 0);

    Lzr__Ack ack = LZR__ACK__INIT;
    ack.seq = 1;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    char err[256];
    assert_int_equal(wire_send(cb, NULL, &env, err, sizeof err), LZR_OK);
    ack.seq = 2;
    assert_int_equal(wire_send(cg, NULL, &env, err, sizeof err), LZR_OK);

    zframe_t *id = NULL;
    Lzr__Envelope *got = NULL;
    char uid[41];
    assert_int_equal(wire_recv(router, &id, uid, &got, err, sizeof err), LZR_OK);
    assert_int_equal(got->ack->seq, 2);
    assert_string_equal(uid, zcert_public_txt(good));
    wire_free(&got);
    zframe_destroy(&id);
    /* Nothing from the refused client ever arrives. */
    assert_int_equal(wire_recv(router, &id, uid, &got, err, sizeof err), LZR_EIO);
    zframe_destroy(&id);

    zsock_destroy(&cg);
    zsock_destroy(&cb);
    zsock_destroy(&router);
    zactor_destroy(&auth);
    zcert_destroy(&server);
    zcert_destroy(&good);
    zcert_destroy(&bad);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_roundtrip), cmocka_unit_test(test_record_ranges),
        cmocka_unit_test(test_record_ipv6),      cmocka_unit_test(test_unpack_rejects),
        cmocka_unit_test(test_pack_oversized),   cmocka_unit_test(test_router_dealer),
        cmocka_unit_test(test_curve_auth),       cmocka_unit_test(test_envelope_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
