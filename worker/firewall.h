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

/* LZR_OK when [lo, hi] does not overlap net.ipv4.ip_local_port_range; otherwise LZR_EFIREWALL
 * and a message with the sysctl to run. */
int firewall_check_ephemeral(uint16_t lo, uint16_t hi, char *err, size_t errlen);

/* Sends a SYN-ACK for an unknown connection to addr:port (port in [lo, hi]) through the loopback
 * path and watches for the kernel's RST. LZR_OK when no RST comes back; LZR_EFIREWALL with a
 * message naming the rule to install otherwise. */
int firewall_selftest(uint32_t addr, uint16_t lo, uint16_t hi, char *err, size_t errlen);

/* Installs the nftables table that drops inbound TCP to addr on [lo, hi] (deploy/nftables/
 * lzr-worker.nft is the same rule for operators); firewall_remove deletes it. */
int firewall_install(uint32_t addr, uint16_t lo, uint16_t hi, char *err, size_t errlen);
void firewall_remove(void);

/* The nft command an operator runs to install the rule by hand, for messages. */
void firewall_hint(uint32_t addr, uint16_t lo, uint16_t hi, char *buf, size_t len);

#endif
