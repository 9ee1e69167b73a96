/*
 * netif: interface facts from the kernel — ioctl for index and MAC, getifaddrs for addresses,
 * /proc/net/route for the route towards a target and /proc/net/arp for the next hop's MAC.
 */
#include "worker/netif.h"

#include "common/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
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

int netif_has_ip(const char *iface, uint32_t addr, char *err, size_t errlen)
{
    struct ifaddrs *list, *a;
    if (getifaddrs(&list) < 0) {
        snprintf(err, errlen, "getifaddrs: %s", strerror(errno));
        return LZR_ESYS;
    }
    char have[256] = "";
    size_t used = 0;
    int rc = LZR_ENOTFOUND;
    for (a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || strcmp(a->ifa_name, iface))
            continue;
        struct in_addr in = ((struct sockaddr_in *)a->ifa_addr)->sin_addr;
        if (ntohl(in.s_addr) == addr) {
            rc = LZR_OK;
            break;
        }
        if (used < sizeof have - 20)
            used += (size_t)snprintf(have + used, sizeof have - used, "%s%s", used ? ", " : "",
                                     inet_ntoa(in));
    }
    freeifaddrs(list);
    if (rc != LZR_OK) {
        struct in_addr in = {.s_addr = htonl(addr)};
        snprintf(err, errlen, "source IP %s is not assigned to %s (it has: %s)", inet_ntoa(in),
                 iface, used ? have : "no IPv4 address");
    }
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

int netif_gateway_mac(const char *iface, uint32_t target, uint8_t mac[6], char *err, size_t errlen)
{
    uint32_t hop = next_hop(iface, target);
    struct in_addr tin = {.s_addr = htonl(target)};
    if (hop == 0) {
        snprintf(err, errlen, "no route on %s towards %s; give --gateway-mac", iface,
                 inet_ntoa(tin));
        return LZR_ENOTFOUND;
    }
    for (int attempt = 0; attempt < 20; attempt++) {
        if (arp_lookup(iface, hop, mac) == LZR_OK)
            return LZR_OK;
        if (attempt % 5 == 0) {
            /* Ask the kernel to resolve the next hop: one datagram to its discard port. */
            int fd = socket(AF_INET, SOCK_DGRAM, 0);
            if (fd >= 0) {
                struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
                sin.sin_addr.s_addr = htonl(hop);
                setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface));
                sendto(fd, "", 0, 0, (struct sockaddr *)&sin, sizeof sin);
                close(fd);
            }
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    struct in_addr hin = {.s_addr = htonl(hop)};
    snprintf(err, errlen,
             "the neighbour table has no MAC for next hop %s on %s; give --gateway-mac",
             inet_ntoa(hin), iface);
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
