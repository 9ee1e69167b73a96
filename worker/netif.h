/*
 * netif: what the worker needs to know about its interface before it sends a frame — its index
 * and MAC, whether the source IP (IPv4 or IPv6) is really assigned to it, and the MAC of the next
 * hop towards the targets of either family, read from the kernel's routing and neighbour tables.
 */
#ifndef LZR_NETIF_H
#define LZR_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/* The index of iface, or a negative code with a message in err. */
int netif_index(const char *iface, char *err, size_t errlen);

/* Reads iface's MAC into mac; a negative code and a message otherwise. */
int netif_mac(const char *iface, uint8_t mac[6], char *err, size_t errlen);

/* LZR_OK when addr (IPv4 or IPv6) is assigned to iface; LZR_ENOTFOUND and a message listing
 * what of its family is assigned otherwise. */
int netif_has_ip(const char *iface, const lzr_addr_t *addr, char *err, size_t errlen);

/* The MAC to send frames for target (IPv4 or IPv6) through: the gateway of the best route on
 * iface towards target, or target itself when it is on-link, looked up in the kernel's ARP or
 * IPv6 neighbour (NDP) table. When the table has no entry yet, one UDP datagram to the discard
 * port of the next hop makes the kernel resolve it (the next hop is on iface's own network). */
int netif_gateway_mac(const char *iface, const lzr_addr_t *target, uint8_t mac[6], char *err,
                      size_t errlen);

/* Fills what the caller left out (iface[0] == 0, *src == 0) as ZMap does: with neither, the
 * kernel's route to target picks the source address (a connected UDP socket; nothing is sent)
 * and the interface is the one holding it; with only iface, the source is iface's first IPv4
 * address; with only src, the interface is the one holding it. iface has IF_NAMESIZE bytes. */
int netif_autodetect(uint32_t target, char *iface, uint32_t *src, char *err, size_t errlen);

/* Parses "aa:bb:cc:dd:ee:ff"; LZR_OK or LZR_EPARSE. */
int netif_parse_mac(const char *s, uint8_t mac[6]);

#endif
