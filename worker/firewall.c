/*
 * firewall: the ephemeral-range check reads /proc; the self-test builds a SYN-ACK with packet.c,
 * sends it with a raw IPv4 socket to our own address (it crosses the kernel's input path as a
 * real reply would) and listens on the loopback device with libpcap for the kernel's RST.
 * Installing and removing the rule is a small nft script run through popen.
 */
#include "worker/firewall.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/targets.h"
#include "worker/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SELFTEST_PEER_PORT 9 /* the fake peer's port; our RST, if any, goes there */

static char installed_table[64];

int firewall_check_ephemeral(uint16_t lo, uint16_t hi, char *err, size_t errlen)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    unsigned klo, khi;
    if (!f || fscanf(f, "%u %u", &klo, &khi) != 2) {
        if (f)
            fclose(f);
        snprintf(err, errlen, "cannot read net.ipv4.ip_local_port_range");
        return LZR_EIO;
    }
    fclose(f);
    if (khi < lo || klo > hi)
        return LZR_OK;
    snprintf(err, errlen,
             "the kernel's ephemeral ports %u-%u overlap the scanner's source ports %u-%u, so "
             "the kernel's own connections would be caught by the scanner's firewall rule; run "
             "`sysctl -w net.ipv4.ip_local_port_range=\"32768 %u\"` or pick --source-ports "
             "outside %u-%u",
             klo, khi, lo, hi, lo > 32769 ? lo - 1 : 32768, klo, khi);
    return LZR_EFIREWALL;
}

void firewall_hint(uint32_t addr, uint16_t lo, uint16_t hi, char *buf, size_t len)
{
    char ip[16];
    snprintf(buf, len,
             "nft add table inet lzr_worker; nft add chain inet lzr_worker input '{ type filter "
             "hook input priority -10; }'; nft add rule inet lzr_worker input ip daddr %s tcp "
             "dport %u-%u drop",
             targets_ntoa(addr, ip), lo, hi);
}

int firewall_selftest(uint32_t addr, uint16_t lo, uint16_t hi, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_create("lo", perr);
    if (!p) {
        snprintf(err, errlen, "self-test: pcap on lo: %s", perr);
        return LZR_ESYS;
    }
    pcap_set_immediate_mode(p, 1);
    pcap_set_snaplen(p, 128);
    if (pcap_activate(p) < 0) {
        snprintf(err, errlen, "self-test: pcap on lo: %s", pcap_geterr(p));
        pcap_close(p);
        return LZR_ESYS;
    }
    uint16_t port = (uint16_t)(hi - (uint16_t)((hi - lo) / 2));
    char ip[16], filter[160];
    snprintf(filter, sizeof filter, "tcp src port %u and dst port %u and src host %s", port,
             SELFTEST_PEER_PORT, targets_ntoa(addr, ip));
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
        pcap_setfilter(p, &prog) < 0) {
        snprintf(err, errlen, "self-test: filter: %s", pcap_geterr(p));
        pcap_close(p);
        return LZR_ESYS;
    }
    pcap_freecode(&prog);
    pcap_setnonblock(p, 1, perr);

    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) {
        snprintf(err, errlen, "self-test: raw socket: %s%s", strerror(errno),
                 errno == EPERM ? " (run as root or with CAP_NET_RAW)" : "");
        pcap_close(p);
        return LZR_EPERM;
    }
    uint8_t frame[128];
    pkt_out_t synack = {.saddr = addr,
                        .daddr = addr,
                        .sport = SELFTEST_PEER_PORT,
                        .dport = port,
                        .seq = 0x5e1f7e57,
                        .ack = 0x1234,
                        .flags = TCP_SYN | TCP_ACK,
                        .window = 1024,
                        .ttl = 64};
    size_t len = packet_build(frame, sizeof frame, &synack);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
    int rsts = 0;
    for (int round = 0; round < 3 && rsts == 0; round++) {
        if (sendto(fd, frame + 14, len - 14, 0, (struct sockaddr *)&to, sizeof to) < 0) {
            snprintf(err, errlen, "self-test: send: %s", strerror(errno));
            close(fd);
            pcap_close(p);
            return LZR_ESYS;
        }
        uint64_t start = clock_mono_ms();
        do {
            struct pcap_pkthdr *h;
            const u_char *bytes;
            while (pcap_next_ex(p, &h, &bytes) == 1) {
                pkt_in_t in;
                if (packet_parse(bytes, h->caplen, pcap_datalink(p), &in) == LZR_OK &&
                    (in.flags & TCP_RST))
                    rsts++;
            }
            struct pollfd pfd = {.fd = pcap_get_selectable_fd(p), .events = POLLIN};
            poll(&pfd, 1, 20);
        } while (rsts == 0 && clock_mono_ms() - start < 150);
    }
    close(fd);
    pcap_close(p);
    if (rsts == 0)
        return LZR_OK;
    char hint[400];
    firewall_hint(addr, lo, hi, hint, sizeof hint);
    snprintf(err, errlen,
             "the kernel answers SYN-ACKs on the scanner's ports %u-%u with RST, which would "
             "kill every handshake; run lzr-worker with --manage-firewall, or install the rule "
             "in deploy/nftables/lzr-worker.nft, e.g.: %s",
             lo, hi, hint);
    return LZR_EFIREWALL;
}

static int run_nft(const char *script, char *err, size_t errlen)
{
    FILE *f = popen("nft -f - 2>&1", "w");
    if (!f) {
        snprintf(err, errlen, "cannot run nft: %s", strerror(errno));
        return LZR_ESYS;
    }
    fputs(script, f);
    int rc = pclose(f);
    if (rc != 0) {
        snprintf(err, errlen, "nft refused the rule (exit %d); is nftables installed?", rc);
        return LZR_ESYS;
    }
    return LZR_OK;
}

int firewall_install(uint32_t addr, uint16_t lo, uint16_t hi, char *err, size_t errlen)
{
    char ip[16], script[512];
    snprintf(installed_table, sizeof installed_table, "lzr_worker_%d", (int)getpid());
    snprintf(script, sizeof script,
             "table inet %s {\n"
             "  chain input {\n"
             "    type filter hook input priority -10; policy accept;\n"
             "    ip daddr %s tcp dport %u-%u drop\n"
             "  }\n"
             "}\n",
             installed_table, targets_ntoa(addr, ip), lo, hi);
    int rc = run_nft(script, err, errlen);
    if (rc != LZR_OK)
        installed_table[0] = '\0';
    return rc;
}

void firewall_remove(void)
{
    if (!installed_table[0])
        return;
    char script[128], err[128];
    snprintf(script, sizeof script, "delete table inet %s\n", installed_table);
    run_nft(script, err, sizeof err);
    installed_table[0] = '\0';
}
