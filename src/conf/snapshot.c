/* snapshot — see snapshot.h. */
#include "conf/snapshot.h"

#include "conf/config.h"
#include "core/ini.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    char *section;
    char *key;
    struct str values; /* every value of the key, each followed by '\n' */
};

struct conf_snapshot {
    struct entry *e;
    size_t n;
};

struct conf_snapshot *conf_snapshot_new(void)
{
    return xcalloc(1, sizeof(struct conf_snapshot));
}

void conf_snapshot_add(struct conf_snapshot *s, const char *section, const char *key,
                       const char *value)
{
    struct entry *e = NULL;
    for (size_t i = s->n; i-- > 0 && !e;) /* a repeated key is usually the last one seen */
        if (!strcmp(s->e[i].section, section) && !strcmp(s->e[i].key, key))
            e = &s->e[i];
    if (!e) {
        s->e = xrealloc(s->e, (s->n + 1) * sizeof *s->e);
        e = &s->e[s->n++];
        *e = (struct entry){xstrdup(section), xstrdup(key), STR_INIT};
    }
    str_appends(&e->values, value);
    str_append(&e->values, "\n", 1);
}

static int entry_cmp(const void *va, const void *vb)
{
    const struct entry *a = va, *b = vb;
    int c = strcmp(a->section, b->section);
    return c ? c : strcmp(a->key, b->key);
}

void conf_snapshot_seal(struct conf_snapshot *s)
{
    if (s->n)
        qsort(s->e, s->n, sizeof *s->e, entry_cmp);
}

static int on_key(void *vs, const char *section, const char *key, const char *value,
                  unsigned line, const char **why)
{
    (void)line, (void)why;
    if (key) /* a header alone changes nothing: its keys do */
        conf_snapshot_add(vs, section, key, value);
    return 0;
}

int conf_snapshot_parse(const char *name, const char *text, size_t len,
                        struct conf_snapshot **out, struct str *err)
{
    struct conf_snapshot *s = conf_snapshot_new();
    int rc = ini_parse_text(name, text, len, on_key, s, err);
    if (rc < 0) {
        conf_snapshot_free(s);
        return rc;
    }
    conf_snapshot_seal(s);
    *out = s;
    return 0;
}

void conf_snapshot_free(struct conf_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].section);
        free(s->e[i].key);
        str_clear(&s->e[i].values);
    }
    free(s->e);
    free(s);
}

void conf_snapshot_diff(const struct conf_snapshot *a, const struct conf_snapshot *b,
                        conf_diff_fn fn, void *arg)
{
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) { /* a merge of the two sorted lists */
        int c = i == a->n ? 1 : j == b->n ? -1 : entry_cmp(&a->e[i], &b->e[j]);
        if (c < 0) {
            fn(arg, a->e[i].section, a->e[i].key);
            i++;
        } else if (c > 0) {
            fn(arg, b->e[j].section, b->e[j].key);
            j++;
        } else {
            const struct str *x = &a->e[i].values, *y = &b->e[j].values;
            if (x->len != y->len || memcmp(str_cstr(x), str_cstr(y), x->len) != 0)
                fn(arg, a->e[i].section, a->e[i].key);
            i++, j++;
        }
    }
}

/* The sections that stay in struct config, and what a reload does with their keys (each
 * applier is named in docs/config.md, "Reloading"). */
static const struct {
    const char *section;
    const char *const *keys; /* NULL-terminated; "*": every key */
} builtin[] = {
    {"server", (const char *const[]){"log_level", "log", "max_connections",
                                     "max_connections_per_ip", "max_prelogin_connections",
                                     "login_timeout", "primary_domain", "postmaster",
                                     "recipient_delimiter", NULL}},
    {"resolver", (const char *const[]){"allow", NULL}},
    {"dns", (const char *const[]){"udp_max", "rrl_rate", "rrl_slip", NULL}},
    /* zones added, removed and changed, keys too, as `knotc reload` does (dns/server/service) */
    {"zone *", (const char *const[]){"*", NULL}},
    {"tsig *", (const char *const[]){"*", NULL}},
    {"delivery", (const char *const[]){"max_connections", "max_per_domain", "retry_initial",
                                       "retry_max", "max_age", "scan_interval",
                                       "connect_timeout", "command_timeout", "remote_port",
                                       "source_address", "tls", "tls_policy", "max_return",
                                       NULL}},
};

static bool listed(const char *const *keys, const char *key)
{
    for (size_t i = 0; keys && keys[i]; i++)
        if (!strcmp(keys[i], "*") || !strcmp(keys[i], key))
            return true;
    return false;
}

/* "zone *" stands for every [zone NAME]. */
static bool section_is(const char *pattern, const char *section)
{
    size_t n = strlen(pattern);
    if (n > 2 && !strcmp(pattern + n - 2, " *"))
        return !strncmp(pattern, section, n - 1) && section[n - 1];
    return !strcmp(pattern, section);
}

bool conf_key_reloads(const struct config *cfg, const char *section, const char *key)
{
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (section_is(builtin[i].section, section))
            return listed(builtin[i].keys, key);
    for (unsigned i = 0; i < cfg->nsec; i++) {
        const struct conf_section *def = cfg->sec_defs[i];
        bool mine = def->owns ? def->owns(section) : !strcmp(def->name, section);
        if (mine)
            return listed(def->reload_keys, key);
    }
    return false;
}
