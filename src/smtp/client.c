/*
 * The outbound client: a queue of expected replies (one per command sent, several at once
 * when the server offers PIPELINING) is matched against the replies as they arrive.
 */
#include "smtp/client.h"

#include "core/str.h"
#include "core/xmalloc.h"
#include "smtp/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum client_state { CS_GREETING, CS_EHLO, CS_HELO, CS_STARTTLS, CS_TLS_WAIT, CS_READY,
                    CS_MESSAGE, CS_RSET, CS_QUIT, CS_DEAD };

enum expect { EX_MAIL, EX_RCPT, EX_DATA, EX_DOT };

#define EXPECT_MAX 1024

struct smtp_client {
    struct smtp_client_config cfg;
    const struct smtp_client_io *io;
    void *io_arg;
    const struct smtp_client_ops *ops;
    void *ctx;
    enum client_state state;
    struct smtp_reply reply;
    bool tls, ext_pipelining, ext_8bit, ext_smtputf8, ext_starttls, ext_requiretls;
    unsigned long long ext_size;
    /* message in flight */
    const struct smtp_client_msg *msg;
    int *codes;
    char **texts;
    size_t next_rcpt;       /* RCPT commands written so far */
    size_t rcpt_replies;    /* RCPT replies received so far */
    size_t accepted;
    bool mail_failed;
    bool data_failed;
    enum expect fifo[EXPECT_MAX]; /* replies still expected, in command order */
    size_t head, count;
};

static void cmd(struct smtp_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cmd(struct smtp_client *c, const char *fmt, ...)
{
    struct str s = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&s, fmt, ap);
    va_end(ap);
    str_append(&s, "\r\n", 2);
    c->io->write(c->io_arg, s.ptr, s.len);
    str_clear(&s);
}

struct smtp_client *smtp_client_new(const struct smtp_client_config *cfg,
                                    const struct smtp_client_io *io, void *io_arg,
                                    const struct smtp_client_ops *ops, void *ctx)
{
    struct smtp_client *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->io = io;
    c->io_arg = io_arg;
    c->ops = ops;
    c->ctx = ctx;
    smtp_reply_init(&c->reply);
    return c;
}

static void msg_clear(struct smtp_client *c)
{
    if (c->texts)
        for (size_t i = 0; c->msg && i < c->msg->nrcpt; i++)
            free(c->texts[i]);
    free(c->texts);
    free(c->codes);
    c->texts = NULL;
    c->codes = NULL;
    c->msg = NULL;
}

void smtp_client_free(struct smtp_client *c)
{
    if (!c)
        return;
    msg_clear(c);
    smtp_reply_clear(&c->reply);
    free(c);
}

static void fail(struct smtp_client *c, int code, const char *text)
{
    if (c->state == CS_DEAD)
        return;
    c->state = CS_DEAD;
    c->ops->failed(c->ctx, c, code, text);
    c->io->close(c->io_arg);
}

static void set_rcpt(struct smtp_client *c, size_t i, int code, const char *text)
{
    c->codes[i] = code;
    free(c->texts[i]);
    c->texts[i] = xstrdup(text);
}

/* Finishes the message in flight and hands the per-recipient outcome to the caller. */
static void finish(struct smtp_client *c)
{
    struct smtp_client_result r = {c->codes, (const char *const *)c->texts, c->msg->nrcpt};
    c->state = CS_READY;
    c->ops->done(c->ctx, c, &r);
    msg_clear(c);
    if (c->state == CS_READY)
        c->ops->ready(c->ctx, c);
}

static void expect(struct smtp_client *c, enum expect e)
{
    c->fifo[(c->head + c->count++) % EXPECT_MAX] = e;
}

static void send_rcpt(struct smtp_client *c)
{
    cmd(c, "RCPT TO:<%s>", c->msg->rcpts[c->next_rcpt++]);
    expect(c, EX_RCPT);
}

static void send_data(struct smtp_client *c)
{
    cmd(c, "DATA");
    expect(c, EX_DATA);
}

/*
 * RFC 5321 §4.5.2: a line starting with a dot gets another; the data ends with CRLF.CRLF.
 * Lines are those ending in CRLF, and every line sent ends in CRLF: a bare CR or bare LF in
 * the stored message (BDAT content, an old store) goes out as CRLF, so that no receiver can
 * find an end of data ("\r.\r\n", "\n.\n") the sender did not mean (SMTP smuggling).
 */
void smtp_client_dot_stuff(const char *p, size_t n, struct str *out)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] == '.')
            str_appendc(out, '.');
        const char *lf = memchr(p + i, '\n', n - i);
        size_t seg = lf ? (size_t)(lf - p) : n; /* offsets in p */
        const char *cr = memchr(p + i, '\r', seg - i);
        size_t end = cr ? (size_t)(cr - p) : seg;
        str_append(out, p + i, end - i);
        str_append(out, "\r\n", 2);
        if (end == n)
            break; /* a last line without its line end */
        i = end + (p[end] == '\r' && end + 1 < n && p[end + 1] == '\n' ? 2 : 1);
    }
    str_append(out, ".\r\n", 3);
}

static void send_body(struct smtp_client *c)
{
    struct str out = STR_INIT;
    str_reserve(&out, c->msg->body_len + c->msg->body_len / 64 + 8);
    smtp_client_dot_stuff(c->msg->body, c->msg->body_len, &out);
    c->io->write(c->io_arg, out.ptr, out.len);
    str_clear(&out);
}

/* Gives every recipient still accepted the reply r (DATA refused, or the final reply). */
static void set_accepted(struct smtp_client *c, const struct smtp_reply *r)
{
    for (size_t i = 0; i < c->msg->nrcpt; i++)
        if (c->codes[i] / 100 == 2)
            set_rcpt(c, i, r->code, str_cstr(&r->lines));
}

static void on_mail(struct smtp_client *c, const struct smtp_reply *r)
{
    if (r->code / 100 != 2) {
        c->mail_failed = true;
        for (size_t i = 0; i < c->msg->nrcpt; i++)
            set_rcpt(c, i, r->code, str_cstr(&r->lines));
        return;
    }
    if (!c->ext_pipelining)
        send_rcpt(c);
}

static void on_rcpt(struct smtp_client *c, const struct smtp_reply *r)
{
    size_t i = c->rcpt_replies++;
    if (c->mail_failed)
        return;
    set_rcpt(c, i, r->code, str_cstr(&r->lines));
    if (r->code / 100 == 2)
        c->accepted++;
    if (c->ext_pipelining)
        return;
    if (c->next_rcpt < c->msg->nrcpt)
        send_rcpt(c);
    else if (c->accepted > 0)
        send_data(c);
}

static void on_data(struct smtp_client *c, const struct smtp_reply *r)
{
    if (r->code != 354) {
        c->data_failed = true;
        if (!c->mail_failed)
            set_accepted(c, r);
        return;
    }
    /* RFC 2920 §3.1: 354 although no recipient was accepted: end the empty data at once. */
    if (c->accepted == 0 || c->mail_failed) {
        c->data_failed = true;
        c->io->write(c->io_arg, ".\r\n", 3);
    } else {
        send_body(c);
    }
    expect(c, EX_DOT);
}

static void on_message_reply(struct smtp_client *c, const struct smtp_reply *r)
{
    enum expect e = c->fifo[c->head];
    c->head = (c->head + 1) % EXPECT_MAX;
    c->count--;
    switch (e) {
    case EX_MAIL: on_mail(c, r); break;
    case EX_RCPT: on_rcpt(c, r); break;
    case EX_DATA: on_data(c, r); break;
    case EX_DOT:
        if (!c->data_failed)
            set_accepted(c, r);
        break;
    }
    if (c->count > 0)
        return;
    if (c->mail_failed || c->accepted == 0 || c->data_failed) {
        cmd(c, "RSET"); /* leave the failed transaction before the next message */
        c->state = CS_RSET;
        return;
    }
    finish(c);
}

void smtp_client_send(struct smtp_client *c, const struct smtp_client_msg *m)
{
    c->msg = m;
    c->codes = xcalloc(m->nrcpt ? m->nrcpt : 1, sizeof *c->codes);
    c->texts = xcalloc(m->nrcpt ? m->nrcpt : 1, sizeof *c->texts);
    c->next_rcpt = c->rcpt_replies = c->accepted = 0;
    c->mail_failed = c->data_failed = false;
    c->head = c->count = 0;
    const char *why = NULL;
    bool rtls = m->requiretls && c->tls && c->ext_requiretls;
    if (m->requiretls_required && !rtls) /* RFC 8689 §4.2.1, §5 */
        why = "550 5.7.30 REQUIRETLS support required: the receiving server does not offer "
              "REQUIRETLS over TLS";
    else if (m->smtputf8 && !c->ext_smtputf8)
        why = "553 5.6.7 the receiving server does not support SMTPUTF8";
    else if (c->ext_size && m->body_len > c->ext_size)
        why = "552 5.3.4 message larger than the receiving server's SIZE limit";
    if (why || m->nrcpt == 0 || m->nrcpt > EXPECT_MAX - 2) {
        for (size_t i = 0; i < m->nrcpt; i++)
            set_rcpt(c, i, why ? atoi(why) : 452, why ? why : "452 4.5.3 too many recipients");
        return finish(c);
    }
    c->state = CS_MESSAGE;
    struct str params = STR_INIT;
    if (c->ext_size)
        str_appendf(&params, " SIZE=%zu", m->body_len);
    if (m->eightbit && c->ext_8bit)
        str_appends(&params, " BODY=8BITMIME");
    if (m->smtputf8)
        str_appends(&params, " SMTPUTF8");
    if (rtls)
        str_appends(&params, " REQUIRETLS");
    cmd(c, "MAIL FROM:<%s>%s", m->from, str_cstr(&params));
    str_clear(&params);
    expect(c, EX_MAIL);
    if (!c->ext_pipelining)
        return;
    while (c->next_rcpt < m->nrcpt)
        send_rcpt(c);
    send_data(c);
}

/* ---- session set-up ---- */

static void send_ehlo(struct smtp_client *c)
{
    cmd(c, "EHLO %s", c->cfg.helo_name);
    c->state = CS_EHLO;
}

static void session_ready(struct smtp_client *c)
{
    if (c->cfg.tls == SMTP_TLS_REQUIRED && !c->tls)
        return fail(c, 0, "TLS is required for this destination but was not offered");
    c->state = CS_READY;
    c->ops->ready(c->ctx, c);
}

static void on_ehlo(struct smtp_client *c, const struct smtp_reply *r)
{
    if (r->code / 100 == 5 && c->state == CS_EHLO) { /* an old server: try HELO */
        cmd(c, "HELO %s", c->cfg.helo_name);
        c->state = CS_HELO;
        return;
    }
    if (r->code / 100 != 2)
        return fail(c, r->code, str_cstr(&r->lines));
    c->ext_pipelining = smtp_reply_has_keyword(r, "PIPELINING");
    c->ext_8bit = smtp_reply_has_keyword(r, "8BITMIME");
    c->ext_smtputf8 = smtp_reply_has_keyword(r, "SMTPUTF8");
    c->ext_starttls = smtp_reply_has_keyword(r, "STARTTLS");
    c->ext_requiretls = c->tls && smtp_reply_has_keyword(r, "REQUIRETLS");
    c->ext_size = 0;
    const char *sz = strstr(str_cstr(&r->text), "SIZE ");
    if (sz && (sz == str_cstr(&r->text) || sz[-1] == '\n'))
        c->ext_size = strtoull(sz + 5, NULL, 10);
    if (!c->tls && c->ext_starttls && c->cfg.tls != SMTP_TLS_NONE) {
        cmd(c, "STARTTLS");
        c->state = CS_STARTTLS;
        return;
    }
    session_ready(c);
}

static void on_reply(struct smtp_client *c, const struct smtp_reply *r)
{
    switch (c->state) {
    case CS_GREETING:
        if (r->code != 220)
            return fail(c, r->code, str_cstr(&r->lines));
        return send_ehlo(c);
    case CS_EHLO:
    case CS_HELO:
        return on_ehlo(c, r);
    case CS_STARTTLS:
        if (r->code != 220) /* refused: go on in clear unless TLS is required */
            return session_ready(c);
        c->state = CS_TLS_WAIT;
        return c->io->starttls(c->io_arg);
    case CS_MESSAGE:
        return on_message_reply(c, r);
    case CS_RSET:
        if (r->code / 100 != 2)
            return fail(c, r->code, str_cstr(&r->lines));
        return finish(c);
    case CS_QUIT:
        c->state = CS_DEAD;
        return c->io->close(c->io_arg);
    case CS_READY:    /* an unsolicited reply, e.g. 421 before closing */
    case CS_TLS_WAIT:
        return fail(c, r->code, str_cstr(&r->lines));
    case CS_DEAD:
        return;
    }
}

size_t smtp_client_feed(struct smtp_client *c, const char *p, size_t n)
{
    size_t used = 0;
    while (used < n && c->state != CS_DEAD && c->state != CS_TLS_WAIT) {
        size_t u = 0;
        int rc = smtp_reply_feed(&c->reply, p + used, n - used, &u);
        used += u;
        if (rc < 0)
            return fail(c, 421, "the server sent something that is not an SMTP reply"), n;
        if (rc == 0)
            break;
        on_reply(c, &c->reply);
        smtp_reply_reset(&c->reply);
    }
    return used;
}

void smtp_client_tls_done(struct smtp_client *c, bool ok)
{
    if (!ok)
        return fail(c, 0, "TLS handshake with the server failed");
    c->tls = true;
    send_ehlo(c); /* RFC 3207 §4.2: start over after TLS */
}

void smtp_client_quit(struct smtp_client *c)
{
    if (c->state == CS_DEAD)
        return;
    cmd(c, "QUIT");
    c->state = CS_QUIT;
}

void smtp_client_abort(struct smtp_client *c, const char *why)
{
    char text[300];
    snprintf(text, sizeof text, "421 4.4.2 %s", why);
    if (c->state != CS_QUIT)
        fail(c, 421, text);
    c->state = CS_DEAD;
}

bool smtp_client_tls_active(const struct smtp_client *c)
{
    return c->tls;
}

bool smtp_client_has_pipelining(const struct smtp_client *c)
{
    return c->ext_pipelining;
}

bool smtp_client_has_requiretls(const struct smtp_client *c)
{
    return c->ext_requiretls;
}
