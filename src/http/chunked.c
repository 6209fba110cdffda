/* http/chunked — see chunked.h. */
#include "http/chunked.h"

#include <string.h>

enum {
    CK_SIZE,     /* hex digits */
    CK_EXT,      /* after the size: BWS ";" extensions, up to CR */
    CK_SIZE_LF,  /* CR seen after the size line */
    CK_DATA,
    CK_DATA_CR,  /* after the data: CR */
    CK_DATA_LF,
    CK_TRAILER,  /* at the start of a trailer line (or the final CRLF) */
    CK_TRAILER_LINE,
    CK_TRAILER_LF,
    CK_END_LF,   /* CR of the final empty line seen */
    CK_DONE,
};

void http_chunked_init(struct http_chunked *c)
{
    memset(c, 0, sizeof *c);
}

/* One octet of a size line. Returns 0 to go on or -400. */
static int size_octet(struct http_chunked *c, char ch)
{
    if (++c->line > HTTP_CHUNK_LINE_MAX)
        return -400;
    int v = hex_digit_value(ch);
    if (c->state == CK_SIZE && v >= 0) {
        if (++c->digits > 16)
            return -400;
        c->remaining = c->remaining << 4 | (uint64_t)v;
        return 0;
    }
    if (c->digits == 0)
        return -400;
    if (ch == '\r') {
        c->state = CK_SIZE_LF;
        return 0;
    }
    /* chunk-ext: BWS ";" name [= value]; only checked for octets no field may hold. */
    if (c->state == CK_SIZE && ch != ';' && ch != ' ' && ch != '\t')
        return -400;
    if ((unsigned char)ch < 0x20 && ch != '\t')
        return -400;
    if (ch == 0x7f)
        return -400;
    c->state = CK_EXT;
    return 0;
}

static int trailer_octet(struct http_chunked *c, char ch)
{
    if (++c->trailers > HTTP_TRAILER_MAX)
        return -400;
    switch (c->state) {
    case CK_TRAILER:
        if (ch == '\r')
            return c->state = CK_END_LF, 0;
        if (ch == ' ' || ch == '\t' || ch == ':' || (unsigned char)ch < 0x21 || ch == 0x7f)
            return -400; /* obs-fold or an empty name */
        c->state = CK_TRAILER_LINE;
        return 0;
    case CK_TRAILER_LINE:
        if (ch == '\r')
            return c->state = CK_TRAILER_LF, 0;
        if (((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f)
            return -400;
        return 0;
    case CK_TRAILER_LF:
        if (ch != '\n')
            return -400;
        return c->state = CK_TRAILER, 0;
    default: /* CK_END_LF */
        if (ch != '\n')
            return -400;
        return c->state = CK_DONE, 0;
    }
}

int http_chunked_feed(struct http_chunked *c, const char *p, size_t n, uint64_t max_body,
                      struct str *out, size_t *used_out)
{
    size_t i = 0;
    int rc = 0;
    while (i < n && c->state != CK_DONE && rc == 0) {
        char ch = p[i];
        switch (c->state) {
        case CK_SIZE:
        case CK_EXT:
            rc = size_octet(c, ch);
            i++;
            break;
        case CK_SIZE_LF:
            i++;
            if (ch != '\n') {
                rc = -400;
                break;
            }
            if (c->remaining > max_body - c->total) {
                rc = -413;
                break;
            }
            c->state = c->remaining ? CK_DATA : CK_TRAILER;
            c->line = 0;
            c->digits = 0;
            break;
        case CK_DATA: {
            size_t take = n - i < c->remaining ? n - i : (size_t)c->remaining;
            str_append(out, p + i, take);
            i += take;
            c->remaining -= take;
            c->total += take;
            if (c->remaining == 0)
                c->state = CK_DATA_CR;
            break;
        }
        case CK_DATA_CR:
        case CK_DATA_LF:
            if (ch != (c->state == CK_DATA_CR ? '\r' : '\n'))
                rc = -400;
            c->state = c->state == CK_DATA_CR ? CK_DATA_LF : CK_SIZE;
            i++;
            break;
        default:
            rc = trailer_octet(c, ch);
            i++;
            break;
        }
    }
    *used_out = i;
    if (rc)
        return rc;
    return c->state == CK_DONE ? 1 : 0;
}

void http_chunk_append(struct str *out, const char *p, size_t n)
{
    str_appendf(out, "%zx\r\n", n);
    str_append(out, p, n);
    str_append(out, "\r\n", 2);
}

void http_chunk_end(struct str *out)
{
    str_append(out, "0\r\n\r\n", 5);
}
