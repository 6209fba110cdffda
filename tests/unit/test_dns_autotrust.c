/* Unit tests for dns/resolver/autotrust: RFC 5011 key states under a fake clock (the times
 * are passed in): the add hold-down, a key that leaves before it, Missing and back, a
 * self-signed revocation and the remove hold-down, and the state text read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/str.h"
#include "dns/arena.h"
#include "dns/name.h"
#include "dns/resolver/autotrust.h"

#include <string.h>

#define DAY 86400
#define T0 1800000000

static const uint8_t root[1] = {0};

/* A KSK-like DNSKEY rdata (flags 257, protocol 3, ECDSA P-256) with key bytes of value b. */
static void key(uint8_t rd[68], uint8_t b, bool revoked)
{
    rd[0] = 1, rd[1] = revoked ? 0x81 : 0x01, rd[2] = 3, rd[3] = 13;
    memset(rd + 4, b, 64);
}

static bool observe(struct dns_autotrust *at, const uint8_t (*keys)[68], const bool *revoked_self,
                    const bool *anchored, size_t n, int64_t now)
{
    struct dns_autotrust_key k[4];
    for (size_t i = 0; i < n; i++)
        k[i] = (struct dns_autotrust_key){keys[i], 68, revoked_self ? revoked_self[i] : false};
    static const bool none[4] = {false};
    return dns_autotrust_observe(at, root, k, anchored ? anchored : none, n, 172800, now);
}

static size_t trusted(struct dns_autotrust *at)
{
    unsigned char mem[4096];
    struct dns_arena a;
    dns_arena_init(&a, mem, sizeof mem);
    struct dns_rdata out[DNS_AUTOTRUST_MAX_KEYS];
    size_t n = dns_autotrust_trusted(at, root, &a, out);
    dns_arena_clear(&a);
    return n;
}

/* k[0] the anchor's key (Valid), k[1] a new KSK (AddPend since T0). */
static struct dns_autotrust *anchor_and_new_key(uint8_t k[2][68])
{
    struct dns_autotrust *at = dns_autotrust_new();
    key(k[0], 1, false);
    key(k[1], 2, false);
    static const bool anchored[2] = {true, false};
    assert_true(observe(at, (const uint8_t(*)[68])k, NULL, anchored, 2, T0));
    return at;
}

static void test_add_hold_down(void **state)
{
    (void)state;
    struct dns_autotrust *at = dns_autotrust_new();
    uint8_t k[2][68];
    key(k[0], 1, false); /* the anchor's key */
    key(k[1], 2, false); /* a new KSK published for a roll */
    static const bool anchored[2] = {true, false};
    assert_true(observe(at, k, NULL, anchored, 2, T0));
    assert_int_equal(dns_autotrust_state_of(at, root, k[0], 68), DNS_AT_VALID);
    assert_int_equal(dns_autotrust_state_of(at, root, k[1], 68), DNS_AT_ADDPEND);
    assert_int_equal(trusted(at), 1);
    assert_false(observe(at, k, NULL, anchored, 2, T0 + 29 * DAY)); /* still held down */
    assert_int_equal(trusted(at), 1);
    assert_true(observe(at, k, NULL, anchored, 2, T0 + 30 * DAY)); /* §2.4.1: 30 days */
    assert_int_equal(dns_autotrust_state_of(at, root, k[1], 68), DNS_AT_VALID);
    assert_int_equal(trusted(at), 2);
    /* the old key leaves the set: Missing, still trusted; back again: Valid */
    assert_true(observe(at, k + 1, NULL, NULL, 1, T0 + 31 * DAY));
    assert_int_equal(dns_autotrust_state_of(at, root, k[0], 68), DNS_AT_MISSING);
    assert_int_equal(trusted(at), 2);
    assert_true(observe(at, k, NULL, NULL, 2, T0 + 32 * DAY));
    assert_int_equal(dns_autotrust_state_of(at, root, k[0], 68), DNS_AT_VALID);
    dns_autotrust_free(at);
}

/* A key that leaves before its hold-down ends starts again from nothing (§4). */
static void test_addpend_gone_is_forgotten(void **state)
{
    (void)state;
    uint8_t k[2][68];
    struct dns_autotrust *at = anchor_and_new_key(k);
    static const bool anchored[2] = {true, false};
    assert_true(observe(at, k, NULL, anchored, 1, T0 + 10 * DAY)); /* k[1] gone */
    assert_int_equal(dns_autotrust_state_of(at, root, k[1], 68), 0);
    observe(at, k, NULL, anchored, 2, T0 + 20 * DAY); /* back: the hold-down starts again */
    observe(at, k, NULL, anchored, 2, T0 + 40 * DAY);
    assert_int_equal(dns_autotrust_state_of(at, root, k[1], 68), DNS_AT_ADDPEND);
    observe(at, k, NULL, anchored, 2, T0 + 50 * DAY);
    assert_int_equal(dns_autotrust_state_of(at, root, k[1], 68), DNS_AT_VALID);
    dns_autotrust_free(at);
}

/* §2.1: the REVOKE bit counts only when the key signed the set itself; a revoked key is
 * never trusted again, and is forgotten after the remove hold-down. */
static void test_revocation(void **state)
{
    (void)state;
    struct dns_autotrust *at = dns_autotrust_new();
    uint8_t k[2][68], r[2][68];
    key(k[0], 1, false);
    key(k[1], 2, false);
    static const bool both[2] = {true, true};
    observe(at, k, NULL, both, 2, T0);
    assert_int_equal(trusted(at), 2);
    key(r[0], 1, true); /* k[0] revoked */
    memcpy(r[1], k[1], 68);
    static const bool not_self[2] = {false, false}, self[2] = {true, false};
    assert_false(observe(at, r, not_self, NULL, 2, T0 + DAY)); /* not self-signed: ignored */
    assert_int_equal(dns_autotrust_state_of(at, root, k[0], 68), DNS_AT_VALID);
    assert_true(observe(at, r, self, NULL, 2, T0 + 2 * DAY));
    assert_int_equal(dns_autotrust_state_of(at, root, k[0], 68), DNS_AT_REVOKED);
    assert_true(dns_autotrust_revoked(at, root, r[0], 68));
    assert_int_equal(trusted(at), 1);
    /* the unrevoked form published again does not bring it back */
    observe(at, k, NULL, both, 2, T0 + 3 * DAY);
    assert_int_equal(dns_autotrust_state_of(at, root, k[0], 68), DNS_AT_REVOKED);
    assert_int_equal(trusted(at), 1);
    observe(at, k + 1, NULL, NULL, 1, T0 + 2 * DAY + 30 * DAY); /* remove hold-down */
    assert_int_equal(dns_autotrust_state_of(at, root, k[0], 68), 0);
    dns_autotrust_free(at);
}

/* The state text survives a restart; a bad file is refused whole. */
static void test_state_text(void **state)
{
    (void)state;
    uint8_t k[2][68];
    struct dns_autotrust *at = anchor_and_new_key(k);
    static const bool anchored[2] = {true, false};
    struct str text = STR_INIT, err = STR_INIT;
    dns_autotrust_save(at, &text);
    dns_autotrust_free(at);
    at = dns_autotrust_new();
    if (dns_autotrust_load(at, text.ptr, text.len, &err) != 0)
        fail_msg("%s\n%s", str_cstr(&err), str_cstr(&text));
    assert_int_equal(dns_autotrust_state_of(at, root, k[1], 68), DNS_AT_ADDPEND);
    assert_true(observe(at, k, NULL, anchored, 2, T0 + 30 * DAY)); /* its clock kept going */
    assert_int_equal(trusted(at), 2);
    static const char bad[] = "valid 12 . IN A 192.0.2.1\n";
    assert_int_not_equal(dns_autotrust_load(at, bad, sizeof bad - 1, &err), 0);
    assert_int_equal(trusted(at), 0);
    str_clear(&text);
    str_clear(&err);
    dns_autotrust_free(at);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_hold_down),
        cmocka_unit_test(test_addpend_gone_is_forgotten),
        cmocka_unit_test(test_revocation),
        cmocka_unit_test(test_state_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
