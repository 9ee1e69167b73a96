/*
 * Unit tests for the sender's three paths (send.h) on a real veth pair, in a network namespace
 * of the test's own (needs root; AF_XDP's tests skip without it in the kernel): through
 * sendmmsg, a PACKET_TX_RING and an AF_XDP socket, more frames than the ring's slots and the
 * UMEM's chunks arrive on the other end whole and each once, counted sent. For AF_XDP (xsk.c)
 * also: a queue the interface lacks and a queue another socket holds are refused with the
 * reason; frames sent while the link is down are counted as failed, and the sender neither
 * hangs nor counts them sent, and sends again once the link is back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker/packet.h"
#include "worker/send.h"
#include "worker/xsk.h"

#include "own_netns.h"

#define FRAMES 3000 /* more than the UMEM's 2,048 chunks and the TX ring's 1,024 slots */

static bool have_pair;

/* lzrx0 and lzrx1, up, with no IPv6 (no MLD report to count among the frames). */
static int setup_pair(void **state)
{
    (void)state;
    have_pair = own_netns() && veth_pair("lzrx0", "lzrx1");
    return 0;
}

/* A SYN from 198.18.0.100 to 198.19.0.1:80 whose sequence number is seq. */
static size_t syn(uint8_t *buf, uint32_t seq)
{
    pkt_out_t p = {.seg = {.src = addr_ipv4(0xc6120064u),
                           .dst = addr_ipv4(0xc6130001u),
                           .sport = 40000,
                           .dport = 80,
                           .seq = seq,
                           .flags = TCP_SYN,
                           .window = 65535,
                           .ttl = 64},
                   .mss_option = true};
    memset(p.dst_mac, 0xff, 6);
    return packet_build(buf, PACKET_MAX_FRAME, &p);
}

/* A packet socket that reads every frame arriving on ifname, with room for FRAMES of them. */
static int listen_on(const char *ifname)
{
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    assert_true(fd >= 0);
    int big = 64 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = (int)if_nametoindex(ifname)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof sll), 0);
    return fd;
}

/* FRAMES SYNs through a sender of path arrive on the veth's other end byte for byte as built,
 * each once. */
static void frames_arrive_whole_and_once(send_path_t path)
{
    if (!have_pair)
        skip();
    char err[256] = "";
    int rx = listen_on("lzrx1");
    sender_t *s = sender_open(path, (int)if_nametoindex("lzrx0"), 0, err, sizeof err);
    if (!s && strstr(err, "AF_XDP socket:")) /* no AF_XDP in this kernel */
        skip();
    if (!s)
        print_message("%s\n", err);
    assert_non_null(s);
    for (uint32_t i = 0; i < FRAMES; i++)
        sender_commit(s, syn(sender_slot(s), i));
    assert_int_equal(sender_flush(s), 0);
    assert_int_equal(sender_sent(s), FRAMES);
    assert_int_equal(sender_failed(s), 0);
    size_t len;
    const uint8_t *last = sender_last(s, &len);
    if (path == SEND_MMSG) { /* built in our memory: the last one can be read back */
        uint8_t want[PACKET_MAX_FRAME];
        size_t wlen = syn(want, FRAMES - 1);
        assert_non_null(last);
        assert_int_equal(len, wlen);
        assert_memory_equal(last, want, wlen);
    } else { /* the frame lives in memory shared with the kernel */
        assert_null(last);
    }
    sender_destroy(&s); /* a TX ring's kick does not wait for its frames to leave; this does */

    static uint8_t seen[FRAMES];
    memset(seen, 0, sizeof seen);
    uint8_t want[PACKET_MAX_FRAME], got[PACKET_MAX_FRAME];
    int n = 0;
    ssize_t r;
    while ((r = recv(rx, got, sizeof got, MSG_DONTWAIT)) > 0) {
        pkt_in_t p;
        assert_int_equal(packet_parse(got, (size_t)r, 1 /* DLT_EN10MB */, &p), 0);
        assert_true(p.seq < FRAMES);
        size_t wlen = syn(want, p.seq);
        assert_int_equal((size_t)r, wlen);
        assert_memory_equal(got, want, wlen); /* byte for byte what was built */
        assert_int_equal(seen[p.seq]++, 0);   /* and once */
        n++;
    }
    assert_int_equal(n, FRAMES);
    close(rx);
}

static void test_mmsg_frames_arrive(void **state)
{
    (void)state;
    frames_arrive_whole_and_once(SEND_MMSG);
}

static void test_ring_frames_arrive(void **state)
{
    (void)state;
    frames_arrive_whole_and_once(SEND_TX_RING);
}

static void test_xsk_frames_arrive(void **state)
{
    (void)state;
    frames_arrive_whole_and_once(SEND_XSK);
}

static void test_bad_queue_refused(void **state)
{
    (void)state;
    if (!have_pair)
        skip();
    char err[256] = "";
    int ifindex = (int)if_nametoindex("lzrx0");
    xsk_t *x = xsk_open(ifindex, 0, err, sizeof err);
    if (!x && strstr(err, "AF_XDP socket:"))
        skip();
    if (!x)
        print_message("%s\n", err);
    assert_non_null(x);
    assert_null(xsk_open(ifindex, 0, err, sizeof err)); /* queue 0 is held */
    assert_non_null(strstr(err, "queue 0"));
    assert_non_null(strstr(err, "another AF_XDP socket holds the queue"));
    assert_null(xsk_open(ifindex, 7, err, sizeof err)); /* a veth has one queue */
    assert_non_null(strstr(err, "queue 7"));
    assert_non_null(strstr(err, "no such queue"));
    xsk_close(&x);
    assert_null(x);
    x = xsk_open(ifindex, 0, err, sizeof err); /* free again once closed */
    assert_non_null(x);
    xsk_close(&x);
}

static void test_link_down_counted_failed(void **state)
{
    (void)state;
    if (!have_pair)
        skip();
    char err[256] = "";
    sender_t *s = sender_new_xsk((int)if_nametoindex("lzrx0"), 0, err, sizeof err);
    if (!s && strstr(err, "AF_XDP socket:"))
        skip();
    assert_non_null(s);
    assert_int_equal(system("ip link set lzrx0 down"), 0);
    for (uint32_t i = 0; i < 100; i++)
        sender_commit(s, syn(sender_slot(s), i));
    assert_int_equal(sender_flush(s), 100 - 64); /* the first 64 went with the full batch */
    assert_int_equal(sender_sent(s), 0);
    assert_int_equal(sender_failed(s), 100);
    /* The link comes back: the sender takes up again within its revival period. */
    assert_int_equal(system("ip link set lzrx0 up"), 0);
    usleep(200000);
    for (uint32_t i = 0; i < 100; i++)
        sender_commit(s, syn(sender_slot(s), i));
    assert_int_equal(sender_flush(s), 0);
    assert_int_equal(sender_sent(s), 100);
    assert_int_equal(sender_failed(s), 100);
    sender_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmsg_frames_arrive),       cmocka_unit_test(test_ring_frames_arrive),
        cmocka_unit_test(test_xsk_frames_arrive),        cmocka_unit_test(test_bad_queue_refused),
        cmocka_unit_test(test_link_down_counted_failed),
    };
    return cmocka_run_group_tests(tests, setup_pair, NULL);
}
