/* Unit tests for auth/: SASL decoding, login names, password hashes, throttling. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth/login.h"
#include "auth/password.h"
#include "auth/sasl.h"
#include "auth/throttle.h"
#include "core/err.h"
#include "msg/base64.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* base64 of raw bytes, into a static-size buffer. */
static void b64(const void *raw, size_t n, char *out)
{
    assert_true(base64_encoded_size(n) <= 1400);
    base64_encode(raw, n, out);
}

static void test_plain_textbook(void **state)
{
    struct sasl_creds c;
    const char *resp = "AGJvYgBodW5ncnk="; /* "\0bob\0hungry" */
    assert_int_equal(sasl_plain_decode(resp, strlen(resp), &c), 0);
    assert_string_equal(c.authzid, "");
    assert_string_equal(c.user, "bob");
    assert_string_equal(c.pass, "hungry");
    sasl_creds_wipe(&c);
    assert_string_equal(c.user, "");
    assert_string_equal(c.pass, "");
}

static void test_plain_authzid(void **state)
{
    char enc[1400];
    struct sasl_creds c;
    b64("admin\0bob\0hungry", 16, enc);
    assert_int_equal(sasl_plain_decode(enc, strlen(enc), &c), 0);
    assert_string_equal(c.authzid, "admin");
    assert_string_equal(c.user, "bob");
    assert_string_equal(c.pass, "hungry");
}

static void test_plain_malformed(void **state)
{
    static const struct {
        const char *raw;
        size_t n;
    } bad[] = {
        {"bobhungry", 9}, {"\0bobhungry", 10}, {"\0\0hungry", 8},
        {"\0bob\0", 5},   {"\0bob\0pw\0x", 9}, {"", 0},
        {"\0\0", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char enc[64];
        struct sasl_creds c;
        b64(bad[i].raw, bad[i].n, enc);
        assert_int_equal(sasl_plain_decode(enc, strlen(enc), &c), ERR_PARSE);
        assert_string_equal(c.user, "");
        assert_string_equal(c.pass, "");
    }
    struct sasl_creds c;
    assert_int_equal(sasl_plain_decode("=", 1, &c), ERR_PARSE);
    assert_int_equal(sasl_plain_decode("AGJvYgBodW5ncnk", 15, &c), 0); /* unpadded is fine */
    assert_int_equal(sasl_plain_decode("AGJvYgBod W5ncnk=", 17, &c), ERR_PARSE);
}

static void test_plain_limits(void **state)
{
    char raw[2048], enc[1400];
    struct sasl_creds c;
    /* 255-octet fields fit; 256 do not */
    raw[0] = '\0';
    memset(raw + 1, 'u', 255);
    raw[256] = '\0';
    memset(raw + 257, 'p', 255);
    b64(raw, 512, enc);
    assert_int_equal(sasl_plain_decode(enc, strlen(enc), &c), 0);
    assert_int_equal(strlen(c.user), 255);
    assert_int_equal(strlen(c.pass), 255);
    raw[0] = '\0';
    memset(raw + 1, 'u', 256);
    raw[257] = '\0';
    memset(raw + 258, 'p', 10);
    b64(raw, 268, enc);
    assert_int_equal(sasl_plain_decode(enc, strlen(enc), &c), ERR_RANGE);
    /* an absurdly long response is refused before decoding */
    memset(raw, 'A', 2048);
    assert_int_equal(sasl_plain_decode(raw, 2048, &c), ERR_RANGE);
}

static void test_field_decode(void **state)
{
    char out[32];
    assert_int_equal(sasl_field_decode("Ym9i", 4, out, sizeof out), 0);
    assert_string_equal(out, "bob");
    assert_int_equal(sasl_field_decode("", 0, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(sasl_field_decode("AGJvYg==", 8, out, sizeof out), ERR_PARSE);
    assert_int_equal(sasl_field_decode("Ym9i", 4, out, 3), ERR_RANGE);
    assert_int_equal(sasl_field_decode("Ym9i", 4, out, 4), 0);
    assert_int_equal(sasl_field_decode("*", 1, out, sizeof out), ERR_PARSE);
}

static void test_login_canonical(void **state)
{
    char out[64];
    assert_int_equal(login_canonical("Bob", "hamburger.edu", out, sizeof out), 0);
    assert_string_equal(out, "bob@hamburger.edu");
    assert_int_equal(login_canonical("bob", "Hamburger.EDU", out, sizeof out), 0);
    assert_string_equal(out, "bob@hamburger.edu");
    assert_int_equal(login_canonical("Alice@Crepes.FR", "hamburger.edu", out, sizeof out), 0);
    assert_string_equal(out, "alice@crepes.fr");
    assert_int_equal(login_canonical("bob", NULL, out, sizeof out), 0);
    assert_string_equal(out, "bob");
    assert_int_equal(login_canonical("", "h.edu", out, sizeof out), ERR_PARSE);
    assert_int_equal(login_canonical("a b", "h.edu", out, sizeof out), ERR_PARSE);
    assert_int_equal(login_canonical("a\tb", "h.edu", out, sizeof out), ERR_PARSE);
    assert_int_equal(login_canonical("a@b@c", "h.edu", out, sizeof out), ERR_PARSE);
    assert_int_equal(login_canonical("@b", "h.edu", out, sizeof out), ERR_PARSE);
    assert_int_equal(login_canonical("a@", "h.edu", out, sizeof out), ERR_PARSE);
    /* "bob@hamburger.edu" is 17 octets: 18 with the NUL fits, 17 does not */
    assert_int_equal(login_canonical("bob", "hamburger.edu", out, 18), 0);
    assert_int_equal(login_canonical("bob", "hamburger.edu", out, 17), ERR_RANGE);
    assert_string_equal(out, "");
}

static void test_password(void **state)
{
    char *h = NULL;
    assert_int_equal(password_hash("hungry", &h), 0);
    assert_non_null(h);
    assert_memory_equal(h, "$y$", 3);
    assert_int_equal(password_verify("hungry", h), 0);
    assert_int_equal(password_verify("Hungry", h), ERR_AUTH);
    assert_int_equal(password_verify("", h), ERR_AUTH);
    /* same password, fresh salt */
    char *h2 = NULL;
    assert_int_equal(password_hash("hungry", &h2), 0);
    assert_string_not_equal(h, h2);
    assert_int_equal(password_verify("hungry", h2), 0);
    free(h);
    free(h2);
    /* unusable stored hashes never match */
    assert_int_equal(password_verify("x", ""), ERR_AUTH);
    assert_int_equal(password_verify("x", "*"), ERR_AUTH);
    assert_int_equal(password_verify("x", "!locked"), ERR_AUTH);
    assert_int_equal(password_verify("x", "$y$"), ERR_AUTH);
}

#define MIN_MS 60000u

static void test_throttle_growth(void **state)
{
    struct throttle *t = throttle_new(16);
    uint64_t now = 1000000000;
    assert_int_equal(throttle_delay_ms(t, "192.0.2.1", "bob", now), 0);
    static const unsigned want[] = {1000, 2000, 4000, 8000, 15000, 15000, 15000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        throttle_failure(t, "192.0.2.1", "bob", now);
        assert_int_equal(throttle_delay_ms(t, "192.0.2.1", "bob", now), want[i]);
    }
    assert_int_equal(throttle_delay_ms(t, "192.0.2.2", "alice", now), 0);
    throttle_success(t, "192.0.2.1", "bob");
    /* The pair is cleared; 7 failures on bob (7 / 4 = 1 point) and from the address remain. */
    assert_int_equal(throttle_delay_ms(t, "192.0.2.1", "bob", now), 1000);
    throttle_free(t);
}

/* Issue 10 item 5: a success on the attacker's own account clears nothing of the victim's. */
static void test_throttle_success_own_pair(void **state)
{
    struct throttle *t = throttle_new(64);
    uint64_t now = 1000000000;
    for (int i = 0; i < 3; i++) {
        throttle_failure(t, "198.51.100.7", "victim@hamburger.edu", now);
        throttle_success(t, "198.51.100.7", "mallory@hamburger.edu");
    }
    assert_int_equal(throttle_delay_ms(t, "198.51.100.7", "victim@hamburger.edu", now), 4000);
    /* The victim from elsewhere is not slowed by a few failures on the account... */
    assert_int_equal(throttle_delay_ms(t, "203.0.113.9", "victim@hamburger.edu", now), 0);
    /* ...but many addresses guessing one account are. */
    for (int i = 0; i < 8; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "203.0.113.%d", 100 + i);
        throttle_failure(t, addr, "victim@hamburger.edu", now);
    }
    assert_int_equal(throttle_delay_ms(t, "203.0.113.9", "victim@hamburger.edu", now), 2000);
    /* One address trying many accounts is slowed on a fresh account too. */
    for (int i = 0; i < 8; i++) {
        char user[32];
        snprintf(user, sizeof user, "user%d", i);
        throttle_failure(t, "192.0.2.66", user, now);
    }
    assert_int_equal(throttle_delay_ms(t, "192.0.2.66", "fresh", now), 2000);
    throttle_free(t);
}

/* The delay is taken before hashing, and parallel attempts are spaced by it. */
static void test_throttle_begin_spacing(void **state)
{
    struct throttle *t = throttle_new(16);
    uint64_t now = 1000000000;
    assert_int_equal(throttle_begin(t, "192.0.2.1", "bob", now), 0);
    throttle_failure(t, "192.0.2.1", "bob", now + 50);
    throttle_failure(t, "192.0.2.1", "bob", now + 60); /* score 2: 2 s */
    /* The entries were made at the first failure (now + 50): the next start is 2 s after. */
    assert_int_equal(throttle_begin(t, "192.0.2.1", "bob", now + 100), 2050 - 100);
    assert_int_equal(throttle_begin(t, "192.0.2.1", "bob", now + 100), 4050 - 100);
    assert_int_equal(throttle_begin(t, "192.0.2.1", "bob", now + 100), 6050 - 100);
    /* Another pair on the same address and account is free (scores below the shared weight). */
    assert_int_equal(throttle_begin(t, "192.0.2.2", "carol", now + 100), 0);
    throttle_free(t);
}

static void test_throttle_decay(void **state)
{
    struct throttle *t = throttle_new(8);
    uint64_t now = 1000000000;
    for (int i = 0; i < 3; i++)
        throttle_failure(t, "2001:db8::1", "bob", now);
    assert_int_equal(throttle_delay_ms(t, "2001:db8::1", "bob", now), 4000);
    assert_int_equal(throttle_delay_ms(t, "2001:db8::1", "bob", now + MIN_MS - 1), 4000);
    assert_int_equal(throttle_delay_ms(t, "2001:db8::1", "bob", now + MIN_MS), 2000);
    assert_int_equal(throttle_delay_ms(t, "2001:db8::1", "bob", now + 150000), 1000);
    assert_int_equal(throttle_delay_ms(t, "2001:db8::1", "bob", now + 180000), 0);
    /* a clock that goes back does not underflow */
    throttle_failure(t, "2001:db8::1", "bob", now + 200000);
    assert_int_equal(throttle_delay_ms(t, "2001:db8::1", "bob", now), 1000);
    throttle_free(t);
}

static void test_throttle_evicts_oldest(void **state)
{
    struct throttle *t = throttle_new(6); /* three keys per failure: two attempts fit */
    throttle_failure(t, "a", "x", 100000);
    throttle_failure(t, "b", "y", 110000);
    throttle_failure(t, "a", "x", 115000); /* "a" touched again: now "b" is the oldest */
    throttle_failure(t, "c", "z", 120000); /* evicts "b" */
    assert_int_equal(throttle_delay_ms(t, "a", "x", 120000), 2000);
    assert_int_equal(throttle_delay_ms(t, "b", "y", 120000), 0);
    assert_int_equal(throttle_delay_ms(t, "c", "z", 120000), 1000);
    throttle_free(t);
    throttle_free(NULL);
}

struct hammer_arg {
    struct throttle *t;
    char addr[32];
};

static void *hammer(void *p)
{
    struct hammer_arg *a = p;
    for (int i = 0; i < 2000; i++) {
        throttle_failure(a->t, a->addr, "bob", 1000000 + (uint64_t)i * 1000);
        (void)throttle_begin(a->t, a->addr, "bob", 1000000 + (uint64_t)i * 1000);
        if (i % 7 == 0)
            throttle_success(a->t, a->addr, "bob");
    }
    return NULL;
}

static void test_throttle_threads(void **state)
{
    struct throttle *t = throttle_new(4);
    pthread_t th[8];
    struct hammer_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i].t = t;
        snprintf(args[i].addr, sizeof args[i].addr, "10.0.0.%d", i);
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_textbook),   cmocka_unit_test(test_plain_authzid),
        cmocka_unit_test(test_plain_malformed),  cmocka_unit_test(test_plain_limits),
        cmocka_unit_test(test_field_decode),     cmocka_unit_test(test_login_canonical),
        cmocka_unit_test(test_password),         cmocka_unit_test(test_throttle_growth),
        cmocka_unit_test(test_throttle_success_own_pair), cmocka_unit_test(test_throttle_begin_spacing),
        cmocka_unit_test(test_throttle_decay),   cmocka_unit_test(test_throttle_evicts_oldest),
        cmocka_unit_test(test_throttle_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
