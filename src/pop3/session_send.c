/*
 * Sending a message for RETR and TOP (RFC 1939 §3, §7): read through ops->msg_read in
 * chunks, dot-stuffed on the way out, ended with CRLF "." CRLF. At most POP3_SEND_BURST octets
 * are written per call; the rest waits for pop3_session_writable, so memory per session stays
 * bounded whatever the message size.
 */
#include "pop3/session_int.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

void pop3_send_begin(struct pop3_session *s, bool top, uint32_t lines)
{
    struct pop3_send *snd = &s->send;
    snd->active = true;
    snd->bol = true;
    snd->top = top;
    snd->in_body = false;
    snd->lines_left = lines;
    snd->line_len = 0;
    snd->last = '\n';
    snd->buf = xmalloc(POP3_READ_CHUNK);
    str_reset(&snd->out);
    pop3_send_pump(s);
}

static void send_stop(struct pop3_session *s)
{
    struct pop3_send *snd = &s->send;
    snd->active = false;
    free(snd->buf);
    snd->buf = NULL;
    str_clear(&snd->out);
    s->ops->msg_close(s->ops_ctx);
}

void pop3_send_abort(struct pop3_session *s)
{
    if (s->send.active)
        send_stop(s);
}

/* TOP: one complete line of `len` octets (LF included) was sent; tracks header and body. */
static void top_line_done(struct pop3_send *snd, size_t len, char before_lf)
{
    bool empty = len == 1 || (len == 2 && before_lf == '\r');
    if (!snd->in_body)
        snd->in_body = empty; /* RFC 5322 §2.1: the first empty line ends the header */
    else if (snd->lines_left > 0)
        snd->lines_left--;
}

/*
 * Appends p[0..n) to the output, dot-stuffed (RFC 1939 §3: a line starting with "." gets one
 * more). Returns true when TOP has sent all it should.
 */
static bool stuff(struct pop3_send *snd, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (snd->bol) {
            if (snd->top && snd->in_body && snd->lines_left == 0)
                return true;
            if (p[i] == '.')
                str_appendc(&snd->out, '.');
            snd->bol = false;
            snd->line_len = 0;
        }
        const char *lf = memchr(p + i, '\n', n - i);
        size_t seg = lf ? (size_t)(lf - (p + i)) + 1 : n - i;
        str_append(&snd->out, p + i, seg);
        char before_lf = seg >= 2 ? p[i + seg - 2] : snd->last;
        snd->line_len += seg;
        snd->last = p[i + seg - 1];
        i += seg;
        if (lf) {
            if (snd->top)
                top_line_done(snd, snd->line_len, before_lf);
            snd->bol = true;
        }
    }
    return snd->top && snd->bol && snd->in_body && snd->lines_left == 0;
}

/* Ends the multi-line reply: the last line gets its CRLF if the message lacked one. */
static void send_end(struct pop3_session *s)
{
    struct pop3_send *snd = &s->send;
    if (!snd->bol)
        str_appends(&snd->out, "\r\n");
    str_appends(&snd->out, ".\r\n");
    s->io->write(s->io_arg, snd->out.ptr, snd->out.len);
    send_stop(s);
    pop3_idle_check(s);
}

void pop3_send_pump(struct pop3_session *s)
{
    struct pop3_send *snd = &s->send;
    size_t burst = 0;
    while (snd->active && burst < POP3_SEND_BURST) {
        ssize_t got = s->ops->msg_read(s->ops_ctx, snd->buf, POP3_READ_CHUNK);
        if (got < 0) {
            /* "+OK" is out already: a truncated message must not look complete. */
            log_warn("pop3 " LOG_ID " read error while sending a message of %s; closing",
                     LOG_IDV(s->id), s->user);
            return pop3_close(s);
        }
        bool done = got == 0 || stuff(snd, snd->buf, (size_t)got);
        if (done)
            return send_end(s);
        s->io->write(s->io_arg, snd->out.ptr, snd->out.len);
        burst += snd->out.len;
        str_reset(&snd->out);
    }
}
