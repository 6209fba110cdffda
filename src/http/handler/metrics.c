/*
 * handler/metrics — GET /metrics on the [metrics] listener: every counter of the process
 * (core/metrics.h) in the Prometheus text format, and the HTTP service's own counters of
 * responses by status class. Anything else on that listener is 404.
 */
#include "http/handler.h"

#include "core/metrics.h"

static struct metric responses[5] = {
    METRIC("pigeon_http_responses_total{code=\"1xx\"}", "HTTP responses sent, by status class"),
    METRIC("pigeon_http_responses_total{code=\"2xx\"}", "HTTP responses sent, by status class"),
    METRIC("pigeon_http_responses_total{code=\"3xx\"}", "HTTP responses sent, by status class"),
    METRIC("pigeon_http_responses_total{code=\"4xx\"}", "HTTP responses sent, by status class"),
    METRIC("pigeon_http_responses_total{code=\"5xx\"}", "HTTP responses sent, by status class"),
};

void http_metrics_count(int status)
{
    if (status >= 100 && status < 600)
        metric_inc(&responses[status / 100 - 1]);
}

bool http_metrics_handle(struct http_exchange *x)
{
    if (!slice_eq(x->req->path, "/metrics"))
        return false;
    if (x->req->method != HTTP_GET && x->req->method != HTTP_HEAD) {
        struct http_response r;
        http_response_init(&r, 405);
        http_response_error(&r, 405, "Only GET here.");
        http_response_header(&r, "Allow", "GET, HEAD");
        http_exchange_respond(x, &r);
        return true;
    }
    struct str text = STR_INIT;
    metrics_render(&text);
    if (x->host->gauges)
        x->host->gauges(x, &text);
    struct http_response r;
    http_response_init(&r, 200);
    http_response_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    http_response_header(&r, "Cache-Control", "no-store");
    http_response_body(&r, text.ptr ? text.ptr : "", text.len);
    str_clear(&text);
    http_exchange_respond(x, &r);
    return true;
}
