/*
 * test_catalogue: the protocol list of common/catalogue.h against the worker's handshake table
 * built from it. Every handshake is a catalogue entry and every entry a handshake, in the same
 * order, with the same name, default ports and priority; an entry's kind matches what its file
 * wires in (a FINGERPRINT has no probe, LISTEN no matcher); each IANA port is one of the
 * protocol's default ports. Also the lookups the coordinator uses (catalogue_find,
 * catalogue_iana_port).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/catalogue.h"
#include "common/defaults.h"
#include "worker/handshakes/handshake.h"

/* True when the comma-separated port list names port. */
static int lists_port(const char *ports, unsigned port)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ports);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
        if ((unsigned)atoi(p) == port)
            return 1;
    return 0;
}

static void test_every_handshake_in_the_catalogue(void **state)
{
    (void)state;
    assert_null(handshake_at(catalogue_count()));
    for (size_t i = 0; i < catalogue_count(); i++) {
        const handshake_t *h = handshake_at(i);
        const protocol_t *p = catalogue_find(h->name);
        if (!p)
            fail_msg("handshake %s is not in the catalogue", h->name);
        assert_ptr_equal(p, catalogue_at(i)); /* same order: ties between fingerprints */
        assert_string_equal(p->default_ports, h->default_ports);
        assert_int_equal(p->priority, h->priority);
    }
}

static void test_every_entry_a_handshake(void **state)
{
    (void)state;
    size_t probes = 0, fingerprints = 0, listen = 0;
    for (size_t i = 0; i < catalogue_count(); i++) {
        const protocol_t *p = catalogue_at(i);
        const handshake_t *h = handshake_find(p->name);
        if (!h)
            fail_msg("catalogue entry %s has no handshake", p->name);
        switch (p->kind) {
        case PROTO_PROBE:
            assert_non_null(h->payload);
            assert_non_null(h->match);
            assert_true(p->priority > LZR_PRIO_NONE);
            probes++;
            break;
        case PROTO_FINGERPRINT:
            assert_null(h->payload);
            assert_non_null(h->match);
            assert_true(p->priority > LZR_PRIO_NONE);
            fingerprints++;
            break;
        case PROTO_LISTEN:
            assert_non_null(h->payload);
            assert_null(h->match);
            listen++;
            break;
        }
        if (p->kind != PROTO_LISTEN && !lists_port(p->default_ports, p->iana_port))
            fail_msg("%s: IANA port %u is not among its default ports %s", p->name, p->iana_port,
                     p->default_ports);
    }
    assert_int_equal(listen, 1); /* wait */
    assert_true(probes >= 40);
    assert_true(fingerprints >= 10);
    assert_null(catalogue_at(catalogue_count()));
}

/* The default lists name protocols with a probe, within their limits. */
static void test_default_lists(void **state)
{
    (void)state;
    const handshake_t *out[HANDSHAKE_MAX_LIST];
    char err[128];
    assert_int_equal(
        handshake_list_parse(HANDSHAKE_DEFAULT_LIST, out, HANDSHAKE_MAX_LIST, err, sizeof err), 5);
    assert_int_equal(handshake_list_parse(HANDSHAKE_DEFAULT_FALLBACK, out, HANDSHAKE_MAX_FALLBACK,
                                          err, sizeof err),
                     3);
}

static void test_lookups(void **state)
{
    (void)state;
    assert_int_equal(catalogue_iana_port("http"), 80);
    assert_int_equal(catalogue_iana_port("tls"), 443);
    assert_int_equal(catalogue_iana_port("mongodb"), 27017);
    assert_int_equal(catalogue_iana_port("jdwp"), 8000); /* not its first default port */
    assert_int_equal(catalogue_iana_port("wait"), 0);
    assert_int_equal(catalogue_iana_port("unknown"), 0);
    assert_int_equal(catalogue_iana_port(NULL), 0);
    assert_string_equal(catalogue_find("ftp")->name, "ftp");
    assert_int_equal(catalogue_find("ftp")->kind, PROTO_FINGERPRINT);
    assert_int_equal(catalogue_find("ftp")->priority, LZR_PRIO_FALLBACK);
    assert_int_equal(catalogue_find("wait")->kind, PROTO_LISTEN);
    assert_null(catalogue_find("nope"));
    assert_null(catalogue_find(""));
    assert_null(catalogue_find(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_handshake_in_the_catalogue),
        cmocka_unit_test(test_every_entry_a_handshake),
        cmocka_unit_test(test_default_lists),
        cmocka_unit_test(test_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
