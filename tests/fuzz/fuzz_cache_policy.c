/*
 * libFuzzer target for cache/policy over what an origin sends: two response heads (the first
 * input octet says where the second, a 304, starts) parsed by http/response_parse, their
 * fields made into stored heads as the proxy makes them (proxy_response_fields), then every
 * decision the cache takes on them: storable (a refusal names its reason), lifetime (never
 * negative), age, reuse, stale-if-error, the conditional request, the Vary key (the same
 * twice), the 304 check and merge (merging the same 304 twice changes nothing more), and
 * Cache-Status.
 */
#include "cache/policy.h"
#include "http/request.h"
#include "http/response_parse.h"
#include "proxy/forward.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char REQ[] = "GET /p HTTP/1.1\r\nHost: o.test\r\nAccept-Language: de\r\n"
                          "Accept-Encoding: gzip\r\nCache-Control: max-stale=5\r\n\r\n";

/* The stored head of one response in p[0..n), or false. */
static bool head_of(const char *p, size_t n, int *status, struct str *fields)
{
    const struct http_limits lim = {.max_request_line = 512, .max_head = 8192, .max_body = 0};
    size_t scanned = 0;
    long len = http_head_find(p, n, &scanned, &lim);
    struct http_resp_head h;
    const char *why;
    if (len <= 0 || http_resp_parse(p, (size_t)len, HTTP_GET, &h, &why) != 0)
        return false;
    *status = h.status;
    proxy_response_fields(h.headers, h.nheaders, NULL, fields);
    return true;
}

static void decide(const struct http_request *req, int status, struct slice fs)
{
    const char *why = NULL;
    if (!cache_storable(req, status, fs, &why) && !why)
        abort();
    const struct cache_rules rules = {10, 86400};
    bool heur;
    int64_t life = cache_lifetime(fs, status, &rules, &heur);
    if (life < 0)
        abort();
    int64_t age = cache_age(fs, 1000, 1010, 2000);
    struct cache_cc cc;
    cache_cc_of_request(req, &cc);
    cache_decide(&cc, fs, life, age);
    cache_stale_if_error(&cc, fs, life, age);
    struct str cond = STR_INIT, k1 = STR_INIT, k2 = STR_INIT, cs = STR_INIT;
    cache_conditional(fs, &cond);
    int r1 = cache_vary_key(fs, req, &k1), r2 = cache_vary_key(fs, req, &k2);
    if (r1 != r2 || (r1 == 0 && strcmp(str_cstr(&k1), str_cstr(&k2)) != 0))
        abort();
    struct cache_status st = {.hit = heur, .fwd = "stale", .fwd_status = status,
                              .ttl = life - age, .detail = why};
    cache_status_format("pigeon", &st, &cs);
    str_clear(&cond);
    str_clear(&k1);
    str_clear(&k2);
    str_clear(&cs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct http_request req;
    const struct http_limits rl = {1024, 4096, 0};
    const char *why;
    if (http_request_parse(REQ, sizeof REQ - 1, &rl, &req, &why) != 0)
        abort();
    size_t n = size - 1, split = (size_t)data[0] * 4 < n ? (size_t)data[0] * 4 : n;
    char *copy = malloc(n ? n : 1);
    memcpy(copy, data + 1, n);
    int sa, sb;
    struct str a = STR_INIT, b = STR_INIT, m1 = STR_INIT, m2 = STR_INIT;
    if (head_of(copy, split, &sa, &a)) {
        struct slice fa = slice_make(str_cstr(&a), a.len);
        decide(&req, sa, fa);
        if (head_of(copy + split, n - split, &sb, &b)) {
            struct slice fb = slice_make(str_cstr(&b), b.len);
            cache_304_matches(fa, fb);
            cache_merge_304(fa, fb, &m1);
            cache_merge_304(slice_make(str_cstr(&m1), m1.len), fb, &m2);
            if (m1.len != m2.len || memcmp(str_cstr(&m1), str_cstr(&m2), m1.len) != 0)
                abort();
            decide(&req, sa, slice_make(str_cstr(&m1), m1.len));
        }
    }
    str_clear(&a);
    str_clear(&b);
    str_clear(&m1);
    str_clear(&m2);
    free(copy);
    return 0;
}
