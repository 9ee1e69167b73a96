/*
 * firewall: the ephemeral-range check reads /proc; the self-test builds two SYN-ACKs with
 * packet.c — the probe, to a port of the scanner's range, and the positive control, to a port
 * just outside it — sends them with a raw socket of the scan IP's family (IPv4, or IPv6 with
 * IPPROTO_RAW, whose header is ours too) to our own address (they cross the
 * kernel's input path as real replies would) and listens on the loopback device with libpcap
 * for the kernel's RSTs. The control's RST is the proof that the kernel has handled the probe
 * too, so a healthy host passes in about a millisecond instead of a fixed wait.
 * Installing and removing the rule is a small nft script run through popen.
 */
#include "worker/firewall.h"

#include "common/clock.h"
#include "common/err.h"
#include "worker/packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SELFTEST_PEER_PORT 9 /* the fake peer's port; our RST, if any, goes there */
#define SELFTEST_ROUNDS    3 /* the SYN-ACKs are sent again each round, in case one is lost */
#define SELFTEST_ROUND_MS  (FIREWALL_SELFTEST_WAIT_MS / SELFTEST_ROUNDS)
#define SELFTEST_GRACE_MS  2           /* listening on after the control's RST */
#define SELFTEST_BUFFER    (256 << 10) /* a small ring: activating it costs little */

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

/* nft's match on our destination address: "ip daddr A" or "ip6 daddr B". */
static const char *daddr_match(const lzr_addr_t *addr, char *buf)
{
    char text[ADDR_TEXT_MAX];
    snprintf(buf, ADDR_TEXT_MAX + 16, "%s daddr %s", addr->family == ADDR_IPV6 ? "ip6" : "ip",
             addr_format(addr, text));
    return buf;
}

void firewall_hint(const lzr_addr_t *addr, uint16_t lo, uint16_t hi, char *buf, size_t len)
{
    char match[ADDR_TEXT_MAX + 16];
    snprintf(buf, len,
             "nft add table inet lzr_worker; nft add chain inet lzr_worker input '{ type filter "
             "hook input priority -10; }'; nft add rule inet lzr_worker input %s tcp "
             "dport %u-%u drop",
             daddr_match(addr, match), lo, hi);
}

void firewall_script(char *buf, size_t len, const char *table, uint32_t addr,
                     const lzr_addr_t *addr6, uint16_t lo, uint16_t hi)
{
    lzr_addr_t a4 = {.family = ADDR_IPV4, .v4 = addr};
    char m[ADDR_TEXT_MAX + 16], rule4[ADDR_TEXT_MAX + 64] = "", rule6[ADDR_TEXT_MAX + 64] = "";
    bool v6 = addr6 && addr6->family == ADDR_IPV6;
    if (addr || !v6) /* 0 beside an IPv6 address: IPv6 targets only */
        snprintf(rule4, sizeof rule4, "    %s tcp dport %u-%u drop\n", daddr_match(&a4, m), lo, hi);
    if (v6)
        snprintf(rule6, sizeof rule6, "    %s tcp dport %u-%u drop\n", daddr_match(addr6, m), lo,
                 hi);
    snprintf(buf, len,
             "table inet %s {\n"
             "  chain input {\n"
             "    type filter hook input priority -10; policy accept;\n"
             "%s%s"
             "  }\n"
             "}\n",
             table, rule4, rule6);
}

/* The positive control's port: just below the range (lo is at least 1024 for the worker), else
 * just above it; 0 when the range covers every port. */
static uint16_t control_port(uint16_t lo, uint16_t hi)
{
    if (lo > 1)
        return (uint16_t)(lo - 1);
    return hi < 65535 ? (uint16_t)(hi + 1) : 0;
}

/* Keeps the calling thread on the CPU it runs on, so that both SYN-ACKs enter the same CPU's
 * backlog and the kernel handles them in the order they were sent. Returns false when the
 * affinity cannot be read or set (the grace period after the control's RST still covers a
 * reordering). */
static bool pin_to_cpu(cpu_set_t *saved)
{
    int cpu = sched_getcpu();
    if (cpu < 0 || sched_getaffinity(0, sizeof *saved, saved) < 0)
        return false;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
}

/* A capture on lo of what the kernel sends from addr to the self-test's peer port, from port or
 * cport; NULL with the reason in err. */
static pcap_t *selftest_capture(const lzr_addr_t *addr, uint16_t port, uint16_t cport, char *err,
                                size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_create("lo", perr);
    if (!p) {
        snprintf(err, errlen, "self-test: pcap on lo: %s", perr);
        return NULL;
    }
    pcap_set_immediate_mode(p, 1);
    pcap_set_snaplen(p, 128);
    pcap_set_buffer_size(p, SELFTEST_BUFFER);
    if (pcap_activate(p) < 0) {
        snprintf(err, errlen, "self-test: pcap on lo: %s", pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    char ip[ADDR_TEXT_MAX], filter[200];
    snprintf(filter, sizeof filter,
             "tcp and src host %s and dst port %u and (src port %u or src port %u)",
             addr_format(addr, ip), SELFTEST_PEER_PORT, port, cport ? cport : port);
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
        pcap_setfilter(p, &prog) < 0) {
        snprintf(err, errlen, "self-test: filter: %s", pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    pcap_freecode(&prog);
    pcap_setnonblock(p, 1, perr);
    return p;
}

/* One round's listening: counts the kernel's RSTs from the probe's port into *rsts and notes
 * one from the control port in *answered, until a probe RST, or SELFTEST_ROUND_MS, or
 * SELFTEST_GRACE_MS after the control's RST. */
static void selftest_listen(pcap_t *p, uint16_t port, uint16_t cport, int *rsts, bool *answered)
{
    uint64_t deadline = clock_mono_ns() + SELFTEST_ROUND_MS * 1000000ull;
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *bytes;
        while (pcap_next_ex(p, &h, &bytes) == 1) {
            pkt_in_t in;
            if (packet_parse(bytes, h->caplen, pcap_datalink(p), &in) != LZR_OK ||
                !(in.flags & TCP_RST))
                continue;
            if (in.sport == port)
                (*rsts)++;
            else if (in.sport == cport && !*answered) {
                *answered = true;
                /* A probe RST handled on another CPU gets a moment more. */
                uint64_t grace = clock_mono_ns() + SELFTEST_GRACE_MS * 1000000ull;
                if (grace < deadline)
                    deadline = grace;
            }
        }
        uint64_t now = clock_mono_ns();
        if (*rsts > 0 || now >= deadline)
            break;
        uint64_t left_ms = (deadline - now + 999999) / 1000000;
        struct pollfd pfd = {.fd = pcap_get_selectable_fd(p), .events = POLLIN};
        poll(&pfd, 1, left_ms < 20 ? (int)left_ms : 20);
    }
}

/* A raw socket that sends whole IP packets of addr's family, and addr as its destination in
 * *to (*tolen bytes); -1 with errno set otherwise. */
static int raw_socket(const lzr_addr_t *addr, struct sockaddr_storage *to, socklen_t *tolen)
{
    memset(to, 0, sizeof *to);
    if (addr->family == ADDR_IPV6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)to;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, addr->v6, 16);
        *tolen = sizeof *s6;
        return socket(AF_INET6, SOCK_RAW, IPPROTO_RAW); /* IPPROTO_RAW: the header is ours */
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)to;
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(addr->v4);
    *tolen = sizeof *s4;
    return socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
}

/* The rounds of the self-test: the probe and the control SYN-ACKs to addr out through the raw
 * socket fd (destination to), then listening on p, until an RST or the control's answer.
 * LZR_OK or LZR_ESYS with err set. */
static int selftest_rounds(int fd, const struct sockaddr_storage *to, socklen_t tolen, pcap_t *p,
                           const lzr_addr_t *addr, uint16_t port, uint16_t cport, int *rsts,
                           bool *answered, char *err, size_t errlen)
{
    uint8_t probe[128], control[128];
    pkt_out_t synack = {.seg = {.src = *addr,
                                .dst = *addr,
                                .sport = SELFTEST_PEER_PORT,
                                .dport = port,
                                .seq = 0x5e1f7e57,
                                .ack = 0x1234,
                                .flags = TCP_SYN | TCP_ACK,
                                .window = 1024,
                                .ttl = 64}};
    size_t len = packet_build(probe, sizeof probe, &synack);
    synack.seg.dport = cport;
    size_t clen = packet_build(control, sizeof control, &synack);
    const struct sockaddr *dst = (const struct sockaddr *)to;
    for (int round = 0; round < SELFTEST_ROUNDS && *rsts == 0 && !*answered; round++) {
        /* The probe first, then the control: the kernel answers them in that order. */
        if (sendto(fd, probe + 14, len - 14, 0, dst, tolen) < 0 ||
            (cport && sendto(fd, control + 14, clen - 14, 0, dst, tolen) < 0)) {
            snprintf(err, errlen, "self-test: send: %s", strerror(errno));
            return LZR_ESYS;
        }
        selftest_listen(p, port, cport, rsts, answered);
    }
    return LZR_OK;
}

int firewall_selftest(const lzr_addr_t *addr, uint16_t lo, uint16_t hi, firewall_proof_t *proof,
                      char *err, size_t errlen)
{
    uint64_t t0 = clock_mono_ns();
    uint16_t port = (uint16_t)(hi - (uint16_t)((hi - lo) / 2));
    uint16_t cport = control_port(lo, hi);
    pcap_t *p = selftest_capture(addr, port, cport, err, errlen);
    if (!p)
        return LZR_ESYS;
    struct sockaddr_storage to;
    socklen_t tolen;
    int fd = raw_socket(addr, &to, &tolen);
    if (fd < 0) {
        snprintf(err, errlen, "self-test: raw socket: %s%s", strerror(errno),
                 errno == EPERM ? " (run as root or with CAP_NET_RAW)" : "");
        pcap_close(p);
        return LZR_EPERM;
    }
    cpu_set_t saved;
    bool pinned = pin_to_cpu(&saved);
    int rsts = 0;
    bool answered = false;
    int rc = selftest_rounds(fd, &to, tolen, p, addr, port, cport, &rsts, &answered, err, errlen);
    if (pinned)
        sched_setaffinity(0, sizeof saved, &saved);
    close(fd);
    pcap_close(p);
    if (proof) {
        proof->elapsed_us = (clock_mono_ns() - t0) / 1000;
        proof->probe_port = port;
        proof->control_port = cport;
        proof->control_answered = answered;
    }
    if (rc != LZR_OK)
        return rc;
    if (rsts == 0)
        return LZR_OK;
    char hint[400], text[ADDR_TEXT_MAX];
    firewall_hint(addr, lo, hi, hint, sizeof hint);
    snprintf(err, errlen,
             "the kernel answers SYN-ACKs on the scanner's ports %u-%u with RST (scan IP %s), "
             "which would kill every handshake; run lzr-worker with --manage-firewall, or "
             "install the rule in deploy/nftables/lzr-worker.nft, e.g.: %s",
             lo, hi, addr_format(addr, text), hint);
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

int firewall_install(uint32_t addr, const lzr_addr_t *addr6, uint16_t lo, uint16_t hi, char *err,
                     size_t errlen)
{
    char script[768];
    snprintf(installed_table, sizeof installed_table, "lzr_worker_%d", (int)getpid());
    firewall_script(script, sizeof script, installed_table, addr, addr6, lo, hi);
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
