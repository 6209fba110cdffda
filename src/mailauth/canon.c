/*
 * canon — RFC 6376 §3.4 canonicalisation. Lines end in CRLF (the SMTP reader turns a bare LF
 * into CRLF); a lone LF is still accepted as a line end so a stored message never trips us.
 */
#include "mailauth/canon.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Offset just past the line starting at i (past its LF), or len. */
static size_t line_end(const char *p, size_t len, size_t i)
{
    const char *nl = memchr(p + i, '\n', len - i);
    return nl ? (size_t)(nl - p) + 1 : len;
}

static bool is_blank_line(const char *p, size_t len, size_t i)
{
    return (i < len && p[i] == '\n') || (i + 1 < len && p[i] == '\r' && p[i + 1] == '\n');
}

int mailauth_msg_split(const char *msg, size_t len, struct mailauth_msg *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0, i = 0;
    while (i < len && !is_blank_line(msg, len, i)) {
        if (is_wsp(msg[i]))
            goto bad; /* a continuation line with no field above it */
        size_t start = i, name = 0;
        while (name < len - i && msg[i + name] != ':' && msg[i + name] != '\n' &&
               !is_wsp(msg[i + name]))
            name++;
        i = line_end(msg, len, i);
        while (i < len && is_wsp(msg[i]))
            i = line_end(msg, len, i);
        if (name == 0 || memchr(msg + start, ':', i - start) == NULL)
            goto bad;
        if (out->nf == MAILAUTH_MAX_FIELDS) {
            mailauth_msg_clear(out);
            return ERR_LIMIT;
        }
        if (out->nf == cap) {
            cap = cap ? cap * 2 : 32;
            out->f = xrealloc(out->f, cap * sizeof *out->f);
        }
        out->f[out->nf++] = (struct mailauth_field){msg + start, i - start, name};
    }
    if (i < len)
        i += msg[i] == '\n' ? 1 : 2;
    out->body = msg + i;
    out->body_len = len - i;
    return 0;
bad:
    mailauth_msg_clear(out);
    return ERR_PARSE;
}

void mailauth_msg_clear(struct mailauth_msg *m)
{
    free(m->f);
    memset(m, 0, sizeof *m);
}

bool mailauth_field_is(const struct mailauth_field *f, const char *name)
{
    return slice_eq_ci(slice_make(f->p, f->name_len), name);
}

struct slice mailauth_field_value(const struct mailauth_field *f)
{
    const char *colon = memchr(f->p, ':', f->len);
    size_t start = (size_t)(colon - f->p) + 1, end = f->len;
    if (end > start && f->p[end - 1] == '\n')
        end--;
    if (end > start && f->p[end - 1] == '\r')
        end--;
    return slice_make(f->p + start, end - start);
}

/* §3.4.2: lower-case name, unfold, runs of WSP to one SP, no WSP around ':' or at the end. */
static void relaxed_header(const char *raw, size_t len, struct str *out)
{
    const char *colon = memchr(raw, ':', len);
    size_t nlen = colon ? (size_t)(colon - raw) : len;
    while (nlen > 0 && is_wsp(raw[nlen - 1]))
        nlen--;
    size_t at = out->len;
    str_append(out, raw, nlen);
    ascii_lower(out->ptr + at, nlen);
    str_appendc(out, ':');
    if (!colon) {
        str_append(out, "\r\n", 2);
        return;
    }
    bool pending_sp = false, started = false;
    for (size_t i = (size_t)(colon - raw) + 1; i < len; i++) {
        char c = raw[i];
        if (c == '\r' || c == '\n')
            continue;
        if (is_wsp(c)) {
            pending_sp = started;
            continue;
        }
        if (pending_sp)
            str_appendc(out, ' ');
        pending_sp = false;
        started = true;
        str_appendc(out, c);
    }
    str_append(out, "\r\n", 2);
}

void dkim_canon_header(enum dkim_canon c, const char *raw, size_t len, struct str *out)
{
    if (c == DKIM_CANON_RELAXED) {
        relaxed_header(raw, len, out);
        return;
    }
    str_append(out, raw, len);
    if (len < 2 || raw[len - 2] != '\r' || raw[len - 1] != '\n') {
        if (len > 0 && raw[len - 1] == '\n')
            out->len--, out->ptr[out->len] = '\0';
        str_append(out, "\r\n", 2);
    }
}

/* One non-empty body line p[0..n) (no line end, no trailing WSP) in relaxed form (§3.4.4):
 * each WSP run becomes one SP. Emitted in runs; returns the octets emitted. */
static size_t relaxed_line(const char *p, size_t n, dkim_emit_fn emit, void *ctx)
{
    size_t total = 0, i = 0;
    while (i < n) {
        size_t a = i;
        while (i < n && !is_wsp(p[i]))
            i++;
        if (i > a)
            emit(ctx, p + a, i - a), total += i - a;
        if (i < n) { /* a WSP run, with a non-WSP octet after it (no trailing WSP) */
            while (is_wsp(p[i]))
                i++;
            emit(ctx, " ", 1), total++;
        }
    }
    return total;
}

size_t dkim_canon_body_stream(enum dkim_canon c, const char *body, size_t len, dkim_emit_fn emit,
                              void *ctx)
{
    size_t total = 0, empties = 0, i = 0; /* empties: empty lines not yet emitted */
    while (i < len) {
        size_t e = line_end(body, len, i), n = e - i;
        const char *p = body + i;
        i = e;
        if (n > 0 && p[n - 1] == '\n')
            n--;
        if (n > 0 && p[n - 1] == '\r' && e > 0 && body[e - 1] == '\n')
            n--;
        if (c == DKIM_CANON_RELAXED)
            while (n > 0 && is_wsp(p[n - 1]))
                n--;
        if (n == 0) { /* §3.4.3/§3.4.4: trailing empty lines are ignored */
            empties++;
            continue;
        }
        for (; empties > 0; empties--)
            emit(ctx, "\r\n", 2), total += 2;
        if (c == DKIM_CANON_RELAXED)
            total += relaxed_line(p, n, emit, ctx);
        else
            emit(ctx, p, n), total += n;
        emit(ctx, "\r\n", 2), total += 2;
    }
    if (c == DKIM_CANON_SIMPLE && total == 0) /* simple: an empty body is one CRLF */
        emit(ctx, "\r\n", 2), total = 2;
    return total;
}

static void to_str(void *ctx, const char *p, size_t n)
{
    str_append(ctx, p, n);
}

size_t dkim_canon_body(enum dkim_canon c, const char *body, size_t len, struct str *out)
{
    return dkim_canon_body_stream(c, body, len, to_str, out);
}
