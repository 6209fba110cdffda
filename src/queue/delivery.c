/*
 * delivery — one destination domain: MX look-up (RFC 5321 §5.1), addresses of each host in
 * preference order, TCP connect with a timeout, then every queued message for the domain over
 * one SMTP connection. Connection-level failures move on to the next address and host.
 */
#include "queue/runner_int.h"

#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "dns/rr.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void try_host(struct domjob *j);
static void try_addr(struct domjob *j);
static bool sts_filter_mx(struct domjob *j);

static void set_error(struct domjob *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct domjob *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->error, sizeof j->error, fmt, ap);
    va_end(ap);
}

/* Gives every item still without an outcome this code and text. */
static void settle_rest(struct domjob *j, int code, const char *text)
{
    for (size_t i = 0; i < j->n; i++) {
        if (j->items[i].code)
            continue;
        j->items[i].code = code;
        j->items[i].text = xstrdup(text);
    }
}

static bool all_settled(const struct domjob *j)
{
    for (size_t i = 0; i < j->n; i++)
        if (!j->items[i].code)
            return false;
    return true;
}

/* The reply code an error text starts with (a 5xx decided here is final, RFC 8689 §5). */
static int error_code(const struct domjob *j)
{
    int code = atoi(j->error);
    return code >= 400 && code < 600 ? code : 451;
}

/* RFC 8689 §4.2.1: a REQUIRETLS message goes only to an MX whose name is authentic: the MX
 * answer DNSSEC-validated, or the MX named by the domain's MTA-STS policy (the policy's
 * filter then applies in any mode), or no MX at all (the domain itself). */
static bool requiretls_mx_ok(const struct domjob *j, const struct dns_stub_mx_result *res)
{
    return res->implicit || res->ad || (j->sts_on && j->sts.mode != MTASTS_NONE);
}

/* ---- DNS ---- */

static void on_mx(void *vj, const struct dns_stub_mx_result *res)
{
    struct domjob *j = vj;
    switch (res->status) {
    case DNS_STUB_NXDOMAIN:
    case DNS_STUB_BADNAME:
        settle_rest(j, 550, "550 5.1.2 recipient domain not found in DNS");
        return runner_job_finished(j->r, j);
    case DNS_STUB_TEMPFAIL:
        settle_rest(j, 451, "451 4.4.3 MX look-up failed temporarily");
        return runner_job_finished(j->r, j);
    case DNS_STUB_NODATA:
    case DNS_STUB_OK:
        break;
    }
    if (res->null_mx) { /* RFC 7505 §3: the domain accepts no mail */
        settle_rest(j, 556, "556 5.1.10 recipient domain does not accept mail (null MX)");
        return runner_job_finished(j->r, j);
    }
    if (res->n == 0) {
        settle_rest(j, 550, "550 5.1.2 recipient domain has no mail server");
        return runner_job_finished(j->r, j);
    }
    if (j->requiretls && !requiretls_mx_ok(j, res)) {
        log_info("queue %s: REQUIRETLS: the MX answer is not DNSSEC-validated and no MTA-STS "
                 "policy names the MX hosts",
                 j->domain);
        settle_rest(j, 550,
                    "550 5.7.30 REQUIRETLS support required: the recipient domain's "
                    "MX is authenticated by neither DNSSEC nor MTA-STS");
        return runner_job_finished(j->r, j);
    }
    j->mx = xmemdup(res->hosts, res->n * sizeof *res->hosts);
    j->nmx = res->n;
    /* RFC 7672 §2.2.1: DANE needs a secure MX; RFC 8689 §4.2.2: not under TLS-Required: No */
    j->mx_secure = res->ad && j->r->dane_tls && !j->tls_optional;
    j->mx_i = 0;
    for (size_t i = 0; i < res->n; i++)
        log_info("queue %s: MX %u %s%s", j->domain, res->hosts[i].preference, res->hosts[i].host,
                 res->implicit ? " (no MX: the domain itself)" : "");
    if (!sts_filter_mx(j)) {
        if (j->requiretls && !res->ad)
            settle_rest(j, 550,
                        "550 5.7.30 REQUIRETLS support required: no MX host matches "
                        "the domain's MTA-STS policy");
        else
            settle_rest(j, 451, "451 4.7.5 MTA-STS: no MX host matches the domain's policy");
        return runner_job_finished(j->r, j);
    }
    try_host(j);
}

static void on_addr(void *vj, const struct dns_stub_addr_result *res)
{
    struct domjob *j = vj;
    if (res->status != DNS_STUB_OK || res->n == 0) {
        set_error(j, "451 4.4.3 no address for mail host %s", j->host);
        j->mx_i++;
        return try_host(j);
    }
    free(j->addrs);
    j->addrs = xmemdup(res->addrs, res->n * sizeof *res->addrs);
    j->naddr = res->n;
    j->addr_i = 0;
    try_addr(j);
}

/* RFC 8461 §4.1/§5: under an enforce policy only MX hosts matching its mx patterns are
 * used (false when none is left); under testing a mismatch is only logged. A REQUIRETLS
 * message uses the matching hosts under testing too (RFC 8689 §4.2.1). Either way the
 * mismatch is a failed session in the domain's TLS report (RFC 8460 §4.3.2.3
 * validation-failure, naming the MX host): here for a host skipped, at the handshake
 * (tls_outcome) for one used under testing. */
static bool sts_filter_mx(struct domjob *j)
{
    if (!j->sts_on || j->sts.mode == MTASTS_NONE)
        return true;
    bool strict = j->sts.mode == MTASTS_ENFORCE || j->requiretls;
    size_t kept = 0;
    for (size_t i = 0; i < j->nmx; i++) {
        bool ok = mtasts_mx_match(&j->sts, j->mx[i].host);
        if (!ok)
            log_info("queue %s: MTA-STS %s: MX %s does not match the policy%s", j->domain,
                     mtasts_mode_name(j->sts.mode), j->mx[i].host, strict ? ": skipped" : "");
        if (!ok && strict)
            queue_tlsrpt_note_mx(j, j->mx[i].host, TLSRPT_VALIDATION_FAILURE);
        if (ok || !strict)
            j->mx[kept++] = j->mx[i];
    }
    j->nmx = kept;
    return kept > 0;
}

/* RFC 7672 §2.2: the host's TLSA records, when the MX answer was validated. */
static void on_tlsa(void *vj, const struct dns_stub_rr_result *res)
{
    struct domjob *j = vj;
    if (res->status == DNS_STUB_TEMPFAIL || res->status == DNS_STUB_BADNAME) {
        /* §2.2.2: a failed look-up (bogus or no answer) makes the host unusable: never a
         * silent downgrade to unauthenticated TLS or plaintext */
        set_error(j, "451 4.7.5 DANE: TLSA look-up for %s failed", j->host);
        log_info("queue %s: %s", j->domain, j->error);
        j->addr_text[0] = '\0';
        queue_tlsrpt_note(j, TLSRPT_DNSSEC_INVALID);
        j->mx_i++;
        return try_host(j);
    }
    if (res->status == DNS_STUB_OK && res->ad) {
        j->dane = dane_usable(res->rr, res->n, j->tlsa, &j->ntlsa);
        log_info("queue %s: DANE: %zu usable TLSA record(s) of %zu for %s%s", j->domain,
                 j->ntlsa, res->n, j->host,
                 j->dane == DANE_VERIFY ? "" : ": TLS required, not authenticated");
    } else if (res->status == DNS_STUB_OK)
        log_info("queue %s: TLSA records of %s not validated (no AD): not used", j->domain,
                 j->host);
    dns_stub_addr(j->r->stub, j->host, DNS_STUB_ANY, on_addr, j);
}

static void try_host(struct domjob *j)
{
    if (j->mx_i >= j->nmx || all_settled(j)) {
        settle_rest(j, error_code(j), j->error[0] ? j->error : "451 4.4.1 no mail host reachable");
        return runner_job_finished(j->r, j);
    }
    snprintf(j->host, sizeof j->host, "%s", j->mx[j->mx_i].host);
    dane_tlsa_clear(j->tlsa, j->ntlsa);
    j->ntlsa = 0;
    j->dane = DANE_NONE;
    if (!j->mx_secure)
        return dns_stub_addr(j->r->stub, j->host, DNS_STUB_ANY, on_addr, j);
    char name[300];
    snprintf(name, sizeof name, "_%u._tcp.%s", j->r->cfg.remote_port, j->host);
    dns_stub_rr(j->r->stub, name, DNS_TYPE_TLSA, on_tlsa, j);
}

/* ---- the connection ---- */

static void conn_teardown(struct domjob *j)
{
    if (j->client) {
        smtp_client_free(j->client);
        j->client = NULL;
    }
    if (j->bev) {
        bufferevent_free(j->bev);
        j->bev = NULL;
    }
    free(j->body);
    j->body = NULL;
    free(j->rcpts);
    j->rcpts = NULL;
    j->client_closed = false;
    j->want_tls = false;
    j->tls_pending = false;
    j->tlsrpt_noted = j->tls_tried = j->must_tls = j->tls_unverified = false;
}

/* After any call into the client: if it closed the session, move on. */
static void after_client(struct domjob *j)
{
    if (!j->client_closed)
        return;
    conn_teardown(j);
    if (all_settled(j))
        return runner_job_finished(j->r, j);
    j->addr_i++; /* the rest goes to the next address or host */
    try_addr(j);
}

static void io_write(void *vj, const char *p, size_t n)
{
    struct domjob *j = vj;
    if (j->bev)
        bufferevent_write(j->bev, p, n);
}

static void on_read(struct bufferevent *bev, void *vj);
static void on_event(struct bufferevent *bev, short what, void *vj);

static void io_starttls(void *vj)
{
    /* Not here: the 220 that asked for it is still in the input buffer. on_read starts TLS
     * once it has drained that. */
    ((struct domjob *)vj)->want_tls = true;
    ((struct domjob *)vj)->tls_tried = true;
}

static void start_tls(struct domjob *j)
{
    j->want_tls = false;
    struct evbuffer *in = bufferevent_get_input(j->bev);
    evbuffer_drain(in, evbuffer_get_length(in)); /* nothing sent before TLS may count after */
    /* RFC 8461 §2: DANE, where it applies, comes before MTA-STS; RFC 8689 §4.2.1: a
     * REQUIRETLS message needs the certificate verified (RFC 6125) when DANE does not */
    bool dane = j->dane == DANE_VERIFY;
    bool sts = !dane && (j->requiretls || (j->sts_on && j->sts.mode != MTASTS_NONE));
    SSL *ssl = SSL_new(dane ? j->r->dane_tls : sts ? sts_tls(j->r->sts) : j->r->tls);
    SSL_set_tlsext_host_name(ssl, j->host);
    if (dane && dane_ssl_setup(ssl, j->host, j->tlsa, j->ntlsa) != 0) {
        SSL_free(ssl);
        smtp_client_tls_done(j->client, false);
        return;
    }
    if (sts) { /* RFC 8461 §4.2: a chain to a trusted root, naming the MX host */
        SSL_set1_host(ssl, j->host);
        bool enforce = j->requiretls || j->sts.mode == MTASTS_ENFORCE;
        SSL_set_verify(ssl, enforce ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    }
    struct bufferevent *tls = bufferevent_openssl_filter_new(
        j->r->base, j->bev, ssl, BUFFEREVENT_SSL_CONNECTING,
        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!tls) {
        SSL_free(ssl);
        smtp_client_tls_done(j->client, false);
        return;
    }
    j->bev = tls;
    j->tls_pending = true;
    bufferevent_setcb(j->bev, on_read, NULL, on_event, j);
    bufferevent_enable(j->bev, EV_READ | EV_WRITE);
}

static void io_close(void *vj)
{
    ((struct domjob *)vj)->client_closed = true;
}

static const struct smtp_client_io client_io = {io_write, io_starttls, io_close};

static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct str s = STR_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        str_append(&s, buf, n);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        str_clear(&s);
        return NULL;
    }
    *len_out = s.len;
    return str_steal(&s);
}

/* Picks the next message: the next run of unsettled items sharing a msg_id. */
static bool next_group(struct domjob *j)
{
    size_t i = 0;
    while (i < j->n && j->items[i].code)
        i++;
    if (i == j->n)
        return false;
    size_t e = i + 1;
    while (e < j->n && !j->items[e].code && strcmp(j->items[e].msg_id, j->items[i].msg_id) == 0)
        e++;
    j->g_start = i;
    j->g_end = e;
    return true;
}

static bool has_8bit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80)
            return true;
    return false;
}

static void on_ready(void *vj, struct smtp_client *c)
{
    struct domjob *j = vj;
    if (!j->tlsrpt_noted && !j->tls_tried && j->tls != SMTP_TLS_NONE)
        queue_tlsrpt_note(j, TLSRPT_STARTTLS_NOT_SUPPORTED); /* delivered in plaintext */
    free(j->body);
    j->body = NULL;
    while (next_group(j)) {
        struct qitem *first = &j->items[j->g_start];
        j->body = read_file(first->path, &j->body_len);
        if (j->body)
            break;
        log_err("queue %s: cannot read %s", j->domain, first->path);
        for (size_t i = j->g_start; i < j->g_end; i++) {
            j->items[i].code = 451;
            j->items[i].text = xstrdup("451 4.3.0 queued message file unreadable");
        }
    }
    if (!j->body)
        return smtp_client_quit(c);
    size_t n = j->g_end - j->g_start;
    free(j->rcpts);
    j->rcpts = xcalloc(n, sizeof *j->rcpts);
    for (size_t i = 0; i < n; i++)
        j->rcpts[i] = j->items[j->g_start + i].rcpt;
    bool utf8 = has_8bit(j->items[j->g_start].sender, strlen(j->items[j->g_start].sender));
    for (size_t i = 0; i < n; i++)
        utf8 = utf8 || has_8bit(j->rcpts[i], strlen(j->rcpts[i]));
    /* RFC 8689: a tagged message is sent with REQUIRETLS (a tagged DSN, with the null
     * reverse-path, only where the server offers it: §4.2.1 is for non-empty paths) */
    bool rtls = j->items[j->g_start].flags & STORE_QF_REQUIRETLS;
    j->msg = (struct smtp_client_msg){j->items[j->g_start].sender,
                                      j->rcpts,
                                      n,
                                      j->body,
                                      j->body_len,
                                      has_8bit(j->body, j->body_len),
                                      utf8,
                                      rtls,
                                      rtls && j->requiretls};
    smtp_client_send(c, &j->msg);
}

static void on_done(void *vj, struct smtp_client *c, const struct smtp_client_result *r)
{
    struct domjob *j = vj;
    for (size_t i = 0; i < r->n && j->g_start + i < j->g_end; i++) {
        struct qitem *it = &j->items[j->g_start + i];
        it->code = r->codes[i] ? r->codes[i] : 451;
        it->text = xstrdup(r->texts[i] ? r->texts[i] : "451 4.4.2 no reply");
        for (size_t k = strlen(it->text); k && (it->text[k - 1] == '\r' || it->text[k - 1] == '\n');)
            it->text[--k] = '\0'; /* the reply's last CRLF */
        it->remote = xstrdup(j->host);
        log_info("queue %s to=<%s> relay=%s[%s] %s: %s", it->msg_id, it->rcpt, j->host,
                 j->addr_text,
                 it->code / 100 == 2   ? "sent"
                 : it->code / 100 == 4 ? "deferred"
                                       : "bounced",
                 it->text);
    }
    runner_items_delivered(j->r, &j->items[j->g_start], j->g_end - j->g_start);
}

static void on_failed(void *vj, struct smtp_client *c, int code, const char *text)
{
    struct domjob *j = vj;
    if (!j->tlsrpt_noted && j->must_tls && !j->tls_tried && code == 0)
        queue_tlsrpt_note(j, TLSRPT_STARTTLS_NOT_SUPPORTED);
    /* RFC 8689 §5: no STARTTLS, or a certificate that does not verify, is final for a
     * REQUIRETLS message; a handshake cut short is tried again */
    bool final = j->requiretls && code == 0 && (!j->tls_tried || j->tls_unverified);
    set_error(j, "%s%s (host %s[%s])",
              final  ? "550 5.7.30 REQUIRETLS support required: "
              : code ? ""
                     : "451 4.7.5 ",
              text, j->host, j->addr_text);
    log_info("queue %s: %s", j->domain, j->error);
}

static const struct smtp_client_ops client_ops = {on_ready, on_done, on_failed};

static void on_read(struct bufferevent *bev, void *vj)
{
    struct domjob *j = vj;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (j->client && !j->client_closed && evbuffer_get_length(in)) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t used = smtp_client_feed(j->client, v.iov_base, v.iov_len);
        evbuffer_drain(in, used);
        if (used < v.iov_len)
            break;
    }
    if (j->want_tls && !j->client_closed)
        start_tls(j);
    after_client(j);
}

/* Under a policy the handshake's verification result is logged: under enforce it passed
 * (else the handshake failed); under testing a failure is only reported (RFC 8461 §5). */
static void sts_log_tls(struct domjob *j, struct bufferevent *bev)
{
    if (j->dane == DANE_VERIFY) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        log_info("queue %s: DANE: certificate of %s matched a TLSA record (usage %d)",
                 j->domain, j->host, ssl ? dane_matched_usage(ssl) : -1);
        return;
    }
    if (j->requiretls) {
        log_info("queue %s: REQUIRETLS: certificate of %s verified", j->domain, j->host);
        return;
    }
    if (!j->sts_on || j->sts.mode == MTASTS_NONE)
        return;
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_ERR_UNSPECIFIED;
    if (v == X509_V_OK)
        log_info("queue %s: MTA-STS %s: certificate of %s verified", j->domain,
                 mtasts_mode_name(j->sts.mode), j->host);
    else
        log_info("queue %s: MTA-STS testing: certificate of %s not valid: %s (delivered anyway)",
                 j->domain, j->host, X509_verify_cert_error_string(v));
}

/* RFC 8460 §4.3.2: what a failed handshake was, from the certificate check's verdict. */
static enum tlsrpt_result tls_failure(struct domjob *j, struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (j->dane == DANE_VERIFY)
        return TLSRPT_TLSA_INVALID;
    if (!j->sts_on || j->sts.mode == MTASTS_NONE || v == X509_V_OK)
        return TLSRPT_VALIDATION_FAILURE;
    if (v == X509_V_ERR_HOSTNAME_MISMATCH)
        return TLSRPT_CERT_HOST_MISMATCH;
    if (v == X509_V_ERR_CERT_HAS_EXPIRED)
        return TLSRPT_CERT_EXPIRED;
    return TLSRPT_CERT_NOT_TRUSTED;
}

/* RFC 8460 §4.3: a handshake that completed under an MTA-STS testing policy is still a
 * failure to report when the certificate did not verify or the MX host is outside the
 * policy (the message goes on: RFC 8461 §5); else a success. */
static enum tlsrpt_result tls_outcome(struct domjob *j, struct bufferevent *bev)
{
    if (j->dane != DANE_NONE || j->requiretls || !j->sts_on || j->sts.mode != MTASTS_TESTING)
        return TLSRPT_SUCCESS;
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    if (ssl && SSL_get_verify_result(ssl) != X509_V_OK)
        return tls_failure(j, bev);
    return mtasts_mx_match(&j->sts, j->host) ? TLSRPT_SUCCESS : TLSRPT_VALIDATION_FAILURE;
}

static void on_event(struct bufferevent *bev, short what, void *vj)
{
    struct domjob *j = vj;
    if (what & BEV_EVENT_CONNECTED) {
        if (j->tls_pending) {
            j->tls_pending = false;
            sts_log_tls(j, bev);
            queue_tlsrpt_note(j, tls_outcome(j, bev));
            smtp_client_tls_done(j->client, true);
            return after_client(j);
        }
        log_info("queue %s: connected to %s[%s]", j->domain, j->host, j->addr_text);
        j->tlsrpt_noted = j->tls_tried = false;
        /* RFC 8461 §5 under enforce, RFC 7672 §2.2 with validated TLSA records, RFC 8689
         * §4.2.1 for REQUIRETLS: never without TLS */
        bool must =
            j->requiretls || j->dane != DANE_NONE || (j->sts_on && j->sts.mode == MTASTS_ENFORCE);
        struct smtp_client_config cc = {j->r->cfg.hostname, must ? SMTP_TLS_REQUIRED : j->tls};
        j->must_tls = must;
        j->client = smtp_client_new(&cc, &client_io, j, &client_ops, j);
        return;
    }
    const char *why = (what & BEV_EVENT_TIMEOUT) ? "timed out" : "connection lost";
    if (!j->client) {
        set_error(j, "451 4.4.1 connect to %s[%s]:%u failed: %s", j->host, j->addr_text,
                  j->r->cfg.remote_port, (what & BEV_EVENT_TIMEOUT) ? "timed out"
                  : errno ? strerror(errno) : "refused");
        log_info("queue %s: %s", j->domain, j->error);
        conn_teardown(j);
        j->addr_i++;
        return try_addr(j);
    }
    if (j->tls_pending) {
        unsigned long e = bufferevent_get_openssl_error(bev);
        char buf[200] = "no OpenSSL error";
        if (e)
            ERR_error_string_n(e, buf, sizeof buf);
        log_info("queue %s: TLS with %s[%s] failed: %s (events 0x%x)", j->domain, j->host,
                 j->addr_text, buf, (unsigned)what);
        queue_tlsrpt_note(j, tls_failure(j, bev));
        SSL *ssl = bufferevent_openssl_get_ssl(bev); /* X509_V_OK when nothing was checked */
        j->tls_unverified = ssl && SSL_get_verify_result(ssl) != X509_V_OK;
        j->tls_pending = false;
        smtp_client_tls_done(j->client, false);
    } else {
        smtp_client_abort(j->client, why);
    }
    j->client_closed = true;
    after_client(j);
}

/* A non-blocking socket, bound to source_address when configured. */
static int make_socket(struct domjob *j, const struct sockaddr_storage *to)
{
    int fd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    int one = 1; /* commands and the message's end never wait for the server's delayed ACK */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!j->r->cfg.source_address)
        return fd;
    struct sockaddr_storage src;
    memset(&src, 0, sizeof src);
    socklen_t len;
    if (to->ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
        s4->sin_family = AF_INET;
        len = sizeof *s4;
        if (inet_pton(AF_INET, j->r->cfg.source_address, &s4->sin_addr) != 1)
            return fd; /* a v6 source for a v4 destination: let the kernel choose */
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;
        s6->sin6_family = AF_INET6;
        len = sizeof *s6;
        if (inet_pton(AF_INET6, j->r->cfg.source_address, &s6->sin6_addr) != 1)
            return fd;
    }
    if (bind(fd, (struct sockaddr *)&src, len) != 0)
        log_warn("queue: cannot bind source address %s: %s", j->r->cfg.source_address,
                 strerror(errno));
    return fd;
}

static void try_addr(struct domjob *j)
{
    if (j->addr_i >= j->naddr) {
        j->mx_i++;
        return try_host(j);
    }
    struct sockaddr_storage to = j->addrs[j->addr_i];
    socklen_t len = to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    if (to.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&to)->sin6_port = htons(j->r->cfg.remote_port);
    else
        ((struct sockaddr_in *)&to)->sin_port = htons(j->r->cfg.remote_port);
    const void *a = to.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&to)->sin6_addr
                                             : (const void *)&((struct sockaddr_in *)&to)->sin_addr;
    inet_ntop(to.ss_family, a, j->addr_text, sizeof j->addr_text);
    int fd = make_socket(j, &to);
    j->bev = bufferevent_socket_new(j->r->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(j->bev, on_read, NULL, on_event, j);
    struct timeval ct = {(time_t)j->r->cfg.connect_timeout, 0};
    struct timeval rt = {(time_t)j->r->cfg.command_timeout, 0};
    bufferevent_set_timeouts(j->bev, &rt, &ct);
    bufferevent_enable(j->bev, EV_READ | EV_WRITE);
    errno = 0;
    if (fd < 0 || bufferevent_socket_connect(j->bev, (struct sockaddr *)&to, (int)len) != 0) {
        set_error(j, "451 4.4.1 connect to %s[%s] failed: %s", j->host, j->addr_text,
                  strerror(errno));
        conn_teardown(j);
        j->addr_i++;
        return try_addr(j);
    }
}

static void on_sts(void *vj, const struct mtasts_policy *p, enum tlsrpt_result fail)
{
    struct domjob *j = vj;
    if (fail != TLSRPT_SUCCESS && !p) /* RFC 8460 §4.3.2.2: reported, then sent without */
        queue_tlsrpt_note_policy(j, fail);
    j->sts_on = p != NULL;
    if (p)
        j->sts = *p;
    if (p && j->tls_optional && p->mode != MTASTS_NONE) { /* RFC 8689 §4.2.2 */
        log_info("queue %s: TLS-Required: No: the MTA-STS policy (%s) is not enforced", j->domain,
                 mtasts_mode_name(p->mode));
        j->sts_on = false;
    }
    dns_stub_mx(j->r->stub, j->domain, on_mx, j);
}

void domjob_start(struct domjob *j)
{
    log_info("queue %s: %zu recipient(s) to deliver", j->domain, j->n);
    sts_get(j->r->sts, j->domain, (int64_t)time(NULL), on_sts, j); /* RFC 8461 §5.1 first */
}

void domjob_free(struct domjob *j)
{
    conn_teardown(j);
    for (size_t i = 0; i < j->n; i++) {
        struct qitem *it = &j->items[i];
        free(it->msg_id);
        free(it->sender);
        free(it->rcpt);
        free(it->path);
        free(it->text);
        free(it->remote);
    }
    free(j->items);
    dane_tlsa_clear(j->tlsa, j->ntlsa);
    free(j->mx);
    free(j->addrs);
    free(j);
}
