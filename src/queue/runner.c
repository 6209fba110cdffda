/*
 * runner — scans (see runner.h), the per-domain jobs' outcomes, back-off and bounces.
 */
#include "queue/runner_int.h"

#include "core/metrics.h"
#include "core/err.h"
#include "core/idna.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "queue/dsn.h"
#include "store/committer.h"
#include "store/store.h"

#include <event2/event.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCAN_BATCH 1000

static void scan(struct queue_runner *r);

static time_t runner_now(const struct queue_runner *r)
{
    return r->hooks.now ? (time_t)r->hooks.now(r->hooks.arg) : time(NULL);
}

static void schedule_scan(struct queue_runner *r, unsigned seconds)
{
    struct timeval tv = {(time_t)seconds, 0};
    event_add(r->scan_ev, &tv);
}

static void on_scan(evutil_socket_t fd, short what, void *vr)
{
    scan(vr);
}

void queue_runner_kick(struct queue_runner *r)
{
    if (r)
        event_active(r->kick_ev, EV_TIMEOUT, 0); /* thread-safe with evthread_use_pthreads */
}

/* ---- collecting due items ---- */

struct collect {
    struct queue_runner *r;
    struct domjob *fresh; /* new jobs of this scan, one per domain */
    unsigned njobs_room;
};

static bool in_flight(struct queue_runner *r, int64_t id)
{
    for (struct bounce_ref *b = r->bouncing; b; b = b->next)
        for (size_t i = 0; i < b->n; i++)
            if (b->ids[i] == id)
                return true;
    for (struct domjob *j = r->jobs; j; j = j->next)
        for (size_t i = 0; i < j->n; i++)
            if (j->items[i].id == id)
                return true;
    return false;
}

static unsigned domain_jobs(struct queue_runner *r, const char *domain)
{
    unsigned n = 0;
    for (struct domjob *j = r->jobs; j; j = j->next)
        n += strcmp(j->domain, domain) == 0;
    return n;
}

static enum smtp_tls_policy policy_for(const struct queue_runner *r, const char *domain)
{
    for (size_t i = 0; i < r->cfg.n_tls_policies; i++)
        if (strcasecmp(r->cfg.tls_policies[i].domain, domain) == 0)
            return r->cfg.tls_policies[i].policy;
    return r->cfg.tls;
}

/* The kind of job a row goes to (runner_int.h): what RFC 8689 asks of its delivery. */
static unsigned item_kind(const struct store_queue_item *it)
{
    if ((it->flags & STORE_QF_REQUIRETLS) && it->sender[0])
        return STORE_QF_REQUIRETLS;
    return it->flags & STORE_QF_TLS_OPTIONAL;
}

static struct domjob *job_for(struct collect *c, const char *domain, unsigned kind)
{
    bool rtls = kind == STORE_QF_REQUIRETLS, optional = kind == STORE_QF_TLS_OPTIONAL;
    for (struct domjob *j = c->fresh; j; j = j->next)
        if (strcmp(j->domain, domain) == 0 && j->requiretls == rtls && j->tls_optional == optional)
            return j;
    if (c->njobs_room == 0 || domain_jobs(c->r, domain) >= c->r->cfg.max_per_domain)
        return NULL;
    c->njobs_room--;
    struct domjob *j = xcalloc(1, sizeof *j);
    j->r = c->r;
    snprintf(j->domain, sizeof j->domain, "%s", domain);
    j->tls = policy_for(c->r, domain);
    j->requiretls = rtls;
    j->tls_optional = optional;
    j->next = c->fresh;
    c->fresh = j;
    return j;
}

static void collect_item(void *vc, const struct store_queue_item *it)
{
    struct collect *c = vc;
    const char *at = strrchr(it->recipient, '@');
    if (!at || in_flight(c->r, it->id))
        return;
    char domain[256];
    const char *why;
    /* The MX and address look-ups ask for A-labels: a recipient domain in U-labels
     * ("bücher.example", RFC 6531) is converted here; one IDNA refuses is asked as it is
     * and fails in DNS with a bounce. */
    if (idna_to_ascii(at + 1, domain, sizeof domain, &why) != 0)
        snprintf(domain, sizeof domain, "%s", at + 1);
    for (char *p = domain; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    struct domjob *j = job_for(c, domain, item_kind(it));
    if (!j)
        return;
    j->items = xrealloc(j->items, (j->n + 1) * sizeof *j->items);
    j->items[j->n++] = (struct qitem){it->id,
                                      xstrdup(it->msg_id),
                                      xstrdup(it->sender),
                                      xstrdup(it->recipient),
                                      xstrdup(it->blob_path),
                                      it->attempts,
                                      it->arrived,
                                      0,
                                      NULL,
                                      NULL,
                                      false,
                                      false,
                                      it->flags};
}

static int by_msg(const void *a, const void *b)
{
    const struct qitem *x = a, *y = b;
    int c = strcmp(x->msg_id, y->msg_id);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

static void scan(struct queue_runner *r)
{
    if (r->stopping)
        return;
    time_t now = runner_now(r);
    struct collect c = {r, NULL, r->cfg.max_connections > r->njobs
                                     ? r->cfg.max_connections - r->njobs : 0};
    if (c.njobs_room && store_queue_due(r->store, now, SCAN_BATCH, collect_item, &c) < 0)
        log_err("queue: cannot read the queue: %s", store_errmsg(r->store));
    while (c.fresh) {
        struct domjob *j = c.fresh;
        c.fresh = j->next;
        qsort(j->items, j->n, sizeof *j->items, by_msg); /* one message = adjacent items */
        j->next = r->jobs;
        r->jobs = j;
        r->njobs++;
        if (r->hooks.deliver)
            r->hooks.deliver(r->hooks.arg, j);
        else
            domjob_start(j);
    }
    int64_t next = 0;
    unsigned wait = r->cfg.scan_interval;
    if (store_queue_next_due(r->store, &next) == 0 && next > now && next - now < wait)
        wait = (unsigned)(next - now);
    schedule_scan(r, wait ? wait : 1);
}

/* ---- outcomes ---- */

static struct metric bounced = METRIC("pigeon_queue_bounced_total",
                                      "Messages bounced to their sender (DSN stored)");

struct bounce {
    struct bounce_ref ref; /* first: linked in r->bouncing */
    struct queue_runner *r;
    struct store_msg msg;
    struct str body;
    int64_t *ids;
    size_t nids;
    int64_t user;
    const char *remote[1];
    char *sender;
};

static void bounce_free(struct bounce *b)
{
    str_clear(&b->body);
    free(b->ids);
    free(b->sender);
    free(b);
}

static void bounce_committed(void *vb)
{
    struct bounce *b = vb;
    struct queue_runner *r = b->r;
    r->pending_bounces--;
    for (struct bounce_ref **pp = &r->bouncing; *pp; pp = &(*pp)->next) {
        if (*pp == &b->ref) {
            *pp = b->ref.next;
            break;
        }
    }
    if (b->msg.result == 0) {
        log_info("queue: bounce %s to <%s> stored", b->msg.id, b->sender);
        metric_inc(&bounced);
        if (b->msg.n_local && r->cfg.local_delivery && !r->stopping)
            r->cfg.local_delivery(r->cfg.local_delivery_arg, b->msg.local_users, b->msg.n_local);
    } else {
        log_err("queue: cannot store the bounce to <%s>; entries stay queued", b->sender);
    }
    if (b->msg.n_remote && !r->stopping)
        queue_runner_kick(r);
    bounce_free(b);
}

static void bounce_done(struct store_msg *msg, void *vb)
{
    struct bounce *b = vb;
    loop_post_send(b->r->post, bounce_committed, b);
}

/* Where the DSN goes: the local sender's INBOX, or the queue for a remote sender. */
static int bounce_route(struct bounce *b)
{
    const char *at = strrchr(b->sender, '@');
    if (!at)
        return ERR_NOTFOUND;
    int local = store_domain_exists(b->r->store, at + 1);
    if (local < 0)
        return local;
    if (!local) {
        b->remote[0] = b->sender;
        b->msg.remote_rcpts = b->remote;
        b->msg.n_remote = 1;
        return 0;
    }
    int rc = store_user_lookup(b->r->store, b->sender, &b->user);
    if (rc < 0)
        return rc;
    b->msg.local_users = &b->user;
    b->msg.n_local = 1;
    return 0;
}

/* One DSN for the failed recipients items[0..n) of one message. */
static void bounce_message(struct queue_runner *r, struct qitem *items, size_t n, time_t now)
{
    int64_t *ids = xcalloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = items[i].id;
    if (!items[0].sender[0]) { /* RFC 5321 §6.1: never a bounce for a bounce */
        log_info("queue %s: undeliverable and the sender is <>: discarded", items[0].msg_id);
        store_queue_remove(r->store, ids, n);
        free(ids);
        return;
    }
    struct bounce *b = xcalloc(1, sizeof *b);
    b->r = r;
    b->ids = ids;
    b->nids = n;
    b->sender = xstrdup(items[0].sender);
    size_t olen = 0;
    FILE *f = fopen(items[0].path, "rb");
    struct str orig = STR_INIT;
    char buf[65536];
    while (f && (olen = fread(buf, 1, sizeof buf, f)) > 0)
        str_append(&orig, buf, olen);
    if (f)
        fclose(f);
    struct dsn_rcpt *dr = xcalloc(n, sizeof *dr);
    char(*status)[16] = xcalloc(n, sizeof *status);
    for (size_t i = 0; i < n; i++) {
        if (items[i].expired) /* RFC 3463: 4.4.7 delivery time expired, Action: failed */
            snprintf(status[i], sizeof status[i], "4.4.7");
        else
            dsn_status_from_reply(items[i].code, items[i].text, status[i], sizeof status[i]);
        dr[i] = (struct dsn_rcpt){items[i].rcpt, status[i], items[i].remote, items[i].text,
                                  "failed"};
    }
    unsigned char rnd[8];
    RAND_bytes(rnd, sizeof rnd);
    char seed[40];
    snprintf(seed, sizeof seed, "%02x%02x%02x%02x%02x%02x%02x%02x.%lld", rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], (long long)now);
    /* RFC 8689 §5: a REQUIRETLS message's content is never returned (its header only), and
     * the DSN is tagged REQUIRETLS in turn */
    bool rtls = items[0].flags & STORE_QF_REQUIRETLS;
    struct dsn_info info = {r->cfg.hostname, b->sender, (time_t)items[0].arrived,     now, dr, n,
                            str_cstr(&orig), orig.len,  rtls ? 0 : r->cfg.max_return, seed};
    dsn_build(&b->body, &info);
    free(dr);
    free(status);
    str_clear(&orig);
    b->msg.sender = "";
    b->msg.local_prefix = "Return-Path: <>\r\n";
    b->msg.local_prefix_len = strlen(b->msg.local_prefix);
    b->msg.body = b->body.ptr;
    b->msg.body_len = b->body.len;
    b->msg.received_at = now;
    b->msg.queue_flags = rtls ? STORE_QF_REQUIRETLS : 0;
    b->msg.done_queue_ids = b->ids; /* removed in the DSN's own transaction */
    b->msg.n_done_queue = b->nids;
    if (bounce_route(b) < 0) {
        log_warn("queue %s: sender <%s> is a local address that does not exist: bounce dropped",
                 items[0].msg_id, b->sender);
        store_queue_remove(r->store, ids, n);
        bounce_free(b);
        return;
    }
    r->pending_bounces++;
    b->ref = (struct bounce_ref){r->bouncing, b->ids, b->nids};
    r->bouncing = &b->ref;
    committer_submit(r->committer, &b->msg, bounce_done, b);
}

void runner_items_delivered(struct queue_runner *r, struct qitem *items, size_t n)
{
    int64_t *ids = xcalloc(n ? n : 1, sizeof *ids);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].code / 100 == 2 && !items[i].removed)
            ids[k++] = items[i].id;
    if (k && store_queue_remove(r->store, ids, k) < 0)
        log_err("queue: cannot remove delivered entries: %s", store_errmsg(r->store));
    for (size_t i = 0; k && i < n; i++)
        if (items[i].code / 100 == 2)
            items[i].removed = true;
    free(ids);
}

static int64_t backoff(const struct queue_runner *r, int attempts)
{
    int64_t d = r->cfg.retry_initial;
    for (int i = 0; i < attempts && d < r->cfg.retry_max; i++)
        d *= 2;
    return d < r->cfg.retry_max ? d : r->cfg.retry_max;
}

/* A multi-line reply as one line: line breaks become spaces, trailing ones go. */
static char *one_line(const char *text)
{
    char *s = xstrdup(text ? text : "");
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r')
            continue;
        s[k++] = s[i] == '\n' ? ' ' : s[i];
    }
    s[k] = '\0';
    return s;
}

static struct metric delivered = METRIC("pigeon_queue_delivered_total",
                                        "Remote recipients delivered (2xx from the next hop)");
static struct metric deferred = METRIC("pigeon_queue_deferred_total",
                                       "Remote recipients deferred for a retry (4xx, no answer)");

/* Sorts each item into sent / deferred / failed and acts on it. */
static void apply_outcomes(struct queue_runner *r, struct domjob *j, time_t now)
{
    int64_t *sent = xcalloc(j->n ? j->n : 1, sizeof *sent);
    size_t nsent = 0;
    for (size_t i = 0; i < j->n; i++) {
        struct qitem *it = &j->items[i];
        if (it->code / 100 == 2) {
            metric_inc(&delivered);
            if (!it->removed)
                sent[nsent++] = it->id;
        } else if (it->code / 100 == 4 && now - it->arrived < (int64_t)r->cfg.max_age) {
            char *line = one_line(it->text); /* queue list shows one line per entry */
            store_queue_defer(r->store, it->id, now + backoff(r, it->attempts), line);
            metric_inc(&deferred);
            log_info("queue %s to=<%s> deferred: %s", it->msg_id, it->rcpt, line);
            free(line);
        } else if (it->code / 100 == 4) {
            char *t = xmalloc(strlen(it->text) + 64);
            sprintf(t, "message expired in the queue; last error: %s", it->text);
            free(it->text);
            it->text = t;
            it->code = 554; /* a final failure now; the DSN says 4.4.7 */
            it->expired = true;
        }
    }
    if (nsent && store_queue_remove(r->store, sent, nsent) < 0)
        log_err("queue: cannot remove delivered entries: %s", store_errmsg(r->store));
    free(sent);
    /* items are sorted by msg_id: bounce each message's failures together */
    for (size_t i = 0; i < j->n;) {
        size_t e = i;
        struct qitem *grp = xcalloc(j->n, sizeof *grp);
        size_t ng = 0;
        while (e < j->n && strcmp(j->items[e].msg_id, j->items[i].msg_id) == 0) {
            if (j->items[e].code / 100 == 5)
                grp[ng++] = j->items[e];
            e++;
        }
        if (ng)
            bounce_message(r, grp, ng, now);
        free(grp);
        i = e;
    }
}

void runner_job_finished(struct queue_runner *r, struct domjob *j)
{
    for (struct domjob **pp = &r->jobs; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            r->njobs--;
            break;
        }
    }
    apply_outcomes(r, j, runner_now(r));
    domjob_free(j);
    if (!r->stopping)
        queue_runner_kick(r); /* room for the next domain */
}

/* ---- the job seen from a replaced delivery (tests) ---- */

void queue_runner_set_hooks(struct queue_runner *r, const struct queue_runner_hooks *h)
{
    r->hooks = *h;
}

const char *queue_job_domain(const struct domjob *j)
{
    return j->domain;
}

size_t queue_job_count(const struct domjob *j)
{
    return j->n;
}

const char *queue_job_rcpt(const struct domjob *j, size_t i)
{
    return i < j->n ? j->items[i].rcpt : NULL;
}

void queue_job_outcome(struct domjob *j, size_t i, int code, const char *text,
                       const char *remote)
{
    if (i >= j->n)
        return;
    struct qitem *it = &j->items[i];
    it->code = code;
    free(it->text);
    it->text = xstrdup(text ? text : "");
    free(it->remote);
    it->remote = remote ? xstrdup(remote) : NULL;
}

void queue_job_done(struct domjob *j)
{
    runner_items_delivered(j->r, j->items, j->n);
    runner_job_finished(j->r, j);
}

/* ---- lifecycle ---- */

static void runner_own_free(struct queue_runner *r)
{
    for (size_t i = 0; r->own_policies && r->own_policies[i].domain; i++)
        free((char *)r->own_policies[i].domain);
    free(r->own_policies);
    free(r->own_source);
    r->own_policies = NULL;
    r->own_source = NULL;
}

static void on_kick(evutil_socket_t fd, short what, void *vr)
{
    scan(vr);
}

struct queue_runner *queue_runner_new(struct event_base *base, const struct queue_runner_config *cfg,
                                      SSL_CTX *client_tls, struct dns_stub *stub,
                                      struct committer *committer)
{
    struct queue_runner *r = xcalloc(1, sizeof *r);
    const char *why = NULL;
    if (store_open(cfg->data_dir, &r->store, &why) < 0) {
        log_err("queue: cannot open store: %s", why ? why : "unknown");
        free(r);
        return NULL;
    }
    r->base = base;
    r->cfg = *cfg;
    r->tls = client_tls;
    r->stub = stub;
    r->sts = sts_new(base, stub);
    r->dane_tls = dane_ctx_new();
    if (!r->dane_tls)
        log_warn("queue: OpenSSL has no DANE support: TLSA records are not used");
    r->committer = committer;
    r->scan_ev = evtimer_new(base, on_scan, r);
    r->kick_ev = event_new(base, -1, 0, on_kick, r);
    r->post = loop_post_new(base);
    schedule_scan(r, 1);
    return r;
}

/* The copies a reload's configuration lives on, replacing the previous ones. */
static void runner_own_config(struct queue_runner *r, const struct queue_runner_config *cfg)
{
    struct queue_tls_policy *pol = xcalloc(cfg->n_tls_policies + 1, sizeof *pol);
    for (size_t i = 0; i < cfg->n_tls_policies; i++)
        pol[i] = (struct queue_tls_policy){xstrdup(cfg->tls_policies[i].domain),
                                           cfg->tls_policies[i].policy};
    char *source = cfg->source_address ? xstrdup(cfg->source_address) : NULL;
    runner_own_free(r);
    r->own_policies = pol;
    r->own_source = source;
}

void queue_runner_set_config(struct queue_runner *r, const struct queue_runner_config *cfg)
{
    struct queue_runner_config keep = r->cfg;
    runner_own_config(r, cfg);
    r->cfg = *cfg;
    r->cfg.data_dir = keep.data_dir;
    r->cfg.hostname = keep.hostname;
    r->cfg.local_delivery = keep.local_delivery;
    r->cfg.local_delivery_arg = keep.local_delivery_arg;
    r->cfg.source_address = r->own_source;
    r->cfg.tls_policies = r->own_policies;
}

void queue_runner_free(struct queue_runner *r)
{
    if (!r)
        return;
    r->stopping = true;
    sts_free(r->sts); /* its pending look-ups belong to the jobs freed below */
    while (r->jobs) {
        struct domjob *j = r->jobs;
        r->jobs = j->next;
        domjob_free(j); /* its rows stay queued and are tried again after a restart */
    }
    loop_post_free(r->post); /* bounces committed meanwhile still remove their rows */
    event_free(r->scan_ev);
    event_free(r->kick_ev);
    store_close(r->store);
    runner_own_free(r);
    SSL_CTX_free(r->dane_tls);
    free(r);
}
