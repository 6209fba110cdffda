/* Unit test: docs/config.md documents every key pigeond accepts, under its section's heading,
 * and no key it does not accept. The keys come from the code: the key tables of the sections
 * struct config holds (config_builtin_section) and of every section a service declares
 * (services_sections), with the keys every service section takes (conf_service_keys). A
 * section that parses its own lines (owns/parse: [http], [http NAME], [metrics], [dhcp],
 * [dhcp-subnet NET]) has no table, so it is asked: a file with the one key is loaded, and the
 * key is accepted unless the load says "unknown key". The names asked are every key of every
 * table, every documented key, and every `strcmp(key, "...")` name in the files that parse
 * those sections (OWN_PARSERS).
 *
 * The documentation side: each `## [a] and [b] — ...` heading names its sections ([http NAME]
 * stands for any name), the first column of the rows of its table (`key`) names its keys, and
 * a heading without a table that says "the same keys as `[x]`" has x's keys. Run from the
 * repository root (as make unit does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "conf/config.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "services/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOC "docs/config.md"
static const char *const OWN_PARSERS[] = {"src/http/service/config.c",
                                          "src/dhcp/service/settings.c", "src/dhcp/config.c",
                                          NULL};

struct names {
    char **v;
    size_t n;
};

static bool names_has(const struct names *s, const char *p, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == len && !memcmp(s->v[i], p, len))
            return true;
    return false;
}

static void names_add(struct names *s, const char *p, size_t len)
{
    if (names_has(s, p, len))
        return;
    s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = xstrndup(p, len);
}

static void names_add_all(struct names *s, const struct names *from)
{
    for (size_t i = 0; i < from->n; i++)
        names_add(s, from->v[i], strlen(from->v[i]));
}

static void names_free(struct names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static void table_names(const struct conf_key *t, struct names *out)
{
    for (; t && t->name; t++)
        names_add(out, t->name, strlen(t->name));
}

/* ---- the documentation ---- */

struct doc_sec {
    char name[64];    /* as a file would name it: "smtp", "http site", "zone example.org" */
    char inherit[64]; /* "the same keys as [x]": x, or "" */
    struct names keys;
    bool checked;     /* a section of the code was compared with it */
};

struct docs {
    struct doc_sec *s;
    size_t n;
};

/* "[http NAME]" -> "http site": a section with an argument gets a real one. */
static void section_name(const char *p, size_t len, char *out, size_t cap)
{
    static const char *const named[][2] = {{"http", "http site"},
                                           {"zone", "zone example.org"},
                                           {"tsig", "tsig key1"},
                                           {"dhcp-subnet", "dhcp-subnet 192.0.2.0/24"}};
    const char *sp = memchr(p, ' ', len);
    snprintf(out, cap, "%.*s", (int)len, p);
    for (size_t i = 0; sp && i < sizeof named / sizeof named[0]; i++)
        if ((size_t)(sp - p) == strlen(named[i][0]) && !memcmp(p, named[i][0], sp - p))
            snprintf(out, cap, "%s", named[i][1]);
}

static struct doc_sec *doc_find(struct docs *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->s[i].name, name))
            return &d->s[i];
    return NULL;
}

static void doc_heading(struct docs *d, const char *line, const char *end)
{
    const char *stop = strstr(line, " \xe2\x80\x94 "); /* " — " */
    if (!stop || stop > end)
        stop = end;
    for (const char *p = line; (p = memchr(p, '[', stop - p)) != NULL;) {
        const char *q = memchr(p, ']', stop - p);
        if (!q)
            break;
        d->s = xrealloc(d->s, (d->n + 1) * sizeof *d->s);
        struct doc_sec *s = &d->s[d->n++];
        memset(s, 0, sizeof *s);
        section_name(p + 1, q - p - 1, s->name, sizeof s->name);
        p = q;
    }
}

/* Every backquoted word of the row's first cell: the keys it documents. */
static void doc_row(struct docs *d, size_t from, const char *line, const char *end)
{
    const char *cell_end = memchr(line + 1, '|', end - line - 1);
    if (!cell_end)
        return;
    for (const char *p = line; (p = memchr(p, '`', cell_end - p)) != NULL;) {
        const char *q = memchr(p + 1, '`', cell_end - p - 1);
        if (!q)
            break;
        if (p[1] != '[')
            for (size_t i = from; i < d->n; i++)
                names_add(&d->s[i].keys, p + 1, q - p - 1);
        p = q + 1;
    }
}

static void doc_parse(const char *text, struct docs *d)
{
    size_t group = 0; /* the sections of the current heading: [group, d->n) */
    bool in_group = false;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        if (!strncmp(line, "## ", 3)) {
            group = d->n;
            doc_heading(d, line, end);
            in_group = d->n > group;
        } else if (in_group && !strncmp(line, "| `", 3)) {
            doc_row(d, group, line, end);
        } else if (in_group) {
            const char *same = strstr(line, "same keys");
            const char *x = same && same < end ? strstr(same, "`[") : NULL;
            const char *y = x && x < end ? memchr(x, ']', end - x) : NULL;
            for (size_t i = group; y && i < d->n; i++)
                section_name(x + 2, y - x - 2, d->s[i].inherit, sizeof d->s[i].inherit);
        }
        line = *end ? end + 1 : end;
    }
    for (size_t i = 0; i < d->n; i++) {
        struct doc_sec *from = d->s[i].inherit[0] ? doc_find(d, d->s[i].inherit) : NULL;
        if (!d->s[i].keys.n && from)
            names_add_all(&d->s[i].keys, &from->keys);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s (run from the repository root)", path);
    struct str s = STR_INIT;
    char buf[8192];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        str_append(&s, buf, k);
    fclose(f);
    char *out = xstrdup(str_cstr(&s));
    str_clear(&s);
    return out;
}

/* ---- the code ---- */

/* Whether a file with just `key` in [section] (and the required [server] keys) loads or fails
 * for any other reason than an unknown key. */
static bool accepted(const struct conf_section *const *declared, const char *section,
                     const char *key)
{
    char path[] = "/tmp/pigeon-test-config-doc-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "[server]\nhostname = h.example\nprimary_domain = example.org\n"
               "data_dir = /nonexistent/pigeon-test\n[%s]\n%s = 1\n",
            section, key);
    fclose(f);
    struct config cfg;
    struct str err = STR_INIT;
    int rc = config_load(path, declared, &cfg, &err);
    unlink(path);
    bool ok = rc == 0 || !strstr(str_cstr(&err), "unknown key");
    if (rc == 0)
        config_free(&cfg);
    str_clear(&err);
    return ok;
}

/* The names of `strcmp(key, "...")` in the files that parse their own sections. */
static void parser_names(struct names *out)
{
    static const char pat[] = "strcmp(key, \"";
    for (size_t i = 0; OWN_PARSERS[i]; i++) {
        char *text = slurp(OWN_PARSERS[i]);
        for (const char *p = text; (p = strstr(p, pat)) != NULL;) {
            p += sizeof pat - 1;
            const char *q = strchr(p, '"');
            assert_non_null(q);
            names_add(out, p, q - p);
        }
        free(text);
    }
}

static void compare(struct docs *d, const char *name, const struct names *code, struct str *out)
{
    struct doc_sec *s = doc_find(d, name);
    if (!s) {
        str_appendf(out, "[%s]: no heading in " DOC "\n", name);
        return;
    }
    s->checked = true;
    for (size_t i = 0; i < code->n; i++)
        if (!names_has(&s->keys, code->v[i], strlen(code->v[i])))
            str_appendf(out, "[%s] %s: accepted, not documented\n", name, code->v[i]);
    for (size_t i = 0; i < s->keys.n; i++)
        if (!names_has(code, s->keys.v[i], strlen(s->keys.v[i])))
            str_appendf(out, "[%s] %s: documented, not accepted\n", name, s->keys.v[i]);
}

static void test_every_key_documented(void **state)
{
    (void)state;
    char *text = slurp(DOC);
    struct docs d = {0};
    doc_parse(text, &d);
    free(text);
    assert_true(d.n > 30);
    const struct conf_section *declared[HOST_MAX_SERVICES + 1];
    services_sections(declared);
    struct str problems = STR_INIT;
    struct names everything = {0};

    const char *name;
    const struct conf_key *keys;
    bool service;
    for (unsigned i = 0; config_builtin_section(i, &name, &keys, &service); i++) {
        struct names code = {0};
        table_names(keys, &code);
        if (service)
            table_names(conf_service_keys, &code);
        const char *full = !strcmp(name, "zone")   ? "zone example.org" /* [zone NAME] */
                           : !strcmp(name, "tsig") ? "tsig key1"
                                                   : name;
        compare(&d, full, &code, &problems);
        names_add_all(&everything, &code);
        names_free(&code);
    }
    for (unsigned g = 0; declared[g]; g++) {
        for (const struct conf_section *def = declared[g]; def->name; def++) {
            if (def->owns)
                continue;
            struct names code = {0};
            table_names(def->keys, &code);
            if (def->service_offset != CONF_NOT_SERVICE)
                table_names(conf_service_keys, &code);
            compare(&d, def->name, &code, &problems);
            names_add_all(&everything, &code);
            names_free(&code);
        }
    }

    /* Sections that parse their own lines: ask them every name there is. */
    for (size_t i = 0; i < d.n; i++)
        names_add_all(&everything, &d.s[i].keys);
    parser_names(&everything);
    for (unsigned g = 0; declared[g]; g++) {
        for (const struct conf_section *def = declared[g]; def->name; def++) {
            if (!def->owns)
                continue;
            unsigned claimed = 0;
            for (size_t i = 0; i < d.n; i++) {
                if (d.s[i].checked || !def->owns(d.s[i].name))
                    continue;
                claimed++;
                struct names code = {0};
                for (size_t k = 0; k < everything.n; k++)
                    if (accepted(declared, d.s[i].name, everything.v[k]))
                        names_add(&code, everything.v[k], strlen(everything.v[k]));
                compare(&d, d.s[i].name, &code, &problems);
                names_free(&code);
            }
            if (!claimed)
                str_appendf(&problems, "[%s]: no heading in " DOC " for its sections\n",
                            def->name);
        }
    }
    for (size_t i = 0; i < d.n; i++)
        if (!d.s[i].checked)
            str_appendf(&problems, "[%s]: documented, but no such section\n", d.s[i].name);

    if (problems.len)
        fail_msg("docs/config.md and the code disagree:\n%s", str_cstr(&problems));
    str_clear(&problems);
    names_free(&everything);
    for (size_t i = 0; i < d.n; i++)
        names_free(&d.s[i].keys);
    free(d.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
