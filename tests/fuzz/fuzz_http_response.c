/*
 * libFuzzer target for http/response_parse: an origin's response (the first input octet
 * chooses where the head is split and whether the request was HEAD). The head found in two
 * parts must agree with a one-shot scan; a parsed head's slices lie inside it and its framing
 * is consistent; the body reader never consumes more than given, whether fed at once or one
 * octet at a time, and both ways give the same body.
 */
#include "http/response_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void within(struct slice s, const char *p, size_t n)
{
    if (s.len && (s.p < p || s.p + s.len > p + n))
        abort();
}

static int read_body(const struct http_resp_head *h, const char *p, size_t n, size_t step,
                     struct str *out)
{
    struct http_body_reader r;
    http_body_reader_init(&r, h);
    size_t pos = 0;
    int rc = 0;
    while (rc == 0 && pos < n) {
        size_t give = step && n - pos > step ? step : n - pos, used;
        rc = http_body_reader_feed(&r, p + pos, give, false, out, &used);
        if (used > give)
            abort();
        pos += used;
        if (rc == 0 && used < give)
            abort(); /* "need more" must have taken everything */
    }
    if (rc == 0) {
        size_t used;
        rc = http_body_reader_feed(&r, p + pos, 0, true, out, &used);
    }
    if (rc != 1 && rc != -1)
        abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct http_limits lim = {.max_request_line = 512, .max_head = 4096, .max_body = 0};
    size_t split = data[0] >> 1;
    enum http_method m = data[0] & 1 ? HTTP_HEAD : HTTP_GET;
    size_t n = size - 1;
    char *copy = malloc(n ? n : 1);
    memcpy(copy, data + 1, n);
    size_t sc1 = 0, sc2 = 0;
    long whole = http_head_find(copy, n, &sc1, &lim);
    long part = split < n ? http_head_find(copy, split, &sc2, &lim) : 0;
    if (part == 0)
        part = http_head_find(copy, n, &sc2, &lim);
    if (part != whole)
        abort();
    struct http_resp_head h;
    const char *why;
    if (whole > 0 && http_resp_parse(copy, (size_t)whole, m, &h, &why) == 0) {
        within(h.reason, copy, (size_t)whole);
        if (h.nheaders > HTTP_MAX_HEADERS || h.status < 100 || h.status > 999)
            abort();
        for (unsigned i = 0; i < h.nheaders; i++) {
            within(h.headers[i].name, copy, (size_t)whole);
            within(h.headers[i].value, copy, (size_t)whole);
        }
        if (h.framing == HTTP_FRAME_CLOSE && h.keep_alive)
            abort();
        if (m == HTTP_HEAD && h.framing != HTTP_FRAME_NONE)
            abort();
        struct str a = STR_INIT, b = STR_INIT;
        int ra = read_body(&h, copy + whole, n - (size_t)whole, 0, &a);
        int rb = read_body(&h, copy + whole, n - (size_t)whole, 1, &b);
        if (ra != rb ||
            (ra == 1 && (a.len != b.len || memcmp(str_cstr(&a), str_cstr(&b), a.len) != 0)))
            abort();
        str_clear(&a);
        str_clear(&b);
    } else if (whole < 0 && whole != -400 && whole != -414 && whole != -431) {
        abort();
    }
    free(copy);
    return 0;
}
