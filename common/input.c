/*
 * input: target lines from a file or a pipe. A line is cut at '#', trimmed, and read as a CSV
 * data row when a header named its columns, as a JSON object when it starts with '{', and
 * otherwise as "ip", "ip:port" or "ip,port"; an IPv6 address stands alone, in brackets before
 * ":port" ("[2001:2::1]:80"), or before ",port". The reader keeps one buffer of INPUT_LINE_MAX
 * bytes and polls its descriptor, so a caller walking a pipe can go on with other work between
 * lines.
 */
#include "common/input.h"

#include "common/err.h"
#include "common/ports.h"
#include "common/targets.h"
#include "common/text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUOTE_MAX 64

/* One address: a single address, not a CIDR or range, through targets' parser (IPv4) or
 * addr_parse (IPv6, text with a ':'). */
static int parse_addr(const char *s, size_t n, lzr_addr_t *addr, char *err, size_t errlen)
{
    char buf[64], q[QUOTE_MAX + 8];
    uint32_t hi;
    if (n == 0 || n >= sizeof buf) {
        text_quote(s, n, QUOTE_MAX, q, sizeof q);
        snprintf(err, errlen, "\"%s\" is not an IPv4 address", q);
        return LZR_EPARSE;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (memchr(buf, ':', n)) {
        if (strchr(buf, '/'))
            snprintf(err, errlen, "\"%s\" is a prefix; list one address per line", buf);
        else if (addr_parse(buf, addr) != LZR_OK || addr->family != ADDR_IPV6)
            snprintf(err, errlen, "\"%s\" is not an IPv6 address", buf);
        else
            return LZR_OK;
        return LZR_EPARSE;
    }
    addr->family = ADDR_IPV4;
    int rc = targets_parse_range(buf, &addr->v4, &hi, err, errlen);
    if (rc == LZR_OK && (addr->v4 != hi || strpbrk(buf, "/-"))) {
        snprintf(err, errlen, "\"%s\" is a range; list one address per line", buf);
        return LZR_EPARSE;
    }
    return rc;
}

/* One port, through ports' parser, which would also take lists and ranges: refused here. */
static int parse_port(const char *s, size_t n, uint16_t *port, char *err, size_t errlen)
{
    char buf[16], q[QUOTE_MAX + 8];
    if (n == 0 || n >= sizeof buf || memchr(s, '-', n)) {
        text_quote(s, n, QUOTE_MAX, q, sizeof q);
        snprintf(err, errlen, "\"%s\" is not a port (1-65535)", q);
        return LZR_EPARSE;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    port_list_t l;
    int rc = ports_parse(buf, &l, err, errlen);
    if (rc != LZR_OK)
        return rc;
    *port = l.ports[0];
    ports_free(&l);
    return LZR_OK;
}

/* Field col (0-based) of a CSV row: its start in *s, its length in *n; false when absent. */
static bool csv_field(const char *row, int col, const char **s, size_t *n)
{
    const char *p = row;
    for (int i = 0; i < col; i++) {
        p = strchr(p, ',');
        if (!p)
            return false;
        p++;
    }
    const char *end = strchr(p, ',');
    *s = p;
    *n = end ? (size_t)(end - p) : strlen(p);
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
    return true;
}

/* A header row names saddr (or ip) and optionally sport (or port): ZMap's --output-fields. */
static bool csv_header(input_format_t *f, const char *row)
{
    if (!isalpha((unsigned char)row[0]))
        return false;
    int addr = -1, port = -1;
    const char *s;
    size_t n;
    for (int col = 0; csv_field(row, col, &s, &n); col++) {
        if ((n == 5 && !memcmp(s, "saddr", 5)) || (n == 2 && !memcmp(s, "ip", 2)))
            addr = addr < 0 ? col : addr;
        else if ((n == 5 && !memcmp(s, "sport", 5)) || (n == 4 && !memcmp(s, "port", 4)))
            port = port < 0 ? col : port;
    }
    if (addr < 0)
        return false;
    f->addr_col = addr;
    f->port_col = port;
    return true;
}

static int parse_json(const char *line, input_target_t *t, char *err, size_t errlen)
{
    const char *s;
    size_t n;
    int rc = text_json_member(line, "saddr", &s, &n);
    if (rc != LZR_OK) {
        snprintf(err, errlen, "a JSON line %s \"saddr\"",
                 rc == LZR_ENOTFOUND ? "without" : "with a malformed");
        return LZR_EPARSE;
    }
    rc = parse_addr(s, n, &t->addr, err, errlen);
    if (rc == LZR_OK && text_json_member(line, "sport", &s, &n) == LZR_OK) {
        t->has_port = true;
        rc = parse_port(s, n, &t->port, err, errlen);
    }
    return rc;
}

/* Where the address of a plain line starts (*start) and ends: at its separator (*sep, or NULL
 * for an address alone). IPv6 takes "[ip6]:port" or "ip6,port": a line with two colons before
 * any comma is an IPv6 address. */
static size_t plain_addr(const char *line, const char **start, const char **sep)
{
    *start = line;
    if (line[0] == '[') {
        const char *close = strchr(line, ']');
        if (close && (close[1] == ':' || close[1] == '\0')) {
            *start = line + 1;
            *sep = close[1] ? close + 1 : NULL;
            return (size_t)(close - *start);
        }
    }
    size_t head = strcspn(line, ",");
    const char *colon = memchr(line, ':', head);
    bool v6 = colon && memchr(colon + 1, ':', head - (size_t)(colon - line) - 1);
    *sep = v6 ? (line[head] ? line + head : NULL) : strpbrk(line, ":,");
    return *sep ? (size_t)(*sep - line) : strlen(line);
}

/* "ip", "ip:port" or "ip,port" (a CSV row without a header); IPv6 as plain_addr says. */
static int parse_plain(const char *line, input_target_t *t, char *err, size_t errlen)
{
    const char *sep;
    size_t n = plain_addr(line, &line, &sep);
    while (n && isspace((unsigned char)line[n - 1]))
        n--;
    int rc = parse_addr(line, n, &t->addr, err, errlen);
    if (rc != LZR_OK || !sep)
        return rc;
    const char *p = sep + 1;
    while (isspace((unsigned char)*p))
        p++;
    t->has_port = true;
    return parse_port(p, strlen(p), &t->port, err, errlen);
}

int input_parse_line(input_format_t *f, const char *line, input_target_t *t, char *err,
                     size_t errlen)
{
    char buf[INPUT_LINE_MAX];
    size_t n = strcspn(line, "#\r\n");
    if (n >= sizeof buf) {
        snprintf(err, errlen, "the line is longer than %d characters", INPUT_LINE_MAX - 1);
        return LZR_EPARSE;
    }
    while (n && isspace((unsigned char)line[n - 1]))
        n--;
    while (n && isspace((unsigned char)*line)) {
        line++;
        n--;
    }
    memcpy(buf, line, n);
    buf[n] = '\0';
    *t = (input_target_t){0};
    if (n == 0 || csv_header(f, buf))
        return 0;
    int rc;
    if (buf[0] == '{') {
        rc = parse_json(buf, t, err, errlen);
    } else if (f->addr_col >= 0) {
        const char *s = "";
        size_t len;
        if (!csv_field(buf, f->addr_col, &s, &len))
            len = 0;
        rc = parse_addr(s, len, &t->addr, err, errlen);
        if (rc == LZR_OK && f->port_col >= 0) {
            if (!csv_field(buf, f->port_col, &s, &len))
                len = 0; /* the header named a port column this row lacks */
            t->has_port = true;
            rc = parse_port(s, len, &t->port, err, errlen);
        }
    } else {
        rc = parse_plain(buf, t, err, errlen);
    }
    return rc == LZR_OK ? 1 : rc;
}

struct input_reader {
    char path[256];
    int fd;
    bool eof;
    int line;
    input_format_t fmt;
    input_target_t peeked;
    bool have_peeked;
    size_t len; /* bytes held in buf */
    char buf[INPUT_LINE_MAX + 1];
};

input_reader_t *input_open(const char *path, char *err, size_t errlen)
{
    bool in = strcmp(path, "-") == 0;
    int fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "is a directory");
        if (fd >= 0 && !in)
            close(fd);
        return NULL;
    }
    input_reader_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        if (!in)
            close(fd);
        return NULL;
    }
    snprintf(r->path, sizeof r->path, "%s", in ? "stdin" : path);
    r->fd = fd;
    r->fmt = (input_format_t)INPUT_FORMAT_INIT;
    return r;
}

void input_close(input_reader_t **r)
{
    if (!*r)
        return;
    if ((*r)->fd != STDIN_FILENO)
        close((*r)->fd);
    free(*r);
    *r = NULL;
}

/* Reads what the descriptor has within wait_ms: 1 when bytes arrived or the input ended, 0 when
 * nothing came, LZR_EIO on a read error. */
static int fill(input_reader_t *r, int wait_ms, char *err, size_t errlen)
{
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    int rc = poll(&p, 1, wait_ms);
    if (rc == 0 || (rc < 0 && errno == EINTR))
        return 0;
    ssize_t got = rc < 0 ? -1 : read(r->fd, r->buf + r->len, INPUT_LINE_MAX - r->len);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (got < 0) {
        snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
        return LZR_EIO;
    }
    r->eof = got == 0;
    r->len += (size_t)got;
    return 1;
}

int input_next(input_reader_t *r, int wait_ms, input_target_t *t, char *err, size_t errlen)
{
    if (r->have_peeked) {
        *t = r->peeked;
        r->have_peeked = false;
        return 1;
    }
    for (;;) {
        char *nl = memchr(r->buf, '\n', r->len);
        if (!nl && r->len == INPUT_LINE_MAX) {
            snprintf(err, errlen, "%s:%d: the line is longer than %d characters", r->path,
                     r->line + 1, INPUT_LINE_MAX - 1);
            return LZR_EPARSE;
        }
        if (!nl && !r->eof) {
            int rc = fill(r, wait_ms, err, errlen);
            if (rc <= 0)
                return rc;
            continue;
        }
        if (!nl && r->len == 0)
            return LZR_EEMPTY;
        size_t n = nl ? (size_t)(nl - r->buf) : r->len; /* the last line may lack its newline */
        r->buf[n] = '\0';
        r->line++;
        char sub[512];
        int rc = input_parse_line(&r->fmt, r->buf, t, sub, sizeof sub);
        size_t used = nl ? n + 1 : n;
        memmove(r->buf, r->buf + used, r->len - used);
        r->len -= used;
        if (rc < 0)
            snprintf(err, errlen, "%s:%d: %s", r->path, r->line, sub);
        if (rc != 0)
            return rc;
    }
}

int input_line(const input_reader_t *r)
{
    return r->line;
}

int input_peek(input_reader_t *r, input_target_t *t, char *err, size_t errlen)
{
    if (!r->have_peeked) {
        int rc = input_next(r, -1, &r->peeked, err, errlen);
        if (rc != 1)
            return rc;
        r->have_peeked = true;
    }
    *t = r->peeked;
    return 1;
}

int input_check_file(const char *path, uint64_t *n_addr, uint64_t *n_pair, char *err, size_t errlen)
{
    input_reader_t *r = input_open(path, err, errlen);
    if (!r)
        return LZR_EIO;
    *n_addr = *n_pair = 0;
    input_target_t t;
    int rc;
    while ((rc = input_next(r, -1, &t, err, errlen)) == 1)
        ++*(t.has_port ? n_pair : n_addr);
    input_close(&r);
    if (rc == LZR_EEMPTY && *n_addr + *n_pair == 0) {
        snprintf(err, errlen, "%s: lists no target", path);
        return LZR_EEMPTY;
    }
    return rc == LZR_EEMPTY ? LZR_OK : rc;
}
