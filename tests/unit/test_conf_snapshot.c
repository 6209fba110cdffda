/* Unit tests for conf/snapshot: which keys differ between two files as written (repeated keys
 * as one, order of lines within a section irrelevant, keys only in one file), and which
 * changes a reload applies under the declarations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "conf/config.h"
#include "conf/snapshot.h"

#include <stdio.h>
#include <string.h>

struct seen {
    char text[512];
};

static void on_diff(void *arg, const char *section, const char *key)
{
    struct seen *s = arg;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "[%s] %s;", section, key);
}

static struct conf_snapshot *snap(const char *text)
{
    struct conf_snapshot *s = NULL;
    struct str err = STR_INIT;
    assert_int_equal(conf_snapshot_parse("t.conf", text, strlen(text), &s, &err), 0);
    str_clear(&err);
    return s;
}

static const char *diff(const char *a, const char *b)
{
    static struct seen s;
    s.text[0] = '\0';
    struct conf_snapshot *x = snap(a), *y = snap(b);
    conf_snapshot_diff(x, y, on_diff, &s);
    conf_snapshot_free(x);
    conf_snapshot_free(y);
    return s.text;
}

static void test_same(void **state)
{
    const char *a = "[server]\nhostname = a\nworkers = 2\n[smtp]\nlisten = 1.2.3.4:25\n";
    assert_string_equal(diff(a, a), "");
    /* the order of keys and sections does not matter, comments and blanks neither */
    assert_string_equal(
        diff(a, "# c\n[smtp]\nlisten = 1.2.3.4:25\n\n[server]\nworkers = 2\nhostname = a\n"), "");
}

static void test_changed_added_removed(void **state)
{
    const char *a = "[server]\nhostname = a\nworkers = 2\n[smtp]\nmax_recipients = 5\n";
    const char *b = "[server]\nhostname = b\n[smtp]\nmax_recipients = 5\nauth = yes\n";
    assert_string_equal(diff(a, b), "[server] hostname;[server] workers;[smtp] auth;");
}

static void test_repeated_keys(void **state)
{
    const char *a = "[smtp]\nlisten = 127.0.0.1:25\nlisten = [::1]:25\n";
    assert_string_equal(diff(a, a), "");
    /* one listen line more, one less, or the same lines in another order: changed */
    assert_string_equal(diff(a, "[smtp]\nlisten = 127.0.0.1:25\n"), "[smtp] listen;");
    assert_string_equal(diff(a, "[smtp]\nlisten = [::1]:25\nlisten = 127.0.0.1:25\n"),
                        "[smtp] listen;");
}

static void test_argument_sections(void **state)
{
    const char *a = "[zone a.test]\nfile = a\n[tsig k]\nsecret = AAAA\n";
    assert_string_equal(diff(a, "[zone a.test]\nfile = a\n[tsig k]\nsecret = BBBB\n"),
                        "[tsig k] secret;");
    assert_string_equal(diff(a, "[tsig k]\nsecret = AAAA\n"), "[zone a.test] file;");
}

static void test_empty(void **state)
{
    assert_string_equal(diff("", ""), "");
    assert_string_equal(diff("", "[server]\nlog_level = debug\n"), "[server] log_level;");
}

static const char *const demo_keys[] = {CONF_SERVICE_RELOAD_KEYS, "size", NULL};
static const char *const all_keys[] = {"*", NULL};

static bool owns_site(const char *section)
{
    return !strncmp(section, "site ", 5);
}

static void test_reloads(void **state)
{
    struct conf_section defs[] = {
        {.name = "demo", .reload_keys = demo_keys},
        {.name = "site", .owns = owns_site, .reload_keys = all_keys},
        {.name = "fixed"},
    };
    const struct conf_section *pdefs[] = {&defs[0], &defs[1], &defs[2]};
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.sec_defs = pdefs;
    cfg.nsec = 3;
    assert_true(conf_key_reloads(&cfg, "server", "log_level"));
    assert_true(conf_key_reloads(&cfg, "server", "max_connections"));
    assert_false(conf_key_reloads(&cfg, "server", "workers"));
    assert_false(conf_key_reloads(&cfg, "server", "data_dir"));
    assert_true(conf_key_reloads(&cfg, "resolver", "allow"));
    assert_false(conf_key_reloads(&cfg, "resolver", "listen"));
    assert_true(conf_key_reloads(&cfg, "zone a.test", "file"));
    assert_true(conf_key_reloads(&cfg, "tsig k1", "secret"));
    assert_true(conf_key_reloads(&cfg, "dns", "udp_max"));
    assert_false(conf_key_reloads(&cfg, "dns", "listen"));
    assert_false(conf_key_reloads(&cfg, "zone", "file")); /* "zone *" needs a name */
    assert_false(conf_key_reloads(&cfg, "zonex", "file"));
    assert_true(conf_key_reloads(&cfg, "demo", "size"));
    assert_true(conf_key_reloads(&cfg, "demo", "idle_timeout"));
    assert_false(conf_key_reloads(&cfg, "demo", "listen"));
    assert_true(conf_key_reloads(&cfg, "site www", "root"));
    assert_false(conf_key_reloads(&cfg, "fixed", "anything"));
    assert_false(conf_key_reloads(&cfg, "nosuch", "key"));
}

static const struct conf_restart fixed_why[] = {
    {"cache_dir", "opened at start"},
    {"*", "fixed for good"},
    {NULL, NULL},
};

/* Every key a reload does not apply is given a reason: the section's own, the built-in
 * table's, or the general ones. */
static void test_restart_why(void **state)
{
    struct conf_section defs[] = {
        {.name = "demo", .reload_keys = demo_keys},
        {.name = "fixed", .restart_why = fixed_why},
    };
    const struct conf_section *pdefs[] = {&defs[0], &defs[1]};
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.sec_defs = pdefs;
    cfg.nsec = 2;
    assert_string_equal(conf_key_restart_why(&cfg, "server", "workers"),
                        "the worker threads are started once");
    assert_string_equal(conf_key_restart_why(&cfg, "server", "user"),
                        "privileges are dropped once, at start, after the ports are bound");
    assert_string_equal(conf_key_restart_why(&cfg, "resolver", "cache_size"),
                        "the cache is allocated at start");
    assert_string_equal(conf_key_restart_why(&cfg, "resolver", "min_ttl"),
                        "the resolver's engine copies its settings at start");
    assert_string_equal(conf_key_restart_why(&cfg, "delivery", "resolver"),
                        "each worker's DNS stub is made at start");
    const char *sockets = "sockets are bound once, at start, before privileges are dropped";
    assert_string_equal(conf_key_restart_why(&cfg, "demo", "listen"), sockets);
    assert_string_equal(conf_key_restart_why(&cfg, "delivery", "listen"), sockets);
    assert_string_equal(conf_key_restart_why(&cfg, "demo", "other"),
                        "read once, when the service starts");
    assert_string_equal(conf_key_restart_why(&cfg, "fixed", "cache_dir"), "opened at start");
    assert_string_equal(conf_key_restart_why(&cfg, "fixed", "listen"), "fixed for good");
    assert_string_equal(conf_key_restart_why(&cfg, "nosuch", "key"),
                        "no running part reads this section");
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same),           cmocka_unit_test(test_changed_added_removed),
        cmocka_unit_test(test_repeated_keys),  cmocka_unit_test(test_argument_sections),
        cmocka_unit_test(test_empty),          cmocka_unit_test(test_reloads),
        cmocka_unit_test(test_restart_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
