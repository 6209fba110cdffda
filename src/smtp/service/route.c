/*
 * smtp service, route — where a local recipient's mail goes (store/route.h: aliases,
 * forwards, catch-alls, subaddresses, RFC 2142 roles), decided at RCPT; and at end of data the
 * expansion of routed recipients into INBOX deliveries and forwarded remote recipients. A
 * forwarded copy gets an SRS sender (msg/srs.h) in the forwarding address's domain, so SPF
 * passes at the next hop, and one "Delivered-To:" line per forwarding address; a message that
 * comes back carrying one of those, or that has passed too many hops, is refused with 554
 * 5.4.6 (RFC 5321 §6.3) instead of looping. A bounce to one of our SRS addresses is relayed to
 * the original sender once its hash and age are checked.
 *
 * The SRS secret is DATA/srs.key (32 random bytes, made on first use with the durable-write
 * helper); it is read when needed, which is only for forwarded mail and SRS bounces.
 */
#include "smtp/service/route.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "msg/header.h"
#include "msg/srs.h"
#include "store/quota.h"
#include "store/route.h"
#include "store/store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SRS_KEY_LEN 32
#define MAX_HOPS 50 /* Received: fields; Postfix's hopcount_limit default */

/* Reads DATA/srs.key, creating it the first time. 0 or ERR_*. */
static int srs_key(const char *data_dir, unsigned char key[SRS_KEY_LEN])
{
    char path[4096];
    snprintf(path, sizeof path, "%s/srs.key", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, key, SRS_KEY_LEN);
        close(fd);
        return n == SRS_KEY_LEN ? 0 : ERR_IO;
    }
    if (RAND_bytes(key, SRS_KEY_LEN) != 1)
        return ERR_IO;
    /* Two workers may race here: the loser's rename replaces the winner's key before any
     * address was handed out with it only if both made one in the same instant; read back
     * what is on disk so every worker signs with the same key. */
    int rc = store_durable_write(path, key, SRS_KEY_LEN);
    if (rc != 0)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, key, SRS_KEY_LEN) : -1;
    if (fd >= 0)
        close(fd);
    return n == SRS_KEY_LEN ? 0 : ERR_IO;
}

static const struct store_route_opts *route_opts(const struct config *cfg,
                                                 struct store_route_opts *o)
{
    o->delim = cfg->recipient_delimiter ? cfg->recipient_delimiter[0] : '\0';
    o->postmaster = cfg->postmaster;
    return o;
}

/* A bounce to SRS0=...@ours: the original sender, relayed. */
static enum smtp_rcpt_verdict route_srs_bounce(struct store *st, const struct config *cfg,
                                               const char *local, struct smtp_rcpt *out)
{
    unsigned char key[SRS_KEY_LEN];
    char orig[MAIL_PATH_MAX + 1];
    if (srs_key(cfg->data_dir, key) != 0)
        return SMTP_RCPT_TEMPFAIL;
    int rc = srs_reverse(key, sizeof key, (int64_t)time(NULL), local, orig, sizeof orig);
    if (rc != 0)
        return SMTP_RCPT_NO_SUCH_USER; /* forged, stale or mangled */
    const char *at = strrchr(orig, '@');
    int local_domain = at ? store_domain_exists(st, at + 1) : 0;
    if (local_domain < 0)
        return SMTP_RCPT_TEMPFAIL;
    snprintf(out->addr, sizeof out->addr, "%s", orig);
    out->kind = local_domain ? SMTP_RCPT_ROUTED : SMTP_RCPT_REMOTE;
    return SMTP_RCPT_ACCEPT;
}

/* RFC 3463 4.2.2: a user over its quota (or its domain's) is deferred at RCPT; a routed
 * address only when every user it reaches is full and it reaches nothing else. 1 full, 0 not,
 * <0 error. */
static int route_full(struct store *st, const struct store_route *r)
{
    if (r->n_remotes)
        return 0;
    for (size_t i = 0; i < r->n_users; i++) {
        struct store_quota q;
        int rc = store_quota_get(st, r->users[i], &q);
        if (rc != 0)
            return rc == ERR_NOTFOUND ? 0 : rc;
        if (!store_quota_exceeded(&q, 0))
            return 0;
    }
    return 1;
}

enum smtp_rcpt_verdict smtp_route_rcpt(struct store *st, const struct config *cfg,
                                       const char *local, const char *domain, struct smtp_rcpt *out)
{
    if (strncasecmp(local, "srs0=", 5) == 0)
        return route_srs_bounce(st, cfg, local, out);
    char addr[MAIL_PATH_MAX + 1];
    snprintf(addr, sizeof addr, "%s@%s", local, domain);
    struct store_route_opts o;
    struct store_route r;
    int rc = store_route_resolve(st, addr, route_opts(cfg, &o), &r);
    if (rc == ERR_NOTFOUND)
        return SMTP_RCPT_NO_SUCH_USER;
    if (rc != 0)
        return SMTP_RCPT_TEMPFAIL;
    int full = route_full(st, &r);
    if (full != 0) {
        store_route_clear(&r);
        return full > 0 ? SMTP_RCPT_OVER_QUOTA : SMTP_RCPT_TEMPFAIL;
    }
    snprintf(out->addr, sizeof out->addr, "%s", addr);
    if (r.n_users == 1 && r.n_remotes == 0) {
        out->kind = SMTP_RCPT_LOCAL;
        out->user_id = r.users[0];
    } else {
        out->kind = SMTP_RCPT_ROUTED;
    }
    store_route_clear(&r);
    return SMTP_RCPT_ACCEPT;
}

/* ---- expansion at end of data ---- */

static void push_user(struct smtp_route_out *o, int64_t id)
{
    for (size_t i = 0; i < o->n_users; i++)
        if (o->users[i] == id)
            return;
    o->users = xrealloc(o->users, (o->n_users + 1) * sizeof *o->users);
    o->users[o->n_users++] = id;
}

static void push_remote(struct smtp_route_out *o, const char *addr, char *sender)
{
    o->remotes = xrealloc(o->remotes, (o->n_remotes + 1) * sizeof *o->remotes);
    o->senders = xrealloc(o->senders, (o->n_remotes + 1) * sizeof *o->senders);
    o->remotes[o->n_remotes] = xstrdup(addr);
    o->senders[o->n_remotes++] = sender;
}

/* True when the header block of body has a Delivered-To: field equal to addr. */
static bool delivered_to(const char *body, size_t len, const char *addr)
{
    size_t hdr_len = msg_header_end(body, len);
    for (size_t off = 0; off < hdr_len;) {
        const char *line = body + off;
        const char *nl = memchr(line, '\n', hdr_len - off);
        size_t n = nl ? (size_t)(nl - line) + 1 : hdr_len - off;
        if (n > 13 && strncasecmp(line, "Delivered-To:", 13) == 0) {
            const char *v = line + 13, *e = line + n;
            while (v < e && (*v == ' ' || *v == '\t' || *v == '<'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '>'))
                e--;
            if ((size_t)(e - v) == strlen(addr) && strncasecmp(v, addr, (size_t)(e - v)) == 0)
                return true;
        }
        off += n;
    }
    return false;
}

/* Received: fields in the header block (RFC 5321 §6.3 hop count). */
static unsigned hop_count(const char *body, size_t len)
{
    size_t hdr_len = msg_header_end(body, len);
    unsigned hops = 0;
    for (size_t off = 0; off < hdr_len;) {
        const char *line = body + off;
        const char *nl = memchr(line, '\n', hdr_len - off);
        size_t n = nl ? (size_t)(nl - line) + 1 : hdr_len - off;
        hops += n > 9 && strncasecmp(line, "Received:", 9) == 0;
        off += n;
    }
    return hops;
}

/* The forwarded targets of one routed recipient. */
static int expand_remotes(const struct store_route *r, const struct smtp_txn *txn,
                          const unsigned char *key, struct smtp_route_out *o)
{
    for (size_t k = 0; k < r->n_remotes; k++) {
        const struct store_route_remote *rr = &r->remotes[k];
        if (delivered_to(txn->body.ptr, txn->body.len, rr->via))
            return ERR_LOOP;
        char *sender = NULL;
        if (txn->from[0]) { /* <> stays <> (RFC 5321 §4.5.5) */
            char srs[MAIL_PATH_MAX + 1];
            const char *dom = strrchr(rr->via, '@') + 1;
            if (srs_forward(key, SRS_KEY_LEN, (int64_t)time(NULL), txn->from, dom, srs,
                            sizeof srs) == 0)
                sender = xstrdup(srs);
        }
        push_remote(o, rr->addr, sender);
        if (!strstr(str_cstr(&o->prefix), rr->via))
            str_appendf(&o->prefix, "Delivered-To: %s\r\n", rr->via);
    }
    return 0;
}

int smtp_route_expand(struct store *st, const struct config *cfg, const struct smtp_txn *txn,
                      struct smtp_route_out *o)
{
    memset(o, 0, sizeof *o);
    if (hop_count(txn->body.ptr, txn->body.len) > MAX_HOPS)
        return ERR_LOOP;
    unsigned char key[SRS_KEY_LEN];
    bool have_key = false;
    struct store_route_opts opts;
    int rc = 0;
    for (unsigned i = 0; rc == 0 && i < txn->nrcpt; i++) {
        const struct smtp_rcpt *rc_ = &txn->rcpts[i];
        if (rc_->kind == SMTP_RCPT_LOCAL) {
            push_user(o, rc_->user_id);
            continue;
        }
        if (rc_->kind == SMTP_RCPT_REMOTE) {
            push_remote(o, rc_->addr, NULL);
            continue;
        }
        struct store_route r;
        rc = store_route_resolve(st, rc_->addr, route_opts(cfg, &opts), &r);
        if (rc == ERR_NOTFOUND) { /* the alias went away since RCPT: nothing to do */
            log_warn("route: %s has no target any more; not delivered", rc_->addr);
            rc = 0;
            continue;
        }
        if (rc != 0)
            break;
        for (size_t k = 0; k < r.n_users; k++)
            push_user(o, r.users[k]);
        if (r.n_remotes && !have_key)
            have_key = (rc = srs_key(cfg->data_dir, key)) == 0;
        if (rc == 0)
            rc = expand_remotes(&r, txn, key, o);
        store_route_clear(&r);
    }
    if (rc != 0)
        smtp_route_out_clear(o);
    return rc;
}

int smtp_route_redirect(struct store *st, const struct config *cfg, const struct smtp_txn *txn,
                        const char *via, const char *to, struct smtp_route_out *o)
{
    if (delivered_to(txn->body.ptr, txn->body.len, via))
        return ERR_LOOP;
    const char *at = strrchr(to, '@');
    int local = at ? store_domain_exists(st, at + 1) : 0;
    if (local < 0)
        return local;
    struct store_route_opts opts;
    struct store_route r = {0};
    if (local) {
        int rc = store_route_resolve(st, to, route_opts(cfg, &opts), &r);
        if (rc != 0)
            return rc;
        for (size_t k = 0; k < r.n_users; k++)
            push_user(o, r.users[k]);
    }
    unsigned char key[SRS_KEY_LEN];
    int rc = (!local || r.n_remotes) && txn->from[0] ? srs_key(cfg->data_dir, key) : 0;
    for (size_t k = 0; rc == 0 && k < (local ? r.n_remotes : 1); k++) {
        const char *target = local ? r.remotes[k].addr : to;
        char *sender = NULL;
        char srs[MAIL_PATH_MAX + 1];
        if (txn->from[0] && srs_forward(key, SRS_KEY_LEN, (int64_t)time(NULL), txn->from,
                                        strrchr(via, '@') + 1, srs, sizeof srs) == 0)
            sender = xstrdup(srs);
        push_remote(o, target, sender);
        if (!strstr(str_cstr(&o->prefix), via))
            str_appendf(&o->prefix, "Delivered-To: %s\r\n", via);
    }
    store_route_clear(&r);
    return rc;
}

void smtp_route_out_clear(struct smtp_route_out *o)
{
    for (size_t i = 0; i < o->n_remotes; i++) {
        free(o->remotes[i]);
        free(o->senders[i]);
    }
    free(o->remotes);
    free(o->senders);
    free(o->users);
    str_clear(&o->prefix);
    memset(o, 0, sizeof *o);
}
