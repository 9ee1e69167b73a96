/*
 * Unit tests for common/input: every line form a target list may use (plain, ip:port, ip,port,
 * ZMap's CSV with a header and its JSON lines, IPv6 alone, bracketed or before a comma), the lines
 * that name no target, the errors that quote the value, and a reader over a real pipe that hands
 * lines on before the writer closes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/input.h"

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

typedef struct {
    const char *line;
    int rc;           /* 1 target, 0 none, or the error code */
    uint32_t addr;    /* when rc is 1: the IPv4 address, or 0 for IPv6 (then text holds it) */
    int port;         /* -1: no port */
    const char *what; /* rc < 0: a piece of the message; rc 1 and addr 0: the IPv6 address */
} line_case_t;

/* Lines read one after another with one format state, so a header affects the rows below it. */
static const line_case_t plain_cases[] = {
    {"198.18.0.1", 1, A(198, 18, 0, 1), -1, NULL},
    {"  198.18.0.2 \r", 1, A(198, 18, 0, 2), -1, NULL},
    {"198.18.0.3:8080", 1, A(198, 18, 0, 3), 8080, NULL},
    {"198.18.0.4,22", 1, A(198, 18, 0, 4), 22, NULL},
    {"198.18.0.5, 443 # a comment", 1, A(198, 18, 0, 5), 443, NULL},
    {"", 0, 0, -1, NULL},
    {"   # only a comment", 0, 0, -1, NULL},
    {"198.18.0.x", LZR_EPARSE, 0, -1, "198.18.0.x"},
    {"198.18.0.0/24", LZR_EPARSE, 0, -1, "range"},
    {"198.18.0.1-198.18.0.9", LZR_EPARSE, 0, -1, "range"},
    {"198.18.0.1:0", LZR_ERANGE, 0, -1, "port"},
    {"198.18.0.1:70000", LZR_ERANGE, 0, -1, "70000"},
    {"198.18.0.1:80-90", LZR_EPARSE, 0, -1, "80-90"},
    {"198.18.0.1:", LZR_EPARSE, 0, -1, "port"},
    {"{\"saddr\": \"198.18.1.1\", \"sport\": 80, \"success\": true}", 1, A(198, 18, 1, 1), 80,
     NULL},
    {"{\"saddr\":\"198.18.1.2\",\"classification\":\"synack\"}", 1, A(198, 18, 1, 2), -1, NULL},
    {"{\"daddr\":\"198.18.1.2\"}", LZR_EPARSE, 0, -1, "saddr"},
    {"{\"saddr\":\"nope\"}", LZR_EPARSE, 0, -1, "nope"},
    /* IPv6: alone, [addr]:port, addr,port, in JSON; a prefix or junk is refused. */
    {"2001:2:0:16::10", 1, 0, -1, "2001:2:0:16::10"},
    {"2001:2:0:16::10:80", 1, 0, -1, "2001:2:0:16::10:80"}, /* no brackets: all address */
    {"[2001:2:0:16::10]:8080", 1, 0, 8080, "2001:2:0:16::10"},
    {"[2001:2:0:16::11]", 1, 0, -1, "2001:2:0:16::11"},
    {"2001:2:0:16::12, 443", 1, 0, 443, "2001:2:0:16::12"},
    {"{\"saddr\": \"2001:2::1\", \"sport\": 22}", 1, 0, 22, "2001:2::1"},
    {"2001:2::/64", LZR_EPARSE, 0, -1, "prefix"},
    {"2001:2::g", LZR_EPARSE, 0, -1, "not an IPv6"},
    {"[2001:2::1]:0", LZR_ERANGE, 0, -1, "port"},
};

static const line_case_t csv_cases[] = {
    {"saddr,daddr,sport,dport,classification", 0, 0, -1, NULL},
    {"198.18.2.1,198.18.0.2,443,40001,synack", 1, A(198, 18, 2, 1), 443, NULL},
    {" 198.18.2.2 , 198.18.0.2 , 22 ,40001,synack", 1, A(198, 18, 2, 2), 22, NULL},
    {"198.18.2.3", LZR_EPARSE, 0, -1, "port"}, /* the header promised a sport column */
    {"saddr", 0, 0, -1, NULL},                 /* a new header: addresses only */
    {"198.18.2.4", 1, A(198, 18, 2, 4), -1, NULL},
    {"classification,saddr", 0, 0, -1, NULL},
    {"synack,198.18.2.5", 1, A(198, 18, 2, 5), -1, NULL},
    {"synack", LZR_EPARSE, 0, -1, "not an IPv4"},
    {"synack,2001:2:0:16::5", 1, 0, -1, "2001:2:0:16::5"},
};

static void run_cases(const line_case_t *cases, size_t n)
{
    input_format_t f = INPUT_FORMAT_INIT;
    for (size_t i = 0; i < n; i++) {
        const line_case_t *c = &cases[i];
        input_target_t t;
        char err[512] = "";
        int rc = input_parse_line(&f, c->line, &t, err, sizeof err);
        print_message("%s\n", c->line);
        assert_int_equal(rc, c->rc);
        if (rc == 1) {
            if (c->addr) {
                assert_int_equal(t.addr.family, ADDR_IPV4);
                assert_int_equal(t.addr.v4, c->addr);
            } else {
                char text[ADDR_TEXT_MAX];
                assert_int_equal(t.addr.family, ADDR_IPV6);
                assert_string_equal(addr_format(&t.addr, text), c->what);
            }
            assert_int_equal(t.has_port, c->port >= 0);
            if (c->port >= 0)
                assert_int_equal(t.port, c->port);
        } else if (rc < 0) {
            assert_non_null(strstr(err, c->what));
        }
    }
}

static void test_plain_and_json(void **state)
{
    (void)state;
    run_cases(plain_cases, sizeof plain_cases / sizeof plain_cases[0]);
}

static void test_csv_header(void **state)
{
    (void)state;
    run_cases(csv_cases, sizeof csv_cases / sizeof csv_cases[0]);
}

static void test_long_line(void **state)
{
    (void)state;
    char *line = malloc(INPUT_LINE_MAX + 10);
    memset(line, '1', INPUT_LINE_MAX + 9);
    line[INPUT_LINE_MAX + 9] = '\0';
    input_format_t f = INPUT_FORMAT_INIT;
    input_target_t t;
    char err[256];
    assert_int_equal(input_parse_line(&f, line, &t, err, sizeof err), LZR_EPARSE);
    assert_non_null(strstr(err, "longer"));
    free(line);
}

/* A file: every line checked, the counts and the first target; a bad line names file:line. */
static void test_check_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_input_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *good = "# targets\n198.18.0.1\n198.18.0.2:80\n\n198.18.0.3,22"; /* no last \n */
    assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
    uint64_t na, np;
    char err[512] = "";
    assert_int_equal(input_check_file(path, &na, &np, err, sizeof err), LZR_OK);
    assert_int_equal(na, 1);
    assert_int_equal(np, 2);
    input_reader_t *r = input_open(path, err, sizeof err);
    input_target_t first, t;
    assert_int_equal(input_peek(r, &first, err, sizeof err), 1); /* kept for input_next */
    assert_int_equal(first.addr.v4, A(198, 18, 0, 1));
    assert_int_equal(input_next(r, 0, &t, err, sizeof err), 1);
    assert_true(addr_equal(&t.addr, &first.addr));
    assert_int_equal(input_next(r, 0, &t, err, sizeof err), 1);
    assert_int_equal(t.port, 80);
    input_close(&r);
    assert_int_equal(ftruncate(fd, 0), 0);
    const char *bad = "198.18.0.1\n\n198.18.0.300:80\n";
    assert_int_equal(pwrite(fd, bad, strlen(bad), 0), (ssize_t)strlen(bad));
    assert_int_equal(input_check_file(path, &na, &np, err, sizeof err), LZR_EPARSE);
    char want[300];
    snprintf(want, sizeof want, "%s:3: \"198.18.0.300", path);
    assert_non_null(strstr(err, want));
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(input_check_file(path, &na, &np, err, sizeof err), LZR_EEMPTY);
    close(fd);
    unlink(path);
    assert_int_equal(input_check_file(path, &na, &np, err, sizeof err), LZR_EIO);
    assert_non_null(strstr(err, path));
}

/* A pipe: a line is handed on as soon as it is whole, while the writer keeps the pipe open; a
 * partial line waits; the end comes when the writer closes. */
static void test_pipe_stream(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    int saved = dup(STDIN_FILENO);
    assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
    close(p[0]);
    char err[256];
    input_reader_t *r = input_open("-", err, sizeof err);
    assert_non_null(r);
    input_target_t t;
    assert_int_equal(input_next(r, 10, &t, err, sizeof err), 0); /* nothing yet */
    assert_int_equal(write(p[1], "198.18.0.7\n198.18", 17), 17);
    assert_int_equal(input_next(r, 100, &t, err, sizeof err), 1);
    assert_int_equal(t.addr.v4, A(198, 18, 0, 7));
    assert_int_equal(input_next(r, 10, &t, err, sizeof err), 0); /* half a line waits */
    assert_int_equal(write(p[1], ".0.8:443\nbad\n", 13), 13);
    assert_int_equal(input_next(r, 100, &t, err, sizeof err), 1);
    assert_int_equal(t.addr.v4, A(198, 18, 0, 8));
    assert_int_equal(t.port, 443);
    assert_int_equal(input_next(r, 100, &t, err, sizeof err), LZR_EPARSE);
    assert_non_null(strstr(err, "stdin:3: \"bad\""));
    close(p[1]);
    assert_int_equal(input_next(r, 100, &t, err, sizeof err), LZR_EEMPTY);
    input_close(&r);
    assert_null(r);
    dup2(saved, STDIN_FILENO);
    close(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_json), cmocka_unit_test(test_csv_header),
        cmocka_unit_test(test_long_line),      cmocka_unit_test(test_check_file),
        cmocka_unit_test(test_pipe_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
