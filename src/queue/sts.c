/* sts — see sts.h. */
#include "queue/sts.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/resolver/stub.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define STS_CACHE_MAX 512
#define STS_FETCH_TIMEOUT 20 /* seconds (§3.3 suggests at least a minute in total) */

struct sts_entry {
    char domain[256];
    char id[33];
    int64_t expires;
    struct mtasts_policy policy;
};

struct sts_req {
    struct sts *s;
    struct sts_req *next;
    char domain[256];
    char host[272]; /* mta-sts.DOMAIN */
    char id[33];
    int64_t now;
    sts_cb cb;
    void *arg;
    struct evhttp_connection *conn;
};

struct sts {
    struct event_base *base;
    struct dns_stub *stub;
    SSL_CTX *tls;
    struct sts_entry *cache; /* STS_CACHE_MAX slots; domain "" is free */
    struct sts_req *pending; /* every request not yet answered */
};

struct sts *sts_new(struct event_base *base, struct dns_stub *stub)
{
    struct sts *s = xcalloc(1, sizeof *s);
    s->base = base;
    s->stub = stub;
    s->cache = xcalloc(STS_CACHE_MAX, sizeof *s->cache);
    s->tls = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(s->tls, TLS1_2_VERSION);
    if (SSL_CTX_set_default_verify_paths(s->tls) != 1)
        log_warn("mta-sts: no trust store (OpenSSL default paths): policies cannot be fetched");
    return s;
}

static void req_free(struct sts_req *q)
{
    if (q->conn)
        evhttp_connection_free(q->conn);
    free(q);
}

void sts_free(struct sts *s)
{
    if (!s)
        return;
    while (s->pending) {
        struct sts_req *q = s->pending;
        s->pending = q->next;
        req_free(q);
    }
    SSL_CTX_free(s->tls);
    free(s->cache);
    free(s);
}

SSL_CTX *sts_tls(struct sts *s)
{
    return s->tls;
}

/* ---- the cache ---- */

static struct sts_entry *cache_find(struct sts *s, const char *domain)
{
    for (size_t i = 0; i < STS_CACHE_MAX; i++)
        if (strcmp(s->cache[i].domain, domain) == 0)
            return &s->cache[i];
    return NULL;
}

/* A slot for domain: its own, a free one, else the one expiring first. */
static struct sts_entry *cache_slot(struct sts *s, const char *domain)
{
    struct sts_entry *e = cache_find(s, domain), *oldest = &s->cache[0];
    for (size_t i = 0; !e && i < STS_CACHE_MAX; i++) {
        if (!s->cache[i].domain[0])
            e = &s->cache[i];
        else if (s->cache[i].expires < oldest->expires)
            oldest = &s->cache[i];
    }
    return e ? e : oldest;
}

/* The cached policy while it has not expired (§5.1: used when discovery or fetch fails). */
static const struct mtasts_policy *cache_live(struct sts *s, const char *domain, int64_t now)
{
    const struct sts_entry *e = cache_find(s, domain);
    return e && e->expires > now ? &e->policy : NULL;
}

/* ---- one request ---- */

static void unlink_pending(struct sts_req *q)
{
    for (struct sts_req **pp = &q->s->pending; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            return;
        }
}

static void finish(struct sts_req *q, const struct mtasts_policy *p, enum tlsrpt_result fail)
{
    unlink_pending(q);
    q->cb(q->arg, p, fail);
    free(q);
}

static void conn_free_later(evutil_socket_t fd, short what, void *conn)
{
    evhttp_connection_free(conn);
}

/* Ends a fetch: the connection is freed from the loop, not inside its own callback. fail
 * says how a fetch without a policy failed (RFC 8460 §4.3.2.2). */
static void fetch_done(struct sts_req *q, const struct mtasts_policy *fresh, const char *why,
                       enum tlsrpt_result fail)
{
    struct timeval zero = {0, 0};
    event_base_once(q->s->base, -1, EV_TIMEOUT, conn_free_later, q->conn, &zero);
    q->conn = NULL;
    if (fresh) {
        struct sts_entry *e = cache_slot(q->s, q->domain);
        snprintf(e->domain, sizeof e->domain, "%s", q->domain);
        memcpy(e->id, q->id, sizeof e->id);
        e->expires = q->now + fresh->max_age;
        e->policy = *fresh;
        log_info("mta-sts %s: policy id %s, mode %s, max_age %u, %zu mx pattern(s)", q->domain,
                 q->id, mtasts_mode_name(fresh->mode), fresh->max_age, fresh->nmx);
        return finish(q, &e->policy, TLSRPT_SUCCESS);
    }
    log_info("mta-sts %s: policy fetch from %s failed: %s (%s)", q->domain, q->host, why,
             tlsrpt_result_name(fail));
    finish(q, cache_live(q->s, q->domain, q->now), fail);
}

/* No response: the certificate check of mta-sts.DOMAIN refused it (sts-webpki-invalid), or
 * the host could not be reached or answered nothing (sts-policy-fetch-error). */
static enum tlsrpt_result no_response(struct sts_req *q, char *why, size_t cap)
{
    struct bufferevent *bev = q->conn ? evhttp_connection_get_bufferevent(q->conn) : NULL;
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v == X509_V_OK) {
        snprintf(why, cap, "no HTTPS response");
        return TLSRPT_STS_POLICY_FETCH_ERROR;
    }
    snprintf(why, cap, "certificate not valid: %s", X509_verify_cert_error_string(v));
    return TLSRPT_STS_WEBPKI_INVALID;
}

/* §3.3: 200, text/plain, at most 64 KiB; redirects are not followed. */
static void on_http(struct evhttp_request *req, void *vq)
{
    struct sts_req *q = vq;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    if (code != 200) {
        char why[160];
        snprintf(why, sizeof why, "HTTP status %d", code);
        enum tlsrpt_result fail =
            code ? TLSRPT_STS_POLICY_FETCH_ERROR : no_response(q, why, sizeof why);
        return fetch_done(q, NULL, why, fail);
    }
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!ct || strncasecmp(ct, "text/plain", 10) != 0 || (ct[10] && ct[10] != ';'))
        return fetch_done(q, NULL, "Content-Type is not text/plain", TLSRPT_STS_POLICY_FETCH_ERROR);
    struct evbuffer *b = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(b);
    struct mtasts_policy p;
    const char *why = "policy too large";
    if (n <= MTASTS_MAX_POLICY &&
        mtasts_policy_parse((const char *)evbuffer_pullup(b, (ev_ssize_t)n), n, &p, &why) == 0)
        return fetch_done(q, &p, NULL, TLSRPT_SUCCESS);
    fetch_done(q, NULL, why, TLSRPT_STS_POLICY_INVALID);
}

static void fetch(struct sts_req *q, const struct sockaddr_storage *ss)
{
    char ip[64];
    const void *a = ss->ss_family == AF_INET6
                        ? (const void *)&((struct sockaddr_in6 *)ss)->sin6_addr
                        : (const void *)&((struct sockaddr_in *)ss)->sin_addr;
    inet_ntop(ss->ss_family, a, ip, sizeof ip);
    SSL *ssl = SSL_new(q->s->tls);
    SSL_set_tlsext_host_name(ssl, q->host);
    SSL_set1_host(ssl, q->host); /* RFC 8461 §3.3: the certificate must name mta-sts.DOMAIN */
    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        q->s->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    q->conn = evhttp_connection_base_bufferevent_new(q->s->base, NULL, bev, ip, 443);
    evhttp_connection_set_timeout(q->conn, STS_FETCH_TIMEOUT);
    evhttp_connection_set_max_body_size(q->conn, MTASTS_MAX_POLICY);
    evhttp_connection_set_max_headers_size(q->conn, 16384);
    evhttp_connection_set_retries(q->conn, 0);
    struct evhttp_request *req = evhttp_request_new(on_http, q);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", q->host);
    if (evhttp_make_request(q->conn, req, EVHTTP_REQ_GET, "/.well-known/mta-sts.txt") != 0)
        fetch_done(q, NULL, "cannot send the request", TLSRPT_STS_POLICY_FETCH_ERROR);
}

static void on_addr(void *vq, const struct dns_stub_addr_result *r)
{
    struct sts_req *q = vq;
    if (r->status != DNS_STUB_OK || r->n == 0) {
        log_info("mta-sts %s: no address for %s", q->domain, q->host);
        return finish(q, cache_live(q->s, q->domain, q->now), TLSRPT_STS_POLICY_FETCH_ERROR);
    }
    fetch(q, &r->addrs[0]);
}

static void on_txt(void *vq, const struct dns_stub_txt_result *r)
{
    struct sts_req *q = vq;
    if (r->status != DNS_STUB_OK || !mtasts_txt_pick(r->txt, r->len, r->n, q->id))
        return finish(q, cache_live(q->s, q->domain, q->now), TLSRPT_SUCCESS); /* §5.1 */
    const struct sts_entry *e = cache_find(q->s, q->domain);
    if (e && e->expires > q->now && strcmp(e->id, q->id) == 0)
        return finish(q, &e->policy, TLSRPT_SUCCESS);
    dns_stub_addr(q->s->stub, q->host, DNS_STUB_ANY, on_addr, q);
}

void sts_get(struct sts *s, const char *domain, int64_t now, sts_cb cb, void *arg)
{
    struct sts_req *q = xcalloc(1, sizeof *q);
    q->s = s, q->cb = cb, q->arg = arg, q->now = now;
    snprintf(q->domain, sizeof q->domain, "%s", domain);
    snprintf(q->host, sizeof q->host, "mta-sts.%s", domain);
    q->next = s->pending;
    s->pending = q;
    char name[280];
    snprintf(name, sizeof name, "_mta-sts.%s", domain);
    dns_stub_txt(s->stub, name, on_txt, q);
}
