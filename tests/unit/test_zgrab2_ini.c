/*
 * Unit tests for deploy/zgrab2/lzr.ini, the ZGrab2 `multiple` config that grabs the services lzr
 * exports with --format zgrab2: every section's trigger must be a protocol label of lzr's
 * catalogue (common/catalogue.h), the tag lzr writes for that label must be the trigger,
 * every section must name a zgrab2 module, and no label or name may appear twice. The checker
 * is also run on broken configs, to show that it catches each mistake.
 */
#include "common/err.h"
#include "common/record.h"
#include "common/catalogue.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* zgrab2's TCP modules (its README and `zgrab2 --help`), as section names of a multiple config. */
static const char *const zgrab2_modules[] = {
    "amqp091", "bacnet", "banner", "dnp3",      "fox",      "ftp",     "http",
    "imap",    "ipp",    "jarm",   "memcached", "modbus",   "mongodb", "mqtt",
    "mssql",   "mysql",  "oracle", "pop3",      "postgres", "pptp",    "redis",
    "siemens", "smb",    "smtp",   "socks5",    "ssh",      "telnet",  "tls",
};

#define MAX_SECTIONS 64

typedef struct {
    char module[32];
    char name[32];
    char trigger[32];
} section_t;

static bool is_module(const char *m)
{
    for (size_t i = 0; i < sizeof zgrab2_modules / sizeof zgrab2_modules[0]; i++) {
        if (strcmp(m, zgrab2_modules[i]) == 0)
            return true;
    }
    return false;
}

/* Reads key="value" into out; false when the value is not a quoted string that fits. */
static bool quoted(const char *v, char *out, size_t cap)
{
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"' || n - 2 >= cap)
        return false;
    memcpy(out, v + 1, n - 2);
    out[n - 2] = '\0';
    return true;
}

/* Checks a config; prints each problem and returns how many there were. *n_out gets the number
 * of module sections. */
static int check_ini(FILE *f, size_t *n_out)
{
    section_t s[MAX_SECTIONS];
    size_t n = 0;
    int problems = 0, lineno = 0;
    bool in_app = false, seen_app = false;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == ';' || line[0] == '#')
            continue;
        if (line[0] == '[') {
            char *end = strchr(line, ']');
            if (!end || end[1]) {
                printf("# line %d: bad section header\n", lineno);
                problems++;
                continue;
            }
            *end = '\0';
            if (strcmp(line + 1, "Application Options") == 0) {
                if (n > 0 || seen_app) {
                    printf("# line %d: [Application Options] must come first, once\n", lineno);
                    problems++;
                }
                in_app = seen_app = true;
                continue;
            }
            in_app = false;
            if (n == MAX_SECTIONS) {
                printf("# line %d: too many sections\n", lineno);
                return problems + 1;
            }
            memset(&s[n], 0, sizeof s[n]);
            size_t len = strlen(line + 1);
            if (len >= sizeof s[n].module)
                len = sizeof s[n].module - 1;
            memcpy(s[n].module, line + 1, len);
            if (!is_module(s[n].module)) {
                printf("# line %d: [%s] is not a zgrab2 module\n", lineno, s[n].module);
                problems++;
            }
            n++;
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq || (!in_app && n == 0)) {
            printf("# line %d: not key=value in a section\n", lineno);
            problems++;
            continue;
        }
        if (in_app)
            continue;
        *eq = '\0';
        section_t *cur = &s[n - 1];
        if (strcmp(line, "trigger") == 0 || strcmp(line, "name") == 0) {
            char *dst = line[0] == 't' ? cur->trigger : cur->name;
            if (!quoted(eq + 1, dst, sizeof cur->trigger)) {
                printf("# line %d: %s is not a quoted string\n", lineno, line);
                problems++;
            }
        }
    }
    if (!seen_app) {
        printf("# no [Application Options] section\n");
        problems++;
    }
    for (size_t i = 0; i < n; i++) {
        if (!s[i].trigger[0] || !s[i].name[0]) {
            printf("# [%s] needs a trigger and a name\n", s[i].module);
            problems++;
            continue;
        }
        if (catalogue_find(s[i].trigger) == NULL) {
            printf("# [%s] trigger \"%s\" is not a protocol of lzr's catalogue\n", s[i].module,
                   s[i].trigger);
            problems++;
            continue;
        }
        /* The tag lzr exports for a service of this protocol is the trigger. */
        lzr_record_t r;
        memset(&r, 0, sizeof r);
        r.ip = addr_ipv4(0xC6120001);
        r.port = 1;
        r.cls = CLASS_SERVICE;
        snprintf(r.protocol, sizeof r.protocol, "%s", s[i].trigger);
        char out[128], want[128];
        snprintf(want, sizeof want, "198.18.0.1,,%s,1", s[i].trigger);
        if (record_to_zgrab2(&r, out, sizeof out) == 0 || strcmp(out, want) != 0) {
            printf("# [%s] lzr exports \"%s\" for %s, not \"%s\"\n", s[i].module, out, s[i].trigger,
                   want);
            problems++;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s[i].trigger, s[j].trigger) == 0 || strcmp(s[i].name, s[j].name) == 0) {
                printf("# [%s] trigger or name \"%s\" used twice\n", s[i].module, s[i].name);
                problems++;
            }
        }
    }
    *n_out = n;
    return problems;
}

static int check_string(const char *text, size_t *n)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int p = check_ini(f, n);
    fclose(f);
    return p;
}

static void test_shipped_ini(void **state)
{
    (void)state;
    const char *dir = getenv("LZR_SRCDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/deploy/zgrab2/lzr.ini", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s: cannot open (run from the source tree or set LZR_SRCDIR)", path);
    size_t n = 0;
    int problems = check_ini(f, &n);
    fclose(f);
    assert_int_equal(problems, 0);
    /* The protocols zgrab2 grabs best are all handed on. */
    assert_true(n >= 20);
}

static void test_checker_catches_mistakes(void **state)
{
    (void)state;
    size_t n;
    const char *good = "[Application Options]\n[http]\nname=\"http\"\ntrigger=\"http\"\n";
    assert_int_equal(check_string(good, &n), 0);
    assert_int_equal(n, 1);
    /* A label lzr does not have. */
    assert_int_equal(check_string("[Application Options]\n[amqp091]\nname=\"a\"\n"
                                  "trigger=\"amqp091\"\n",
                                  &n),
                     1);
    /* A module zgrab2 does not have. */
    assert_int_equal(
        check_string("[Application Options]\n[amqp]\nname=\"a\"\ntrigger=\"amqp\"\n", &n), 1);
    /* A section without a trigger would grab every line. */
    assert_int_equal(check_string("[Application Options]\n[http]\nname=\"http\"\n", &n), 1);
    /* The same label twice. */
    assert_int_equal(check_string("[Application Options]\n[tls]\nname=\"a\"\ntrigger=\"tls\"\n"
                                  "[tls]\nname=\"b\"\ntrigger=\"tls\"\n",
                                  &n),
                     1);
    /* No [Application Options] first. */
    assert_int_equal(check_string("[http]\nname=\"http\"\ntrigger=\"http\"\n", &n), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_ini),
        cmocka_unit_test(test_checker_catches_mistakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
