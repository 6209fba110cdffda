/* Unit tests for store/route (aliases, forwards, catch-alls, subaddresses, RFC 2142 roles) and
 * msg/srs (the SRS0 rewrite and its reverse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "msg/srs.h"
#include "store/route.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    struct store *st;
    int64_t bob, alice, pm;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pigeon-route-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    assert_int_equal(store_domain_add(f->st, "hamburger.edu"), 0);
    assert_int_equal(store_domain_add(f->st, "crepes.fr"), 0);
    const char *users[] = {"bob@hamburger.edu", "alice@hamburger.edu", "admin@crepes.fr"};
    int64_t *ids[] = {&f->bob, &f->alice, &f->pm};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_user_add(f->st, users[i], "x"), 0);
        assert_int_equal(store_user_lookup(f->st, users[i], ids[i]), 0);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static const struct store_route_opts opts = {'+', "admin@crepes.fr"};

/* Resolves addr; checks the users (in order) and remotes ("addr<via" pairs). */
static void expect_route(struct fixture *f, const char *addr, const int64_t *users, size_t nu,
                         const char *const *remotes, size_t nr)
{
    struct store_route r;
    assert_int_equal(store_route_resolve(f->st, addr, &opts, &r), 0);
    assert_int_equal(r.n_users, nu);
    for (size_t i = 0; i < nu; i++)
        assert_int_equal(r.users[i], users[i]);
    assert_int_equal(r.n_remotes, nr);
    for (size_t i = 0; i < nr; i++) {
        char got[600];
        snprintf(got, sizeof got, "%s<%s", r.remotes[i].addr, r.remotes[i].via);
        assert_string_equal(got, remotes[i]);
    }
    store_route_clear(&r);
}

static void expect_none(struct fixture *f, const char *addr)
{
    struct store_route r;
    assert_int_equal(store_route_resolve(f->st, addr, &opts, &r), ERR_NOTFOUND);
}

static void test_users_and_subaddress(void **state)
{
    struct fixture *f = *state;
    expect_route(f, "bob@hamburger.edu", &f->bob, 1, NULL, 0);
    expect_route(f, "bob+lists@hamburger.edu", &f->bob, 1, NULL, 0);
    expect_none(f, "carol@hamburger.edu");
    expect_none(f, "+x@hamburger.edu");
}

static void test_alias_expansion(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_alias_add(f->st, "Info@Hamburger.edu", "bob@hamburger.edu"), 0);
    assert_int_equal(store_alias_add(f->st, "info@hamburger.edu", "alice@hamburger.edu"), 0);
    assert_int_equal(store_alias_add(f->st, "info@hamburger.edu", "ext@example.net"), 0);
    assert_int_equal(store_alias_add(f->st, "info@hamburger.edu", "bob@hamburger.edu"),
                     ERR_EXISTS);
    assert_int_equal(store_alias_add(f->st, "x@example.net", "bob@hamburger.edu"), ERR_NOTFOUND);
    assert_int_equal(store_alias_add(f->st, "info@hamburger.edu", "not an address"), ERR_PARSE);
    int64_t both[] = {f->bob, f->alice};
    const char *ext[] = {"ext@example.net<info@hamburger.edu"};
    expect_route(f, "info@hamburger.edu", both, 2, ext, 1);
    expect_route(f, "info+x@hamburger.edu", both, 2, ext, 1);
    /* nested: team -> info (-> bob, alice, ext) and alice again: each once */
    assert_int_equal(store_alias_add(f->st, "team@hamburger.edu", "info@hamburger.edu"), 0);
    assert_int_equal(store_alias_add(f->st, "team@hamburger.edu", "alice@hamburger.edu"), 0);
    expect_route(f, "team@hamburger.edu", both, 2, ext, 1);
    /* a cycle ends */
    assert_int_equal(store_alias_add(f->st, "a@hamburger.edu", "b@hamburger.edu"), 0);
    assert_int_equal(store_alias_add(f->st, "b@hamburger.edu", "a@hamburger.edu"), 0);
    assert_int_equal(store_alias_add(f->st, "b@hamburger.edu", "bob@hamburger.edu"), 0);
    expect_route(f, "a@hamburger.edu", &f->bob, 1, NULL, 0);
    /* only dangling targets: unknown */
    assert_int_equal(store_alias_add(f->st, "gone@hamburger.edu", "nobody@hamburger.edu"), 0);
    expect_none(f, "gone@hamburger.edu");
    assert_int_equal(store_alias_del(f->st, "info@hamburger.edu", "ext@example.net"), 0);
    expect_route(f, "info@hamburger.edu", both, 2, NULL, 0);
    assert_int_equal(store_alias_del(f->st, "info@hamburger.edu", NULL), 0);
    assert_int_equal(store_alias_del(f->st, "info@hamburger.edu", NULL), ERR_NOTFOUND);
    expect_none(f, "info@hamburger.edu");
}

static void test_forward_keep_copy(void **state)
{
    struct fixture *f = *state;
    /* a forward replaces the INBOX... */
    assert_int_equal(store_alias_add(f->st, "bob@hamburger.edu", "bob@example.net"), 0);
    const char *fw[] = {"bob@example.net<bob@hamburger.edu"};
    expect_route(f, "bob@hamburger.edu", NULL, 0, fw, 1);
    /* ...unless the user's own address is a target too */
    assert_int_equal(store_alias_add(f->st, "bob@hamburger.edu", "bob@hamburger.edu"), 0);
    expect_route(f, "bob@hamburger.edu", &f->bob, 1, fw, 1);
    /* a forward to another local user */
    assert_int_equal(store_alias_add(f->st, "alice@hamburger.edu", "bob@hamburger.edu"), 0);
    expect_route(f, "alice@hamburger.edu", &f->bob, 1, fw, 1);
}

static void test_roles_and_catch_all(void **state)
{
    struct fixture *f = *state;
    expect_route(f, "abuse@hamburger.edu", &f->pm, 1, NULL, 0);
    expect_route(f, "postmaster@hamburger.edu", &f->pm, 1, NULL, 0);
    expect_route(f, "hostmaster+x@hamburger.edu", &f->pm, 1, NULL, 0);
    /* a role with its own alias keeps it */
    assert_int_equal(store_alias_add(f->st, "abuse@hamburger.edu", "alice@hamburger.edu"), 0);
    expect_route(f, "abuse@hamburger.edu", &f->alice, 1, NULL, 0);
    expect_none(f, "sales@hamburger.edu");
    assert_int_equal(store_alias_add(f->st, "@Hamburger.edu", "bob@hamburger.edu"), 0);
    expect_route(f, "sales@hamburger.edu", &f->bob, 1, NULL, 0);
    /* users and roles come before the catch-all */
    expect_route(f, "alice@hamburger.edu", &f->alice, 1, NULL, 0);
    expect_route(f, "webmaster@hamburger.edu", &f->pm, 1, NULL, 0);
    expect_none(f, "sales@crepes.fr");
}

static void test_srs(void **state)
{
    const char key[] = "0123456789abcdef0123456789abcdef";
    int64_t now = 1765000000; /* a fixed day */
    char out[600], back[600];
    assert_int_equal(srs_forward(key, 32, now, "Alice@Crepes.fr", "hamburger.edu", out,
                                 sizeof out), 0);
    assert_int_equal(strncmp(out, "SRS0=", 5), 0);
    assert_non_null(strstr(out, "=Crepes.fr=Alice@hamburger.edu"));
    char local[600];
    snprintf(local, sizeof local, "%.*s", (int)(strrchr(out, '@') - out), out);
    assert_int_equal(srs_reverse(key, 32, now, local, back, sizeof back), 0);
    assert_string_equal(back, "Alice@Crepes.fr");
    /* a mail system may lower-case the local part on the way back */
    for (char *p = local; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    assert_int_equal(srs_reverse(key, 32, now + 86400 * 3, local, back, sizeof back), 0);
    assert_string_equal(back, "alice@crepes.fr");
    /* stale, forged, other key, not SRS */
    assert_int_equal(srs_reverse(key, 32, now + 86400 * 30, local, back, sizeof back), ERR_AUTH);
    char forged[600];
    snprintf(forged, sizeof forged, "%s", local);
    memcpy(forged + 5, "####", 4); /* never a base64 hash */
    assert_int_equal(srs_reverse(key, 32, now, forged, back, sizeof back), ERR_AUTH);
    assert_int_equal(srs_reverse("other key", 9, now, local, back, sizeof back), ERR_AUTH);
    assert_int_equal(srs_reverse(key, 32, now, "bob", back, sizeof back), ERR_NOTFOUND);
    assert_int_equal(srs_reverse(key, 32, now, "SRS0=abcd", back, sizeof back), ERR_AUTH);
    assert_int_equal(srs_forward(key, 32, now, "nodomain", "x.y", out, sizeof out), ERR_PARSE);
    assert_int_equal(srs_forward(key, 32, now, "a@b.c", "x.y", out, 10), ERR_RANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_users_and_subaddress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alias_expansion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_keep_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles_and_catch_all, setup, teardown),
        cmocka_unit_test(test_srs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
