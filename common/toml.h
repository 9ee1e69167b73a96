/*
 * toml: a reader for the subset of TOML that job files use — tables ([a] and [a.b]), bare and
 * quoted keys, dotted keys, basic and literal strings (with escapes), integers (decimal, hex,
 * with underscores), booleans, arrays (nested, multi-line, trailing comma) and comments. It
 * builds a tree of values, each remembering its line and column, so callers can say
 * "job.toml:12: ports: …". Floats, dates, inline tables and multi-line strings are refused with
 * a clear message rather than misread. Duplicate keys are errors, as TOML requires.
 */
#ifndef LZR_TOML_H
#define LZR_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { TOML_TABLE, TOML_ARRAY, TOML_STRING, TOML_INT, TOML_BOOL } toml_type_t;

typedef struct toml_value toml_value_t;

/* Parses text (len bytes, need not be NUL-terminated) into a root table. On error returns NULL
 * and writes "LINE:COL: message" into err. The caller frees the tree with toml_free. */
toml_value_t *toml_parse(const char *text, size_t len, char *err, size_t errlen);

/* Frees a tree returned by toml_parse and sets *root to NULL. */
void toml_free(toml_value_t **root);

toml_type_t toml_type(const toml_value_t *v);
const char *toml_type_name(toml_type_t t); /* "table", "array", "string", "integer", "boolean" */
int toml_line(const toml_value_t *v);      /* 1-based line where the value starts */
int toml_col(const toml_value_t *v);       /* 1-based column */

/* The value under key in table, or NULL. Dotted lookups are not done here: walk the tables. */
const toml_value_t *toml_get(const toml_value_t *table, const char *key);

/* Number of entries of a table or elements of an array; 0 for scalars. */
size_t toml_len(const toml_value_t *v);

/* The i-th element of an array or i-th value of a table (in file order); the i-th key of a
 * table. */
const toml_value_t *toml_at(const toml_value_t *v, size_t i);
const char *toml_key_at(const toml_value_t *table, size_t i);

/* Scalar contents; valid only for the matching type. Strings are NUL-terminated UTF-8. */
const char *toml_string(const toml_value_t *v);
int64_t toml_int(const toml_value_t *v);
bool toml_bool(const toml_value_t *v);

#endif
