#include "fakes/fake_pop3.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static void io_write(void *vf, const char *p, size_t n)
{
    str_append(&((struct fake_pop3 *)vf)->out, p, n);
}

static void io_starttls(void *vf)
{
    ((struct fake_pop3 *)vf)->tls_requested = true;
}

static const struct pop3_io fake_io = {io_write, io_starttls};

static void auth(void *vf, struct pop3_session *s, const char *user, const char *pass)
{
    struct fake_pop3 *f = vf;
    f->pending_auth_ok =
        (strcasecmp(user, "bob") == 0 || strcasecmp(user, "bob@hamburger.edu") == 0) &&
        strcmp(pass, "hungry") == 0;
    f->pending_auth = true;
    if (!f->hold)
        fake_pop3_complete(f);
}

static void open_done(struct fake_pop3 *f)
{
    struct pop3_msg m[FAKE_POP3_MAX_MSGS];
    for (size_t i = 0; i < f->nmsgs; i++)
        m[i] = (struct pop3_msg){100 + i, strlen(f->msgs[i])};
    enum pop3_maildrop_result r = f->maildrop_busy   ? POP3_MAILDROP_IN_USE
                                  : f->maildrop_fail ? POP3_MAILDROP_TEMPFAIL
                                                     : POP3_MAILDROP_OK;
    if (r == POP3_MAILDROP_OK)
        f->maildrop_opens++;
    pop3_session_maildrop_done(f->s, r, f->uidvalidity, m, f->nmsgs);
}

static void maildrop_open(void *vf, struct pop3_session *s, const char *user)
{
    struct fake_pop3 *f = vf;
    f->pending_open = true;
    if (!f->hold)
        fake_pop3_complete(f);
}

static int msg_open(void *vf, size_t index)
{
    struct fake_pop3 *f = vf;
    if (f->msg_open_fail || index >= f->nmsgs)
        return -1;
    f->open_index = index;
    f->read_pos = 0;
    return 0;
}

static ssize_t msg_read(void *vf, char *buf, size_t cap)
{
    struct fake_pop3 *f = vf;
    if (f->open_index == SIZE_MAX)
        return -1;
    const char *m = f->msgs[f->open_index];
    size_t left = strlen(m) - f->read_pos;
    size_t n = left < cap ? left : cap;
    if (f->read_max && n > f->read_max)
        n = f->read_max;
    memcpy(buf, m + f->read_pos, n);
    f->read_pos += n;
    return (ssize_t)n;
}

static void msg_close(void *vf)
{
    ((struct fake_pop3 *)vf)->open_index = SIZE_MAX;
}

static void update(void *vf, struct pop3_session *s, const uint64_t *uids, size_t n)
{
    struct fake_pop3 *f = vf;
    f->nremoved = n < FAKE_POP3_MAX_MSGS ? n : FAKE_POP3_MAX_MSGS;
    memcpy(f->removed, uids, f->nremoved * sizeof *uids);
    f->pending_update = true;
    if (!f->hold)
        fake_pop3_complete(f);
}

static void maildrop_close(void *vf)
{
    ((struct fake_pop3 *)vf)->maildrop_closes++;
}

static const struct pop3_session_ops fake_ops = {
    auth, maildrop_open, msg_open, msg_read, msg_close, update, maildrop_close,
};

void fake_pop3_init(struct fake_pop3 *f, bool tls, bool plaintext_ok)
{
    memset(f, 0, sizeof *f);
    struct pop3_server_config cfg = {.stls = !tls, .plaintext_ok = plaintext_ok, .max_errors = 10};
    struct session_peer peer = {"127.0.0.1", "127.0.0.1:110", tls};
    f->uidvalidity = 1700000000;
    f->open_index = SIZE_MAX;
    f->s = pop3_session_new(&cfg, &fake_io, f, &fake_ops, f, &peer, 7);
    pop3_session_start(f->s);
}

void fake_pop3_free(struct fake_pop3 *f)
{
    f->closed_msg_open = f->open_index != SIZE_MAX;
    pop3_session_free(f->s);
    str_clear(&f->out);
}

void fake_pop3_add(struct fake_pop3 *f, const char *text)
{
    if (f->nmsgs < FAKE_POP3_MAX_MSGS)
        f->msgs[f->nmsgs++] = text;
}

void fake_pop3_complete(struct fake_pop3 *f)
{
    if (f->pending_auth) {
        f->pending_auth = false;
        pop3_session_auth_done(f->s, f->pending_auth_ok, "bob@hamburger.edu");
    }
    if (f->pending_open) {
        f->pending_open = false;
        open_done(f);
    }
    if (f->pending_update) {
        f->pending_update = false;
        pop3_session_update_done(f->s, f->update_rc);
    }
}

size_t fake_pop3_feed(struct fake_pop3 *f, const char *p, size_t n)
{
    size_t used = 0;
    for (;;) {
        while (pop3_session_sending(f->s) && !pop3_session_closing(f->s)) {
            f->writable_calls++;
            pop3_session_writable(f->s);
        }
        if (used >= n || pop3_session_closing(f->s))
            break;
        size_t u = pop3_session_feed(f->s, p + used, n - used);
        used += u;
        if (f->tls_requested) { /* the glue would drop the rest and start TLS */
            f->tls_requested = false;
            pop3_session_tls_started(f->s, "TLSv1.3", "TEST");
            return n;
        }
        if (u == 0 && !pop3_session_sending(f->s))
            break; /* waiting on a held result, or closing */
    }
    return used;
}

size_t fake_pop3_feeds(struct fake_pop3 *f, const char *cstr)
{
    return fake_pop3_feed(f, cstr, strlen(cstr));
}
