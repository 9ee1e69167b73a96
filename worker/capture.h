/*
 * capture: the worker's receive side, a libpcap handle (TPACKET_V3 blocks) with a kernel BPF filter
 * that passes only TCP to the scanner's IPs (IPv4, and IPv6 when set) and source-port range. The
 * engine's receive thread polls its descriptor and dispatches frames to the LZR state machine.
 */
#ifndef LZR_CAPTURE_H
#define LZR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

typedef struct capture capture_t;

/* Called for each captured frame (caplen bytes of a frame of the handle's link type). */
typedef void (*capture_fn)(void *ctx, const uint8_t *frame, size_t caplen);

#define CAPTURE_FILTER_MAX 320

/* The kernel memory each open handle's receive ring holds, from its open to its close. 128 MiB:
 * at an unlimited rate in full mode, the replies to SYNs already sent keep coming after the walk
 * pauses, and with TPACKET_V2's fixed 1.3 KiB frame slots 64 MiB overflowed by up to 8,611
 * frames in lab test 0203 (0 in 6 scans at 128). V3's blocks pack frames by their size. */
#define CAPTURE_RING_BYTES (128 << 20)

/* Writes the pcap filter for TCP to addr (IPv4, host order; 0 with an IPv6 addr6: none) or to
 * addr6 (when it is an IPv6 address; NULL or ADDR_NONE: IPv4 only) on ports [lo, hi] into buf
 * (CAPTURE_FILTER_MAX bytes hold any). libpcap's "tcp" matches IPv6 TCP only when no extension
 * header comes first, so IPv6 packets to addr6 whose first header is hop-by-hop, routing or
 * destination options pass whatever their port, for packet.c to walk. */
void capture_filter(char *buf, size_t len, uint32_t addr, const lzr_addr_t *addr6, uint16_t lo,
                    uint16_t hi);

/* Opens iface for TCP to addr or addr6 on ports [lo, hi] (capture_filter); NULL and a message in
 * err. */
capture_t *capture_open(const char *iface, uint32_t addr, const lzr_addr_t *addr6, uint16_t lo,
                        uint16_t hi, char *err, size_t errlen);

/* Narrows or widens the handle to TCP to addr or addr6 on ports [lo, hi] (a kept handle lent to
 * the next run, whose source ports may differ), then drops what the old filter let in. LZR_OK,
 * or LZR_EINVAL with a message in err (the old filter stays). */
int capture_refilter(capture_t *c, uint32_t addr, const lzr_addr_t *addr6, uint16_t lo, uint16_t hi,
                     char *err, size_t errlen);

/* Makes the handle pass nothing and drops what waits in it: a kept handle that no run reads
 * then takes no frames (capture_refilter opens it again). */
void capture_idle(capture_t *c);

/* Closes the handle and sets *c to NULL. */
void capture_close(capture_t **c);

/* Waits up to timeout_ms for frames; true when some are ready. */
bool capture_wait(capture_t *c, int timeout_ms);

/* Hands the frames ready now to fn, at most max of them, without waiting. Returns the number
 * handled or a negative code. */
int capture_dispatch(capture_t *c, capture_fn fn, void *ctx, int max);

/* How far the reader is behind the wire: how long the newest frame of the last capture_dispatch
 * waited in the kernel's buffer (0 when that dispatch found none). With a bounded max, a reader
 * that falls behind handles old frames, and this grows. */
uint64_t capture_lag_us(const capture_t *c);

/* The monotonic time (clock_mono_ns / 1000) before which every frame the kernel captured has
 * been handed out by capture_dispatch: a reply that came before it has been read. It trails
 * the clock by a reader's lag, and by up to 20 ms of frames the kernel still holds back. A
 * timeout must not fire until it has passed: the answer may be waiting unread. */
uint64_t capture_seen_us(const capture_t *c);

/* Reads and drops every frame ready now (what arrived while nobody was reading); returns how
 * many. */
int capture_discard(capture_t *c);

/* The handle's pcap link type (DLT_EN10MB on Ethernet). */
int capture_linktype(const capture_t *c);

/* Frames the kernel dropped because the capture buffer was full. */
uint64_t capture_drops(capture_t *c);

#endif
