/*
 * Unit tests for common/names: the one worker-name rule that keygen, the coordinator's Hello
 * check and the key directory layout rely on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/names.h"

static void test_worker_names(void **state)
{
    (void)state;
    char longest[WORKER_NAME_MAX + 1], too_long[WORKER_NAME_MAX + 2];
    memset(longest, 'a', WORKER_NAME_MAX);
    longest[WORKER_NAME_MAX] = '\0';
    memset(too_long, 'a', WORKER_NAME_MAX + 1);
    too_long[WORKER_NAME_MAX + 1] = '\0';
    static const struct {
        const char *name;
        bool ok;
    } rows[] = {
        {"w1", true},       {"vantage-2.lab_A", true},
        {"a.", true},       {"workers2", true},
        {"Workers", true}, /* the reserved folder name is matched exactly */
        {"", false},        {".x", false},
        {".", false},       {"..", false},
        {"workers", false}, {"a/b", false},
        {"a b", false},     {"naïve", false},
        {"w:1", false},     {NULL, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (name_worker_valid(rows[i].name) != rows[i].ok)
            fail_msg("\"%s\": expected %s", rows[i].name ? rows[i].name : "(null)",
                     rows[i].ok ? "valid" : "invalid");
    assert_true(name_worker_valid(longest));
    assert_false(name_worker_valid(too_long));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
