/*
 * record: one scan result for an (ip, port), as the worker produces it and the coordinator stores
 * and exports it, with the classes of DESIGN.md §1 and the evidence behind each. Both sides
 * write the same JSON line for a record (docs/output.md), so a standalone scan and a cluster
 * scan read alike.
 */
#ifndef LZR_RECORD_H
#define LZR_RECORD_H

#include "common/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LZR_DATA_MAX 1024
/* The longest LZR-Go line: every data byte may become a 6-character \ufffd escape. */
#define LZR_LZRGO_MAX (6 * LZR_DATA_MAX + 1024)

/* X(enum, name, short, colour): the single-vantage classes; "silent" is a target that never
 * answered; "open" is a SYN-ACK in a discovery-only scan, where no handshake is tried. short
 * (at most 7 characters) labels the class's column in the report's text table, colour its bars
 * in the report's SVG (coordinator/report.c). New classes go at the end: the wire carries the
 * enum's value. */
#define LZR_CLASS_LIST(X)                                                                          \
    X(CLASS_SERVICE, "service", "service", "#2e7d32")                                              \
    X(CLASS_CLOSED, "closed", "closed", "#9e9e9e")                                                 \
    X(CLASS_ZERO_WINDOW, "zero_window", "zerowin", "#1565c0")                                      \
    X(CLASS_MID_HANDSHAKE_DROP, "mid_handshake_drop", "midhs", "#6a1b9a")                          \
    X(CLASS_RST_AFTER_HANDSHAKE, "rst_after_handshake", "rst", "#c62828")                          \
    X(CLASS_FIN_AFTER_HANDSHAKE, "fin_after_handshake", "fin", "#ef6c00")                          \
    X(CLASS_NO_ACK_DATA, "no_ack_data", "noack", "#f9a825")                                        \
    X(CLASS_ACKS_NO_DATA, "acks_no_data", "acks", "#00838f")                                       \
    X(CLASS_LOST_AFTER_SYNACK, "lost_after_synack", "lost", "#ad1457")                             \
    X(CLASS_ACKING_FIREWALL, "acking_firewall", "ackfw", "#4e342e")                                \
    X(CLASS_SILENT, "silent", "silent", "#e0e0e0")                                                 \
    X(CLASS_OPEN, "open", "open", "#7cb342")

typedef enum {
#define LZR_CLASS_ENUM(e, name, short, colour) e,
    LZR_CLASS_LIST(LZR_CLASS_ENUM)
#undef LZR_CLASS_ENUM
        CLASS_COUNT
} lzr_class_t;

typedef struct lzr_record {
    lzr_addr_t ip; /* the target */
    uint16_t port;
    lzr_addr_t source_ip; /* the scan IP that probed it, of the target's family */
    lzr_class_t cls;
    char protocol[24];  /* fingerprint name, "unknown", or "" */
    char handshake[24]; /* handshake that drew the data, or "" */
    uint8_t handshakes_tried;
    uint16_t window;
    uint8_t ttl_synack;
    uint8_t ttl_last;
    uint8_t synack_retransmits;
    bool acked_data;
    uint32_t rtt_us;
    uint64_t ts_us; /* wall clock, microseconds since the epoch */
    uint16_t data_len;
    uint8_t data[LZR_DATA_MAX];
} lzr_record_t;

/* The class's name ("zero_window"), or "invalid". */
const char *record_class_name(lzr_class_t c);

/* Parses a class name; returns LZR_OK and fills *out, or LZR_EINVAL. */
int record_class_parse(const char *name, lzr_class_t *out);

/* Writes r as one JSON object (no newline) into buf; returns its length, or 0 when cap is too
 * small (4 KiB always suffices). */
size_t record_to_json(const lzr_record_t *r, char *buf, size_t cap);

/* Writes r as one line of ZGrab2 input, "ip,,tag,port" (no newline), where the tag is the
 * protocol label that deploy/zgrab2/lzr.ini uses as each module's trigger; returns its length,
 * or 0 when r is not a service with a known protocol (or cap is too small). */
size_t record_to_zgrab2(const lzr_record_t *r, char *buf, size_t cap);

/* Writes r as one JSON object in LZR-Go's output layout (no newline; docs/output.md maps the
 * fields): saddr is the target, daddr the scanner, fingerprint "unknown" for anything but a named
 * service, data the server's bytes as text, escaped as Go's encoding/json does. Returns its
 * length, or 0 for closed and silent targets (LZR-Go reports only targets that SYN-ACKed) or
 * when cap is too small (LZR_LZRGO_MAX always suffices). */
size_t record_to_lzrgo(const lzr_record_t *r, char *buf, size_t cap);

/* Writes s as a quoted JSON string, escaped as record_to_json escapes its strings, into buf;
 * returns its length, or 0 when it does not fit in cap bytes. */
size_t record_json_string(const char *s, char *buf, size_t cap);

/* Writes ts_us (microseconds since the epoch) as a quoted RFC 3339 UTC timestamp into buf;
 * returns its length, or 0 when it does not fit. */
size_t record_json_time(uint64_t ts_us, char *buf, size_t cap);

#endif
