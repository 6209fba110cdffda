/*
 * sts_http — Pigeon's own MTA-STS policy (RFC 8461 §3.3) on the HTTP service:
 * GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt for every local DOMAIN answers the
 * [mta_sts] policy as text/plain. It is a service of its own, registered after the HTTP
 * service and JMAP, that chains onto struct http_host.more (the handlers other services add):
 * requests it does not take go on to the handler that was there before.
 *
 * Only over TLS (§3.3: the policy is fetched with HTTPS; a sender ignores anything else), and
 * only for the policy path under an mta-sts. host of a local domain; the rest of the site is
 * untouched. The policy text and its id come from records.h, so the file served and the
 * `_mta-sts` record published always agree.
 */
#include "mailauth/service/service.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "host/confgen.h"
#include "http/handler.h"
#include "http/response.h"
#include "http/service/service.h"
#include "mailauth/mtasts.h"
#include "mailauth/service/records.h"
#include "net/conn.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

struct sts_http {
    bool (*prev)(struct http_exchange *x); /* the handler chain before us, or NULL */
};

extern const struct service_def mailauth_sts_http_service;

/* The DOMAIN of a Host "mta-sts.DOMAIN[:port]", lower case, into out; false if not one. */
static bool sts_host(struct slice host, char *out, size_t cap)
{
    static const char prefix[] = "mta-sts.";
    size_t n = host.len;
    for (size_t i = 0; i < host.len; i++)
        if (host.p[i] == ':')
            n = i;
    size_t k = sizeof prefix - 1;
    if (n <= k || n - k >= cap || strncasecmp(host.p, prefix, k) != 0)
        return false;
    for (size_t i = k; i < n; i++) {
        char c = host.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
        out[i - k] = c;
    }
    out[n - k] = '\0';
    return true;
}

static bool sts_handle(struct http_exchange *x)
{
    struct worker *w = conn_worker(x->conn);
    const struct sts_http *s = host_state(w->d, &mailauth_sts_http_service);
    char domain[256];
    const struct http_request *q = x->req;
    if (!s || !x->tls || !slice_eq(q->path, "/.well-known/mta-sts.txt") ||
        mailauth_sts_config(host_config(w))->mode == MTASTS_NONE ||
        !sts_host(q->host, domain, sizeof domain) || store_domain_exists(w->store, domain) != 1)
        return s && s->prev ? s->prev(x) : false;
    if (q->method != HTTP_GET && q->method != HTTP_HEAD) {
        http_exchange_error(x, 405, "The MTA-STS policy is read with GET.");
        return true;
    }
    struct http_response r;
    http_response_init(&r, 200);
    http_response_header(&r, "Content-Type", "text/plain");
    http_response_header(&r, "Cache-Control", "max-age=300");
    /* the policy as the worker's configuration says now: a reload's mode, max_age and mx */
    struct str policy = STR_INIT;
    mailauth_sts_policy(host_config(w), &policy);
    http_response_body(&r, policy.ptr, policy.len);
    str_clear(&policy);
    http_exchange_respond(x, &r);
    return true;
}

static int sts_open(struct daemon *d, void **state_out)
{
    struct http_service *hs = host_state(d, &http_service_def);
    if (!hs)
        return 0;
    /* on the hook also with mode none: a reload may turn the policy on (the handler reads
     * the mode per request) */
    struct sts_http *s = xcalloc(1, sizeof *s);
    s->prev = hs->host.more;
    hs->host.more = sts_handle;
    *state_out = s;
    if (mailauth_sts_config(&d->cfg)->mode != MTASTS_NONE)
        log_info("mta-sts: policy (%s) at https://mta-sts.DOMAIN/.well-known/mta-sts.txt",
                 mtasts_mode_name((enum mtasts_mode)mailauth_sts_config(&d->cfg)->mode));
    return 0;
}

static void sts_close(struct daemon *d, void *state)
{
    struct sts_http *s = state;
    if (!s)
        return;
    free(s);
}

const struct service_def mailauth_sts_http_service = {
    .name = "mta_sts_http",
    .open = sts_open,
    .close = sts_close,
};
