/*
 * toml: a recursive-descent reader for the part of TOML v1.0 that job files use. It turns the
 * text into a tree of tables, arrays and scalars, each value tagged with the line and column
 * where it starts, so the job loader can point at the bad line. Anything outside the subset
 * (floats, dates and times, inline tables, multi-line strings, arrays of tables) is refused with
 * a message naming the feature, so a file is never read as something other than what it says.
 * Nesting is bounded (arrays and key paths), which keeps recursion and the tree's depth small
 * whatever the input.
 */
#include "toml.h"
#include "common/grow.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How deep arrays may nest, and how many parts a dotted key or table name may have. */
#define TOML_MAX_ARRAY_DEPTH 32
#define TOML_MAX_KEY_PARTS   32

/* How a table came to exist; TOML's rules on redefinition depend on it. */
typedef enum {
    ORIGIN_ROOT,     /* the document itself */
    ORIGIN_HEADER,   /* defined by its own [header] */
    ORIGIN_IMPLICIT, /* created as a parent in some [a.b] header; [a] may still define it once */
    ORIGIN_DOTTED,   /* created by a dotted key a.b = v */
} origin_t;

struct toml_value {
    toml_type_t type;
    origin_t origin; /* tables only */
    int line, col;
    size_t n, cap; /* entries of a table or elements of an array */
    union {
        struct {
            char **keys;
            toml_value_t **vals;
        } tab;
        toml_value_t **items;
        char *str;
        int64_t i;
        bool b;
    } u;
};

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    int line, col;
    char *err;
    size_t errlen;
    bool failed;
    toml_value_t *root, *cur;
} parser_t;

/* A dotted key as parsed: its parts and where each starts. */
typedef struct {
    char *part[TOML_MAX_KEY_PARTS];
    int line[TOML_MAX_KEY_PARTS], col[TOML_MAX_KEY_PARTS];
    size_t n;
} key_t_;

/* A growable byte buffer for building strings. */
typedef struct {
    char *p;
    size_t len, cap;
} sbuf_t;

/* ---- errors ---------------------------------------------------------------------------- */

static void fail_at(parser_t *ps, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error only: later ones are consequences of it. */
static void fail_at(parser_t *ps, int line, int col, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    if (ps->err == NULL || ps->errlen == 0)
        return;
    int n = snprintf(ps->err, ps->errlen, "%d:%d: ", line, col);
    if (n < 0 || (size_t)n >= ps->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

#define fail(ps, ...) fail_at((ps), (ps)->line, (ps)->col, __VA_ARGS__)

static bool at_newline(const parser_t *ps);

/* Describes the byte at the cursor for messages: 'x', "end of line", "end of input". */
static const char *describe_here(const parser_t *ps, char *buf, size_t cap)
{
    if (ps->pos >= ps->len)
        return "end of input";
    unsigned char c = ps->s[ps->pos];
    if (c == '\r' && !at_newline(ps))
        return "a carriage return without a line feed";
    if (c == '\n' || c == '\r')
        return "end of line";
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else if (c == ' ' || c == '\t')
        snprintf(buf, cap, "whitespace");
    else
        snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

/* ---- cursor ---------------------------------------------------------------------------- */

static int peek(const parser_t *ps)
{
    return ps->pos < ps->len ? ps->s[ps->pos] : -1;
}

static int peek_at(const parser_t *ps, size_t ahead)
{
    return ps->pos + ahead < ps->len ? ps->s[ps->pos + ahead] : -1;
}

/* Moves past one byte. Columns count characters, so UTF-8 continuation bytes do not move it. */
static void advance(parser_t *ps)
{
    unsigned char c = ps->s[ps->pos++];
    if (c == '\n') {
        ps->line++;
        ps->col = 1;
    } else if ((c & 0xc0) != 0x80) {
        ps->col++;
    }
}

static bool at_newline(const parser_t *ps)
{
    int c = peek(ps);
    return c == '\n' || (c == '\r' && peek_at(ps, 1) == '\n');
}

static void skip_newline(parser_t *ps)
{
    if (peek(ps) == '\r')
        ps->pos++, ps->col++;
    advance(ps);
}

static void skip_ws(parser_t *ps)
{
    while (peek(ps) == ' ' || peek(ps) == '\t')
        advance(ps);
}

/* Length of the valid UTF-8 sequence of a non-ASCII lead byte at s, or 0 when it is invalid
 * (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Checks the non-ASCII character at the cursor and returns its length, or 0 after failing. */
static size_t check_utf8(parser_t *ps)
{
    size_t n = utf8_seq_len(ps->s + ps->pos, ps->len - ps->pos);
    if (n == 0)
        fail(ps, "invalid UTF-8 (byte 0x%02x)", ps->s[ps->pos]);
    return n;
}

/* A comment runs to the end of the line; like strings it may hold tabs but no other control
 * characters. */
static void skip_comment(parser_t *ps)
{
    advance(ps); /* '#' */
    while (!ps->failed && ps->pos < ps->len && !at_newline(ps)) {
        unsigned char c = ps->s[ps->pos];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            fail(ps, "control character 0x%02x in comment", c);
        } else if (c >= 0x80) {
            size_t n = check_utf8(ps);
            for (size_t i = 0; i < n; i++)
                advance(ps);
        } else {
            advance(ps);
        }
    }
}

/* Skips whitespace, newlines and comments: the filler allowed between array elements. */
static void skip_blank(parser_t *ps)
{
    while (!ps->failed) {
        skip_ws(ps);
        if (peek(ps) == '#')
            skip_comment(ps);
        else if (at_newline(ps))
            skip_newline(ps);
        else
            return;
    }
}

/* ---- tree ------------------------------------------------------------------------------ */

static toml_value_t *new_value(parser_t *ps, toml_type_t type, int line, int col)
{
    toml_value_t *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        fail_at(ps, line, col, "out of memory");
        return NULL;
    }
    v->type = type;
    v->line = line;
    v->col = col;
    return v;
}

static void free_value(toml_value_t *v)
{
    if (v == NULL)
        return;
    if (v->type == TOML_TABLE) {
        for (size_t i = 0; i < v->n; i++) {
            free(v->u.tab.keys[i]);
            free_value(v->u.tab.vals[i]);
        }
        free(v->u.tab.keys);
        free(v->u.tab.vals);
    } else if (v->type == TOML_ARRAY) {
        for (size_t i = 0; i < v->n; i++)
            free_value(v->u.items[i]);
        free(v->u.items);
    } else if (v->type == TOML_STRING) {
        free(v->u.str);
    }
    free(v);
}

static toml_value_t *table_find(const toml_value_t *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->u.tab.keys[i], key) == 0)
            return t->u.tab.vals[i];
    return NULL;
}

/* Adds key → v to table t, taking ownership of both; frees them when it fails. */
static bool table_add(parser_t *ps, toml_value_t *t, char *key, toml_value_t *v)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        char **keys = realloc(t->u.tab.keys, cap * sizeof(*keys));
        if (keys != NULL)
            t->u.tab.keys = keys;
        toml_value_t **vals = keys ? realloc(t->u.tab.vals, cap * sizeof(*vals)) : NULL;
        if (vals == NULL) {
            fail_at(ps, v->line, v->col, "out of memory");
            free(key);
            free_value(v);
            return false;
        }
        t->u.tab.vals = vals;
        t->cap = cap;
    }
    t->u.tab.keys[t->n] = key;
    t->u.tab.vals[t->n] = v;
    t->n++;
    return true;
}

static bool array_add(parser_t *ps, toml_value_t *a, toml_value_t *v)
{
    toml_value_t **items = grow(a->u.items, a->n, &a->cap, sizeof *items, 8);
    if (items == NULL) {
        fail_at(ps, v->line, v->col, "out of memory");
        free_value(v);
        return false;
    }
    a->u.items = items;
    a->u.items[a->n++] = v;
    return true;
}

/* ---- strings --------------------------------------------------------------------------- */

static bool sbuf_put(parser_t *ps, sbuf_t *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            fail(ps, "out of memory");
            return false;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

/* Writes code point cp (a Unicode scalar value) as UTF-8. */
static bool put_utf8(parser_t *ps, sbuf_t *b, uint32_t cp)
{
    unsigned char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        out[0] = (unsigned char)(0xf0 | cp >> 18);
        out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return sbuf_put(ps, b, out, n);
}

/* The escape after a backslash in a basic string: \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX. */
static bool parse_escape(parser_t *ps, sbuf_t *b)
{
    int line = ps->line, col = ps->col;
    advance(ps); /* '\\' */
    int c = peek(ps);
    const char *simple = NULL;
    switch (c) {
    case 'b':
        simple = "\b";
        break;
    case 't':
        simple = "\t";
        break;
    case 'n':
        simple = "\n";
        break;
    case 'f':
        simple = "\f";
        break;
    case 'r':
        simple = "\r";
        break;
    case '"':
        simple = "\"";
        break;
    case '\\':
        simple = "\\";
        break;
    case 'u':
    case 'U':
        break;
    default:
        if (c >= 0x21 && c < 0x7f)
            fail_at(ps, line, col, "invalid escape '\\%c' in string", c);
        else
            fail_at(ps, line, col, "invalid escape in string (backslash before %s)",
                    c < 0 ? "end of input" : "a non-printing character");
        return false;
    }
    advance(ps);
    if (simple != NULL)
        return sbuf_put(ps, b, simple, 1);

    int digits = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++) {
        int h = text_hex_digit(peek(ps));
        if (h < 0) {
            fail_at(ps, line, col, "\\%c escape needs %d hex digits", c, digits);
            return false;
        }
        cp = cp << 4 | (uint32_t)h;
        advance(ps);
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        fail_at(ps, line, col, "escape \\%c%0*X is not a Unicode scalar value", c, digits,
                (unsigned)cp);
        return false;
    }
    if (cp == 0) {
        /* The tree hands out C strings; an embedded NUL would silently cut them short. */
        fail_at(ps, line, col, "NUL character (\\%c%0*X) in strings is not supported", c, digits,
                0u);
        return false;
    }
    return put_utf8(ps, b, cp);
}

/* Parses a basic ("...") or literal ('...') single-line string at the cursor. Returns a
 * malloc'd NUL-terminated copy, or NULL after failing. */
static char *parse_string(parser_t *ps)
{
    int line = ps->line, col = ps->col;
    int quote = peek(ps);
    sbuf_t b = {0};
    advance(ps);
    if (!sbuf_put(ps, &b, "", 0))
        return NULL;
    for (;;) {
        int c = peek(ps);
        if (c < 0) {
            fail_at(ps, line, col, "unterminated string");
            break;
        }
        if (c == '\n' || c == '\r') {
            fail_at(ps, line, col, "unterminated string (line ends before the closing %c)", quote);
            break;
        }
        if (c == quote) {
            advance(ps);
            return b.p;
        }
        if (c == '\\' && quote == '"') {
            if (!parse_escape(ps, &b))
                break;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            fail(ps, "control character 0x%02x in string must be escaped", c);
            break;
        }
        size_t n = 1;
        if (c >= 0x80 && (n = check_utf8(ps)) == 0)
            break;
        if (!sbuf_put(ps, &b, ps->s + ps->pos, n))
            break;
        for (size_t i = 0; i < n; i++)
            advance(ps);
    }
    free(b.p);
    return NULL;
}

/* ---- keys ------------------------------------------------------------------------------ */

static bool is_bare_key_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static void key_clear(key_t_ *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->part[i]);
    k->n = 0;
}

/* Parses a possibly dotted key: parts separated by '.', each bare or quoted, whitespace allowed
 * around the dots. */
static bool parse_key(parser_t *ps, key_t_ *k)
{
    char buf[16];
    k->n = 0;
    for (;;) {
        skip_ws(ps);
        if (k->n == TOML_MAX_KEY_PARTS) {
            fail(ps, "key has more than %d dotted parts", TOML_MAX_KEY_PARTS);
            return false;
        }
        int line = ps->line, col = ps->col;
        int c = peek(ps);
        char *part;
        if (c == '"' || c == '\'') {
            if (c == '"' && peek_at(ps, 1) == '"' && peek_at(ps, 2) == '"') {
                fail(ps, "multi-line strings cannot be keys");
                return false;
            }
            part = parse_string(ps);
            if (part == NULL)
                return false;
        } else if (is_bare_key_char(c)) {
            size_t start = ps->pos;
            while (is_bare_key_char(peek(ps)))
                advance(ps);
            part = strndup((const char *)ps->s + start, ps->pos - start);
            if (part == NULL) {
                fail_at(ps, line, col, "out of memory");
                return false;
            }
        } else {
            fail(ps, "expected a key, found %s", describe_here(ps, buf, sizeof(buf)));
            return false;
        }
        k->part[k->n] = part;
        k->line[k->n] = line;
        k->col[k->n] = col;
        k->n++;
        skip_ws(ps);
        if (peek(ps) != '.')
            return true;
        advance(ps);
    }
}

/* Writes parts [0, n) of a key for messages, as the user would write it: bare parts as they
 * are, others quoted, with control characters, quotes and backslashes shown as '?' so a message
 * stays on one line and unambiguous. Long names are cut at cap. */
static const char *key_name(const key_t_ *k, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = k->part[i];
        bool bare = *p != '\0';
        for (const char *q = p; *q; q++)
            bare = bare && is_bare_key_char((unsigned char)*q);
        if (i > 0 && len + 1 < cap)
            buf[len++] = '.';
        if (!bare && len + 1 < cap)
            buf[len++] = '"';
        for (const char *q = p; *q && len + 1 < cap; q++) {
            unsigned char c = (unsigned char)*q;
            buf[len++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
        }
        if (!bare && len + 1 < cap)
            buf[len++] = '"';
    }
    buf[len] = '\0';
    return buf;
}

/* ---- values ---------------------------------------------------------------------------- */

static toml_value_t *parse_value(parser_t *ps, int depth);

static bool is_token_char(int c)
{
    return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

static bool all_digits(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* True when s looks like a TOML float: digits, then a fraction, an exponent or both. It is
 * only used to name the refusal; nothing is converted. */
static bool looks_like_float(const unsigned char *s, size_t n)
{
    size_t i = 0;
    bool frac = false, exp = false;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        i++;
    if (i < n && s[i] == '.') {
        frac = true;
        for (i++; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_');)
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        exp = true;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            i++;
    }
    return i == n && (frac || exp);
}

/* Parses digits of the given radix with single underscores between digits into *out; false on
 * a bad digit or misplaced underscore, and *overflow when the magnitude exceeds limit. */
static bool parse_digits(const unsigned char *s, size_t n, unsigned radix, uint64_t limit,
                         uint64_t *out, bool *overflow)
{
    uint64_t v = 0;
    *overflow = false;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (i == 0 || i == n - 1 || s[i - 1] == '_')
                return false;
            continue;
        }
        int d = text_hex_digit(s[i]);
        if (d < 0 || (unsigned)d >= radix)
            return false;
        if (v > (limit - (uint64_t)d) / radix)
            *overflow = true;
        else
            v = v * radix + (uint64_t)d;
    }
    *out = v;
    return true;
}

/* Classifies a bare token (a number, boolean, or something we refuse) and builds its value. */
static toml_value_t *parse_token(parser_t *ps)
{
    int line = ps->line, col = ps->col;
    size_t start = ps->pos;
    while (is_token_char(peek(ps)))
        advance(ps);
    const unsigned char *t = ps->s + start;
    size_t n = ps->pos - start;
    char shown[48];
    snprintf(shown, sizeof(shown), "%.*s%s", (int)(n > 40 ? 40 : n), (const char *)t,
             n > 40 ? "..." : "");

    if (n == 0) {
        char buf[16];
        fail(ps, "expected a value, found %s", describe_here(ps, buf, sizeof(buf)));
        return NULL;
    }
    if ((n == 4 && memcmp(t, "true", 4) == 0) || (n == 5 && memcmp(t, "false", 5) == 0)) {
        toml_value_t *v = new_value(ps, TOML_BOOL, line, col);
        if (v != NULL)
            v->u.b = n == 4;
        return v;
    }

    size_t sign = (t[0] == '+' || t[0] == '-') ? 1 : 0;
    const unsigned char *m = t + sign;
    size_t mn = n - sign;
    if ((mn == 3 && (memcmp(m, "inf", 3) == 0 || memcmp(m, "nan", 3) == 0))) {
        fail_at(ps, line, col, "floats are not supported ('%s')", shown);
        return NULL;
    }
    if (mn == 0 || m[0] < '0' || m[0] > '9') {
        fail_at(ps, line, col, "invalid value '%s' (strings must be quoted)", shown);
        return NULL;
    }
    if ((mn >= 5 && all_digits(m, 4) && m[4] == '-') ||
        (mn >= 3 && all_digits(m, 2) && m[2] == ':')) {
        fail_at(ps, line, col, "dates and times are not supported ('%s')", shown);
        return NULL;
    }

    unsigned radix = 10;
    const unsigned char *digits = m;
    size_t dn = mn;
    if (mn >= 2 && m[0] == '0' && (m[1] == 'x' || m[1] == 'o' || m[1] == 'b')) {
        if (sign) {
            fail_at(ps, line, col, "invalid integer '%s' (hex, octal and binary take no sign)",
                    shown);
            return NULL;
        }
        radix = m[1] == 'x' ? 16 : m[1] == 'o' ? 8 : 2;
        digits = m + 2;
        dn = mn - 2;
    } else if (looks_like_float(m, mn)) {
        fail_at(ps, line, col, "floats are not supported ('%s')", shown);
        return NULL;
    } else if (mn > 1 && m[0] == '0') {
        fail_at(ps, line, col, "invalid integer '%s' (leading zeros are not allowed)", shown);
        return NULL;
    }

    bool negative = sign && t[0] == '-';
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t mag = 0;
    bool overflow;
    if (!parse_digits(digits, dn, radix, limit, &mag, &overflow)) {
        fail_at(ps, line, col, "invalid integer '%s'", shown);
        return NULL;
    }
    if (overflow) {
        fail_at(ps, line, col, "integer '%s' does not fit in 64 bits", shown);
        return NULL;
    }
    toml_value_t *v = new_value(ps, TOML_INT, line, col);
    if (v != NULL)
        v->u.i = !negative ? (int64_t)mag : mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
    return v;
}

/* Parses an array; depth counts the arrays around it. Elements may be of mixed types, spread
 * over lines with comments, and followed by one trailing comma. */
static toml_value_t *parse_array(parser_t *ps, int depth)
{
    char buf[16];
    if (depth >= TOML_MAX_ARRAY_DEPTH) {
        fail(ps, "arrays nested more than %d deep", TOML_MAX_ARRAY_DEPTH);
        return NULL;
    }
    toml_value_t *a = new_value(ps, TOML_ARRAY, ps->line, ps->col);
    if (a == NULL)
        return NULL;
    advance(ps); /* '[' */
    for (;;) {
        skip_blank(ps);
        if (ps->failed)
            break;
        if (peek(ps) == ']') {
            advance(ps);
            return a;
        }
        toml_value_t *v = parse_value(ps, depth + 1);
        if (v == NULL || !array_add(ps, a, v))
            break;
        skip_blank(ps);
        if (ps->failed)
            break;
        if (peek(ps) == ',') {
            advance(ps);
            continue;
        }
        if (peek(ps) == ']') {
            advance(ps);
            return a;
        }
        fail(ps, "expected ',' or ']' in array, found %s", describe_here(ps, buf, sizeof(buf)));
        break;
    }
    free_value(a);
    return NULL;
}

static toml_value_t *parse_value(parser_t *ps, int depth)
{
    int line = ps->line, col = ps->col;
    int c = peek(ps);
    if (c == '"' || c == '\'') {
        if (peek_at(ps, 1) == c && peek_at(ps, 2) == c) {
            fail(ps, "multi-line strings (%c%c%c) are not supported", c, c, c);
            return NULL;
        }
        char *s = parse_string(ps);
        if (s == NULL)
            return NULL;
        toml_value_t *v = new_value(ps, TOML_STRING, line, col);
        if (v == NULL) {
            free(s);
            return NULL;
        }
        v->u.str = s;
        return v;
    }
    if (c == '[')
        return parse_array(ps, depth);
    if (c == '{') {
        fail(ps, "inline tables ({...}) are not supported; use a [table] section");
        return NULL;
    }
    return parse_token(ps);
}

static const char *article(toml_type_t t)
{
    return t == TOML_ARRAY || t == TOML_INT ? "an" : "a";
}

/* ---- statements ------------------------------------------------------------------------ */

/* A key followed by `want` (the '=' of a pair, the ']' of a header), which is consumed. False
 * with k cleared and the parser failed otherwise. */
static bool parse_key_then(parser_t *ps, key_t_ *k, char want, const char *what)
{
    char buf[16];
    bool ok = parse_key(ps, k);
    if (ok && peek(ps) != want) {
        fail(ps, "expected '%c' after %s, found %s", want, what,
             describe_here(ps, buf, sizeof(buf)));
        ok = false;
    }
    if (!ok) {
        key_clear(k);
        return false;
    }
    advance(ps);
    return true;
}

/* The table named by part i of k inside t, created with origin `created` (at line:col) when
 * missing (*made tells); NULL, with the parser failed, when the name holds another type. */
static toml_value_t *child_table(parser_t *ps, toml_value_t *t, key_t_ *k, size_t i,
                                 origin_t created, int line, int col, bool *made)
{
    char name[256];
    toml_value_t *v = table_find(t, k->part[i]);
    *made = v == NULL;
    if (v == NULL) {
        v = new_value(ps, TOML_TABLE, line, col);
        if (v == NULL)
            return NULL;
        v->origin = created;
        char *key = k->part[i];
        k->part[i] = NULL;
        return table_add(ps, t, key, v) ? v : NULL;
    }
    if (v->type != TOML_TABLE) {
        fail_at(ps, k->line[i], k->col[i], "'%s' is already %s %s (line %d), not a table",
                key_name(k, i + 1, name, sizeof(name)), article(v->type), toml_type_name(v->type),
                v->line);
        return NULL;
    }
    return v;
}

/* [a.b.c]: walks from the root, creating missing parents as implicit tables, and defines the
 * last one, which must not have been defined before. */
static bool parse_header(parser_t *ps)
{
    char name[256];
    int line = ps->line, col = ps->col;
    key_t_ k = {0};
    advance(ps); /* '[' */
    if (peek(ps) == '[') {
        fail_at(ps, line, col, "arrays of tables ([[...]]) are not supported");
        return false;
    }
    if (!parse_key_then(ps, &k, ']', "table name"))
        return false;

    toml_value_t *t = ps->root;
    bool ok = true;
    for (size_t i = 0; i < k.n && ok; i++) {
        bool last = i + 1 == k.n, made;
        t = child_table(ps, t, &k, i, last ? ORIGIN_HEADER : ORIGIN_IMPLICIT, line, col, &made);
        if (t == NULL) {
            ok = false;
        } else if (!last || made) {
            continue;
        } else if (t->origin == ORIGIN_IMPLICIT) {
            t->origin = ORIGIN_HEADER;
            t->line = line;
            t->col = col;
        } else {
            fail_at(ps, line, col, "table [%s] is defined twice (first at line %d%s)",
                    key_name(&k, k.n, name, sizeof(name)), t->line,
                    t->origin == ORIGIN_DOTTED ? ", by dotted keys" : "");
            ok = false;
        }
    }
    key_clear(&k);
    if (ok && !ps->failed)
        ps->cur = t;
    return ok && !ps->failed;
}

/* key = value in the current table. A dotted key creates the tables along its path; those
 * tables may only be extended by more dotted keys, never reopened by a header. */
static bool parse_keyval(parser_t *ps)
{
    char name[256];
    key_t_ k = {0};
    if (!parse_key_then(ps, &k, '=', "key"))
        return false;
    skip_ws(ps);

    toml_value_t *t = ps->cur;
    bool ok = true;
    for (size_t i = 0; i + 1 < k.n && ok; i++) {
        bool made;
        t = child_table(ps, t, &k, i, ORIGIN_DOTTED, k.line[i], k.col[i], &made);
        if (t == NULL) {
            ok = false;
        } else if (t->origin != ORIGIN_DOTTED) {
            fail_at(ps, k.line[i], k.col[i],
                    "dotted key cannot add to table '%s' defined by a [header] (line %d)",
                    key_name(&k, i + 1, name, sizeof(name)), t->line);
            ok = false;
        }
    }
    if (ok && !ps->failed) {
        size_t last = k.n - 1;
        const toml_value_t *old = table_find(t, k.part[last]);
        if (old != NULL) {
            fail_at(ps, k.line[0], k.col[0], "duplicate key '%s' (first defined at line %d)",
                    key_name(&k, k.n, name, sizeof(name)), old->line);
            ok = false;
        } else {
            toml_value_t *v = parse_value(ps, 0);
            if (v != NULL) {
                char *key = k.part[last];
                k.part[last] = NULL;
                ok = table_add(ps, t, key, v);
            }
        }
    }
    key_clear(&k);
    return ok && !ps->failed;
}

/* After a header or key/value pair only whitespace and a comment may follow on the line. */
static bool expect_line_end(parser_t *ps, const char *after)
{
    char buf[16];
    skip_ws(ps);
    if (peek(ps) == '#')
        skip_comment(ps);
    if (ps->failed)
        return false;
    if (ps->pos >= ps->len)
        return true;
    if (at_newline(ps)) {
        skip_newline(ps);
        return true;
    }
    fail(ps, "expected end of line after %s, found %s", after, describe_here(ps, buf, sizeof(buf)));
    return false;
}

toml_value_t *toml_parse(const char *text, size_t len, char *err, size_t errlen)
{
    parser_t ps = {
        .s = (const unsigned char *)text,
        .len = text ? len : 0,
        .line = 1,
        .col = 1,
        .err = err,
        .errlen = errlen,
    };
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    ps.root = new_value(&ps, TOML_TABLE, 1, 1);
    if (ps.root == NULL)
        return NULL;
    ps.root->origin = ORIGIN_ROOT;
    ps.cur = ps.root;

    /* A UTF-8 byte order mark is not content. */
    if (ps.len >= 3 && memcmp(ps.s, "\xef\xbb\xbf", 3) == 0)
        ps.pos = 3;

    while (!ps.failed) {
        skip_ws(&ps);
        int c = peek(&ps);
        if (c < 0)
            break;
        if (c == '#') {
            if (!expect_line_end(&ps, "comment"))
                break;
        } else if (at_newline(&ps)) {
            skip_newline(&ps);
        } else if (c == '[') {
            if (!parse_header(&ps) || !expect_line_end(&ps, "table header"))
                break;
        } else {
            if (!parse_keyval(&ps) || !expect_line_end(&ps, "value"))
                break;
        }
    }
    if (ps.failed) {
        free_value(ps.root);
        return NULL;
    }
    return ps.root;
}

void toml_free(toml_value_t **root)
{
    if (root == NULL)
        return;
    free_value(*root);
    *root = NULL;
}

toml_type_t toml_type(const toml_value_t *v)
{
    return v->type;
}

const char *toml_type_name(toml_type_t t)
{
    switch (t) {
    case TOML_TABLE:
        return "table";
    case TOML_ARRAY:
        return "array";
    case TOML_STRING:
        return "string";
    case TOML_INT:
        return "integer";
    case TOML_BOOL:
        return "boolean";
    }
    return "unknown";
}

int toml_line(const toml_value_t *v)
{
    return v->line;
}

int toml_col(const toml_value_t *v)
{
    return v->col;
}

const toml_value_t *toml_get(const toml_value_t *table, const char *key)
{
    if (table == NULL || key == NULL || table->type != TOML_TABLE)
        return NULL;
    return table_find(table, key);
}

size_t toml_len(const toml_value_t *v)
{
    if (v == NULL || (v->type != TOML_TABLE && v->type != TOML_ARRAY))
        return 0;
    return v->n;
}

const toml_value_t *toml_at(const toml_value_t *v, size_t i)
{
    if (v == NULL || i >= toml_len(v))
        return NULL;
    return v->type == TOML_TABLE ? v->u.tab.vals[i] : v->u.items[i];
}

const char *toml_key_at(const toml_value_t *table, size_t i)
{
    if (table == NULL || table->type != TOML_TABLE || i >= table->n)
        return NULL;
    return table->u.tab.keys[i];
}

const char *toml_string(const toml_value_t *v)
{
    return v != NULL && v->type == TOML_STRING ? v->u.str : NULL;
}

int64_t toml_int(const toml_value_t *v)
{
    return v != NULL && v->type == TOML_INT ? v->u.i : 0;
}

bool toml_bool(const toml_value_t *v)
{
    return v != NULL && v->type == TOML_BOOL && v->u.b;
}
