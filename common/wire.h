/*
 * wire: framing of lzr's protobuf messages on ZeroMQ sockets, shared by the coordinator, its
 * command line and the worker's agent. Every ZeroMQ message carries one lzr.Envelope
 * (proto/lzr.proto); on a ROUTER socket it is preceded by the peer's routing id. Unpacking checks
 * the size limit, the protocol version and that a body is set, and converts records with range
 * checks, so bytes from the network become either a valid message or an error — never a crash.
 */
#ifndef LZR_WIRE_H
#define LZR_WIRE_H

#include "common/record.h"
#include "proto/lzr.pb-c.h"

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

/* Largest encoded envelope either side accepts or sends. */
#define LZR_WIRE_MAX_BYTES (4u << 20)
/* Most records one ResultBatch may carry (keeps a batch far below LZR_WIRE_MAX_BYTES). */
#define LZR_WIRE_MAX_BATCH 1024
/* Draining leases a worker holds at most beside the shard it walks (pipelined shards): a
 * shard's tails (timeout and cooldown, ~4.4 s at the default timeout) last about five of its
 * walks when a shard is ~9k targets at 10k/s, so seven keep the walk busy with room to spare.
 * A worker holds only as many as its tails need: it takes a shard only when its walk is done. */
#define LZR_MAX_DRAINS 7

/* Encodes env (its version is set to the current one) into a new buffer the caller frees with
 * free(). Returns LZR_OK, LZR_ERANGE when the encoding exceeds LZR_WIRE_MAX_BYTES, or
 * LZR_ENOMEM. */
int wire_pack(Lzr__Envelope *env, uint8_t **out, size_t *len);

/* Decodes len bytes into a new envelope (free it with wire_free). Returns NULL with a message in
 * err when the bytes are oversized, not protobuf, of another version or carry no body. */
Lzr__Envelope *wire_unpack(const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Frees an envelope from wire_unpack and sets *env to NULL. */
void wire_free(Lzr__Envelope **env);

/* An envelope whose body is msg, of the message type body names (the caller's to match). */
Lzr__Envelope wire_envelope(Lzr__Envelope__BodyCase body, void *msg);

/* Sends env on sock; routing_id (may be NULL) is sent first, for ROUTER sockets. The frame is
 * not consumed. Returns LZR_OK or a negative code with a message in err. */

int wire_send(zsock_t *sock, zframe_t *routing_id, Lzr__Envelope *env, char *err, size_t errlen);

/* Sends already packed bytes (a batch kept for re-sending), with an optional routing id. */
int wire_send_raw(zsock_t *sock, zframe_t *routing_id, const uint8_t *buf, size_t len);

/* Receives one message. On a ROUTER socket pass routing_id to get the sender's id (the caller
 * destroys it); on a DEALER pass NULL. user_id (NULL or at least 41 bytes) gets the peer's
 * authenticated CURVE public key in Z85, or "" without CURVE. An empty delimiter frame (REQ
 * peers) is skipped. Returns LZR_OK with *env set, or LZR_EPROTO/LZR_EIO with a message in err;
 * the message is consumed either way, and *routing_id is still set when known so the caller can
 * reply with an error. */
int wire_recv(zsock_t *sock, zframe_t **routing_id, char *user_id, Lzr__Envelope **env, char *err,
              size_t errlen);

/* Fills m from r. m's strings and data point into r, so r must outlive m; nothing is
 * allocated. */
void wire_record_from(Lzr__Record *m, const lzr_record_t *r);

/* Converts m into r, rejecting out-of-range ports, classes, TTLs, oversized strings or data
 * with LZR_ERANGE and a message. */
int wire_record_to(const Lzr__Record *m, lzr_record_t *r, char *err, size_t errlen);

/* The two addresses of a message that carries each as an IPv4 field (host byte order) and an
 * IPv6 one (16 bytes): both IPv4 (IPv6 fields empty) or both IPv6 (IPv4 fields 0). Any other
 * mix is LZR_EPROTO with a message. */
int wire_addrs_from(uint32_t a4, ProtobufCBinaryData a6, uint32_t b4, ProtobufCBinaryData b6,
                    lzr_addr_t *a, lzr_addr_t *b, char *err, size_t errlen);

/* Sets those fields from a and b (of one family); the IPv6 fields point into a and b. */
void wire_addrs_to(const lzr_addr_t *a, const lzr_addr_t *b, uint32_t *a4, ProtobufCBinaryData *a6,
                   uint32_t *b4, ProtobufCBinaryData *b6);

/* The name of a body case ("hello", "batch"), for logs and counters. */
const char *wire_body_name(Lzr__Envelope__BodyCase c);

#endif
