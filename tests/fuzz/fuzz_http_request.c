/*
 * libFuzzer target for http/request and http/chunked: the head is found incrementally (in
 * two parts split where the first input octet says), must agree with a one-shot scan, and is
 * parsed; every slice must lie inside the head; statuses are the documented ones; the rest
 * of the input goes through the chunked decoder, which must never consume more than given.
 */
#include "http/chunked.h"
#include "http/request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void within(struct slice s, const char *p, size_t n)
{
    if (s.len && (s.p < p || s.p + s.len > p + n))
        abort();
}

static void check_request(const struct http_request *r, const char *p, size_t n)
{
    within(r->method_name, p, n);
    within(r->target, p, n);
    if (!slice_eq(r->path, "/")) /* an absolute-form target without a path gets a static "/" */
        within(r->path, p, n);
    within(r->query, p, n);
    if (r->host.p != NULL && r->host.len)
        within(r->host, p, n);
    if (r->nheaders > HTTP_MAX_HEADERS)
        abort();
    for (unsigned i = 0; i < r->nheaders; i++) {
        within(r->headers[i].name, p, n);
        within(r->headers[i].value, p, n);
    }
    if (r->chunked && r->has_length)
        abort(); /* never both framings */
    if (r->version != 10 && r->version != 11)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct http_limits lim = {.max_request_line = 512, .max_head = 4096, .max_body = 65536};
    size_t split = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    char *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    size_t sc1 = 0, sc2 = 0;
    long whole = http_head_find(copy, n, &sc1, &lim);
    long part = split < n ? http_head_find(copy, split, &sc2, &lim) : 0;
    if (part == 0)
        part = http_head_find(copy, n, &sc2, &lim);
    if (part != whole)
        abort();
    if (whole > 0) {
        struct http_request req;
        const char *why;
        int st = http_request_parse(copy, (size_t)whole, &lim, &req, &why);
        if (st == 0)
            check_request(&req, copy, (size_t)whole);
        else if (!why || (st != 400 && st != 413 && st != 417 && st != 431 && st != 501 &&
                          st != 505))
            abort();
        struct http_chunked c;
        http_chunked_init(&c);
        struct str out = STR_INIT;
        size_t used = 0;
        int rc = http_chunked_feed(&c, copy + whole, n - (size_t)whole, lim.max_body, &out, &used);
        if (used > n - (size_t)whole || out.len > lim.max_body || (rc != 0 && rc != 1 &&
                                                                    rc != -400 && rc != -413))
            abort();
        str_clear(&out);
    } else if (whole != 0 && whole != -400 && whole != -414 && whole != -431) {
        abort();
    }
    free(copy);
    return 0;
}
