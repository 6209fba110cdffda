/* Unit tests for msg/base64: RFC 4648 §10 vectors, strictness, round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "msg/base64.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *plain, *b64;
} vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void **state)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        size_t n = strlen(vectors[i].plain);
        char enc[32];
        assert_true(base64_encoded_size(n) <= sizeof enc);
        assert_int_equal(base64_encode(vectors[i].plain, n, enc), strlen(vectors[i].b64));
        assert_string_equal(enc, vectors[i].b64);
        assert_int_equal(base64_encoded_size(n), strlen(vectors[i].b64) + 1);

        unsigned char dec[32];
        size_t dn = 99;
        assert_int_equal(base64_decode(vectors[i].b64, strlen(vectors[i].b64), dec, &dn), 0);
        assert_int_equal(dn, n);
        assert_memory_equal(dec, vectors[i].plain, n);
    }
}

static void test_unpadded_accepted(void **state)
{
    unsigned char dec[16];
    size_t n;
    assert_int_equal(base64_decode("Zg", 2, dec, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(base64_decode("Zm8", 3, dec, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(dec, "fo", 2);
}

static void test_rejects(void **state)
{
    static const char *bad[] = {"Z",        "Zg=",  "Zg===", "Z===", "Zm9v=", "Zm 9v", "Zm9v\n",
                                "Zg==Zg==", "=Zg=", "Zm9*",  "====", "Zm=v",  "Zm8==", "Zm9vY"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char dec[32];
        size_t n;
        if (base64_decode(bad[i], strlen(bad[i]), dec, &n) != ERR_PARSE)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    unsigned char dec[8];
    size_t n;
    assert_int_equal(base64_decode("Zm\0v", 4, dec, &n), ERR_PARSE);
}

static void test_roundtrip_all_bytes(void **state)
{
    unsigned char in[256], dec[256 + 3];
    char enc[400];
    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)i;
    for (size_t n = 0; n <= sizeof in; n++) {
        size_t el = base64_encode(in, n, enc);
        assert_int_equal(el % 4, 0);
        size_t dn;
        assert_int_equal(base64_decode(enc, el, dec, &dn), 0);
        assert_int_equal(dn, n);
        assert_memory_equal(dec, in, n);
    }
}

/* Every prefix of "\0bob\0hungry" in base64, from exact-size heap buffers (ASan catches a
 * read past k or a write past k/4*3+3): a prefix of 4m+1 characters is not base64; every
 * other one decodes, unpadded, to the first k*3/4 bytes. */
static void test_every_prefix(void **state)
{
    const char *s = "AGJvYgBodW5ncnk=";
    static const unsigned char want[] = "\0bob\0hungry";
    size_t len = strlen(s);
    for (size_t k = 0; k <= len; k++) {
        char *copy = malloc(k ? k : 1);
        unsigned char *out = malloc(k / 4 * 3 + 3);
        memcpy(copy, s, k);
        size_t n = 12345;
        int rc = base64_decode(copy, k, out, &n);
        if (k % 4 == 1) {
            if (rc != ERR_PARSE)
                fail_msg("prefix of %zu characters accepted", k);
        } else {
            if (rc != 0)
                fail_msg("prefix of %zu characters refused", k);
            size_t expect = k == len ? sizeof want - 1 : k * 3 / 4;
            if (n != expect || memcmp(out, want, n) != 0)
                fail_msg("prefix of %zu characters: %zu bytes, want %zu", k, n, expect);
        }
        free(copy);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors), cmocka_unit_test(test_unpadded_accepted),
        cmocka_unit_test(test_rejects),         cmocka_unit_test(test_roundtrip_all_bytes),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
