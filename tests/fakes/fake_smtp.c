#include "fakes/fake_smtp.h"

#include <string.h>

static void io_write(void *vf, const char *p, size_t n)
{
    str_append(&((struct fake_smtp *)vf)->out, p, n);
}

static void io_starttls(void *vf)
{
    ((struct fake_smtp *)vf)->tls_requested = true;
}

static void io_close(void *vf)
{
    ((struct fake_smtp *)vf)->closed = true;
}

static const struct smtp_io fake_io = {io_write, io_starttls, io_close};

static enum smtp_rcpt_verdict rcpt_check(void *vf, struct smtp_session *s,
                                         const struct mail_addr *a, bool authed,
                                         struct smtp_rcpt *out)
{
    if (strcmp(a->domain, "hamburger.edu") == 0 || a->domain[0] == '\0') {
        if (strcasecmp(a->local, "bob") != 0 && strcasecmp(a->local, "postmaster") != 0)
            return SMTP_RCPT_NO_SUCH_USER;
        out->kind = SMTP_RCPT_LOCAL;
        out->user_id = 1;
        return SMTP_RCPT_ACCEPT;
    }
    if (!authed)
        return SMTP_RCPT_RELAY_DENIED;
    out->kind = SMTP_RCPT_REMOTE;
    return SMTP_RCPT_ACCEPT;
}

static void auth_check(void *vf, struct smtp_session *s, const char *user, const char *pass)
{
    bool ok = (strcmp(user, "bob") == 0 || strcmp(user, "bob@hamburger.edu") == 0) &&
              strcmp(pass, "hungry") == 0;
    smtp_session_auth_done(s, ok, "bob@hamburger.edu");
}

static void commit(void *vf, struct smtp_session *s, struct smtp_txn *txn)
{
    struct fake_smtp *f = vf;
    str_append(&f->committed, txn->body.ptr, txn->body.len);
    f->nrcpt_last = txn->nrcpt;
    f->requiretls_last = txn->requiretls;
    f->commit_pending = true;
    if (f->auto_commit)
        fake_smtp_commit(f, 0);
}

/* BURL: "imap://ok/TEXT" gives TEXT (percent-escapes left as they are) to bob only,
 * "imap://later/..." fails for now (454), anything else is refused (554). */
static int burl_fetch(void *vf, struct smtp_session *s, const char *url, size_t n, const char *user,
                      struct str *out, const char **reply_out)
{
    if (n >= 12 && memcmp(url, "imap://later", 12) == 0) {
        *reply_out = "454 4.6.6 Temporary failure";
        return -13;
    }
    if (n < 10 || memcmp(url, "imap://ok/", 10) != 0 || strcmp(user, "bob@hamburger.edu") != 0) {
        *reply_out = "554 5.6.6 IMAP URL resolution failed";
        return -5;
    }
    str_append(out, url + 10, n - 10);
    return 0;
}

static const struct smtp_session_ops fake_ops = {rcpt_check, auth_check, NULL, commit, burl_fetch};

void fake_smtp_config(struct smtp_server_config *cfg, bool submission)
{
    *cfg = (struct smtp_server_config){
        .hostname = "mail.hamburger.edu",
        .submission = submission,
        .starttls = true,
        .auth = submission,
        .max_message_size = 10000,
        .max_recipients = 5,
        .max_errors = 10,
    };
}

void fake_smtp_init_config(struct fake_smtp *f, const struct smtp_server_config *cfg, bool tls)
{
    memset(f, 0, sizeof *f);
    struct session_peer peer = {"127.0.0.1", "127.0.0.1:25", tls};
    f->auto_commit = true;
    f->s = smtp_session_new(cfg, &fake_io, f, &fake_ops, f, &peer, 42);
    smtp_session_start(f->s);
}

void fake_smtp_init(struct fake_smtp *f, bool submission, bool tls)
{
    struct smtp_server_config cfg;
    fake_smtp_config(&cfg, submission);
    fake_smtp_init_config(f, &cfg, tls);
}

void fake_smtp_free(struct fake_smtp *f)
{
    smtp_session_free(f->s);
    str_clear(&f->out);
    str_clear(&f->committed);
}

void fake_smtp_commit(struct fake_smtp *f, int rc)
{
    if (!f->commit_pending)
        return;
    f->commit_pending = false;
    if (rc == 0)
        f->ncommitted++;
    smtp_session_commit_done(f->s, rc, "ID");
}

size_t fake_smtp_feed(struct fake_smtp *f, const char *p, size_t n)
{
    size_t used = 0;
    while (used < n && !f->closed) {
        size_t u = smtp_session_feed(f->s, p + used, n - used);
        used += u;
        if (f->tls_requested) { /* the glue would drop the rest and start TLS */
            f->tls_requested = false;
            smtp_session_tls_started(f->s, "TLSv1.3", "TEST");
            return n;
        }
        if (u == 0 && (smtp_session_busy(f->s) || smtp_session_closing(f->s)))
            break;
    }
    return used;
}

size_t fake_smtp_feeds(struct fake_smtp *f, const char *cstr)
{
    return fake_smtp_feed(f, cstr, strlen(cstr));
}
