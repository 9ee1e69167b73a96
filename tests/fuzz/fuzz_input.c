/*
 * fuzz_input: arbitrary text into common/input's line parser, line by line with one format state
 * (so CSV headers steer the rows after them), and the same bytes through a reader over a file.
 * A target must carry a port only when the line names one, a refusal must come with a message,
 * and the parser and the reader must agree on every line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384 || memchr(data, '\0', size))
        return 0; /* a NUL ends a C string early: the parser and the reader would differ */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char path[] = "/tmp/fuzz_input_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    char err[1024], rerr[1024];
    input_reader_t *r = input_open(path, rerr, sizeof rerr);
    if (!r)
        abort();
    input_format_t f = INPUT_FORMAT_INIT;
    char *save = NULL;
    int rrc = 1;
    for (char *line = strtok_r(text, "\n", &save); line && rrc >= 0;
         line = strtok_r(NULL, "\n", &save)) {
        input_target_t t, rt;
        err[0] = '\0';
        int rc = input_parse_line(&f, line, &t, err, sizeof err);
        if (rc < 0 && !err[0])
            abort();
        if (rc == 1 && t.has_port && t.port == 0)
            abort();
        if (rc == 0)
            continue; /* the reader skips it too */
        rrc = input_next(r, 0, &rt, rerr, sizeof rerr);
        if (rrc != rc)
            abort();
        if (rc == 1 && rrc == 1 && (!addr_equal(&rt.addr, &t.addr) || rt.port != t.port))
            abort();
    }
    input_close(&r);
    unlink(path);
    free(text);
    return 0;
}
