/*
 * wire: protobuf-c encoding of envelopes plus their ZeroMQ framing. Limits are enforced before
 * protobuf-c sees the bytes, and again on every record converted into an lzr_record_t.
 */
#include "wire.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wire_pack(Lzr__Envelope *env, uint8_t **out, size_t *len)
{
    env->version = LZR__PROTOCOL_VERSION__PROTOCOL_VERSION_1;
    size_t n = lzr__envelope__get_packed_size(env);
    if (n > LZR_WIRE_MAX_BYTES)
        return LZR_ERANGE;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return LZR_ENOMEM;
    *len = lzr__envelope__pack(env, buf);
    *out = buf;
    return LZR_OK;
}

Lzr__Envelope *wire_unpack(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    if (len > LZR_WIRE_MAX_BYTES) {
        snprintf(err, errlen, "message of %zu bytes exceeds the limit of %u", len,
                 LZR_WIRE_MAX_BYTES);
        return NULL;
    }
    Lzr__Envelope *env = lzr__envelope__unpack(NULL, len, buf);
    if (!env) {
        snprintf(err, errlen, "message of %zu bytes is not a valid lzr envelope", len);
        return NULL;
    }
    if (env->version != LZR__PROTOCOL_VERSION__PROTOCOL_VERSION_1) {
        snprintf(err, errlen, "protocol version %d is not supported (this side speaks 1)",
                 (int)env->version);
        lzr__envelope__free_unpacked(env, NULL);
        return NULL;
    }
    if (env->body_case == LZR__ENVELOPE__BODY__NOT_SET) {
        snprintf(err, errlen, "envelope carries no message");
        lzr__envelope__free_unpacked(env, NULL);
        return NULL;
    }
    return env;
}

void wire_free(Lzr__Envelope **env)
{
    if (env && *env) {
        lzr__envelope__free_unpacked(*env, NULL);
        *env = NULL;
    }
}

int wire_send_raw(zsock_t *sock, zframe_t *routing_id, const uint8_t *buf, size_t len)
{
    void *s = zsock_resolve(sock);
    if (routing_id) {
        if (zmq_send(s, zframe_data(routing_id), zframe_size(routing_id), ZMQ_SNDMORE) < 0)
            return LZR_EIO;
    }
    if (zmq_send(s, buf, len, 0) < 0)
        return LZR_EIO;
    return LZR_OK;
}

Lzr__Envelope wire_envelope(Lzr__Envelope__BodyCase body, void *msg)
{
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = body;
    env.hello = msg; /* the body's members are one union of pointers: any member sets it */
    return env;
}

int wire_send(zsock_t *sock, zframe_t *routing_id, Lzr__Envelope *env, char *err, size_t errlen)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = wire_pack(env, &buf, &len);
    if (rc != LZR_OK) {
        snprintf(err, errlen, "cannot encode %s: %s", wire_body_name(env->body_case),
                 lzr_strerror(rc));
        return rc;
    }
    rc = wire_send_raw(sock, routing_id, buf, len);
    if (rc != LZR_OK)
        snprintf(err, errlen, "cannot send %s: %s", wire_body_name(env->body_case),
                 zmq_strerror(zmq_errno()));
    free(buf);
    return rc;
}

int wire_recv(zsock_t *sock, zframe_t **routing_id, char *user_id, Lzr__Envelope **env, char *err,
              size_t errlen)
{
    *env = NULL;
    if (routing_id)
        *routing_id = NULL;
    if (user_id)
        user_id[0] = '\0';
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg) {
        snprintf(err, errlen, "receive interrupted");
        return LZR_EIO;
    }
    if (routing_id) {
        zframe_t *id = zmsg_pop(msg);
        if (!id) {
            zmsg_destroy(&msg);
            snprintf(err, errlen, "message without routing id");
            return LZR_EPROTO;
        }
        *routing_id = id;
    }
    /* A REQ peer puts an empty delimiter before its payload. */
    zframe_t *first = zmsg_first(msg);
    if (first && zframe_size(first) == 0 && zmsg_size(msg) == 2) {
        zframe_t *d = zmsg_pop(msg);
        zframe_destroy(&d);
    }
    if (zmsg_size(msg) != 1) {
        snprintf(err, errlen, "message has %zu frames, expected one", zmsg_size(msg));
        zmsg_destroy(&msg);
        return LZR_EPROTO;
    }
    zframe_t *payload = zmsg_first(msg);
    if (user_id) {
        const char *uid = zframe_meta(payload, "User-Id");
        if (uid)
            snprintf(user_id, 41, "%s", uid);
    }
    *env = wire_unpack(zframe_data(payload), zframe_size(payload), err, errlen);
    zmsg_destroy(&msg);
    return *env ? LZR_OK : LZR_EPROTO;
}

void wire_record_from(Lzr__Record *m, const lzr_record_t *r)
{
    lzr__record__init(m);
    wire_addrs_to(&r->ip, &r->source_ip, &m->ip, &m->ip6, &m->source_ip, &m->source_ip6);
    m->port = r->port;
    m->cls = (uint32_t)r->cls;
    m->protocol = (char *)r->protocol;
    m->handshake = (char *)r->handshake;
    m->handshakes_tried = r->handshakes_tried;
    m->window = r->window;
    m->ttl_synack = r->ttl_synack;
    m->ttl_last = r->ttl_last;
    m->synack_retransmits = r->synack_retransmits;
    m->acked_data = r->acked_data;
    m->rtt_us = r->rtt_us;
    m->ts_us = r->ts_us;
    m->data.data = (uint8_t *)r->data;
    m->data.len = r->data_len <= LZR_DATA_MAX ? r->data_len : LZR_DATA_MAX;
}

static int copy_label(char *dst, size_t cap, const char *src, const char *what, char *err,
                      size_t errlen)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        snprintf(err, errlen, "record %s is %zu bytes long (at most %zu)", what, n, cap - 1);
        return LZR_ERANGE;
    }
    memcpy(dst, src ? src : "", n + 1);
    return LZR_OK;
}

int wire_addrs_from(uint32_t a4, ProtobufCBinaryData a6, uint32_t b4, ProtobufCBinaryData b6,
                    lzr_addr_t *a, lzr_addr_t *b, char *err, size_t errlen)
{
    if (a6.len == 0 && b6.len == 0) {
        *a = addr_ipv4(a4);
        *b = addr_ipv4(b4);
        return LZR_OK;
    }
    if (a6.len != 16 || b6.len != 16 || a4 || b4) {
        snprintf(err, errlen, "addresses mix families (IPv6 fields of %zu and %zu bytes)", a6.len,
                 b6.len);
        return LZR_EPROTO;
    }
    a->family = b->family = ADDR_IPV6;
    memcpy(a->v6, a6.data, 16);
    memcpy(b->v6, b6.data, 16);
    return LZR_OK;
}

void wire_addrs_to(const lzr_addr_t *a, const lzr_addr_t *b, uint32_t *a4, ProtobufCBinaryData *a6,
                   uint32_t *b4, ProtobufCBinaryData *b6)
{
    if (a->family == ADDR_IPV6) {
        *a6 = (ProtobufCBinaryData){.len = 16, .data = (uint8_t *)a->v6};
        *b6 = (ProtobufCBinaryData){.len = 16, .data = (uint8_t *)b->v6};
    } else {
        *a4 = a->v4;
        *b4 = b->v4;
    }
}

int wire_record_to(const Lzr__Record *m, lzr_record_t *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (m->port == 0 || m->port > 65535) {
        snprintf(err, errlen, "record port %u is not a port", m->port);
        return LZR_ERANGE;
    }
    if (m->cls >= CLASS_COUNT) {
        snprintf(err, errlen, "record class %u is unknown", m->cls);
        return LZR_ERANGE;
    }
    if (m->window > 65535 || m->ttl_synack > 255 || m->ttl_last > 255 ||
        m->synack_retransmits > 255 || m->handshakes_tried > 255) {
        snprintf(err, errlen, "record field out of range (window %u, ttl %u/%u)", m->window,
                 m->ttl_synack, m->ttl_last);
        return LZR_ERANGE;
    }
    if (m->data.len > LZR_DATA_MAX) {
        snprintf(err, errlen, "record data of %zu bytes exceeds %d", m->data.len, LZR_DATA_MAX);
        return LZR_ERANGE;
    }
    int rc = copy_label(r->protocol, sizeof r->protocol, m->protocol, "protocol", err, errlen);
    if (rc == LZR_OK)
        rc = copy_label(r->handshake, sizeof r->handshake, m->handshake, "handshake", err, errlen);
    if (rc != LZR_OK)
        return rc;
    rc = wire_addrs_from(m->ip, m->ip6, m->source_ip, m->source_ip6, &r->ip, &r->source_ip, err,
                         errlen);
    if (rc != LZR_OK)
        return rc;
    r->port = (uint16_t)m->port;
    r->cls = (lzr_class_t)m->cls;
    r->handshakes_tried = (uint8_t)m->handshakes_tried;
    r->window = (uint16_t)m->window;
    r->ttl_synack = (uint8_t)m->ttl_synack;
    r->ttl_last = (uint8_t)m->ttl_last;
    r->synack_retransmits = (uint8_t)m->synack_retransmits;
    r->acked_data = m->acked_data;
    r->rtt_us = m->rtt_us;
    r->ts_us = m->ts_us;
    r->data_len = (uint16_t)m->data.len;
    if (m->data.len)
        memcpy(r->data, m->data.data, m->data.len);
    return LZR_OK;
}

const char *wire_body_name(Lzr__Envelope__BodyCase c)
{
    switch (c) {
    case LZR__ENVELOPE__BODY_HELLO:
        return "hello";
    case LZR__ENVELOPE__BODY_WELCOME:
        return "welcome";
    case LZR__ENVELOPE__BODY_REFUSE:
        return "refuse";
    case LZR__ENVELOPE__BODY_ASSIGN:
        return "assign";
    case LZR__ENVELOPE__BODY_HEARTBEAT:
        return "heartbeat";
    case LZR__ENVELOPE__BODY_BATCH:
        return "batch";
    case LZR__ENVELOPE__BODY_ACK:
        return "ack";
    case LZR__ENVELOPE__BODY_SHARD_DONE:
        return "shard_done";
    case LZR__ENVELOPE__BODY_CANCEL:
        return "cancel";
    case LZR__ENVELOPE__BODY_VERIFY:
        return "verify";
    case LZR__ENVELOPE__BODY_VERIFY_RESULT:
        return "verify_result";
    case LZR__ENVELOPE__BODY_SET_RATE:
        return "set_rate";
    case LZR__ENVELOPE__BODY_SUBMIT:
        return "submit";
    case LZR__ENVELOPE__BODY_SUBMIT_REPLY:
        return "submit_reply";
    case LZR__ENVELOPE__BODY_STATUS:
        return "status";
    case LZR__ENVELOPE__BODY_STATUS_REPLY:
        return "status_reply";
    case LZR__ENVELOPE__BODY_WORKERS:
        return "workers";
    case LZR__ENVELOPE__BODY_WORKERS_REPLY:
        return "workers_reply";
    case LZR__ENVELOPE__BODY_CANCEL_JOB:
        return "cancel_job";
    case LZR__ENVELOPE__BODY_ERROR:
        return "error";
    case LZR__ENVELOPE__BODY_OK:
        return "ok";
    case LZR__ENVELOPE__BODY_REVOKE:
        return "revoke";
    default:
        return "none";
    }
}
