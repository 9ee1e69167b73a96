/*
 * firewall: makes sure the kernel leaves the scanner's connections alone. The kernel answers a
 * SYN-ACK for a connection it does not know with a RST, which would kill every LZR handshake
 * before our ACK and data arrive; so the worker's source-port range must be outside the kernel's
 * ephemeral range, and the kernel's RSTs from it must be suppressed. The check is an active
 * self-test, so any rule that does the job passes, not only ours.
 */
#ifndef LZR_FIREWALL_H
#define LZR_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/* LZR_OK when [lo, hi] does not overlap net.ipv4.ip_local_port_range; otherwise LZR_EFIREWALL
 * and a message with the sysctl to run. */
int firewall_check_ephemeral(uint16_t lo, uint16_t hi, char *err, size_t errlen);

/* What the self-test saw, for start-up reports. */
typedef struct firewall_proof {
    uint64_t elapsed_us;   /* the whole test, pcap set-up included */
    uint16_t probe_port;   /* in [lo, hi]: its RST would mean the kernel resets our handshakes */
    uint16_t control_port; /* outside [lo, hi]: its RST proves the kernel handled both frames */
    bool control_answered; /* false: judged by silence alone (FIREWALL_SELFTEST_WAIT_MS) */
} firewall_proof_t;

/* How long the self-test listens when the control's RST never comes. */
#define FIREWALL_SELFTEST_WAIT_MS 450

/* Sends a SYN-ACK for an unknown connection to addr:port (port in [lo, hi]; addr IPv4 or IPv6,
 * one test per family the scan uses) and then one to a port outside the range (the positive
 * control) through the loopback path, and watches for the kernel's RSTs. The control's RST ends the
 * test: the kernel has handled both frames, so a probe RST would have come first. LZR_OK when the
 * probe draws no RST (proof, when not NULL, says how it was judged); LZR_EFIREWALL with a message
 * naming the rule to install otherwise. When the control is never answered either (a rule drops it
 * too, or RSTs are dropped on output), the test falls back to FIREWALL_SELFTEST_WAIT_MS of silence,
 * as it always did. */
int firewall_selftest(const lzr_addr_t *addr, uint16_t lo, uint16_t hi, firewall_proof_t *proof,
                      char *err, size_t errlen);

/* Installs the nftables table that drops inbound TCP to addr (IPv4, host order; 0 beside an
 * IPv6 addr6: no IPv4 rule) and, when addr6 is an IPv6 address (else NULL), to addr6 on [lo, hi]
 * (deploy/nftables/lzr-worker.nft is the same rule for operators); firewall_remove deletes it. */
int firewall_install(uint32_t addr, const lzr_addr_t *addr6, uint16_t lo, uint16_t hi, char *err,
                     size_t errlen);
void firewall_remove(void);

/* The nft script of firewall_install into buf: an inet table named table whose input chain
 * drops TCP to [lo, hi] on addr ("ip daddr") and, when given, addr6 ("ip6 daddr"). */
void firewall_script(char *buf, size_t len, const char *table, uint32_t addr,
                     const lzr_addr_t *addr6, uint16_t lo, uint16_t hi);

/* The nft command an operator runs to install the rule for addr (either family) by hand, for
 * messages. */
void firewall_hint(const lzr_addr_t *addr, uint16_t lo, uint16_t hi, char *buf, size_t len);

#endif
