/*
 * netif: interface facts from the kernel — ioctl for index and MAC, getifaddrs for addresses,
 * /proc/net/route and /proc/net/ipv6_route for the route towards a target, /proc/net/arp and
 * (IPv6, which /proc does not list) a netlink dump of the neighbour table for the next hop's MAC.
 */
#include "worker/netif.h"

#include "common/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int netif_index(const char *iface, char *err, size_t errlen)
{
    unsigned idx = if_nametoindex(iface);
    if (idx == 0) {
        snprintf(err, errlen, "no interface named %s here (see `ip link`)", iface);
        return LZR_ENOTFOUND;
    }
    return (int)idx;
}

int netif_mac(const char *iface, uint8_t mac[6], char *err, size_t errlen)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", iface);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
        snprintf(err, errlen, "cannot read the MAC of %s: %s", iface, strerror(errno));
        if (fd >= 0)
            close(fd);
        return LZR_ESYS;
    }
    close(fd);
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return LZR_OK;
}

/* An interface address as lzr_addr_t; family ADDR_NONE for neither IPv4 nor IPv6. */
static lzr_addr_t ifa_addr_of(const struct sockaddr *sa)
{
    lzr_addr_t a = {.family = ADDR_NONE};
    if (sa && sa->sa_family == AF_INET) {
        a.family = ADDR_IPV4;
        a.v4 = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
    } else if (sa && sa->sa_family == AF_INET6) {
        a.family = ADDR_IPV6;
        memcpy(a.v6, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
    return a;
}

int netif_has_ip(const char *iface, const lzr_addr_t *addr, char *err, size_t errlen)
{
    struct ifaddrs *list, *a;
    if (getifaddrs(&list) < 0) {
        snprintf(err, errlen, "getifaddrs: %s", strerror(errno));
        return LZR_ESYS;
    }
    char have[256] = "", text[ADDR_TEXT_MAX];
    size_t used = 0;
    int rc = LZR_ENOTFOUND;
    for (a = list; a; a = a->ifa_next) {
        lzr_addr_t got = ifa_addr_of(a->ifa_addr);
        if (got.family != addr->family || strcmp(a->ifa_name, iface))
            continue;
        if (addr_equal(&got, addr)) {
            rc = LZR_OK;
            break;
        }
        if (used < sizeof have - ADDR_TEXT_MAX - 2)
            used += (size_t)snprintf(have + used, sizeof have - used, "%s%s", used ? ", " : "",
                                     addr_format(&got, text));
    }
    freeifaddrs(list);
    if (rc != LZR_OK)
        snprintf(err, errlen, "source IP %s is not assigned to %s (it has: %s)",
                 addr_format(addr, text), iface,
                 used                        ? have
                 : addr->family == ADDR_IPV6 ? "no IPv6 address"
                                             : "no IPv4 address");
    return rc;
}

int netif_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return LZR_EPARSE;
    for (int i = 0; i < 6; i++) {
        if (b[i] > 255)
            return LZR_EPARSE;
        mac[i] = (uint8_t)b[i];
    }
    return LZR_OK;
}

/* The next hop on iface for target from /proc/net/route (longest prefix wins); 0 when iface
 * has no route towards it. A route without a gateway means target is on-link. */
static uint32_t next_hop(const char *iface, uint32_t target)
{
    FILE *f = fopen("/proc/net/route", "r");
    if (!f)
        return 0;
    char line[256], name[IF_NAMESIZE + 1];
    unsigned dst, gw, flags, mask;
    int best_len = -1;
    uint32_t hop = 0;
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        return 0;
    }
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", name, &dst, &gw, &flags, &mask) != 5)
            continue;
        if (strcmp(name, iface) || !(flags & 1)) /* RTF_UP */
            continue;
        uint32_t d = ntohl(dst), m = ntohl(mask);
        if ((target & m) != d)
            continue;
        int len = __builtin_popcount(m);
        if (len > best_len) {
            best_len = len;
            hop = gw ? ntohl(gw) : target;
        }
    }
    fclose(f);
    return hop;
}

static int arp_lookup(const char *iface, uint32_t ip, uint8_t mac[6])
{
    FILE *f = fopen("/proc/net/arp", "r");
    if (!f)
        return LZR_ENOTFOUND;
    char line[256], ipstr[32], macstr[32], dev[IF_NAMESIZE + 1];
    unsigned flags;
    int rc = LZR_ENOTFOUND;
    if (fgets(line, sizeof line, f)) {
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "%31s %*s %x %31s %*s %16s", ipstr, &flags, macstr, dev) != 4)
                continue;
            struct in_addr in;
            if (strcmp(dev, iface) || !(flags & 2) || inet_aton(ipstr, &in) == 0 ||
                ntohl(in.s_addr) != ip)
                continue; /* flags & 2: ATF_COM, the entry is complete */
            if (netif_parse_mac(macstr, mac) == LZR_OK)
                rc = LZR_OK;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* Parses 32 hex digits into 16 bytes; false otherwise. */
static bool hex16(const char *s, uint8_t out[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned b;
        if (sscanf(s + 2 * i, "%2x", &b) != 1)
            return false;
        out[i] = (uint8_t)b;
    }
    return true;
}

/* True when the first len bits of a and b agree. */
static bool prefix_match(const uint8_t a[16], const uint8_t b[16], unsigned len)
{
    unsigned whole = len / 8, rest = len % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return rest == 0 || ((a[whole] ^ b[whole]) & mask) == 0;
}

/* The IPv6 next hop on iface for target from /proc/net/ipv6_route (longest prefix, then lowest
 * metric, wins) into hop; false when iface has no route towards it. A route whose next hop is
 * :: is on-link: the hop is the target itself. */
static bool next_hop6(const char *iface, const uint8_t target[16], uint8_t hop[16])
{
    FILE *f = fopen("/proc/net/ipv6_route", "r");
    if (!f)
        return false;
    char line[256], dst[33], gw[33], name[IF_NAMESIZE + 1];
    unsigned len, metric, flags, best_metric = 0;
    int best_len = -1;
    static const uint8_t zero[16];
    while (fgets(line, sizeof line, f)) {
        uint8_t d[16], g[16];
        if (sscanf(line, "%32s %x %*s %*x %32s %x %*x %*x %x %16s", dst, &len, gw, &metric, &flags,
                   name) != 6 ||
            strcmp(name, iface) || !(flags & 1) || len > 128 || !hex16(dst, d) || !hex16(gw, g))
            continue; /* flags & 1: RTF_UP */
        if (!prefix_match(d, target, len))
            continue;
        if ((int)len > best_len || ((int)len == best_len && metric < best_metric)) {
            best_len = (int)len;
            best_metric = metric;
            memcpy(hop, memcmp(g, zero, 16) ? g : target, 16);
        }
    }
    fclose(f);
    return best_len >= 0;
}

/* Sends one netlink request to dump the IPv6 neighbour table; the socket, or -1. */
static int neigh_dump6(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -1;
    struct {
        struct nlmsghdr h;
        struct ndmsg nd;
    } req = {.h = {.nlmsg_len = sizeof req,
                   .nlmsg_type = RTM_GETNEIGH,
                   .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                   .nlmsg_seq = 1},
             .nd = {.ndm_family = AF_INET6}};
    if (send(fd, &req, sizeof req, 0) != (ssize_t)sizeof req) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The MAC of hop in one neighbour message when it is that entry, on ifindex, and usable. */
static bool neigh_match6(const struct nlmsghdr *h, int ifindex, const uint8_t hop[16],
                         uint8_t mac[6])
{
    const struct ndmsg *nd = NLMSG_DATA(h);
    if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof *nd) ||
        nd->ndm_ifindex != ifindex || (nd->ndm_state & (NUD_INCOMPLETE | NUD_FAILED)) ||
        nd->ndm_state == NUD_NONE)
        return false;
    bool dst_ok = false, have_mac = false;
    int left = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *nd));
    for (const struct rtattr *a =
             (const struct rtattr *)((const char *)nd + NLMSG_ALIGN(sizeof *nd));
         RTA_OK(a, left); a = RTA_NEXT(a, left)) {
        if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == 16)
            dst_ok = memcmp(RTA_DATA(a), hop, 16) == 0;
        else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
            memcpy(mac, RTA_DATA(a), 6);
            have_mac = true;
        }
    }
    return dst_ok && have_mac;
}

/* The MAC of IPv6 neighbour hop on iface from the kernel's neighbour table (netlink). */
static int neigh_lookup6(const char *iface, const uint8_t hop[16], uint8_t mac[6])
{
    int ifindex = (int)if_nametoindex(iface), fd = neigh_dump6(), rc = LZR_ENOTFOUND;
    if (fd < 0)
        return LZR_ENOTFOUND;
    _Alignas(struct nlmsghdr) char buf[32768]; /* above the kernel's dump message size */
    for (bool done = false; !done;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        int left = (int)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
                done = true;
            else if (rc != LZR_OK && neigh_match6(h, ifindex, hop, mac))
                rc = LZR_OK;
        }
    }
    close(fd);
    return rc;
}

/* Asks the kernel to resolve the next hop (ARP or neighbour solicitation): one empty datagram to
 * its discard port, sent out of iface. */
static void poke(const char *iface, const lzr_addr_t *hop)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (hop->family == ADDR_IPV6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(9);
        s6->sin6_scope_id = if_nametoindex(iface); /* a link-local router needs it */
        memcpy(&s6->sin6_addr, hop->v6, 16);
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(9);
        s4->sin_addr.s_addr = htonl(hop->v4);
        len = sizeof *s4;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return;
    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface));
    sendto(fd, "", 0, 0, (struct sockaddr *)&ss, len);
    close(fd);
}

int netif_gateway_mac(const char *iface, const lzr_addr_t *target, uint8_t mac[6], char *err,
                      size_t errlen)
{
    lzr_addr_t hop = {.family = target->family};
    char text[ADDR_TEXT_MAX];
    bool routed = target->family == ADDR_IPV6 ? next_hop6(iface, target->v6, hop.v6)
                                              : (hop.v4 = next_hop(iface, target->v4)) != 0;
    if (!routed) {
        snprintf(err, errlen, "no route on %s towards %s; give --gateway-mac", iface,
                 addr_format(target, text));
        return LZR_ENOTFOUND;
    }
    for (int attempt = 0; attempt < 20; attempt++) {
        if ((hop.family == ADDR_IPV6 ? neigh_lookup6(iface, hop.v6, mac)
                                     : arp_lookup(iface, hop.v4, mac)) == LZR_OK)
            return LZR_OK;
        if (attempt % 5 == 0)
            poke(iface, &hop);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    snprintf(err, errlen,
             "the neighbour table has no MAC for next hop %s on %s; give --gateway-mac",
             addr_format(&hop, text), iface);
    return LZR_ENOTFOUND;
}

int netif_autodetect(uint32_t target, char *iface, uint32_t *src, char *err, size_t errlen)
{
    char t[INET_ADDRSTRLEN];
    struct in_addr ta = {.s_addr = htonl(target)};
    inet_ntop(AF_INET, &ta, t, sizeof t);
    if (!iface[0] && !*src) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr = ta};
        struct sockaddr_in me;
        socklen_t len = sizeof me;
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
            getsockname(fd, (struct sockaddr *)&me, &len) != 0) {
            snprintf(err, errlen, "no route to %s (%s): give --iface and --source-ip", t,
                     strerror(errno));
            if (fd >= 0)
                close(fd);
            return LZR_ENOTFOUND;
        }
        close(fd);
        *src = ntohl(me.sin_addr.s_addr);
    }
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) != 0) {
        snprintf(err, errlen, "cannot list the interfaces: %s", strerror(errno));
        return LZR_ESYS;
    }
    int rc = LZR_ENOTFOUND;
    for (struct ifaddrs *i = ifs; i && rc != LZR_OK; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
        if (iface[0] && !*src && strcmp(i->ifa_name, iface) == 0) {
            *src = a;
            rc = LZR_OK;
        } else if (!iface[0] && a == *src && strlen(i->ifa_name) < IF_NAMESIZE) {
            snprintf(iface, IF_NAMESIZE, "%s", i->ifa_name);
            rc = LZR_OK;
        } else if (iface[0] && *src) {
            rc = LZR_OK;
        }
    }
    freeifaddrs(ifs);
    if (rc != LZR_OK) {
        char s[INET_ADDRSTRLEN];
        struct in_addr sa = {.s_addr = htonl(*src)};
        inet_ntop(AF_INET, &sa, s, sizeof s);
        if (iface[0])
            snprintf(err, errlen, "interface %s has no IPv4 address: give --source-ip", iface);
        else
            snprintf(err, errlen, "no interface holds %s: give --iface", s);
    }
    return rc;
}
