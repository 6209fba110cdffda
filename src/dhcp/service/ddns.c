/*
 * dhcp/service/ddns — a client's name in DNS (RFC 4702/4703/4701): for a bound lease with a
 * host name, A + DHCID at NAME.DOMAIN and PTR at the reverse name; removed again when the
 * lease ends. The changes are RFC 2136 UPDATE messages — by default into Pigeon's own
 * zones, so they take exactly the path any UPDATE takes there (the journal, NOTIFY and IXFR
 * to secondaries, DNSSEC signing, the resolver's live view); with [dhcp] ddns_server to a
 * remote server instead, signed with ddns_key.
 *
 * Pigeon's own zones are edited in-process: the UPDATE message is handed to the DNS
 * server's control thread (dns/server/service/service.h: dns_service_zone_edit), which
 * applies it exactly as an UPDATE from the network (prerequisites, journal, NOTIFY, signing)
 * without the ACL and TSIG checks; its rcode comes back through the DHCP thread's
 * loop_post. A remote server gets the same message over UDP (2 s timeout, 3 tries).
 *
 * RFC 4703 §5.3 conflict rules: the first UPDATE adds the name only if it does not exist;
 * if it does (YXDOMAIN), the second replaces the A only if the name's DHCID is this
 * client's; otherwise another host owns the name and it is left alone. Removal requires the
 * DHCID to match. One UPDATE is in flight at a time; the queue is filled after each batch's
 * commit, so DNS never names a lease the store does not have.
 */
#include "dhcp/service/service_int.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/server/service/service.h"
#include "dns/wire.h"
#include "dns/xfr/tsig.h"
#include "msg/base64.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DNS_TYPE_DHCID_ 49 /* RFC 4701 */
#define DHCID_LEN 35       /* type (2) + digest type (1) + SHA-256 (32) */

enum step { STEP_ADD_NEW, STEP_ADD_MINE, STEP_PTR_ADD, STEP_DEL_FWD, STEP_DEL_PTR, STEP_DONE };

struct job {
    struct job *next;
    uint64_t seq; /* the batch whose commit it waits for */
    bool add;
    enum step step;
    unsigned tries;
    uint16_t id;
    uint32_t addr; /* host order */
    uint8_t fqdn[DNS_NAME_MAXLEN], rev[DNS_NAME_MAXLEN];
    uint8_t fzone[DNS_NAME_MAXLEN], rzone[DNS_NAME_MAXLEN];
    bool have_fzone, have_rzone;
    uint8_t dhcid[DHCID_LEN];
    char text[340];
};

struct dhcp_ddns {
    struct dhcp_svc *svc;
    bool local;      /* Pigeon's own zones, edited in-process; else a remote server by UDP */
    bool stopping;   /* pigeond is stopping: nothing more is sent */
    int fd;
    struct event *rd, *timer;
    struct dns_tsig_key key;
    bool signed_;
    struct job *pending, *pending_tail; /* queued in the current batch */
    struct job *held, *held_tail;       /* its batch submitted, not yet committed */
    struct job *queue, *queue_tail;     /* committed, waiting */
    struct job *cur;                    /* in flight */
    uint8_t last_mac[DNS_TSIG_MAC_MAX];
    size_t last_mac_len;
    uint16_t next_id;
};

/* ---- names ---- */

static bool name_of(const char *text, uint8_t *out)
{
    size_t len;
    const char *why;
    return dns_name_from_text(text, strlen(text), NULL, out, &len, &why) == 0;
}

/* The longest [zone] that holds name (when Pigeon serves it), else fallback (a remote
 * server's zone is assumed to be the domain itself). */
static bool zone_for(const struct config *cfg, const uint8_t *name, const char *fallback,
                     uint8_t *out)
{
    size_t best = 0;
    for (unsigned i = 0; i < cfg->dns.nzones; i++) {
        uint8_t z[DNS_NAME_MAXLEN];
        if (!name_of(cfg->dns.zones[i].name, z) || !dns_name_is_sub(name, z))
            continue;
        size_t zl = dns_name_len(z);
        if (zl > best) {
            best = zl;
            memcpy(out, z, zl);
        }
    }
    return best > 0 || (fallback && name_of(fallback, out));
}

/* RFC 4701 §3.3: identifier type, digest type 1, SHA-256(identifier || FQDN). */
static void dhcid_of(const struct dhcp_lease *l, const uint8_t *fqdn, uint8_t out[DHCID_LEN])
{
    out[0] = 0;
    out[1] = l->key[0] == 'C' ? 1 : 0; /* 0x0001 client identifier, 0x0000 htype + chaddr */
    out[2] = 1;
    uint8_t lower[DNS_NAME_MAXLEN];
    dns_name_copy(lower, fqdn);
    dns_name_lower(lower);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned n = 32;
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, l->key + 1, l->key_len - 1u);
    EVP_DigestUpdate(c, lower, dns_name_len(lower));
    EVP_DigestFinal_ex(c, out + 3, &n);
    EVP_MD_CTX_free(c);
}

static struct job *job_new(struct dhcp_ddns *dd, bool add, const struct dhcp_lease *l,
                           const struct dhcp_subnet *s)
{
    if (!s->domain || !l->hostname[0])
        return NULL;
    struct job *j = xcalloc(1, sizeof *j);
    char fq[300], rev[64];
    snprintf(fq, sizeof fq, "%s.%s.", l->hostname, s->domain);
    snprintf(rev, sizeof rev, "%u.%u.%u.%u.in-addr.arpa.", l->addr & 255, (l->addr >> 8) & 255,
             (l->addr >> 16) & 255, l->addr >> 24);
    char rzone[64];
    snprintf(rzone, sizeof rzone, "%u.%u.%u.in-addr.arpa.", (l->addr >> 8) & 255,
             (l->addr >> 16) & 255, l->addr >> 24);
    const struct config *cfg = &dd->svc->d->cfg;
    bool remote = dd->svc->cfg->ddns_server_set;
    if (!name_of(fq, j->fqdn) || !name_of(rev, j->rev)) {
        free(j);
        return NULL;
    }
    j->have_fzone = zone_for(cfg, j->fqdn, remote ? s->domain : NULL, j->fzone);
    j->have_rzone = zone_for(cfg, j->rev, remote ? rzone : NULL, j->rzone);
    if (!j->have_fzone) {
        log_info("dhcp: ddns: no zone for %s: name not published", fq);
        free(j);
        return NULL;
    }
    j->add = add;
    j->step = add ? STEP_ADD_NEW : STEP_DEL_FWD;
    j->addr = l->addr;
    dhcid_of(l, j->fqdn, j->dhcid);
    snprintf(j->text, sizeof j->text, "%s %s", fq, inet_ntoa((struct in_addr){htonl(l->addr)}));
    return j;
}

static void enqueue(struct dhcp_ddns *dd, struct job *j)
{
    if (!j)
        return;
    if (dd->pending_tail)
        dd->pending_tail->next = j;
    else
        dd->pending = j;
    dd->pending_tail = j;
}

void dhcp_ddns_bound(struct dhcp_ddns *dd, const struct dhcp_lease *l, const struct dhcp_subnet *s)
{
    enqueue(dd, job_new(dd, true, l, s));
}

void dhcp_ddns_unbound(struct dhcp_ddns *dd, const struct dhcp_lease *l,
                       const struct dhcp_subnet *s)
{
    enqueue(dd, job_new(dd, false, l, s));
}

static void free_list(struct job *j)
{
    while (j) {
        struct job *next = j->next;
        free(j);
        j = next;
    }
}

void dhcp_ddns_hold(struct dhcp_ddns *dd, uint64_t seq)
{
    if (!dd->pending)
        return;
    for (struct job *j = dd->pending; j; j = j->next)
        j->seq = seq;
    if (dd->held_tail)
        dd->held_tail->next = dd->pending;
    else
        dd->held = dd->pending;
    dd->held_tail = dd->pending_tail;
    dd->pending = dd->pending_tail = NULL;
}

/* ---- messages ---- */

static int rr(struct dns_builder *b, enum dns_section sec, const uint8_t *owner, uint16_t type,
              uint16_t cls, uint32_t ttl, const void *rd, size_t rdlen)
{
    return dns_builder_rr(b, sec, owner, type, cls, ttl, rd, rdlen);
}

/* The UPDATE for j's current step into out; its length (0: nothing to send). */
static size_t build(struct dhcp_ddns *dd, struct job *j, uint8_t *out, size_t cap)
{
    struct dns_header h = {.id = j->id, .opcode = DNS_OPCODE_UPDATE};
    struct dns_builder b;
    bool fwd = j->step == STEP_ADD_NEW || j->step == STEP_ADD_MINE || j->step == STEP_DEL_FWD;
    if (!fwd && !j->have_rzone)
        return 0;
    uint32_t a = htonl(j->addr), ttl = dd->svc->cfg->ddns_ttl;
    size_t fl = dns_name_len(j->fqdn);
    dns_builder_init(&b, out, cap, cap, &h);
    b.compress = false;
    int rc = dns_builder_question(&b, fwd ? j->fzone : j->rzone, DNS_TYPE_SOA, DNS_CLASS_IN);
    switch (j->step) {
    case STEP_ADD_NEW: /* prerequisite: the name is not in use (RFC 2136 §2.4.5) */
        rc |= rr(&b, DNS_SEC_ANSWER, j->fqdn, DNS_TYPE_ANY, DNS_CLASS_NONE, 0, NULL, 0);
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->fqdn, DNS_TYPE_A, DNS_CLASS_IN, ttl, &a, 4);
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->fqdn, DNS_TYPE_DHCID_, DNS_CLASS_IN, ttl, j->dhcid,
                 DHCID_LEN);
        break;
    case STEP_ADD_MINE: /* prerequisite: the name's DHCID is ours (§2.4.2) */
        rc |= rr(&b, DNS_SEC_ANSWER, j->fqdn, DNS_TYPE_DHCID_, DNS_CLASS_IN, 0, j->dhcid,
                 DHCID_LEN);
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->fqdn, DNS_TYPE_A, DNS_CLASS_ANY, 0, NULL, 0);
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->fqdn, DNS_TYPE_A, DNS_CLASS_IN, ttl, &a, 4);
        break;
    case STEP_PTR_ADD:
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->rev, DNS_TYPE_PTR, DNS_CLASS_ANY, 0, NULL, 0);
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->rev, DNS_TYPE_PTR, DNS_CLASS_IN, ttl, j->fqdn, fl);
        break;
    case STEP_DEL_FWD: /* only our own name (RFC 4703 §5.5) */
        rc |= rr(&b, DNS_SEC_ANSWER, j->fqdn, DNS_TYPE_DHCID_, DNS_CLASS_IN, 0, j->dhcid,
                 DHCID_LEN);
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->fqdn, DNS_TYPE_A, DNS_CLASS_ANY, 0, NULL, 0);
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->fqdn, DNS_TYPE_DHCID_, DNS_CLASS_ANY, 0, NULL, 0);
        break;
    case STEP_DEL_PTR: /* only a PTR that names this host */
        rc |= rr(&b, DNS_SEC_ANSWER, j->rev, DNS_TYPE_PTR, DNS_CLASS_IN, 0, j->fqdn, fl);
        rc |= rr(&b, DNS_SEC_AUTHORITY, j->rev, DNS_TYPE_PTR, DNS_CLASS_ANY, 0, NULL, 0);
        break;
    case STEP_DONE:
        return 0;
    }
    if (rc != 0)
        return 0;
    size_t n = dns_builder_finish(&b);
    if (dd->signed_) {
        struct dns_tsig_sign_args sa = {.key = &dd->key, .time = (uint64_t)time(NULL)};
        if (dns_tsig_sign(out, &n, cap, &sa, dd->last_mac, &dd->last_mac_len) != 0)
            return 0;
    }
    return n;
}

static void next_job(struct dhcp_ddns *dd);
static void answered(struct dhcp_ddns *dd, unsigned rcode);

/* One UPDATE handed to the DNS server's control thread, and its rcode coming back. */
struct edit {
    struct dhcp_ddns *dd;
    uint16_t id;
    unsigned rcode;
    size_t len;
    uint8_t msg[1024];
};

static size_t edit_build(void *arg, const struct dns_zone *z, uint8_t *out, size_t cap)
{
    const struct edit *e = arg;
    if (e->len > cap)
        return 0;
    memcpy(out, e->msg, e->len);
    return e->len;
}

static void edit_settled(void *arg) /* on the DHCP thread */
{
    struct edit *e = arg;
    struct dhcp_ddns *dd = e->dd;
    if (dd->cur && dd->cur->id == e->id)
        answered(dd, e->rcode);
    free(e);
}

static void edit_done(void *arg, unsigned rcode, const char *why) /* on the control thread */
{
    struct edit *e = arg;
    e->rcode = rcode;
    loop_post_send(e->dd->svc->post, edit_settled, e);
}

/* The zone the current step edits, as text without the final dot. */
static void step_zone(const struct job *j, char *out, size_t cap)
{
    bool fwd = j->step == STEP_ADD_NEW || j->step == STEP_ADD_MINE || j->step == STEP_DEL_FWD;
    size_t n = dns_name_to_text(fwd ? j->fzone : j->rzone, out, cap);
    if (n > 1 && n < cap && out[n - 1] == '.')
        out[n - 1] = '\0';
}

static void send_local(struct dhcp_ddns *dd, struct edit *e)
{
    char apex[DNS_NAME_MAXLEN * 4 + 2];
    step_zone(dd->cur, apex, sizeof apex);
    if (dns_service_zone_edit(dd->svc->d, apex, edit_build, edit_done, e) != 0)
        edit_done(e, 9, NULL); /* NOTAUTH: no primary zone of ours by that name (answered
                                * through the loop, not from inside this call) */
}

static void send_cur(struct dhcp_ddns *dd)
{
    struct job *j = dd->cur;
    if (dd->stopping) {
        j->step = STEP_DONE; /* freed with dd */
        return;
    }
    struct edit *e = xcalloc(1, sizeof *e);
    j->id = dd->next_id++;
    e->dd = dd;
    e->id = j->id;
    e->len = build(dd, j, e->msg, sizeof e->msg);
    if (e->len == 0) {
        free(e);
        j->step = STEP_DONE;
        next_job(dd);
        return;
    }
    if (dd->local)
        return send_local(dd, e);
    if (send(dd->fd, e->msg, e->len, 0) < 0)
        log_warn("dhcp: ddns: send: %s", strerror(errno));
    free(e);
    struct timeval tv = {2, 0};
    evtimer_add(dd->timer, &tv);
}

static void next_job(struct dhcp_ddns *dd)
{
    free(dd->cur);
    dd->cur = dd->queue;
    if (!dd->cur)
        return;
    dd->queue = dd->cur->next;
    if (!dd->queue)
        dd->queue_tail = NULL;
    send_cur(dd);
}

void dhcp_ddns_stop(struct dhcp_ddns *dd)
{
    if (dd)
        dd->stopping = true;
}

/* Batches settle in the order they were submitted: the held jobs up to seq are its. */
void dhcp_ddns_settle(struct dhcp_ddns *dd, uint64_t seq, bool ok)
{
    while (dd->held && dd->held->seq <= seq) {
        struct job *j = dd->held;
        dd->held = j->next;
        if (!dd->held)
            dd->held_tail = NULL;
        j->next = NULL;
        if (!ok || dd->stopping) {
            free(j);
            continue;
        }
        if (dd->queue_tail)
            dd->queue_tail->next = j;
        else
            dd->queue = j;
        dd->queue_tail = j;
    }
    if (!dd->cur && dd->queue)
        next_job(dd);
}

/* What the server's rcode means for the job's next step. */
static void advance(struct dhcp_ddns *dd, struct job *j, unsigned rcode)
{
    static const char *const rc_names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                           "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
    const char *rn = rcode < 11 ? rc_names[rcode] : "?";
    j->tries = 0;
    switch (j->step) {
    case STEP_ADD_NEW:
        if (rcode == 6) { /* YXDOMAIN: the name exists; is it ours? */
            j->step = STEP_ADD_MINE;
            return;
        }
        /* fall through */
    case STEP_ADD_MINE:
        if (rcode == 0) {
            log_info("dhcp: ddns: added %s", j->text);
            j->step = STEP_PTR_ADD;
        } else {
            log_warn("dhcp: ddns: %s not added: %s%s", j->text, rn,
                     rcode == 8 ? " (the name belongs to another client)" : "");
            j->step = STEP_DONE;
        }
        return;
    case STEP_PTR_ADD:
    case STEP_DEL_PTR:
        if (rcode != 0 && rcode != 8)
            log_warn("dhcp: ddns: PTR of %s: %s", j->text, rn);
        j->step = STEP_DONE;
        return;
    case STEP_DEL_FWD:
        if (rcode == 0)
            log_info("dhcp: ddns: removed %s", j->text);
        else
            log_warn("dhcp: ddns: %s not removed: %s", j->text, rn);
        j->step = STEP_DEL_PTR;
        return;
    case STEP_DONE:
        return;
    }
}

static void on_reply(evutil_socket_t fd, short what, void *vdd)
{
    struct dhcp_ddns *dd = vdd;
    uint8_t buf[2048];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) >= 0) {
        struct dns_header h;
        if (!dd->cur || dns_header_read(buf, (size_t)n, &h) != 0 || h.id != dd->cur->id ||
            !h.qr)
            continue; /* late, stray or forged: the id must match the one in flight */
        answered(dd, h.rcode);
    }
}

/* The current step's rcode: on to the next step, or the next job. */
static void answered(struct dhcp_ddns *dd, unsigned rcode)
{
    if (dd->timer)
        evtimer_del(dd->timer);
    advance(dd, dd->cur, rcode);
    if (dd->cur->step == STEP_DONE)
        next_job(dd);
    else
        send_cur(dd);
}

static void on_timeout(evutil_socket_t fd, short what, void *vdd)
{
    struct dhcp_ddns *dd = vdd;
    if (!dd->cur)
        return;
    if (++dd->cur->tries < 3) {
        send_cur(dd);
        return;
    }
    log_warn("dhcp: ddns: no answer from the name server for %s", dd->cur->text);
    next_job(dd);
}

/* ---- setup ---- */

static bool load_key(struct dhcp_ddns *dd, const struct config *cfg, const char *name)
{
    for (unsigned i = 0; i < cfg->dns.nkeys; i++) {
        const struct config_tsig *k = &cfg->dns.keys[i];
        if (strcmp(k->name, name) != 0)
            continue;
        unsigned char secret[DNS_TSIG_SECRET_MAX + 4];
        size_t n = 0, sl = strlen(k->secret);
        const char *why = "bad base64 secret";
        if (sl / 4 * 3 > DNS_TSIG_SECRET_MAX || base64_decode(k->secret, sl, secret, &n) != 0 ||
            dns_tsig_key_init(&dd->key, k->name, k->algorithm, secret, n, &why) != 0) {
            log_err("dhcp: ddns_key %s: %s", name, why);
            return false;
        }
        return true;
    }
    log_err("dhcp: ddns_key %s: no such [tsig] section", name);
    return false;
}

/* The name server to update: ddns_server, else the first [dns] listen address (a wildcard
 * one as loopback). */
static bool server_addr(const struct dhcp_svc *svc, struct sockaddr_storage *ss, socklen_t *len)
{
    const struct conf_listen *l = NULL;
    if (svc->cfg->ddns_server_set)
        l = &svc->cfg->ddns_server;
    else if (svc->d->cfg.dns.svc.n_listen > 0)
        l = &svc->d->cfg.dns.svc.listen[0];
    if (!l)
        return false;
    const char *host = l->host;
    if (!strcmp(host, "0.0.0.0"))
        host = "127.0.0.1";
    else if (!strcmp(host, "::"))
        host = "::1";
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_DGRAM}, *ai;
    if (getaddrinfo(host, l->port, &hints, &ai) != 0)
        return false;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return true;
}

struct dhcp_ddns *dhcp_ddns_new(struct dhcp_svc *svc)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!svc->cfg->ddns)
        return NULL;
    if (!server_addr(svc, &ss, &sl)) {
        log_info("dhcp: ddns: no [dns] listen address and no ddns_server: names not published");
        return NULL;
    }
    struct dhcp_ddns *dd = xcalloc(1, sizeof *dd);
    dd->svc = svc;
    dd->next_id = (uint16_t)(time(NULL) ^ getpid());
    dd->fd = -1;
    if (!svc->cfg->ddns_server_set) {
        dd->local = true; /* our own zones: no socket, no key (the process trusts itself) */
        return dd;
    }
    if (svc->cfg->ddns_key) {
        if (!load_key(dd, &svc->d->cfg, svc->cfg->ddns_key)) {
            free(dd);
            return NULL;
        }
        dd->signed_ = true;
    }
    dd->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (dd->fd < 0 || connect(dd->fd, (struct sockaddr *)&ss, sl) < 0) {
        log_err("dhcp: ddns: socket: %s", strerror(errno));
        if (dd->fd >= 0)
            close(dd->fd);
        free(dd);
        return NULL;
    }
    dd->rd = event_new(svc->base, dd->fd, EV_READ | EV_PERSIST, on_reply, dd);
    dd->timer = evtimer_new(svc->base, on_timeout, dd);
    event_add(dd->rd, NULL);
    return dd;
}

void dhcp_ddns_free(struct dhcp_ddns *dd)
{
    if (!dd)
        return;
    free_list(dd->pending);
    free_list(dd->held);
    free_list(dd->queue);
    free(dd->cur);
    if (dd->rd)
        event_free(dd->rd);
    if (dd->timer)
        event_free(dd->timer);
    if (dd->fd >= 0)
        close(dd->fd);
    free(dd);
}
