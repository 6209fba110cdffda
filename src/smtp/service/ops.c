/*
 * smtp service, ops — the SMTP engine's ops (smtp/session.h) on the process: RCPT against the
 * store (local domains, users, subaddresses, postmaster), AUTH through host_login, MAIL's SPF
 * check through the worker's stub, and the durable commit through the committer (then the
 * queue runner is kicked and mailbox changes are reported).
 */
#include "smtp/service/service_int.h"

#include "smtp/service/route.h"

#include "core/idna.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "host/confgen.h"
#include "host/host.h"
#include "host/login.h"
#include "mailauth/service/service.h"
#include "queue/runner.h"
#include "sieve/service/delivery.h"
#include "spf/spf.h"
#include "store/committer.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- recipients ---- */

/*
 * RFC 5321 §4.5.1: postmaster must be accepted for every local domain (and bare
 * <postmaster>). Local addresses are routed by smtp/service/route.c: users, subaddresses
 * (bob+tag reaches bob when recipient_delimiter is set), aliases, forwards, catch-alls and
 * the RFC 2142 roles.
 */
static enum smtp_rcpt_verdict rcpt_check(void *vc, struct smtp_session *s,
                                         const struct mail_addr *a, bool authenticated,
                                         struct smtp_rcpt *out)
{
    struct worker *w = conn_worker(vc);
    const struct config *cfg = host_config(w); /* primary_domain, postmaster: reloadable */
    char local[MAIL_LOCAL_MAX + 1], domain[MAIL_DOMAIN_MAX + 1];
    snprintf(local, sizeof local, "%s", a->local);
    const char *why = NULL;
    /* RFC 6531: with SMTPUTF8 the domain may come as U-labels; local domains are stored as
     * A-labels. A name IDNA refuses cannot be one of ours. */
    if (!a->domain[0])
        snprintf(domain, sizeof domain, "%s", cfg->primary_domain);
    else if (a->domain[0] == '[' || idna_to_ascii(a->domain, domain, sizeof domain, &why) != 0)
        snprintf(domain, sizeof domain, "%s", a->domain);
    ascii_lower(local, strlen(local));
    ascii_lower(domain, strlen(domain));
    int local_domain = domain[0] == '[' ? 0 : store_domain_exists(w->store, domain);
    if (local_domain < 0)
        return SMTP_RCPT_TEMPFAIL;
    if (!local_domain && authenticated && domain[0] != '[') { /* queued with its A-labels */
        struct mail_addr ascii = *a;
        snprintf(ascii.domain, sizeof ascii.domain, "%s", domain);
        mail_addr_format(&ascii, out->addr, sizeof out->addr);
    }
    if (!local_domain)
        return authenticated ? (out->kind = SMTP_RCPT_REMOTE, SMTP_RCPT_ACCEPT)
                             : SMTP_RCPT_RELAY_DENIED;
    return smtp_route_rcpt(w->store, cfg, local, domain, out);
}

/* ---- authentication ---- */

static void smtp_auth_done(void *sess, bool ok, const char *user)
{
    smtp_session_auth_done(sess, ok, user);
}

static void auth_check(void *vc, struct smtp_session *s, const char *user, const char *pass)
{
    host_login(vc, user, pass, smtp_auth_done, s);
}

/* ---- sender check: SPF on the MX role (RFC 7208) ---- */

struct spf_job {
    struct conn *conn;
    struct smtp_session *sess;
    char from[MAIL_PATH_MAX + 1];
    char helo[256];
};

/* The MX role ([smtp]) decides what an SPF fail does (as the worker's configuration says
 * now: a reload may have changed it since the session started). */
static bool spf_rejects(const struct worker *w)
{
    const struct config_smtp *mx = config_section(host_config(w), "smtp");
    return mx && mx->spf == CONFIG_SPF_REJECT;
}

static void spf_done(void *vj, enum spf_result r, const char *explanation)
{
    struct spf_job *j = vj;
    struct worker *w = conn_worker(j->conn);
    struct str hdr = STR_INIT;
    spf_received_header(&hdr, r, w->d->cfg.hostname, conn_peer(j->conn), j->from, j->helo);
    log_info("smtp " LOG_ID " spf %s for <%s> from %s", LOG_IDV(smtp_session_id(j->sess)),
             spf_result_name(r), j->from, conn_peer(j->conn));
    char reject[600];
    bool refuse = r == SPF_FAIL && spf_rejects(w);
    if (refuse) /* RFC 7208 §8.4 with the RFC 7372 code */
        snprintf(reject, sizeof reject, "550 5.7.23 SPF fail: %.500s",
                 explanation ? explanation : "sender not permitted");
    struct conn *c = j->conn;
    smtp_session_mail_done(j->sess, refuse ? reject : NULL, str_cstr(&hdr));
    str_clear(&hdr);
    free(j);
    conn_resume(c);
}

static void mail_check(void *vc, struct smtp_session *s, const char *from, const char *helo)
{
    struct worker *w = conn_worker(vc);
    struct spf_job *j = xcalloc(1, sizeof *j);
    j->conn = vc;
    j->sess = s;
    snprintf(j->from, sizeof j->from, "%s", from);
    snprintf(j->helo, sizeof j->helo, "%s", helo);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    const char *peer = conn_peer(vc);
    if (inet_pton(AF_INET, peer, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, peer, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    if (!ss.ss_family || !w->stub) {
        smtp_session_mail_done(s, NULL, NULL);
        free(j);
        return;
    }
    spf_check_start(w->stub, (struct sockaddr *)&ss, from, helo, w->d->cfg.hostname, spf_done, j);
}

/* ---- durable commit ---- */

struct commit_job {
    struct conn *conn;
    struct smtp_session *sess;
    struct store_msg msg;
    struct str stored;     /* the message with our DKIM-Signature or Authentication-Results */
    struct str results;    /* our checks' A-R payload, for the ARC set of forwarded copies */
    struct str sealed;     /* the ARC set + Delivered-To lines of the forwarded copy */
    int arc_cv;            /* enum arc_cv of the incoming chain */
    bool checked;          /* the MX role's checks ran (results is meaningful) */
    char prefix[MAIL_PATH_MAX + 32];
    struct smtp_route_out route;
    const struct smtp_txn *txn; /* the session's, alive until commit_done */
    struct sieve_plan plan;
    struct mailauth_reports *reports; /* DMARC / TLS-RPT reports the message carries */
};

static void job_free(struct commit_job *j)
{
    str_clear(&j->stored);
    str_clear(&j->results);
    str_clear(&j->sealed);
    smtp_route_out_clear(&j->route);
    sieve_plan_clear(&j->plan);
    mailauth_reports_free(j->reports);
    free(j);
}

/* ---- Sieve's replies (vacation, reject notices), sent once the message is durable ---- */

struct reply_job {
    struct worker *w;
    struct sieve_reply *r;
};

static void reply_result(void *vr)
{
    struct reply_job *rj = vr;
    struct sieve_reply *r = rj->r;
    if (r->msg.result != 0)
        log_warn("sieve: reply to %s not stored: %s", r->rcpt, err_str(r->msg.result));
    else if (r->local_user > 0)
        host_mailbox_changed(rj->w, &r->local_user, 1, 0, 0);
    else
        queue_runner_kick(rj->w->d->runner);
    sieve_reply_free(r);
    free(rj);
}

static void reply_done(struct store_msg *msg, void *vr)
{
    struct reply_job *rj = vr;
    loop_post_send(rj->w->host.post, reply_result, rj);
}

static void send_replies(struct worker *w, struct sieve_plan *p)
{
    for (size_t i = 0; i < p->n_replies; i++) {
        struct reply_job *rj = xcalloc(1, sizeof *rj);
        rj->w = w;
        rj->r = p->replies[i];
        sieve_reply_msg(rj->r);
        committer_submit(w->d->committer, &rj->r->msg, reply_done, rj);
    }
    p->n_replies = 0;
}

static void commit_result(void *vj)
{
    struct commit_job *j = vj;
    struct conn *c = j->conn;
    if (j->msg.result == 0)
        log_info("store " LOG_ID " stored %s local=%zu queued=%zu", LOG_IDV(smtp_session_id(j->sess)),
                 j->msg.id, j->msg.n_local, j->msg.n_remote);
    if (j->msg.result == 0 && j->msg.n_remote)
        queue_runner_kick(conn_worker(c)->d->runner);
    if (j->msg.result == 0 && j->msg.n_local) /* IMAP sessions of those users re-sync */
        host_mailbox_changed(conn_worker(c), j->route.users, j->msg.n_local, 0, 0);
    for (size_t i = 0; j->msg.result == 0 && i < j->plan.n_targets; i++)
        host_mailbox_changed(conn_worker(c), &j->plan.targets[i].user, 1, 0, 0);
    if (j->msg.result == 0) {
        struct worker *w = conn_worker(c);
        const struct config_smtp *mx = config_section(host_config(w), "smtp");
        int64_t size = (int64_t)(j->msg.local_prefix_len + j->msg.body_len);
        size_t n = j->msg.n_local;
        int64_t *users = xcalloc(n + j->plan.n_targets + 1, sizeof *users);
        if (n)
            memcpy(users, j->route.users, n * sizeof *users);
        for (size_t i = 0; i < j->plan.n_targets; i++)
            users[n++] = j->plan.targets[i].user;
        smtp_quota_warn(w, mx, users, n, size, &j->plan);
        free(users);
        send_replies(w, &j->plan);
    }
    smtp_session_commit_done(j->sess, j->msg.result, j->msg.id);
    job_free(j);
    conn_resume(c);
}

static void commit_done(struct store_msg *msg, void *vj)
{
    struct commit_job *j = vj;
    loop_post_send(conn_worker(j->conn)->host.post, commit_result, j);
}

/* "550 5.7.1 reason": the first line of a reject's reason, printable ASCII only. */
static void reject_reply(const char *reason, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "550 5.7.1 ");
    for (const char *p = reason; *p && *p != '\r' && *p != '\n' && n + 1 < cap && n < 400; p++)
        out[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    out[n] = '\0';
}

/*
 * Sieve at delivery (sieve/service/delivery.h): the local users' scripts decide mailboxes,
 * flags, redirects, rejects and replies. When every recipient rejected, the refusal is the
 * SMTP reply (RFC 5429 §2.1.1) and true is returned (nothing stored).
 */
static bool sieve_hook(struct commit_job *j, struct worker *w)
{
    const struct smtp_txn *txn = j->txn;
    size_t n = j->route.n_users;
    if (n == 0)
        return false;
    const char **rcpt = xcalloc(n, sizeof *rcpt);
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < txn->nrcpt && !rcpt[i]; k++)
            if (txn->rcpts[k].kind == SMTP_RCPT_LOCAL && txn->rcpts[k].user_id == j->route.users[i])
                rcpt[i] = txn->rcpts[k].addr;
    const struct config *cfg = host_config(w); /* recipient_delimiter: reloadable */
    struct sieve_delivery_in in = {
        txn->from, j->msg.body, j->msg.body_len, cfg->data_dir,
        cfg->recipient_delimiter ? cfg->recipient_delimiter[0] : '\0',
        j->msg.local_mailbox != NULL, smtp_session_id(j->sess)};
    sieve_plan_make(w->store, &in, j->route.users, rcpt, n, &j->plan);
    free(rcpt);
    struct sieve_plan *p = &j->plan;
    if (p->n_rejected == n && j->route.n_remotes == 0) {
        char reply[512];
        reject_reply(p->reject, reply, sizeof reply);
        smtp_session_commit_refused(j->sess, reply);
        return true;
    }
    if (p->n_plain)
        memcpy(j->route.users, p->plain, p->n_plain * sizeof *p->plain);
    j->route.n_users = p->n_plain;
    for (size_t i = 0; i < p->n_redirects; i++) {
        int rc = smtp_route_redirect(w->store, cfg, txn, p->redirects[i].via, p->redirects[i].to,
                                     &j->route);
        if (rc != 0) {
            log_warn("sieve " LOG_ID " %s: redirect to %s not made (%s); kept in INBOX",
                     LOG_IDV(smtp_session_id(j->sess)), p->redirects[i].via, p->redirects[i].to,
                     rc == ERR_LOOP ? "a mail loop" : err_str(rc));
            sieve_plan_keep(p, p->redirects[i].user);
        }
    }
    j->msg.local_users = j->route.users;
    j->msg.n_local = j->route.n_users;
    j->msg.remote_rcpts = (const char *const *)j->route.remotes;
    j->msg.remote_senders = (const char *const *)j->route.senders;
    j->msg.n_remote = j->route.n_remotes;
    j->msg.remote_prefix = j->route.prefix.ptr;
    j->msg.remote_prefix_len = j->route.prefix.len;
    j->msg.targets = p->targets;
    j->msg.n_targets = p->n_targets;
    j->msg.vacations = p->marks;
    j->msg.n_vacations = p->n_marks;
    return false;
}

/* RFC 8617 §5.1: a checked message that leaves again (aliases, forwards, Sieve redirects)
 * carries our ARC set on top of its queued copy. */
static void arc_hook(struct commit_job *j, struct worker *w)
{
    if (!j->checked || j->msg.n_remote == 0)
        return;
    if (mailauth_glue_seal(mailauth_glue(w->d), j->msg.remote_prefix, j->msg.remote_prefix_len,
                           j->msg.body, j->msg.body_len, &j->results, j->arc_cv, &j->sealed)) {
        j->msg.remote_prefix = j->sealed.ptr;
        j->msg.remote_prefix_len = j->sealed.len;
    }
}

/* Aggregate reports sent to one of our rua= addresses (mailauth/service/rua_in.c) are parsed
 * and kept in the same commit as the message. */
static void reports_hook(struct commit_job *j, struct worker *w)
{
    const struct smtp_txn *txn = j->txn;
    const char **addrs = xcalloc(txn->nrcpt + 1, sizeof *addrs);
    size_t n = 0;
    for (unsigned k = 0; k < txn->nrcpt; k++)
        if (txn->rcpts[k].kind != SMTP_RCPT_REMOTE)
            addrs[n++] = txn->rcpts[k].addr;
    if (n)
        j->reports = mailauth_glue_reports(host_config(w), addrs, n, j->msg.body,
                                           j->msg.body_len, smtp_session_id(j->sess));
    free(addrs);
    j->msg.reports = mailauth_reports_rows(j->reports, &j->msg.n_reports);
}

/* Runs Sieve, then hands the message to the committer (or answers a refusal). async: called
 * from a callback outside the engine's feed, so the connection is resumed here. */
static void submit(struct commit_job *j, struct worker *w, bool async)
{
    if (sieve_hook(j, w)) {
        struct conn *c = j->conn;
        job_free(j);
        if (async)
            conn_resume(c);
        return;
    }
    arc_hook(j, w);
    reports_hook(j, w);
    committer_submit(w->d->committer, &j->msg, commit_done, j);
}

/* The MX role's DKIM/DMARC verdict (mailauth service): refuse, or store the message with
 * Authentication-Results on top, in Junk for a DMARC quarantine. */
static void checked(void *vj, const struct mailauth_verdict *v)
{
    struct commit_job *j = vj;
    struct worker *w = conn_worker(j->conn);
    if (v->reject) {
        struct conn *c = j->conn;
        smtp_session_commit_refused(j->sess, v->reject);
        job_free(j);
        conn_resume(c);
        return;
    }
    str_append(&j->stored, v->stored->ptr, v->stored->len);
    j->msg.body = j->stored.ptr;
    j->msg.body_len = j->stored.len;
    str_append(&j->results, v->results->ptr, v->results->len);
    j->arc_cv = v->arc_cv;
    j->checked = true;
    if (v->junk)
        j->msg.local_mailbox = "Junk";
    submit(j, w, true);
}

static void commit(void *vc, struct smtp_session *s, struct smtp_txn *txn)
{
    struct worker *w = conn_worker(vc);
    struct commit_job *j = xcalloc(1, sizeof *j);
    j->conn = vc;
    j->sess = s;
    j->txn = txn;
    int rc = smtp_route_expand(w->store, &w->d->cfg, txn, &j->route);
    if (rc != 0) {
        free(j);
        smtp_session_commit_done(s, rc, NULL);
        return;
    }
    /* RFC 5321 §4.4: the delivering server records the reverse-path in Return-Path. */
    int plen = snprintf(j->prefix, sizeof j->prefix, "Return-Path: <%s>\r\n", txn->from);
    memcpy(j->msg.id, txn->id, sizeof j->msg.id); /* the id its Received: field names */
    j->msg.sender = txn->from;
    j->msg.local_prefix = j->prefix;
    j->msg.local_prefix_len = (size_t)plen;
    j->msg.body = txn->body.ptr;
    j->msg.body_len = txn->body.len;
    j->msg.local_users = j->route.users;
    j->msg.n_local = j->route.n_users;
    j->msg.remote_rcpts = (const char *const *)j->route.remotes;
    j->msg.remote_senders = (const char *const *)j->route.senders;
    j->msg.n_remote = j->route.n_remotes;
    j->msg.remote_prefix = j->route.prefix.ptr;
    j->msg.remote_prefix_len = j->route.prefix.len;
    j->msg.received_at = (int64_t)time(NULL);
    j->msg.queue_flags = mailauth_requiretls_flags(txn->requiretls, txn->body.ptr, txn->body.len);
    /* Mail authentication: authenticated mail of a local domain is signed (DKIM); mail from
     * outside for local users or forwarded on is checked (DKIM, ARC, DMARC) before it is
     * stored, and a forwarded copy is ARC-sealed (arc_hook). */
    struct mailauth_glue *g = mailauth_glue(w->d);
    if (txn->auth_user) {
        if (mailauth_glue_sign(g, w->store, txn->body.ptr, txn->body.len, &j->stored)) {
            j->msg.body = j->stored.ptr;
            j->msg.body_len = j->stored.len;
        }
    } else if ((j->route.n_users > 0 || j->route.n_remotes > 0) &&
               mailauth_glue_check(g, w->stub, txn->body.ptr, txn->body.len, txn->from,
                                   smtp_session_helo(s), conn_peer(vc), checked, j)) {
        return;
    }
    submit(j, w, false);
}

static const struct smtp_session_ops smtp_ops = {rcpt_check, auth_check, mail_check, commit,
                                                 smtp_burl_fetch};

const struct smtp_session_ops *smtp_store_ops(void)
{
    return &smtp_ops;
}
