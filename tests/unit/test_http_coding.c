/* http/coding + http/encode: Accept-Encoding q-values, the choice of coding, compressible
 * types, the encoded variant's entity tag; gzip output that zlib inflates back to the input
 * (read through the file body source in pieces of every size), brotli output that is framed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/coding.h"
#include "http/encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static unsigned q(const char *field, const char *name)
{
    return http_coding_q(slice_cstr(field), name);
}

static void test_qvalues(void **state)
{
    assert_int_equal(q("gzip", "gzip"), 1000);
    assert_int_equal(q("GZip;q=0.5", "gzip"), 500);
    assert_int_equal(q("x-gzip", "gzip"), 1000);
    assert_int_equal(q("gzip ; q=0.125 , br", "gzip"), 125);
    assert_int_equal(q("br", "gzip"), 0);             /* not listed */
    assert_int_equal(q("br", "identity"), 1000);      /* identity always, unless refused */
    assert_int_equal(q("identity;q=0", "identity"), 0);
    assert_int_equal(q("*;q=0", "identity"), 0);
    assert_int_equal(q("*;q=0, identity;q=0.1", "identity"), 100);
    assert_int_equal(q("*;q=0.3", "br"), 300);
    assert_int_equal(q("gzip;q=1.5", "gzip"), 0);     /* malformed: as if absent */
    assert_int_equal(q("gzip;q=0.1234", "gzip"), 0);
    assert_int_equal(q("gzip;q=abc", "gzip"), 0);
    assert_int_equal(q(", ,gzip;level=9;q=0.7,", "gzip"), 700);
}

static enum http_coding choose(const char *field, bool br, bool *refused)
{
    struct slice s = slice_cstr(field ? field : "");
    return http_coding_choose(field ? &s : NULL, br, refused);
}

static void test_choose(void **state)
{
    bool refused;
    assert_int_equal(choose(NULL, true, &refused), HTTP_CODING_IDENTITY);
    assert_int_equal(choose("", true, &refused), HTTP_CODING_IDENTITY);
    assert_int_equal(choose("gzip, deflate, br, zstd", true, &refused), HTTP_CODING_BR);
    assert_int_equal(choose("gzip, deflate, br", false, &refused), HTTP_CODING_GZIP);
    assert_int_equal(choose("br;q=0.5, gzip", true, &refused), HTTP_CODING_GZIP);
    assert_int_equal(choose("gzip;q=0", true, &refused), HTTP_CODING_IDENTITY);
    assert_int_equal(choose("gzip;q=0.5, identity", true, &refused), HTTP_CODING_IDENTITY);
    assert_false(refused);
    assert_int_equal(choose("gzip;q=0.5, identity;q=0", true, &refused), HTTP_CODING_GZIP);
    assert_true(refused);
    /* Nothing acceptable at all: identity anyway (RFC 9110 §12.5.3), still reported. */
    assert_int_equal(choose("identity;q=0, compress", true, &refused), HTTP_CODING_IDENTITY);
    assert_true(refused);
    assert_int_equal(choose("*", true, &refused), HTTP_CODING_BR);
}

static void test_types_and_etag(void **state)
{
    assert_true(http_coding_compressible("text/html; charset=utf-8"));
    assert_true(http_coding_compressible("application/javascript"));
    assert_true(http_coding_compressible("image/svg+xml"));
    assert_true(http_coding_compressible("application/vnd.api+json"));
    assert_false(http_coding_compressible("image/png"));
    assert_false(http_coding_compressible("application/gzip"));
    assert_false(http_coding_compressible("application/octet-stream"));
    char etag[64] = "\"1-2-3\"";
    http_coding_etag(etag, HTTP_CODING_GZIP);
    assert_string_equal(etag, "\"1-2-3-gzip\"");
    strcpy(etag, "\"1-2-3\"");
    http_coding_etag(etag, HTTP_CODING_BR);
    assert_string_equal(etag, "\"1-2-3-br\"");
    http_coding_etag(etag, HTTP_CODING_IDENTITY);
    assert_string_equal(etag, "\"1-2-3-br\"");
}

/* A temporary file of n octets of text that compresses (repeated lines with a counter). */
static int text_file(size_t n, struct str *content)
{
    char path[] = "/tmp/test_http_coding.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    str_reset(content);
    for (unsigned i = 0; content->len < n; i++)
        str_appendf(content, "<p>line %u of a page that compresses well</p>\n", i % 97);
    content->len = n;
    assert_int_equal(write(fd, content->ptr, n), (ssize_t)n);
    return fd;
}

/* Drains r's source in pieces of at most cap octets. */
static void drain(struct http_response *r, size_t cap, struct str *out)
{
    char *buf = malloc(cap);
    for (;;) {
        ssize_t n = r->src.read(r->src.arg, buf, cap);
        assert_true(n >= 0);
        if (n == 0)
            break;
        str_append(out, buf, (size_t)n);
    }
    free(buf);
}

static void inflate_all(const struct str *gz, struct str *out)
{
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)gz->ptr;
    z.avail_in = (uInt)gz->len;
    int rc;
    do {
        str_reserve(out, 65536);
        z.next_out = (Bytef *)out->ptr + out->len;
        z.avail_out = 65536;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += 65536 - z.avail_out;
        assert_true(rc == Z_OK || rc == Z_STREAM_END);
    } while (rc != Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* nothing after the gzip trailer */
    inflateEnd(&z);
}

static void test_gzip_file_source(void **state)
{
    static const size_t sizes[] = {0, 1, 1000, 65536, 65537, 300000};
    static const size_t caps[] = {1, 7, 16384, 100000};
    struct str content = STR_INIT, gz = STR_INIT, back = STR_INIT;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t j = 0; j < sizeof caps / sizeof caps[0]; j++) {
            if (sizes[i] > 70000 && caps[j] < 16) /* slow under ASan, adds nothing */
                continue;
            struct http_response r;
            http_response_init(&r, 200);
            r.fd = text_file(sizes[i], &content);
            http_encode_file(&r, HTTP_CODING_GZIP, sizes[i]);
            assert_int_equal(r.fd, -1); /* the source owns it now */
            assert_true(http_response_streamed(&r));
            str_reset(&gz);
            str_reset(&back);
            drain(&r, caps[j], &gz);
            inflate_all(&gz, &back);
            assert_int_equal(back.len, sizes[i]);
            assert_memory_equal(back.ptr ? back.ptr : "", content.ptr ? content.ptr : "",
                                sizes[i]);
            if (sizes[i] >= 1000)
                assert_true(gz.len < sizes[i] / 4);
            http_response_clear(&r);
        }
    str_clear(&content);
    str_clear(&gz);
    str_clear(&back);
}

static void test_br_and_shrunk_file(void **state)
{
    struct str content = STR_INIT, out = STR_INIT;
    struct http_response r;
    http_response_init(&r, 200);
    r.fd = text_file(200000, &content);
    http_encode_file(&r, HTTP_CODING_BR, 200000);
    drain(&r, 4096, &out);
    assert_true(out.len > 0 && out.len < 200000 / 8);
    http_response_clear(&r);
    /* The file is shorter than announced (truncated on disk meanwhile): the source fails. */
    http_response_init(&r, 200);
    r.fd = text_file(1000, &content);
    http_encode_file(&r, HTTP_CODING_GZIP, 5000);
    char buf[100000];
    ssize_t n;
    while ((n = r.src.read(r.src.arg, buf, sizeof buf)) > 0)
        ;
    assert_true(n < 0); /* never a clean end (0) */
    http_response_clear(&r);
    str_clear(&content);
    str_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qvalues),
        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_types_and_etag),
        cmocka_unit_test(test_gzip_file_source),
        cmocka_unit_test(test_br_and_shrunk_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
