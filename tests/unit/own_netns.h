/*
 * For the unit tests that need real sockets and interfaces: moves the test into a network
 * namespace of its own with its loopback up, and makes veth pairs there.
 */
#ifndef LZR_TEST_OWN_NETNS_H
#define LZR_TEST_OWN_NETNS_H

#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* True once the process is alone in a new network namespace with lo up; false when it cannot
 * be (not root, say), and the test then skips. */
static inline bool own_netns(void)
{
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
        return false;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    bool up = false;
    if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        up = ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    }
    if (fd >= 0)
        close(fd);
    return up;
}

/* A veth pair a, b in the namespace, both ends up, with IPv6 off before they come up: else the
 * kernel sends MLD reports at random moments, which a test counting frames would count. */
static inline bool veth_pair(const char *a, const char *b)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "ip link add %s type veth peer name %s 2>/dev/null && "
             "for e in %s %s; do f=/proc/sys/net/ipv6/conf/$e/disable_ipv6; "
             "[ ! -e $f ] || echo 1 >$f || exit 1; done && ip link set %s up && ip link set %s up",
             a, b, a, b, a, b);
    return system(cmd) == 0;
}

#endif
