/*
 * Unit tests for common/toml, written from the rules and examples of the TOML v1.0 spec for the
 * subset we read: comments, keys (bare, quoted, dotted), strings, integers, booleans, arrays
 * and tables, plus every refusal (unsupported features, duplicates, redefinitions, overflow,
 * malformed input) with the line and column it reports, in one table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/toml.h"

static char err[256];

static toml_value_t *parse_ok(const char *text)
{
    toml_value_t *root = toml_parse(text, strlen(text), err, sizeof(err));
    if (root == NULL)
        fail_msg("unexpected error \"%s\" for:\n%s", err, text);
    assert_int_equal(err[0], '\0');
    return root;
}

/* Asserts that text is refused and the message starts with want (position included). */
static void parse_err(const char *text, const char *want)
{
    err[0] = 'X';
    toml_value_t *root = toml_parse(text, strlen(text), err, sizeof(err));
    if (root != NULL) {
        toml_free(&root);
        fail_msg("accepted, expected \"%s\", for:\n%s", want, text);
    }
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("got \"%s\", expected \"%s\"... for:\n%s", err, want, text);
}

/* Follows a dotted path of bare keys from the root, for brevity in tests. */
static const toml_value_t *at(const toml_value_t *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    const toml_value_t *v = root;
    for (char *save, *p = strtok_r(buf, ".", &save); p; p = strtok_r(NULL, ".", &save)) {
        v = toml_get(v, p);
        if (v == NULL)
            fail_msg("no %s in %s", p, path);
    }
    return v;
}

static void assert_str(const toml_value_t *root, const char *path, const char *want)
{
    const toml_value_t *v = at(root, path);
    assert_int_equal(toml_type(v), TOML_STRING);
    assert_string_equal(toml_string(v), want);
}

static void assert_int(const toml_value_t *root, const char *path, int64_t want)
{
    const toml_value_t *v = at(root, path);
    assert_int_equal(toml_type(v), TOML_INT);
    assert_true(toml_int(v) == want);
}

/* Every refusal, by the topic of the spec it tests: the text and the beginning of the message
 * (line:column included) it must produce. */
static const struct {
    const char *topic, *text, *want;
} refusals[] = {
    {"keyval_rules", "key = # INVALID\n", "1:7: expected a value, found '#'"},
    {"keyval_rules", "key =\n", "1:6: expected a value, found end of line"},
    {"keyval_rules", "key = ", "1:7: expected a value, found end of input"},
    {"keyval_rules", "first = \"Tom\" last = \"Preston-Werner\"\n",
     "1:15: expected end of line after value, found 'l'"},
    {"keyval_rules", "name = \"x\"\n\nports   x\n", "3:9: expected '=' after key, found 'x'"},
    {"keyval_rules", "= \"no key name\"\n", "1:1: expected a key, found '='"},
    {"keyval_rules", "a.= 1\n", "1:3: expected a key, found '='"},
    {"keyval_rules", "key\n", "1:4: expected '=' after key, found end of line"},
    {"dotted_keys", "fruit.apple = 1\nfruit.apple.smooth = true\n",
     "2:7: 'fruit.apple' is already an integer (line 1), not a table"},
    {"dotted_keys", "a = [1]\na.b = 1\n", "2:1: 'a' is already an array (line 1), not a table"},
    {"duplicate_keys", "name = \"Tom\"\nname = \"Pradyun\"\n",
     "2:1: duplicate key 'name' (first defined at line 1)"},
    {"duplicate_keys", "spelling = \"favorite\"\n\"spelling\" = \"favourite\"\n",
     "2:1: duplicate key 'spelling'"},
    {"duplicate_keys", "a.b = 1\na.b = 2\n", "2:1: duplicate key 'a.b' (first defined at line 1)"},
    {"duplicate_keys", "a.b = 1\na = 2\n", "2:1: duplicate key 'a'"},
    {"duplicate_keys", "[t]\n\"x y\" = 1\n'x y' = 2\n", "3:1: duplicate key '\"x y\"'"},
    {"duplicate_keys", "[t]\n\"a\\n\\\"\".b = 1\n\"a\\n\\\"\".b = 2\n",
     "3:1: duplicate key '\"a??\".b'"},
    {"basic_strings", "s = \"\\x41\"\n", "1:6: invalid escape '\\x' in string"},
    {"basic_strings", "s = \"\\e\"\n", "1:6: invalid escape '\\e' in string"},
    {"basic_strings", "s = \"\\u00G1\"\n", "1:6: \\u escape needs 4 hex digits"},
    {"basic_strings", "s = \"\\u12\"\n", "1:6: \\u escape needs 4 hex digits"},
    {"basic_strings", "s = \"\\uD800\"\n", "1:6: escape \\uD800 is not a Unicode scalar value"},
    {"basic_strings", "s = \"\\U00110000\"\n",
     "1:6: escape \\U00110000 is not a Unicode scalar value"},
    {"basic_strings", "s = \"\\u0000\"\n",
     "1:6: NUL character (\\u0000) in strings is not supported"},
    {"basic_strings", "s = \"abc\n", "1:5: unterminated string (line ends before the closing \")"},
    {"basic_strings", "s = \"abc", "1:5: unterminated string"},
    {"basic_strings",
     "s = \"a\x01"
     "b\"\n",
     "1:7: control character 0x01 in string must be escaped"},
    {"basic_strings", "s = \"a\x7f\"\n", "1:7: control character 0x7f in string must be escaped"},
    {"basic_strings", "s = \"a\xc3\"\n", "1:7: invalid UTF-8 (byte 0xc3)"},
    {"basic_strings", "s = \"\xed\xa0\x80\"\n", "1:6: invalid UTF-8 (byte 0xed)"},
    {"basic_strings", "s = \"\xc0\xaf\"\n", "1:6: invalid UTF-8 (byte 0xc0)"},
    {"basic_strings", "s = \"\xf4\x90\x80\x80\"\n", "1:6: invalid UTF-8"},
    {"literal_strings", "s = 'it''s'\n", "1:9: expected end of line after value, found '''"},
    {"literal_strings", "s = 'abc\n", "1:5: unterminated string (line ends before the closing ')"},
    {"literal_strings", "s = 'a\x02'\n", "1:7: control character 0x02 in string"},
    {"integers", "n = 9223372036854775808\n",
     "1:5: integer '9223372036854775808' does not fit in 64 bits"},
    {"integers", "n = -9223372036854775809\n", "1:5: integer '-9223372036854775809' does not fit"},
    {"integers", "n = 99999999999999999999999\n", "1:5: integer '99999999999999999999999' does"},
    {"integers", "n = 0x8000000000000000\n", "1:5: integer '0x8000000000000000' does not fit"},
    {"integers", "n = 0b1_0000000000000000000000000000000000000000000000000000000000000000\n",
     "1:5: integer '0b1_000000000"},
    {"integers", "n = 01\n", "1:5: invalid integer '01' (leading zeros are not allowed)"},
    {"integers", "n = +0x10\n",
     "1:5: invalid integer '+0x10' (hex, octal and binary take no sign)"},
    {"integers", "n = 1__0\n", "1:5: invalid integer '1__0'"},
    {"integers", "n = 1_\n", "1:5: invalid integer '1_'"},
    {"integers", "n = _1\n", "1:5: invalid value '_1' (strings must be quoted)"},
    {"integers", "n = 0x\n", "1:5: invalid integer '0x'"},
    {"integers", "n = 0x_1\n", "1:5: invalid integer '0x_1'"},
    {"integers", "n = 0b2\n", "1:5: invalid integer '0b2'"},
    {"integers", "n = 0o8\n", "1:5: invalid integer '0o8'"},
    {"integers", "n = 0X1F\n", "1:5: invalid integer '0X1F'"},
    {"integers", "n = 12abc\n", "1:5: invalid integer '12abc'"},
    {"integers", "n = - 1\n", "1:5: invalid value '-' (strings must be quoted)"},
    {"booleans", "b = True\n", "1:5: invalid value 'True' (strings must be quoted)"},
    {"booleans", "b = yes\n", "1:5: invalid value 'yes'"},
    {"booleans", "b = truex\n", "1:5: invalid value 'truex'"},
    {"refused_features", "pi = 3.14\n", "1:6: floats are not supported ('3.14')"},
    {"refused_features", "f = 1e6\n", "1:5: floats are not supported"},
    {"refused_features", "f = -2E-2\n", "1:5: floats are not supported"},
    {"refused_features", "f = 6.626e-34\n", "1:5: floats are not supported"},
    {"refused_features", "f = 224_617.445_991_228\n", "1:5: floats are not supported"},
    {"refused_features", "f = inf\n", "1:5: floats are not supported ('inf')"},
    {"refused_features", "f = -nan\n", "1:5: floats are not supported ('-nan')"},
    {"refused_features", "a = [1, 2.5]\n", "1:9: floats are not supported"},
    {"refused_features", "d = 1979-05-27T07:32:00Z\n", "1:5: dates and times are not supported"},
    {"refused_features", "d = 1979-05-27 07:32:00\n", "1:5: dates and times are not supported"},
    {"refused_features", "d = 1979-05-27\n",
     "1:5: dates and times are not supported ('1979-05-27')"},
    {"refused_features", "t = 07:32:00\n", "1:5: dates and times are not supported ('07:32:00')"},
    {"refused_features", "t = {a = 1}\n", "1:5: inline tables ({...}) are not supported"},
    {"refused_features", "t = \"\"\"\nx\"\"\"\n",
     "1:5: multi-line strings (\"\"\") are not supported"},
    {"refused_features", "t = '''x'''\n", "1:5: multi-line strings (''') are not supported"},
    {"refused_features", "x = 1\n[[products]]\nname = \"Hammer\"\n",
     "2:1: arrays of tables ([[...]]) are not supported"},
    {"arrays", "a = [,]\n", "1:6: expected a value, found ','"},
    {"arrays", "a = [1,,2]\n", "1:8: expected a value, found ','"},
    {"arrays", "a = [1 2]\n", "1:8: expected ',' or ']' in array, found '2'"},
    {"arrays", "a = [1, 2\n", "2:1: expected ',' or ']' in array, found end of input"},
    {"arrays", "a = [1, 2", "1:10: expected ',' or ']' in array, found end of input"},
    {"arrays", "a = [1] 2\n", "1:9: expected end of line after value, found '2'"},
    {"arrays", "a = [1, # c\x01\n]\n", "1:12: control character 0x01 in comment"},
    {"table_redefinition", "[fruit]\napple = \"red\"\n\n[fruit]\norange = \"orange\"\n",
     "4:1: table [fruit] is defined twice (first at line 1)"},
    {"table_redefinition", "[fruit]\napple = \"red\"\n\n[fruit.apple]\ntexture = \"smooth\"\n",
     "4:8: 'fruit.apple' is already a string (line 2), not a table"},
    {"table_redefinition",
     "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple]\n",
     "4:1: table [fruit.apple] is defined twice (first at line 2, by dotted keys)"},
    {"table_redefinition",
     "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.taste]\n",
     "4:1: table [fruit.apple.taste] is defined twice (first at line 3, by dotted keys)"},
    {"table_redefinition", "[x.y.z]\n[x]\n[x]\n",
     "3:1: table [x] is defined twice (first at line 2)"},
    {"table_redefinition", "[a.b.c]\nz = 9\n[a]\nb.c.t = \"x\"\n",
     "4:1: dotted key cannot add to table 'b' defined by a [header] (line 1)"},
    {"table_redefinition", "[a]\nb = 1\n[a.b.c]\n",
     "3:4: 'a.b' is already an integer (line 2), not a table"},
    {"table_redefinition", "[t1]\nt2.t3.v = 0\n[t1.t2]\n",
     "3:1: table [t1.t2] is defined twice (first at line 2, by dotted keys)"},
    {"table_redefinition", "a.b = 1\n[a]\n",
     "2:1: table [a] is defined twice (first at line 1, by dotted keys)"},
    {"table_redefinition", "a = 1\n[a]\n", "2:2: 'a' is already an integer (line 1), not a table"},
    {"table_redefinition", "[]\n", "1:2: expected a key, found ']'"},
    {"table_redefinition", "[a\n", "1:3: expected ']' after table name, found end of line"},
    {"table_redefinition", "[a] b = 1\n",
     "1:5: expected end of line after table header, found 'b'"},
    {"table_redefinition", "[a.]\n", "1:4: expected a key, found ']'"},
    {"positions", "a = 1\n\"\xc3\xa9\" = 1 x\n", "2:9: expected end of line"},
    {"line_endings_and_bom", "a = 1\rb = 2\n",
     "1:6: expected end of line after value, found a carriage return"},
    {"line_endings_and_bom", "a = \"x\r\"\n", "1:5: unterminated string"},
    {"line_endings_and_bom", "a = 1 # \xff\n", "1:9: invalid UTF-8 (byte 0xff)"},
    {"line_endings_and_bom", "\xff = 1\n", "1:1: expected a key, found byte 0xff"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        err[0] = 'X';
        toml_value_t *root =
            toml_parse(refusals[i].text, strlen(refusals[i].text), err, sizeof(err));
        if (root != NULL) {
            toml_free(&root);
            fail_msg("%s: accepted, expected \"%s\", for:\n%s", refusals[i].topic, refusals[i].want,
                     refusals[i].text);
        }
        if (strncmp(err, refusals[i].want, strlen(refusals[i].want)) != 0)
            fail_msg("%s: got \"%s\", expected \"%s\"... for:\n%s", refusals[i].topic, err,
                     refusals[i].want, refusals[i].text);
    }
}

static void test_comments_and_empty(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("# This is a full-line comment\n"
                               "key = \"value\"  # This is a comment at the end of a line\n"
                               "another = \"# This is not a comment\"\n"
                               "\t  # indented comment with a tab\t\n");
    assert_int_equal(toml_type(r), TOML_TABLE);
    assert_int_equal(toml_len(r), 2);
    assert_str(r, "key", "value");
    assert_str(r, "another", "# This is not a comment");
    toml_free(&r);
    assert_null(r);

    r = parse_ok("");
    assert_int_equal(toml_len(r), 0);
    toml_free(&r);
    r = parse_ok("\n\n# only comments\n   \n");
    assert_int_equal(toml_len(r), 0);
    toml_free(&r);
    toml_free(&r); /* freeing a NULL tree is a no-op */
    toml_free(NULL);
}

static void test_keys(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("key = \"value\"\n"
                               "bare_key = \"value\"\n"
                               "bare-key = \"value\"\n"
                               "1234 = \"value\"\n"
                               "\"127.0.0.1\" = \"value\"\n"
                               "\"character encoding\" = \"value\"\n"
                               "\"\xca\x8e\xc7\x9d\xca\x9e\" = \"value\"\n"
                               "'key2' = \"value\"\n"
                               "'quoted \"value\"' = \"value\"\n"
                               "\"\" = \"blank\"\n");
    assert_int_equal(toml_len(r), 10);
    assert_string_equal(toml_key_at(r, 0), "key");
    assert_string_equal(toml_key_at(r, 3), "1234");
    assert_string_equal(toml_key_at(r, 4), "127.0.0.1");
    assert_string_equal(toml_key_at(r, 6), "\xca\x8e\xc7\x9d\xca\x9e");
    assert_string_equal(toml_key_at(r, 8), "quoted \"value\"");
    assert_string_equal(toml_key_at(r, 9), "");
    assert_null(toml_key_at(r, 10));
    assert_null(toml_at(r, 10));
    assert_string_equal(toml_string(toml_get(r, "")), "blank");
    assert_non_null(toml_get(r, "127.0.0.1"));
    assert_null(toml_get(r, "127"));
    toml_free(&r);

    r = parse_ok("'' = 'blank'\n");
    assert_string_equal(toml_string(toml_get(r, "")), "blank");
    toml_free(&r);
}

static void test_dotted_keys(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("name = \"Orange\"\n"
                               "physical.color = \"orange\"\n"
                               "physical.shape = \"round\"\n"
                               "site.\"google.com\" = true\n"
                               "fruit.name = \"banana\"\n"
                               "fruit. color = \"yellow\"\n"
                               "fruit . flavor = \"banana\"\n"
                               "3.14159 = \"pi\"\n");
    assert_str(r, "physical.color", "orange");
    assert_str(r, "physical.shape", "round");
    const toml_value_t *site = toml_get(r, "site");
    assert_int_equal(toml_type(site), TOML_TABLE);
    assert_true(toml_bool(toml_get(site, "google.com")));
    assert_str(r, "fruit.color", "yellow");
    assert_str(r, "fruit.flavor", "banana");
    assert_int_equal(toml_len(at(r, "fruit")), 3);
    assert_str(r, "3.14159", "pi"); /* two keys, "3" then "14159" */
    assert_int_equal(toml_len(r), 5);
    toml_free(&r);

    r = parse_ok("fruit.apple.smooth = true\nfruit.orange = 2\n");
    assert_true(toml_bool(at(r, "fruit.apple.smooth")));
    assert_int(r, "fruit.orange", 2);
    toml_free(&r);
}

static void test_basic_strings(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok(
        "str = \"I'm a string. \\\"You can quote me\\\". Name\\tJos\\u00E9\\nLocation\\tSF.\"\n"
        "esc = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n"
        "u4 = \"\\u0041\\u00e9\\u20AC\"\n"
        "u8 = \"\\U0001F600\\U00000041\"\n"
        "raw = \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 tab\tin\"\n"
        "empty = \"\"\n");
    assert_str(r, "str", "I'm a string. \"You can quote me\". Name\tJos\xc3\xa9\nLocation\tSF.");
    assert_str(r, "esc", "\b\t\n\f\r\"\\");
    assert_str(r, "u4", "A\xc3\xa9\xe2\x82\xac");
    assert_str(r, "u8",
               "\xf0\x9f\x98\x80"
               "A");
    assert_str(r, "raw", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 tab\tin");
    assert_str(r, "empty", "");
    toml_free(&r);
    /* surrogate */ /* overlong */ /* > U+10FFFF */
}

static void test_literal_strings(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("winpath  = 'C:\\Users\\nodejs\\templates'\n"
                               "winpath2 = '\\\\ServerX\\admin$\\system32\\'\n"
                               "quoted   = 'Tom \"Dubs\" Preston-Werner'\n"
                               "regex    = '<\\i\\c*\\s*>'\n");
    assert_str(r, "winpath", "C:\\Users\\nodejs\\templates");
    assert_str(r, "winpath2", "\\\\ServerX\\admin$\\system32\\");
    assert_str(r, "quoted", "Tom \"Dubs\" Preston-Werner");
    assert_str(r, "regex", "<\\i\\c*\\s*>");
    toml_free(&r);
}

static void test_integers(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17\n"
                               "int5 = 1_000\nint6 = 5_349_221\nint7 = 53_49_221\n"
                               "int8 = 1_2_3_4_5\nzero1 = +0\nzero2 = -0\n"
                               "hex1 = 0xDEADBEEF\nhex2 = 0xdeadbeef\nhex3 = 0xdead_beef\n"
                               "hex4 = 0x00ff\noct1 = 0o01234567\noct2 = 0o755\n"
                               "bin1 = 0b11010110\nbin2 = 0b1_0\n"
                               "max = 9223372036854775807\nmin = -9223372036854775808\n"
                               "hexmax = 0x7FFF_FFFF_FFFF_FFFF\n");
    assert_int(r, "int1", 99);
    assert_int(r, "int2", 42);
    assert_int(r, "int3", 0);
    assert_int(r, "int4", -17);
    assert_int(r, "int5", 1000);
    assert_int(r, "int6", 5349221);
    assert_int(r, "int7", 5349221);
    assert_int(r, "int8", 12345);
    assert_int(r, "zero1", 0);
    assert_int(r, "zero2", 0);
    assert_int(r, "hex1", 0xdeadbeef);
    assert_int(r, "hex2", 0xdeadbeef);
    assert_int(r, "hex3", 0xdeadbeef);
    assert_int(r, "hex4", 255);
    assert_int(r, "oct1", 01234567);
    assert_int(r, "oct2", 0755);
    assert_int(r, "bin1", 214);
    assert_int(r, "bin2", 2);
    assert_int(r, "max", INT64_MAX);
    assert_int(r, "min", INT64_MIN);
    assert_int(r, "hexmax", INT64_MAX);
    toml_free(&r);
}

static void test_booleans(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("bool1 = true\nbool2 = false\n");
    assert_int_equal(toml_type(at(r, "bool1")), TOML_BOOL);
    assert_true(toml_bool(at(r, "bool1")));
    assert_false(toml_bool(at(r, "bool2")));
    toml_free(&r);
}

static void test_arrays(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok(
        "integers = [ 1, 2, 3 ]\n"
        "colors = [ \"red\", \"yellow\", \"green\" ]\n"
        "nested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\n"
        "nested_mixed_array = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\n"
        "string_array = [ \"all\", 'strings', \"are the same\", 'type' ]\n"
        "contributors = [\n  \"Foo Bar <foo@example.com>\",\n  'Baz Qux', # trailing comment\n]\n"
        "integers2 = [\n  1, 2, 3\n]\n"
        "integers3 = [\n  1,\n  2, # this is ok\n]\n"
        "empty = []\nempty2 = [ # c\n\n]\n"
        "mixed = [1, 'a', true, [false]]\n");
    const toml_value_t *a = at(r, "integers");
    assert_int_equal(toml_type(a), TOML_ARRAY);
    assert_int_equal(toml_len(a), 3);
    assert_int_equal(toml_int(toml_at(a, 2)), 3);
    assert_null(toml_at(a, 3));
    assert_string_equal(toml_string(toml_at(at(r, "colors"), 1)), "yellow");
    const toml_value_t *n = at(r, "nested_arrays_of_ints");
    assert_int_equal(toml_len(n), 2);
    assert_int_equal(toml_len(toml_at(n, 1)), 3);
    assert_int_equal(toml_int(toml_at(toml_at(n, 1), 2)), 5);
    assert_string_equal(toml_string(toml_at(toml_at(at(r, "nested_mixed_array"), 1), 0)), "a");
    assert_int_equal(toml_len(at(r, "string_array")), 4);
    assert_int_equal(toml_len(at(r, "contributors")), 2);
    assert_string_equal(toml_string(toml_at(at(r, "contributors"), 1)), "Baz Qux");
    assert_int_equal(toml_len(at(r, "integers2")), 3);
    assert_int_equal(toml_len(at(r, "integers3")), 2);
    assert_int_equal(toml_len(at(r, "empty")), 0);
    assert_int_equal(toml_len(at(r, "empty2")), 0);
    const toml_value_t *m = at(r, "mixed");
    assert_int_equal(toml_type(toml_at(m, 0)), TOML_INT);
    assert_int_equal(toml_type(toml_at(m, 1)), TOML_STRING);
    assert_int_equal(toml_type(toml_at(m, 2)), TOML_BOOL);
    assert_int_equal(toml_type(toml_at(m, 3)), TOML_ARRAY);
    toml_free(&r);
}

static void test_array_depth_bound(void **state)
{
    (void)state;
    char text[200];
    /* 32 nested arrays are accepted, 33 refused. */
    int n = snprintf(text, sizeof(text), "a = %.*s%.*s\n", 32,
                     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 32,
                     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    assert_true(n > 0);
    toml_value_t *r = parse_ok(text);
    const toml_value_t *v = at(r, "a");
    for (int i = 1; i < 32; i++)
        v = toml_at(v, 0);
    assert_int_equal(toml_type(v), TOML_ARRAY);
    assert_int_equal(toml_len(v), 0);
    toml_free(&r);
    snprintf(text, sizeof(text), "a = %.*s%.*s\n", 33, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
             33, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    parse_err(text, "1:37: arrays nested more than 32 deep");

    /* 100 000 opening brackets must fail fast, not overflow the stack. */
    size_t big = 100000;
    char *deep = malloc(big + 5);
    assert_non_null(deep);
    memcpy(deep, "a = ", 4);
    memset(deep + 4, '[', big);
    deep[big + 4] = '\0';
    parse_err(deep, "1:37: arrays nested more than 32 deep");
    free(deep);

    /* Key paths are bounded too. */
    char key[200] = "";
    for (int i = 0; i < 33; i++)
        strcat(key, i ? ".k" : "k");
    strcat(key, " = 1\n");
    parse_err(key, "1:65: key has more than 32 dotted parts");
}

static void test_tables(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("top = 1\n"
                               "[table-1]\nkey1 = \"some string\"\nkey2 = 123\n\n"
                               "[table-2]\nkey1 = \"another string\"\nkey2 = 456\n"
                               "[dog.\"tater.man\"]\ntype.name = \"pug\"\n"
                               "[a.b.c]            # this is best practice\n"
                               "[ d.e.f ]          # same as [d.e.f]\n"
                               "[ g .  h  . i ]    # same as [g.h.i]\n"
                               "[ j . \"\xca\x9e\" . 'l' ]  # same as [j.\"\xca\x9e\".'l']\n"
                               "[x.y.z.w]\n"
                               "[x]\nq = 'defined after its sub-table'\n");
    assert_int(r, "top", 1);
    assert_str(r, "table-1.key1", "some string");
    assert_int(r, "table-2.key2", 456);
    const toml_value_t *dog = at(r, "dog");
    assert_str(toml_get(dog, "tater.man"), "type.name", "pug");
    assert_int_equal(toml_type(at(r, "a.b.c")), TOML_TABLE);
    assert_int_equal(toml_len(at(r, "a.b.c")), 0);
    assert_int_equal(toml_type(at(r, "d.e.f")), TOML_TABLE);
    assert_int_equal(toml_type(at(r, "g.h.i")), TOML_TABLE);
    const toml_value_t *j = toml_get(at(r, "j"), "\xca\x9e");
    assert_non_null(toml_get(j, "l"));
    assert_int_equal(toml_type(at(r, "x.y.z.w")), TOML_TABLE);
    assert_str(r, "x.q", "defined after its sub-table");
    /* Keys keep file order. */
    assert_string_equal(toml_key_at(r, 0), "top");
    assert_string_equal(toml_key_at(r, 1), "table-1");
    assert_string_equal(toml_key_at(r, 2), "table-2");
    assert_string_equal(toml_key_at(at(r, "x"), 0), "y");
    assert_string_equal(toml_key_at(at(r, "x"), 1), "q");
    toml_free(&r);

    /* Tables out of order are valid (discouraged). */
    r = parse_ok("[fruit.apple]\n[animal]\n[fruit.orange]\n");
    assert_int_equal(toml_len(at(r, "fruit")), 2);
    toml_free(&r);

    /* Sub-tables may be added under tables made by dotted keys. */
    r = parse_ok("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
                 "[fruit.apple.texture]  # you can add sub-tables\nsmooth = true\n");
    assert_true(toml_bool(at(r, "fruit.apple.taste.sweet")));
    assert_true(toml_bool(at(r, "fruit.apple.texture.smooth")));
    toml_free(&r);
}

static void test_positions(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("# header\n"
                               "name = \"lab\"\n"
                               "\n"
                               "[targets]\n"
                               "  ports = [22,\n"
                               "           80]\n"
                               "\"\xc3\xa9t\xc3\xa9\" = true\n");
    assert_int_equal(toml_line(r), 1);
    assert_int_equal(toml_col(r), 1);
    const toml_value_t *v = at(r, "name");
    assert_int_equal(toml_line(v), 2);
    assert_int_equal(toml_col(v), 8);
    v = at(r, "targets");
    assert_int_equal(toml_line(v), 4);
    assert_int_equal(toml_col(v), 1);
    v = at(r, "targets.ports");
    assert_int_equal(toml_line(v), 5);
    assert_int_equal(toml_col(v), 11);
    assert_int_equal(toml_line(toml_at(v, 1)), 6);
    assert_int_equal(toml_col(toml_at(v, 1)), 12);
    /* Columns count characters, not bytes: "été" is 3 characters plus 2 quotes. */
    v = toml_get(at(r, "targets"), "\xc3\xa9t\xc3\xa9");
    assert_int_equal(toml_col(v), 9);
    toml_free(&r);
}

static void test_line_endings_and_bom(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("a = 1\r\nb = [\r\n 2, # c\r\n]\r\n[t]\r\nc = \"x\" # c\r\n");
    assert_int(r, "a", 1);
    assert_int_equal(toml_len(at(r, "b")), 1);
    assert_str(r, "t.c", "x");
    assert_int_equal(toml_line(at(r, "t.c")), 6);
    toml_free(&r);

    r = parse_ok("\xef\xbb\xbf"
                 "bom = true\n");
    assert_true(toml_bool(at(r, "bom")));
    assert_int_equal(toml_col(at(r, "bom")), 7);
    toml_free(&r);
}

static void test_length_not_nul(void **state)
{
    (void)state;
    const char text[] = "a = 12345\nb = 'x'";
    toml_value_t *r = toml_parse(text, 7, err, sizeof(err)); /* "a = 123" */
    assert_non_null(r);
    assert_int(r, "a", 123);
    assert_int_equal(toml_len(r), 1);
    toml_free(&r);

    /* A NUL inside the length is a control character, not an end. */
    const char withnul[] = "a = 1 # x\0y\n";
    assert_null(toml_parse(withnul, sizeof(withnul) - 1, err, sizeof(err)));
    assert_string_equal(err, "1:10: control character 0x00 in comment");

    r = toml_parse(NULL, 0, err, sizeof(err));
    assert_non_null(r);
    assert_int_equal(toml_len(r), 0);
    toml_free(&r);
}

static void test_error_buffer(void **state)
{
    (void)state;
    char small[8];
    memset(small, 'X', sizeof(small));
    assert_null(toml_parse("a = ?", 5, small, sizeof(small)));
    assert_string_equal(small, "1:5: ex"); /* truncated, still terminated */
    assert_null(toml_parse("a = ?", 5, NULL, 0));
    char one[1] = {'X'};
    assert_null(toml_parse("a = ?", 5, one, 1));
    assert_int_equal(one[0], '\0');
}

static void test_accessors(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("s = 'x'\ni = 7\nb = true\n");
    const toml_value_t *s = at(r, "s"), *i = at(r, "i"), *b = at(r, "b");
    assert_string_equal(toml_type_name(toml_type(r)), "table");
    assert_string_equal(toml_type_name(TOML_ARRAY), "array");
    assert_string_equal(toml_type_name(toml_type(s)), "string");
    assert_string_equal(toml_type_name(toml_type(i)), "integer");
    assert_string_equal(toml_type_name(toml_type(b)), "boolean");
    /* Wrong-type reads give neutral values, not garbage. */
    assert_null(toml_string(i));
    assert_int_equal(toml_int(s), 0);
    assert_false(toml_bool(i));
    assert_int_equal(toml_len(s), 0);
    assert_null(toml_get(s, "x"));
    assert_null(toml_get(NULL, "x"));
    assert_null(toml_get(r, NULL));
    assert_null(toml_at(i, 0));
    assert_null(toml_key_at(s, 0));
    assert_int_equal(toml_len(NULL), 0);
    assert_ptr_equal(toml_at(r, 1), i);
    toml_free(&r);
}

/* A job file as the coordinator will read it, end to end. */
static void test_job_file(void **state)
{
    (void)state;
    toml_value_t *r = parse_ok("# lzr job\n"
                               "name = \"lab-unexpected\"\n"
                               "handshakes = [\"wait\", \"tls\", \"http\", \"dns\", \"pptp\"]\n"
                               "\n"
                               "[targets]\n"
                               "include = [\n"
                               "  \"198.18.0.0/24\",\n"
                               "  \"198.18.1.0/24\", # second lab net\n"
                               "]\n"
                               "ports = [22, 80, 443, 0x1F90, 1_024]\n"
                               "\n"
                               "[scan]\n"
                               "rate = 10_000\n"
                               "source_ports.lo = 40000\n"
                               "source_ports.hi = 65535\n"
                               "all = false\n");
    assert_str(r, "name", "lab-unexpected");
    assert_int_equal(toml_len(at(r, "handshakes")), 5);
    assert_string_equal(toml_string(toml_at(at(r, "handshakes"), 4)), "pptp");
    const toml_value_t *ports = at(r, "targets.ports");
    assert_int_equal(toml_int(toml_at(ports, 3)), 8080);
    assert_int_equal(toml_int(toml_at(ports, 4)), 1024);
    assert_int(r, "scan.rate", 10000);
    assert_int(r, "scan.source_ports.lo", 40000);
    assert_int(r, "scan.source_ports.hi", 65535);
    assert_false(toml_bool(at(r, "scan.all")));
    toml_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_comments_and_empty),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_dotted_keys),
        cmocka_unit_test(test_basic_strings),
        cmocka_unit_test(test_literal_strings),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_array_depth_bound),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_line_endings_and_bom),
        cmocka_unit_test(test_length_not_nul),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_job_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
