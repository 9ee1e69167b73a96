/*
 * export: one function per output line format; all of them write whole lines or nothing.
 */
#include "coordinator/export.h"

#include "common/b64.h"
#include "common/err.h"
#include "common/targets.h"

#include <string.h>

int export_format_parse(const char *s, export_format_t *out)
{
    if (strcmp(s, "jsonl") == 0)
        *out = EXPORT_JSONL;
    else if (strcmp(s, "csv") == 0)
        *out = EXPORT_CSV;
    else if (strcmp(s, "zgrab2") == 0)
        *out = EXPORT_ZGRAB2;
    else if (strcmp(s, "lzr-go") == 0)
        *out = EXPORT_LZRGO;
    else
        return LZR_EINVAL;
    return LZR_OK;
}

void export_header(FILE *out, export_format_t fmt)
{
    if (fmt == EXPORT_CSV)
        fputs("ip,port,class,protocol,handshake,handshakes_tried,window,ttl_synack,ttl_last,"
              "synack_retransmits,acked_data,rtt_us,ts_us,source_ip,worker,data,verdict\n",
              out);
}

void export_safe_name(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) {
        char c = in[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

int export_record_verdict(FILE *out, export_format_t fmt, const lzr_record_t *r, const char *worker,
                          const char *verdict)
{
    char ip[ADDR_TEXT_MAX], src[ADDR_TEXT_MAX], w[64];
    export_safe_name(worker ? worker : "", w, sizeof w);
    if (fmt == EXPORT_JSONL) {
        char buf[4096];
        size_t n = record_to_json(r, buf, sizeof buf);
        if (n < 2 || buf[n - 1] != '}')
            return LZR_ERANGE;
        buf[n - 1] = '\0';
        char v[32];
        export_safe_name(verdict ? verdict : "", v, sizeof v);
        if (v[0])
            fprintf(out, "%s,\"worker\":\"%s\",\"verdict\":\"%s\"}\n", buf, w, v);
        else
            fprintf(out, "%s,\"worker\":\"%s\"}\n", buf, w);
        return 1;
    }
    if (fmt == EXPORT_ZGRAB2) {
        char line[128];
        if (record_to_zgrab2(r, line, sizeof line) == 0)
            return 0;
        fprintf(out, "%s\n", line);
        return 1;
    }
    if (fmt == EXPORT_LZRGO) {
        char line[LZR_LZRGO_MAX];
        if (record_to_lzrgo(r, line, sizeof line) == 0)
            return 0;
        fprintf(out, "%s\n", line);
        return 1;
    }
    char data[b64_encoded_size(LZR_DATA_MAX)];
    data[0] = '\0';
    if (r->data_len && r->data_len <= LZR_DATA_MAX)
        b64_encode(r->data, r->data_len, data, sizeof data);
    char proto[32], hs[32], v[32];
    export_safe_name(r->protocol, proto, sizeof proto);
    export_safe_name(r->handshake, hs, sizeof hs);
    export_safe_name(verdict ? verdict : "", v, sizeof v);
    fprintf(out, "%s,%u,%s,%s,%s,%u,%u,%u,%u,%u,%d,%u,%llu,%s,%s,%s,%s\n", addr_format(&r->ip, ip),
            (unsigned)r->port, record_class_name(r->cls), proto, hs, (unsigned)r->handshakes_tried,
            (unsigned)r->window, (unsigned)r->ttl_synack, (unsigned)r->ttl_last,
            (unsigned)r->synack_retransmits, r->acked_data ? 1 : 0, (unsigned)r->rtt_us,
            (unsigned long long)r->ts_us, addr_format(&r->source_ip, src), w, data, v);
    return 1;
}

void export_verdict_header(FILE *out, export_format_t fmt)
{
    if (fmt == EXPORT_CSV)
        fputs("ip,port,verdict,original_ip,fresh_ip,evidence\n", out);
}

int export_verdict(FILE *out, export_format_t fmt, const lzr_addr_t *ip, uint16_t port,
                   const char *verdict, const lzr_addr_t *original_ip, const lzr_addr_t *fresh_ip,
                   const char *evidence)
{
    char a[ADDR_TEXT_MAX], o[ADDR_TEXT_MAX], f[ADDR_TEXT_MAX] = "", v[32];
    export_safe_name(verdict, v, sizeof v);
    addr_format(ip, a);
    addr_format(original_ip, o);
    if (fresh_ip->family)
        addr_format(fresh_ip, f);
    const char *ev = evidence && evidence[0] == '{' ? evidence : "{}";
    if (fmt == EXPORT_JSONL) {
        fprintf(out,
                "{\"ip\":\"%s\",\"port\":%u,\"verdict\":\"%s\",\"original_ip\":\"%s\","
                "\"fresh_ip\":\"%s\",\"evidence\":%s}\n",
                a, (unsigned)port, v, o, f, ev);
        return 1;
    }
    if (fmt != EXPORT_CSV)
        return LZR_EINVAL;
    /* CSV quoting: the evidence in double quotes, its own quotes doubled. */
    fprintf(out, "%s,%u,%s,%s,%s,\"", a, (unsigned)port, v, o, f);
    for (const char *p = ev; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputs("\"\n", out);
    return 1;
}
