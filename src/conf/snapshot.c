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

/* The sections that stay in struct config: what a reload does with their keys (each applier
 * is named in docs/config.md, "Reloading"), and why the others need a restart. */
static const struct conf_restart server_why[] = {
    {"hostname", "the certificate made on first start, the greetings and the generated names "
                 "take it at start"},
    {"data_dir", "the store, the queue, the journals and the control socket are opened there "
                 "at start"},
    {"tls_cert", "a reload reads the certificate files named at start again; other files need "
                 "a restart"},
    {"tls_key", "a reload reads the certificate files named at start again; other files need "
                "a restart"},
    {"tls_dir", "a reload reads the certificate files named at start again; other files need "
                "a restart"},
    {"user", "privileges are dropped once, at start, after the ports are bound"},
    {"workers", "the worker threads are started once"},
    {"shutdown_timeout", "the shutdown reads the value pigeond started with"},
    {NULL, NULL},
};
static const struct conf_restart dns_why[] = {
    {"*", "the name server's TCP listeners take their limits at start"},
    {NULL, NULL},
};
static const struct conf_restart resolver_why[] = {
    {"cache_size", "the cache is allocated at start"},
    {"root_hints", "the root hints are read at start"},
    {"trust_anchor", "the validator's anchors are read at start (`pigeon dnssec nta` changes "
                     "negative anchors at run time)"},
    {"*", "the resolver's engine copies its settings at start"},
    {NULL, NULL},
};
static const struct conf_restart delivery_why[] = {
    {"resolver", "each worker's DNS stub is made at start"},
    {NULL, NULL},
};

static const struct {
    const char *section;
    const char *const *keys; /* NULL-terminated; "*": every key */
    const struct conf_restart *why;
} builtin[] = {
    {"server",
     (const char *const[]){"log_level", "log", "max_connections", "max_connections_per_ip",
                           "max_prelogin_connections", "login_timeout", "primary_domain",
                           "postmaster", "recipient_delimiter", NULL},
     server_why},
    {"resolver", (const char *const[]){"allow", NULL}, resolver_why},
    {"dns", (const char *const[]){"udp_max", "rrl_rate", "rrl_slip", NULL}, dns_why},
    /* zones added, removed and changed, keys too, as `knotc reload` does (dns/server/service) */
    {"zone *", (const char *const[]){"*", NULL}, NULL},
    {"tsig *", (const char *const[]){"*", NULL}, NULL},
    {"delivery",
     (const char *const[]){"max_connections", "max_per_domain", "retry_initial", "retry_max",
                           "max_age", "scan_interval", "connect_timeout", "command_timeout",
                           "remote_port", "source_address", "tls", "tls_policy", "max_return",
                           NULL},
     delivery_why},
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

/* The declaration of section in cfg: a built-in one (*builtin_out), a declared one, or none. */
static const struct conf_section *find_section(const struct config *cfg, const char *section,
                                               int *builtin_out)
{
    *builtin_out = -1;
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (section_is(builtin[i].section, section)) {
            *builtin_out = (int)i;
            return NULL;
        }
    for (unsigned i = 0; i < cfg->nsec; i++) {
        const struct conf_section *def = cfg->sec_defs[i];
        if (def->owns ? def->owns(section) : !strcmp(def->name, section))
            return def;
    }
    return NULL;
}

bool conf_key_reloads(const struct config *cfg, const char *section, const char *key)
{
    int b;
    const struct conf_section *def = find_section(cfg, section, &b);
    if (b >= 0)
        return listed(builtin[b].keys, key);
    return def && listed(def->reload_keys, key);
}

static const char *why_in(const struct conf_restart *t, const char *key)
{
    const char *any = NULL;
    for (size_t i = 0; t && t[i].key; i++) {
        if (!strcmp(t[i].key, key))
            return t[i].why;
        if (!strcmp(t[i].key, "*"))
            any = t[i].why;
    }
    return any;
}

const char *conf_key_restart_why(const struct config *cfg, const char *section, const char *key)
{
    int b;
    const struct conf_section *def = find_section(cfg, section, &b);
    const char *why = why_in(b >= 0 ? builtin[b].why : def ? def->restart_why : NULL, key);
    if (why)
        return why;
    if (!strncmp(key, "listen", 6))
        return "sockets are bound once, at start, before privileges are dropped";
    if (b < 0 && !def)
        return "no running part reads this section";
    return "read once, when the service starts";
}
