/*
 * fuzz_toml: arbitrary bytes into toml_parse. A parsed tree is walked end to end (every key,
 * string, integer and position read) and freed; a refusal must come with a "LINE:COL: message"
 * error. ASan and UBSan catch the rest: leaks, overreads, overflow, runaway recursion.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"

static size_t sink;

static void walk(const toml_value_t *v, int depth)
{
    if (depth > 200 || toml_line(v) < 1 || toml_col(v) < 1)
        abort(); /* the parser bounds nesting and positions start at 1 */
    switch (toml_type(v)) {
    case TOML_TABLE:
        for (size_t i = 0; i < toml_len(v); i++) {
            const char *key = toml_key_at(v, i);
            if (key == NULL || toml_get(v, key) != toml_at(v, i))
                abort(); /* keys are unique, so lookup finds the same entry */
            sink += strlen(key);
            walk(toml_at(v, i), depth + 1);
        }
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < toml_len(v); i++)
            walk(toml_at(v, i), depth + 1);
        break;
    case TOML_STRING:
        sink += strlen(toml_string(v));
        break;
    case TOML_INT:
        sink += (size_t)toml_int(v);
        break;
    case TOML_BOOL:
        sink += toml_bool(v);
        break;
    }
    sink += strlen(toml_type_name(toml_type(v)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy into an exact-size buffer so ASan sees any read past len. */
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);

    char err[256];
    toml_value_t *root = toml_parse(text, size, err, sizeof(err));
    if (root == NULL) {
        int line = 0, col = 0, used = 0;
        if (sscanf(err, "%d:%d: %n", &line, &col, &used) != 2 || line < 1 || col < 1 ||
            err[used] == '\0')
            abort();
    } else {
        walk(root, 0);
        toml_free(&root);
        if (root != NULL)
            abort();
    }
    free(text);
    return 0;
}
