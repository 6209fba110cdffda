/*
 * Unit tests for dns/zonefile, dns/zone and dns/zoneset: the master-file reader, the whole-zone
 * checks, the database layout (empty non-terminals, cuts, wildcards), and the corpus under
 * tests/dns/zones (valid/ must load, invalid/ must not; run from the repository root).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zoneset.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t *N(const char *text, uint8_t *buf)
{
    size_t len;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, buf, &len, NULL), 0);
    return buf;
}

static const char soa_ns[] = "$TTL 3600\n"
                             "@ IN SOA ns1 hostmaster 7 7200 900 1209600 300\n"
                             "  IN NS ns1\n"
                             "ns1 IN A 192.0.2.1\n";

/* Loads text as zone origin; returns the rc, fills err (caller clears). */
static int load(const char *origin, const char *text, struct dns_zone **z, struct str *err)
{
    uint8_t o[DNS_NAME_MAXLEN];
    *z = NULL;
    return dns_zone_from_text(text, strlen(text), "t.zone", N(origin, o), DNS_ZF_NO_INCLUDE, z,
                              err);
}

static struct dns_zone *load_ok(const char *origin, const char *text)
{
    struct dns_zone *z;
    struct str err = STR_INIT;
    int rc = load(origin, text, &z, &err);
    if (rc)
        fail_msg("zone did not load: %s", str_cstr(&err));
    str_clear(&err);
    return z;
}

/* Expects a load failure whose message starts with want. */
static void load_fail(const char *text, const char *want)
{
    struct dns_zone *z;
    struct str err = STR_INIT;
    int rc = load("example.com.", text, &z, &err);
    if (rc == 0)
        fail_msg("zone loaded but should not: %s", text);
    if (strncmp(str_cstr(&err), want, strlen(want)) != 0)
        fail_msg("error '%s', expected '%s...'", str_cstr(&err), want);
    assert_null(z);
    str_clear(&err);
}

static char *cat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

/* ---- reader ---- */

static void test_basic_load(void **state)
{
    char *text = cat(soa_ns, "www IN A 192.0.2.2\n"
                             "www IN A 192.0.2.2\n"    /* duplicate: dropped */
                             "www 60 IN A 192.0.2.3\n" /* first TTL wins */
                             "mx IN MX 10 www\n");
    struct dns_zone *z = load_ok("example.com.", text);
    free(text);
    assert_int_equal(dns_zone_serial(z), 7);
    assert_int_equal(dns_zone_records(z), 6);
    uint8_t b[DNS_NAME_MAXLEN];
    const struct dns_node *n = dns_zone_find(z, N("WWW.example.COM.", b), NULL);
    assert_non_null(n);
    const struct dns_rrset *rs = dns_node_rrset(n, DNS_TYPE_A);
    assert_non_null(rs);
    assert_int_equal(rs->count, 2);
    assert_int_equal(rs->ttl, 3600);
    assert_null(dns_node_rrset(n, DNS_TYPE_AAAA));
    assert_non_null(dns_zone_soa(z));
    dns_zone_unref(z);
}

static void test_errors_have_file_line(void **state)
{
    char *t = cat(soa_ns, "ok IN A 192.0.2.1\n"
                          "txt IN TXT ( \"a\"\n"
                          "  \"b\" )\n"
                          "bad IN A 1.2.3\n");
    load_fail(t, "t.zone:8: bad IPv4 address");
    free(t);
    t = cat(soa_ns, "x IN TXT (\n \"a\" \n");
    load_fail(t, "t.zone:5: unbalanced parentheses");
    free(t);
    t = cat(soa_ns, "x IN CNAME ns1\nx IN A 192.0.2.2\n");
    load_fail(t, "t.zone:6: x.example.com.: CNAME and other data");
    free(t);
    t = cat(soa_ns, "x.example.net. IN A 192.0.2.2\n");
    load_fail(t, "t.zone:5: out-of-zone data (x.example.net.)");
    free(t);
    load_fail("$TTL 60\n@ IN NS ns1\n", "t.zone:2: example.com.: no SOA record at the zone apex");
    load_fail("$TTL 60\n@ IN SOA a b 1 2 3 4 5\n",
              "t.zone:2: example.com.: no NS records at the zone apex");
    load_fail("", "t.zone:1: example.com.: no SOA record at the zone apex");
    t = cat(soa_ns, "$INCLUDE other.inc\n");
    load_fail(t, "t.zone:5: $INCLUDE is not allowed here");
    free(t);
    t = cat(soa_ns, " IN A 192.0.2.9\n"); /* fine: previous owner */
    struct dns_zone *z = load_ok("example.com.", t);
    dns_zone_unref(z);
    free(t);
    load_fail(" IN A 192.0.2.9\n", "t.zone:1: no current owner name");
}

static void test_ttl_rules(void **state)
{
    uint8_t b[DNS_NAME_MAXLEN];
    /* no $TTL, no explicit TTL: the SOA's minimum, then carried on */
    struct dns_zone *z = load_ok("example.com.", "@ SOA ns1 h 1 2 3 4 55\n NS ns1\n"
                                                 "ns1 A 192.0.2.1\nb 99 A 192.0.2.2\n"
                                                 "c A 192.0.2.3\n");
    assert_int_equal(
        dns_node_rrset(dns_zone_find(z, N("ns1.example.com.", b), NULL), DNS_TYPE_A)->ttl, 55);
    assert_int_equal(
        dns_node_rrset(dns_zone_find(z, N("c.example.com.", b), NULL), DNS_TYPE_A)->ttl, 99);
    dns_zone_unref(z);
    /* $TTL wins over the previous record; above 2^31-1 becomes 0 */
    z = load_ok("example.com.", "$TTL 1h\n@ SOA ns1 h 1 2 3 4 55\n NS ns1\n"
                                "ns1 2d A 192.0.2.1\nb A 192.0.2.2\nc 3000000000 A 192.0.2.3\n");
    assert_int_equal(
        dns_node_rrset(dns_zone_find(z, N("ns1.example.com.", b), NULL), DNS_TYPE_A)->ttl,
        2 * 86400);
    assert_int_equal(
        dns_node_rrset(dns_zone_find(z, N("b.example.com.", b), NULL), DNS_TYPE_A)->ttl, 3600);
    assert_int_equal(
        dns_node_rrset(dns_zone_find(z, N("c.example.com.", b), NULL), DNS_TYPE_A)->ttl, 0);
    dns_zone_unref(z);
    load_fail("ns1 A 192.0.2.1\n", "t.zone:1: no TTL specified");
}

static int count_cb(void *ctx, const struct dns_zonefile_rr *rr, const char **why)
{
    int *n = ctx;
    (*n)++;
    if (rr->type == DNS_TYPE_TXT && rr->rdlen == 4 && !memcmp(rr->rdata, "\3bad", 4)) {
        *why = "refused by the callback";
        return ERR_PARSE;
    }
    return 0;
}

static void test_reader_tokens(void **state)
{
    static const char text[] = "$ORIGIN example.com.\n$TTL 60\n"
                               "a\\ b IN TXT \"x;y\" z\\;w ; comment (with parens\n"
                               "\"quoted\" IN A 192.0.2.1\n"
                               "c IN TXT ( \"multi\n"; /* a newline inside quotes: unbalanced */
    uint8_t o[DNS_NAME_MAXLEN];
    struct str err = STR_INIT;
    int n = 0;
    int rc = dns_zonefile_parse(text, strlen(text), "q.zone", N("example.com.", o), 0, count_cb, &n,
                                &err);
    assert_int_equal(rc, ERR_PARSE);
    assert_int_equal(n, 2);
    assert_string_equal(str_cstr(&err), "q.zone:5: unbalanced quotes");
    str_reset(&err);
    static const char text2[] = "$TTL 5\nx TXT ok\ny TXT bad\n";
    n = 0;
    rc = dns_zonefile_parse(text2, strlen(text2), "r.zone", o, 0, count_cb, &n, &err);
    assert_int_equal(rc, ERR_PARSE);
    assert_string_equal(str_cstr(&err), "r.zone:3: refused by the callback");
    str_clear(&err);
}

/* ---- $INCLUDE on disk ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_include_files(void **state)
{
    char dir[] = "/tmp/pigeon-zone-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256], q[256], r[256], s[256];
    snprintf(p, sizeof p, "%s/main.zone", dir);
    snprintf(q, sizeof q, "%s/sub", dir);
    mkdir(q, 0700);
    snprintf(q, sizeof q, "%s/sub/part.inc", dir);
    snprintf(r, sizeof r, "%s/sub/deeper.inc", dir);
    snprintf(s, sizeof s, "%s/self.zone", dir);
    char *main_text = cat(soa_ns, "$INCLUDE sub/part.inc www.example.com.\nafter A 192.0.2.9\n");
    write_file(p, main_text);
    free(main_text);
    /* relative to the including file: sub/deeper.inc, not ./deeper.inc */
    write_file(q, "@ A 192.0.2.10\n$INCLUDE deeper.inc\n");
    write_file(r, "x TXT \"deep\"\n");
    write_file(s, "$TTL 60\n$INCLUDE self.zone\n");
    uint8_t o[DNS_NAME_MAXLEN], b[DNS_NAME_MAXLEN];
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    int rc = dns_zone_load(p, N("example.com.", o), &z, &err);
    if (rc)
        fail_msg("%s", str_cstr(&err));
    assert_non_null(dns_zone_find(z, N("www.example.com.", b), NULL));
    assert_non_null(dns_zone_find(z, N("x.www.example.com.", b), NULL));
    assert_non_null(dns_zone_find(z, N("after.example.com.", b), NULL));
    dns_zone_unref(z);
    /* self-inclusion stops at the depth limit, reported where it happened */
    rc = dns_zone_load(s, o, &z, &err);
    assert_int_equal(rc, ERR_LIMIT);
    assert_non_null(strstr(str_cstr(&err), "self.zone:2: $INCLUDE nested more than"));
    str_reset(&err);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.zone", dir);
    assert_int_equal(dns_zone_load(missing, o, &z, &err), ERR_IO);
    assert_non_null(strstr(str_cstr(&err), "none.zone: cannot read"));
    str_clear(&err);
    unlink(p);
    unlink(q);
    unlink(r);
    unlink(s);
    snprintf(q, sizeof q, "%s/sub", dir);
    rmdir(q);
    rmdir(dir);
}

/* ---- database layout ---- */

static void test_layout(void **state)
{
    char *t = cat(soa_ns, "a.b.ent IN TXT \"deep\"\n"
                          "sub IN NS ns.sub\n"
                          "ns.sub IN A 192.0.2.53\n"
                          "deep.below.sub IN TXT \"occluded\"\n"
                          "*.wild IN A 192.0.2.80\n");
    struct dns_zone *z = load_ok("Example.COM.", t);
    free(t);
    size_t count;
    const struct dns_node *nodes = dns_zone_nodes(z, &count);
    /* apex, ns1, a.b.ent + b.ent + ent, sub, ns.sub, below.sub + deep.below.sub, wild + *.wild */
    assert_int_equal(count, 11);
    assert_true(nodes[0].flags & DNS_NODE_APEX);
    for (size_t i = 1; i < count; i++)
        assert_true(dns_name_cmp(nodes[i - 1].name, nodes[i].name) < 0);
    uint8_t b[DNS_NAME_MAXLEN];
    const struct dns_node *ce = NULL;
    const struct dns_node *n = dns_zone_find(z, N("ent.example.com.", b), &ce);
    assert_non_null(n);
    assert_int_equal(n->nrrsets, 0); /* empty non-terminal */
    assert_null(dns_zone_find(z, N("x.b.ent.example.com.", b), &ce));
    assert_true(dns_name_eq(ce->name, N("b.ent.example.com.", b)));
    n = dns_zone_find(z, N("sub.example.com.", b), NULL);
    assert_true(n->flags & DNS_NODE_DELEG);
    assert_int_equal(dns_zone_node(z, n->cut), n);
    const struct dns_node *g = dns_zone_find(z, N("ns.sub.example.com.", b), NULL);
    assert_true(g->flags & DNS_NODE_OCCLUDED);
    assert_int_equal(g->cut, n->cut);
    assert_int_equal(dns_zone_node(z, g->parent), n);
    assert_null(dns_zone_find(z, N("x.y.sub.example.com.", b), &ce));
    assert_int_equal(ce, n);
    n = dns_zone_find(z, N("wild.example.com.", b), NULL);
    assert_int_not_equal(n->wild, DNS_NODE_NONE);
    assert_true(dns_zone_node(z, n->wild)->flags & DNS_NODE_WILD);
    assert_int_equal(nodes[0].wild, DNS_NODE_NONE);
    assert_int_equal(nodes[0].cut, DNS_NODE_NONE);
    dns_zone_unref(z);
}

static void test_builder_api(void **state)
{
    uint8_t o[DNS_NAME_MAXLEN], b[DNS_NAME_MAXLEN];
    struct dns_zone_builder *zb = dns_zone_builder_new(N("example.org.", o));
    const char *why = NULL;
    static const uint8_t soa[] = "\3ns1\0\1h\0\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5";
    assert_int_equal(
        dns_zone_builder_add(zb, o, DNS_TYPE_SOA, 60, soa, sizeof soa - 1, NULL, 0, &why), 0);
    assert_int_equal(
        dns_zone_builder_add(zb, o, DNS_TYPE_NS, 60, (const uint8_t *)"\3ns1\0", 5, NULL, 0, &why),
        0);
    assert_int_equal(dns_zone_builder_add(zb, N("a.example.net.", b), DNS_TYPE_A, 60,
                                          (const uint8_t *)"\1\2\3\4", 4, NULL, 0, &why),
                     ERR_PARSE);
    assert_string_equal(why, "out-of-zone data");
    assert_int_equal(dns_zone_builder_add(zb, N("a.example.org.", b), DNS_TYPE_A, 60,
                                          (const uint8_t *)"\1\2\3", 3, NULL, 0, &why),
                     ERR_PARSE);
    assert_int_equal(dns_zone_builder_add(zb, o, DNS_TYPE_OPT, 60, NULL, 0, NULL, 0, &why),
                     ERR_PARSE);
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    assert_int_equal(dns_zone_builder_finish(zb, &z, &err), 0);
    assert_int_equal(dns_zone_records(z), 2);
    assert_int_equal(dns_zone_serial(z), 1);
    str_clear(&err);
    dns_zone_unref(z);
}

/* ---- zone set ---- */

static void test_zoneset(void **state)
{
    struct dns_zone *parent = load_ok("example.com.", soa_ns);
    struct dns_zone *child = load_ok("sub.example.com.", soa_ns);
    struct dns_zone *other = load_ok("example.net.", soa_ns);
    struct dns_zoneset *zs = dns_zoneset_new();
    dns_zoneset_add(zs, parent);
    dns_zoneset_add(zs, child);
    dns_zoneset_add(zs, other);
    uint8_t b[DNS_NAME_MAXLEN];
    assert_int_equal(dns_zoneset_find(zs, N("a.b.SUB.example.com.", b)), child);
    assert_int_equal(dns_zoneset_find(zs, N("sub.example.com.", b)), child);
    assert_int_equal(dns_zoneset_find(zs, N("ub.example.com.", b)), parent);
    assert_int_equal(dns_zoneset_find(zs, N("example.net.", b)), other);
    assert_null(dns_zoneset_find(zs, N("example.org.", b)));
    assert_null(dns_zoneset_find(zs, N(".", b)));
    assert_int_equal(dns_zoneset_count(zs), 3);
    /* a new version of a zone goes into a clone; the old set keeps serving the old one */
    struct dns_zone *child2 = load_ok("sub.example.com.", soa_ns);
    struct dns_zoneset *next = dns_zoneset_clone(zs);
    dns_zoneset_add(next, child2);
    assert_int_equal(dns_zoneset_count(next), 3);
    assert_int_equal(dns_zoneset_get(next, N("sub.example.com.", b)), child2);
    assert_int_equal(dns_zoneset_get(zs, N("sub.example.com.", b)), child);
    assert_int_equal(dns_zoneset_remove(next, N("example.net.", b)), 0);
    assert_int_equal(dns_zoneset_remove(next, N("example.net.", b)), ERR_NOTFOUND);
    assert_null(dns_zoneset_find(next, N("www.example.net.", b)));
    dns_zone_unref(parent);
    dns_zone_unref(child);
    dns_zone_unref(other);
    dns_zone_unref(child2);
    dns_zoneset_unref(zs); /* the shared zones stay alive in next */
    assert_int_equal(dns_zoneset_find(next, N("www.example.com.", b)), dns_zoneset_at(next, 0));
    /* many zones: the hash grows */
    for (int i = 0; i < 100; i++) {
        char name[64];
        snprintf(name, sizeof name, "z%d.example.org.", i);
        struct dns_zone *z = load_ok(name, soa_ns);
        dns_zoneset_add(next, z);
        dns_zone_unref(z);
    }
    assert_non_null(dns_zoneset_find(next, N("www.z57.example.org.", b)));
    dns_zoneset_unref(dns_zoneset_ref(next));
    dns_zoneset_unref(next);
}

/* ---- corpus ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct str s = STR_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        str_append(&s, buf, n);
    fclose(f);
    str_appendc(&s, '\0');
    return str_steal(&s);
}

/* "; origin: NAME" on a line of its own, else example.com. */
static void corpus_origin(const char *path, char *out, size_t cap)
{
    char *text = slurp(path);
    const char *o = strstr(text, "; origin: ");
    snprintf(out, cap, "example.com.");
    if (o) {
        o += 10;
        size_t n = strcspn(o, "\r\n");
        snprintf(out, cap, "%.*s.", (int)n, o);
    }
    free(text);
}

static int corpus_dir(const char *dir, bool valid)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".zone") != 0)
            continue;
        char path[512], origin[300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        corpus_origin(path, origin, sizeof origin);
        uint8_t o[DNS_NAME_MAXLEN];
        struct dns_zone *z = NULL;
        struct str err = STR_INIT;
        int rc = dns_zone_load(path, N(origin, o), &z, &err);
        if (valid && rc)
            fail_msg("valid zone refused: %s", str_cstr(&err));
        if (!valid && !rc)
            fail_msg("invalid zone accepted: %s", path);
        if (!valid && strncmp(str_cstr(&err), path, strlen(path)) != 0)
            fail_msg("error without the file name: %s", str_cstr(&err));
        dns_zone_unref(z);
        str_clear(&err);
        files++;
    }
    closedir(d);
    return files;
}

static void test_corpus(void **state)
{
    int v = corpus_dir("tests/dns/zones/valid", true);
    int i = corpus_dir("tests/dns/zones/invalid", false);
    if (v < 0 || i < 0)
        skip(); /* not run from the repository root */
    assert_true(v >= 15);
    assert_true(i >= 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_load),    cmocka_unit_test(test_errors_have_file_line),
        cmocka_unit_test(test_ttl_rules),     cmocka_unit_test(test_reader_tokens),
        cmocka_unit_test(test_include_files), cmocka_unit_test(test_layout),
        cmocka_unit_test(test_builder_api),   cmocka_unit_test(test_zoneset),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
