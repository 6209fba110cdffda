/*
 * mime_header — header field iteration, lookup and unfolding (RFC 5322 §2.2). See mime.h.
 */
#include "msg/mime.h"

#include <string.h>
#include <strings.h>

/* Offset just past the line starting at i (past its LF), or len. */
static size_t hdr_line_end(const char *h, size_t len, size_t i)
{
    const char *lf = memchr(h + i, '\n', len - i);
    return lf ? (size_t)(lf - h) + 1 : len;
}

static bool hdr_is_blank_line(const char *h, size_t len, size_t i)
{
    return h[i] == '\n' || (h[i] == '\r' && i + 1 < len && h[i + 1] == '\n');
}

/* Length of the line break that ends the field text h[start..end): CRLF, LF or none. */
static size_t hdr_trailing_eol(const char *h, size_t start, size_t end)
{
    if (end > start && h[end - 1] == '\n')
        return (end - 1 > start && h[end - 2] == '\r') ? 2 : 1;
    return 0;
}

int mime_header_next(const char *hdr, size_t len, size_t *pos, struct mime_field *f)
{
    size_t i = *pos;
    while (i < len) {
        if (hdr_is_blank_line(hdr, len, i)) {
            *pos = len;
            return 0;
        }
        size_t end = hdr_line_end(hdr, len, i);
        /* Continuation lines start with WSP. */
        while (end < len && (hdr[end] == ' ' || hdr[end] == '\t'))
            end = hdr_line_end(hdr, len, end);
        size_t line = i;
        i = end;
        if (hdr[line] == ' ' || hdr[line] == '\t')
            continue; /* a continuation with no field before it */
        const char *colon = memchr(hdr + line, ':', end - line);
        if (!colon || colon == hdr + line)
            continue; /* not a field (e.g. an mbox "From " line) */
        size_t nlen = (size_t)(colon - (hdr + line));
        while (nlen > 0 && (hdr[line + nlen - 1] == ' ' || hdr[line + nlen - 1] == '\t'))
            nlen--;
        if (nlen == 0 || memchr(hdr + line, '\n', nlen))
            continue;
        size_t vstart = (size_t)(colon - hdr) + 1;
        f->name = slice_make(hdr + line, nlen);
        f->raw = slice_make(hdr + vstart, end - vstart - hdr_trailing_eol(hdr, vstart, end));
        f->off = line;
        f->len = end - line;
        *pos = i;
        return 1;
    }
    *pos = len;
    return 0;
}

bool mime_header_find(const char *hdr, size_t len, const char *name, struct mime_field *f)
{
    size_t pos = 0;
    size_t nlen = strlen(name);
    while (mime_header_next(hdr, len, &pos, f) > 0)
        if (f->name.len == nlen && strncasecmp(f->name.p, name, nlen) == 0)
            return true;
    return false;
}

void mime_header_unfold(const char *raw, size_t n, struct str *out)
{
    size_t start = 0, end = n;
    while (start < end &&
           (raw[start] == ' ' || raw[start] == '\t' || raw[start] == '\r' || raw[start] == '\n'))
        start++;
    while (end > start && (raw[end - 1] == ' ' || raw[end - 1] == '\t' || raw[end - 1] == '\r' ||
                           raw[end - 1] == '\n'))
        end--;
    str_reserve(out, end - start);
    str_append(out, "", 0); /* keeps the string terminated even if nothing follows */
    size_t run = start;
    for (size_t i = start; i < end; i++) {
        char c = raw[i];
        bool drop = c == '\0' || c == '\n' || (c == '\r' && i + 1 < end && raw[i + 1] == '\n');
        if (!drop)
            continue;
        str_append(out, raw + run, i - run);
        run = i + 1;
    }
    str_append(out, raw + run, end - run);
}
