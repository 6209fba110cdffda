#include "smtp/data.h"

#include <string.h>

enum { D_BOL, D_DOT, D_DOT_CR, D_MID };

void smtp_data_init(struct smtp_data *d, struct str *out, uint64_t max_size)
{
    memset(d, 0, sizeof *d);
    d->out = out;
    d->max_size = max_size;
    d->state = D_BOL;
    d->bol_after_crlf = true; /* the DATA command line itself ended with CRLF */
}

/* Stores content octets, counting them against the limit even once storing has stopped. */
static void emit(struct smtp_data *d, const char *p, size_t n)
{
    d->size += n;
    if (d->size > d->max_size) {
        d->oversize = true;
        return;
    }
    str_append(d->out, p, n);
}

static void line_grow(struct smtp_data *d, size_t n)
{
    d->line_len += n;
    if (d->line_len > SMTP_TEXT_LINE_MAX)
        d->line_too_long = true;
}

static void emit_text(struct smtp_data *d, const char *p, size_t n)
{
    if (n) {
        emit(d, p, n);
        line_grow(d, n);
    }
}

/* Ends the current line. Every line is stored with CRLF; crlf says whether it came so (a
 * bare CR or bare LF is a line end of its own, stored as CRLF and remembered). */
static void end_line(struct smtp_data *d, bool crlf)
{
    emit(d, "\r\n", 2);
    line_grow(d, crlf ? 2 : 1);
    d->line_len = 0;
    d->last_cr = false;
    d->bol_after_crlf = crlf;
    d->bare_line_end = d->bare_line_end || !crlf;
    d->state = D_BOL;
}

/* The middle of a line up to its end. A CR is held back (last_cr) until the next octet says
 * whether it is half of a CRLF. Returns bytes used (0: p[0] starts the next line). */
static size_t feed_mid(struct smtp_data *d, const char *p, size_t n)
{
    if (d->last_cr) {
        end_line(d, p[0] == '\n');
        return p[0] == '\n';
    }
    const char *lf = memchr(p, '\n', n);
    size_t seg = lf ? (size_t)(lf - p) : n;
    const char *cr = memchr(p, '\r', seg);
    if (cr) {
        emit_text(d, p, (size_t)(cr - p));
        d->last_cr = true;
        return (size_t)(cr - p) + 1;
    }
    emit_text(d, p, seg);
    if (!lf)
        return n;
    end_line(d, false);
    return seg + 1;
}

int smtp_data_feed(struct smtp_data *d, const char *p, size_t n, size_t *used_out)
{
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        switch (d->state) {
        case D_BOL:
            if (c == '.') {
                d->state = D_DOT;
                line_grow(d, 1);
                i++;
                continue;
            }
            d->state = D_MID;
            continue;
        case D_DOT:
            if (c == '\r') {
                d->state = D_DOT_CR;
                i++;
                continue;
            }
            if (c == '\n') { /* ".\n": a bare-LF dot line is content, never the end */
                emit(d, ".", 1);
                end_line(d, false);
                i++;
                continue;
            }
            d->state = D_MID; /* §4.5.2: drop the leading dot, keep the rest */
            continue;
        case D_DOT_CR:
            if (c == '\n' && d->bol_after_crlf) {
                *used_out = i + 1;
                return 1;
            }
            /* ".\r" not ending the data: the dot is content only if nothing else follows; the
             * CR is held as in any line (c is looked at again, after it). */
            if (c == '\n')
                emit(d, ".", 1);
            d->last_cr = true;
            d->state = D_MID;
            continue;
        case D_MID:
            i += feed_mid(d, p + i, n - i);
            continue;
        }
    }
    *used_out = n;
    return 0;
}

void smtp_data_chunk_begin(struct smtp_data *d, uint64_t size)
{
    d->chunk_left = size;
}

int smtp_data_chunk_feed(struct smtp_data *d, const char *p, size_t n, size_t *used_out)
{
    size_t take = d->chunk_left < n ? (size_t)d->chunk_left : n;
    emit(d, p, take);
    /* BDAT content is taken verbatim; lines are still measured for the text-line limit. */
    for (size_t i = 0; i < take;) {
        const char *lf = memchr(p + i, '\n', take - i);
        size_t seg = lf ? (size_t)(lf - (p + i)) + 1 : take - i;
        line_grow(d, seg);
        if (lf)
            d->line_len = 0;
        i += seg;
    }
    d->chunk_left -= take;
    *used_out = take;
    return d->chunk_left == 0;
}
