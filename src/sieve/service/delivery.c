/* sieve delivery — see delivery.h. */
#include "sieve/service/delivery.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "imap/mailbox_name.h"
#include "msg/header.h"
#include "sieve/sieve.h"
#include "store/imap.h"
#include "store/sieve.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One user's run. */
struct user_run {
    struct store *st;
    const struct sieve_delivery_in *in;
    int64_t user;
    const char *address; /* the user's own address */
    const char *data_dir;
    size_t max_size;
};

/* include: personal scripts from the store, global ones from DATA/sieve-global/NAME.sieve. */
static int include_cb(void *ctx, const char *name, bool global, char **text_out, size_t *len_out)
{
    struct user_run *u = ctx;
    if (!global)
        return store_sieve_get(u->st, u->user, name, text_out, len_out) == 0 ? 0 : ERR_NOTFOUND;
    char path[4096];
    snprintf(path, sizeof path, "%s/sieve-global/%s.sieve", u->data_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return ERR_NOTFOUND;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > u->max_size) {
        close(fd);
        return ERR_NOTFOUND;
    }
    char *buf = xmalloc((size_t)sb.st_size + 1);
    ssize_t n = read(fd, buf, (size_t)sb.st_size);
    close(fd);
    if (n != sb.st_size) {
        free(buf);
        return ERR_NOTFOUND;
    }
    buf[n] = '\0';
    *text_out = buf;
    *len_out = (size_t)n;
    return 0;
}

static void push_target(struct sieve_plan *p, int64_t user, const char *mailbox, const char *flags,
                        bool create)
{
    p->targets = xrealloc(p->targets, (p->n_targets + 1) * sizeof *p->targets);
    p->targets[p->n_targets++] =
        (struct store_target){user, xstrdup(mailbox), xstrdup(flags ? flags : ""), create};
}

static void push_plain(struct sieve_plan *p, int64_t user)
{
    p->plain = xrealloc(p->plain, (p->n_plain + 1) * sizeof *p->plain);
    p->plain[p->n_plain++] = user;
}

static void push_reply(struct sieve_plan *p, struct sieve_reply *r)
{
    p->replies = xrealloc(p->replies, (p->n_replies + 1) * sizeof *p->replies);
    p->replies[p->n_replies++] = r;
}

/* Date and Message-ID of a generated message, in the user's domain. */
static void stamp(const char *address, char *date, size_t dcap, char *msgid, size_t mcap)
{
    msg_date_format(time(NULL), date, dcap);
    unsigned char rnd[12] = {0};
    (void)RAND_bytes(rnd, sizeof rnd);
    char hex[25];
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    const char *at = strrchr(address, '@');
    snprintf(msgid, mcap, "<sieve.%s@%s>", hex, at ? at + 1 : "localhost");
}

static struct sieve_reply *reply_new(struct store *st, const char *to)
{
    struct sieve_reply *r = xcalloc(1, sizeof *r);
    r->rcpt = xstrdup(to);
    int64_t id = 0;
    if (store_user_lookup(st, to, &id) == 0)
        r->local_user = id;
    return r;
}

static void vacation(struct user_run *u, const struct sieve_action *a,
                     const struct sieve_env *env, struct sieve_plan *p)
{
    int64_t now = (int64_t)time(NULL);
    int seen = store_sieve_vacation_seen(u->st, u->user, a->handle, a->address, now);
    if (seen != 0) {
        if (seen > 0)
            log_info("sieve " LOG_ID " %s: vacation to %s already sent within %llu seconds",
                     LOG_IDV(u->in->log_id), u->address, a->address,
                     (unsigned long long)a->period);
        return;
    }
    char date[64], msgid[128];
    stamp(u->address, date, sizeof date, msgid, sizeof msgid);
    struct sieve_reply *r = reply_new(u->st, a->address);
    sieve_vacation_build(a, env, date, msgid, &r->text);
    r->handle = xstrdup(a->handle);
    push_reply(p, r);
    p->marks = xrealloc(p->marks, (p->n_marks + 1) * sizeof *p->marks);
    p->marks[p->n_marks++] = (struct store_vacation_mark){u->user, r->handle, r->rcpt,
                                                          now + (int64_t)a->period};
    log_info("sieve " LOG_ID " %s: vacation reply to %s", LOG_IDV(u->in->log_id), u->address,
             a->address);
}

static void reject(struct user_run *u, const struct sieve_action *a, const struct sieve_env *env,
                   struct sieve_plan *p)
{
    p->n_rejected++;
    if (!p->reject)
        p->reject = xstrdup(a->reason);
    log_info("sieve " LOG_ID " %s: rejected", LOG_IDV(u->in->log_id), u->address);
    if (!env->env_from[0])
        return; /* RFC 5429 §2.1.1: nobody to tell */
    char date[64], msgid[128], mailer[300];
    stamp(u->address, date, sizeof date, msgid, sizeof msgid);
    const char *at = strrchr(u->address, '@');
    snprintf(mailer, sizeof mailer, "MAILER-DAEMON@%s", at ? at + 1 : "localhost");
    struct sieve_reply *r = reply_new(u->st, env->env_from);
    sieve_reject_build(a->reason, u->address, env, mailer, date, msgid, &r->text);
    push_reply(p, r);
}

/* fileinto :create (RFC 5490 §3.2): only a name IMAP could create (imap/mailbox_name.h:
 * inside the user's tree, INBOX normalised); any other stays a plain fileinto, which falls
 * back to INBOX when the mailbox is missing. */
static void push_fileinto(struct user_run *u, const struct sieve_action *a, struct sieve_plan *p)
{
    struct str name = STR_INIT;
    const char *err = "invalid name";
    bool create = a->create && imap_mailbox_name_from_wire(a->mailbox, strlen(a->mailbox), true,
                                                           &name, &err) == 0;
    if (a->create && !create)
        log_info("sieve " LOG_ID " %s: fileinto :create \"%s\": %s", LOG_IDV(u->in->log_id),
                 u->address, a->mailbox, err);
    push_target(p, u->user, create ? str_cstr(&name) : a->mailbox, a->flags, create);
    str_clear(&name);
}

/* mailboxexists (RFC 5490 §3.1): one indexed read on the worker's store. */
static bool mailbox_exists_cb(void *vu, const char *name)
{
    struct user_run *u = vu;
    struct str stored = STR_INIT;
    const char *err;
    int64_t id;
    bool ok = imap_mailbox_name_from_wire(name, strlen(name), true, &stored, &err) == 0 &&
              store_imap_mailbox_id(u->st, u->address, str_cstr(&stored), &id) == 0;
    str_clear(&stored);
    return ok;
}

/* Carries the actions of one successful run into the plan. */
static void apply(struct user_run *u, const struct sieve_result *res, const struct sieve_env *env,
                  struct sieve_plan *p)
{
    for (size_t i = 0; i < res->n; i++) {
        const struct sieve_action *a = &res->v[i];
        switch (a->kind) {
        case SIEVE_ACT_KEEP:
            push_target(p, u->user, u->in->junk ? "Junk" : "INBOX", a->flags, false);
            break;
        case SIEVE_ACT_FILEINTO:
            push_fileinto(u, a, p);
            break;
        case SIEVE_ACT_REDIRECT:
            p->redirects = xrealloc(p->redirects, (p->n_redirects + 1) * sizeof *p->redirects);
            p->redirects[p->n_redirects++] =
                (struct sieve_redirect){u->user, xstrdup(u->address), xstrdup(a->address)};
            break;
        case SIEVE_ACT_REJECT: reject(u, a, env, p); break;
        case SIEVE_ACT_VACATION: vacation(u, a, env, p); break;
        }
    }
}

static int local_zone_minutes(void)
{
    time_t t = time(NULL);
    struct tm tm;
    return localtime_r(&t, &tm) ? (int)(tm.tm_gmtoff / 60) : 0;
}

/* Runs the user's active script. false: no script, or it failed (then logged): plain INBOX. */
static bool run_user(struct user_run *u, const char *rcpt, struct sieve_plan *p)
{
    char *name = NULL, *text = NULL;
    size_t len = 0;
    int rc = store_sieve_active(u->st, u->user, &name, &text, &len);
    if (rc != 0) {
        if (rc != ERR_NOTFOUND)
            log_warn("sieve " LOG_ID " %s: cannot read the active script: %s; kept in INBOX",
                     LOG_IDV(u->in->log_id), u->address, err_str(rc));
        return false;
    }
    struct sieve_limits lim;
    sieve_limits_default(&lim);
    u->max_size = lim.max_script_size;
    struct sieve_script *s = NULL;
    struct str err = STR_INIT;
    const char *const addrs[] = {u->address};
    struct sieve_env env = {
        .msg = u->in->body,
        .len = u->in->len,
        .env_from = u->in->from,
        .env_to = rcpt ? rcpt : u->address,
        .user_addresses = addrs,
        .n_user_addresses = 1,
        .delimiter = u->in->delimiter,
        .now = (int64_t)time(NULL),
        .tz_min = local_zone_minutes(),
        .include = include_cb,
        .include_ctx = u,
        .mailbox_exists = mailbox_exists_cb,
        .mailbox_ctx = u,
    };
    struct sieve_result res = {0};
    rc = sieve_script_parse(text, len, &lim, &s, &err);
    if (rc == 0)
        rc = sieve_run(s, &env, &lim, &res, &err);
    if (rc != 0) {
        log_warn("sieve " LOG_ID " %s: script \"%s\": %s; kept in INBOX", LOG_IDV(u->in->log_id),
                 u->address, name, str_cstr(&err));
    } else {
        for (const char *l = str_cstr(&res.log); *l;) { /* vacation notes */
            const char *nl = strchr(l, '\n');
            int k = nl ? (int)(nl - l) : (int)strlen(l);
            log_info("sieve " LOG_ID " %s: %.*s", LOG_IDV(u->in->log_id), u->address, k, l);
            l += nl ? k + 1 : k;
        }
        apply(u, &res, &env, p);
    }
    sieve_result_clear(&res);
    sieve_script_free(s);
    str_clear(&err);
    free(name);
    free(text);
    return rc == 0;
}

void sieve_plan_make(struct store *st, const struct sieve_delivery_in *in, const int64_t *users,
                     const char *const *rcpt, size_t n, struct sieve_plan *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        char *address = NULL;
        if (store_user_address(st, users[i], &address) != 0) {
            push_plain(out, users[i]);
            continue;
        }
        struct user_run u = {st, in, users[i], address, in->data_dir, 0};
        if (!run_user(&u, rcpt ? rcpt[i] : NULL, out))
            push_plain(out, users[i]);
        free(address);
    }
}

void sieve_plan_keep(struct sieve_plan *p, int64_t user)
{
    push_target(p, user, "INBOX", "", false);
}

void sieve_reply_free(struct sieve_reply *r)
{
    if (!r)
        return;
    str_clear(&r->text);
    free(r->rcpt);
    free(r->handle);
    free(r);
}

void sieve_plan_drop_notices(struct sieve_plan *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_replies; i++) {
        if (p->replies[i]->handle)
            p->replies[k++] = p->replies[i];
        else
            sieve_reply_free(p->replies[i]);
    }
    p->n_replies = k;
}

void sieve_plan_clear(struct sieve_plan *p)
{
    for (size_t i = 0; i < p->n_targets; i++) {
        free((char *)p->targets[i].mailbox);
        free((char *)p->targets[i].flags);
    }
    for (size_t i = 0; i < p->n_redirects; i++) {
        free(p->redirects[i].via);
        free(p->redirects[i].to);
    }
    for (size_t i = 0; i < p->n_replies; i++)
        sieve_reply_free(p->replies[i]);
    free(p->targets);
    free(p->plain);
    free(p->redirects);
    free(p->replies);
    free(p->marks);
    free(p->reject);
    memset(p, 0, sizeof *p);
}

void sieve_reply_msg(struct sieve_reply *r)
{
    struct store_msg *m = &r->msg;
    memset(m, 0, sizeof *m);
    m->sender = "";
    m->local_prefix = "Return-Path: <>\r\n";
    m->local_prefix_len = strlen(m->local_prefix);
    m->body = r->text.ptr;
    m->body_len = r->text.len;
    if (r->local_user > 0) {
        m->local_users = &r->local_user;
        m->n_local = 1;
    } else {
        m->remote_rcpts = (const char *const *)&r->rcpt;
        m->n_remote = 1;
    }
    m->received_at = (int64_t)time(NULL);
}
