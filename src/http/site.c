/* http/site — see site.h: choosing a site by Host, and the router of one site. */
#include "http/site.h"

#include "http/handler.h"

#include <string.h>
#include <strings.h>

/* The host name of a Host value: without ":port", "[...]" kept for IPv6, no trailing dot. */
static struct slice host_name(struct slice h)
{
    if (h.len == 0)
        return h; /* HTTP/1.0 without Host: p may be NULL */
    if (h.p[0] == '[') {
        const char *close = memchr(h.p, ']', h.len);
        return close ? slice_make(h.p, (size_t)(close - h.p) + 1) : h;
    }
    const char *colon = memchr(h.p, ':', h.len);
    if (colon)
        h.len = (size_t)(colon - h.p);
    if (h.len && h.p[h.len - 1] == '.')
        h.len--;
    return h;
}

const struct http_site *http_site_select(struct http_site *const *sites, unsigned n,
                                         struct slice host)
{
    struct slice name = host_name(host);
    const struct http_site *def = n ? sites[0] : NULL;
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < sites[i]->nnames; j++)
            if (strlen(sites[i]->names[j]) == name.len &&
                strncasecmp(sites[i]->names[j], name.p, name.len) == 0)
                return sites[i];
        if (sites[i]->is_default)
            def = sites[i];
    }
    return def;
}

void http_exchange_error(struct http_exchange *x, int status, const char *detail)
{
    struct http_response r;
    http_response_init(&r, status);
    http_response_error(&r, status, detail);
    http_exchange_respond(x, &r);
}

/* The site's redirect (HTTP → HTTPS): 308 keeps the method and body (RFC 9110 §15.4.9). */
static bool redirect(struct http_exchange *x)
{
    if (!x->site->redirect || x->tls)
        return false;
    struct http_response r;
    http_response_init(&r, 308);
    http_response_header(&r, "Location", "%s%.*s", x->site->redirect, (int)x->req->target.len,
                         x->req->target.p);
    const char page[] = "<!DOCTYPE html>\n<html><body><p>Moved to HTTPS.</p></body></html>\n";
    http_response_header(&r, "Content-Type", "text/html; charset=utf-8");
    http_response_body(&r, page, sizeof page - 1);
    http_exchange_respond(x, &r);
    return true;
}

bool http_site_streams_body(const struct http_site *site, const struct http_request *req)
{
    if (!site || !site->upload || req->method != HTTP_PUT)
        return false;
    size_t n = strlen(site->upload);
    return req->path.len >= n && memcmp(req->path.p, site->upload, n) == 0;
}

void http_site_dispatch(struct http_exchange *x)
{
    if (!x->site)
        return http_exchange_error(x, 421, "This server has no site for that host.");
    if (x->req->method == HTTP_CONNECT || x->req->method == HTTP_TRACE)
        return http_exchange_error(x, 501, "This server does not proxy or trace.");
    if (redirect(x) || http_login_handle(x) || (x->host->more && x->host->more(x)) ||
        http_upload_handle(x) || http_file_handle(x))
        return;
    http_exchange_error(x, 404, "Nothing is published here.");
}
