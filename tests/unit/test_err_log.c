/*
 * Unit tests for common/err (every code has its own name and message) and common/log (levels
 * parse, lines carry time, level and component, and lines below the level are not written).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"

/* Every entry of the error list, as the list itself gives it. */
static const struct {
    int code;
    const char *name, *msg;
} errors[] = {
#define ERR_ROW(name, value, msg) {value, #name, msg},
    LZR_ERROR_LIST(ERR_ROW)
#undef ERR_ROW
};

static void test_err_names(void **state)
{
    (void)state;
    size_t n = sizeof errors / sizeof errors[0];
    assert_true(n > 1);
    /* Each code of the list: its own name and message, a code and name no other has. */
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(lzr_errname(errors[i].code), errors[i].name);
        assert_string_equal(lzr_strerror(errors[i].code), errors[i].msg);
        assert_true(errors[i].code <= 0);
        for (size_t k = i + 1; k < n; k++) {
            assert_int_not_equal(errors[i].code, errors[k].code);
            assert_string_not_equal(errors[i].name, errors[k].name);
        }
    }
    assert_string_equal(lzr_errname(-999), "LZR_UNKNOWN");
    assert_string_equal(lzr_strerror(1), "unknown error");
}

static void test_level_parse(void **state)
{
    (void)state;
    log_level_t l;
    assert_int_equal(log_level_parse("debug", &l), LZR_OK);
    assert_int_equal(l, LOG_LVL_DEBUG);
    assert_int_equal(log_level_parse("WARN", &l), LZR_OK);
    assert_int_equal(l, LOG_LVL_WARN);
    assert_int_equal(log_level_parse("verbose", &l), LZR_EINVAL);
}

/* Runs fn with stderr sent to a pipe and returns what it wrote. */
static void capture_stderr(void (*fn)(void), char *out, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    ssize_t n = read(fds[0], out, cap - 1);
    close(fds[0]);
    out[n > 0 ? n : 0] = '\0';
}

static void write_lines(void)
{
    log_init("lzr-test", LOG_LVL_WARN, false);
    log_info("not written: %d", 1);
    log_warn("port %d is odd", 27017);
    log_error("failed");
}

static void test_log_lines(void **state)
{
    (void)state;
    char buf[1024];
    capture_stderr(write_lines, buf, sizeof buf);
    assert_null(strstr(buf, "not written"));
    const char *warn = strstr(buf, "warn  lzr-test: port 27017 is odd\n");
    const char *error = strstr(buf, "error lzr-test: failed\n");
    assert_non_null(warn);
    assert_non_null(error);
    assert_true(warn < error);
    /* Each line starts with an RFC 3339 UTC time with milliseconds. */
    assert_int_equal(buf[4], '-');
    assert_int_equal(buf[10], 'T');
    assert_int_equal(buf[23], 'Z');
    assert_true(log_enabled(LOG_LVL_ERROR));
    assert_false(log_enabled(LOG_LVL_INFO));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_names),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_log_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
