#include "conf/config.h"
#include "conf/snapshot.h"

#include "core/err.h"
#include "core/idna.h"
#include "core/ini.h"
#include "core/log.h"
#include "core/xmalloc.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Key tables: see conf/keys.h. Every key is documented in docs/config.md. */
#define KEY(n, t, off) {.name = (n), .type = (t), .offset = (off)}
#define NUM(n, t, off, lo, hi) {.name = (n), .type = (t), .offset = (off), .min = (lo), .max = (hi)}
#define SRV(f) offsetof(struct config, f)
#define ACC(f) offsetof(struct config_access, f)
#define DNS(f) offsetof(struct config_dns, f)
#define ZONE(f) offsetof(struct config_zone, f)
#define TSIG(f) offsetof(struct config_tsig, f)
#define RES(f) offsetof(struct config_resolver, f)
#define DLV(f) offsetof(struct config_delivery, f)

static const char *const plaintext_modes[] = {"no", "loopback", "yes", NULL};
static const char *const tls_policies[] = {"none", "opportunistic", "required", NULL};

static int parse_log_level(const char *v, void *sec, void *field, const char **why)
{
    int lv = log_level_parse(v);
    if (lv < 0) {
        *why = "log_level must be err, warn, info or debug";
        return ERR_PARSE;
    }
    *(int *)field = lv;
    return 0;
}

static const struct conf_key server_keys[] = {
    KEY("hostname", CONF_STR, SRV(hostname)),
    KEY("primary_domain", CONF_STR, SRV(primary_domain)),
    KEY("data_dir", CONF_STR, SRV(data_dir)),
    KEY("postmaster", CONF_STR, SRV(postmaster)),
    KEY("tls_cert", CONF_STR, SRV(tls_cert)),
    KEY("tls_key", CONF_STR, SRV(tls_key)),
    KEY("tls_dir", CONF_STR, SRV(tls_dir)),
    KEY("recipient_delimiter", CONF_STR, SRV(recipient_delimiter)),
    {.name = "log_level", .type = CONF_CUSTOM, .offset = SRV(log_level), .parse = parse_log_level},
    KEY("log", CONF_STR, SRV(log)),
    KEY("user", CONF_STR, SRV(user)),
    NUM("workers", CONF_UINT, SRV(workers), 1, 64),
    NUM("max_connections", CONF_UINT, SRV(max_connections), 1, 1000000),
    NUM("max_connections_per_ip", CONF_UINT, SRV(max_connections_per_ip), 1, 1000000),
    NUM("max_prelogin_connections", CONF_UINT, SRV(max_prelogin_connections), 1, 1000000),
    NUM("login_timeout", CONF_UINT, SRV(login_timeout), 1, 3600),
    NUM("shutdown_timeout", CONF_UINT, SRV(shutdown_timeout), 0, 3600),
    {.name = NULL},
};

const struct conf_key conf_access_keys[] = {
    {.name = "plaintext_auth", .type = CONF_ENUM, .offset = ACC(plaintext_auth),
     .names = plaintext_modes, .why = "plaintext_auth must be no, loopback or yes"},
    NUM("max_connections_per_user", CONF_UINT, ACC(max_connections_per_user), 1, 100000),
    NUM("max_literal_size", CONF_SIZE, ACC(max_literal_size), 1024, 1ull << 40),
    {.name = NULL},
};

const char *const conf_access_reload_keys[] = {
    CONF_SERVICE_RELOAD_KEYS, "plaintext_auth", "max_connections_per_user", "max_literal_size",
    NULL,
};

static const struct conf_key dns_keys[] = {
    NUM("udp_max", CONF_UINT, DNS(udp_max), 512, 4096),
    NUM("rrl_rate", CONF_UINT, DNS(rrl_rate), 0, 1000000),
    NUM("rrl_slip", CONF_UINT, DNS(rrl_slip), 0, 10),
    {.name = NULL},
};

static const struct conf_key zone_keys[] = {
    KEY("file", CONF_STR, ZONE(file)),
    KEY("primary", CONF_STR, ZONE(primary)),
    KEY("allow_transfer", CONF_STR, ZONE(allow_transfer)),
    KEY("notify", CONF_STR, ZONE(notify)),
    KEY("allow_update", CONF_STR, ZONE(allow_update)),
    KEY("dnssec", CONF_BOOL, ZONE(dnssec)),
    KEY("dnssec_algorithm", CONF_STR, ZONE(dnssec_algorithm)),
    KEY("dnssec_nsec3", CONF_BOOL, ZONE(dnssec_nsec3)),
    NUM("dnssec_validity", CONF_UINT, ZONE(dnssec_validity), 2, 365),
    NUM("dnssec_refresh", CONF_UINT, ZONE(dnssec_refresh), 3600, 365 * 86400),
    KEY("cds_scan", CONF_STR, ZONE(cds_scan)),
    NUM("cds_scan_interval", CONF_UINT, ZONE(cds_scan_interval), 1, 7 * 86400),
    {.name = NULL},
};

static const struct conf_key tsig_keys[] = {
    KEY("algorithm", CONF_STR, TSIG(algorithm)),
    KEY("secret", CONF_STR, TSIG(secret)),
    {.name = NULL},
};

static const struct conf_key resolver_keys[] = {
    KEY("allow", CONF_STR, RES(allow)),
    KEY("root_hints", CONF_STR, RES(root_hints)),
    NUM("cache_size", CONF_SIZE, RES(cache_size), 64 * 1024, 1ull << 40),
    NUM("min_ttl", CONF_UINT, RES(min_ttl), 0, 86400),
    NUM("max_ttl", CONF_UINT, RES(max_ttl), 1, 7 * 86400),
    NUM("max_negative_ttl", CONF_UINT, RES(max_negative_ttl), 1, 86400),
    KEY("qname_minimisation", CONF_BOOL, RES(qname_minimisation)),
    KEY("serve_stale", CONF_BOOL, RES(serve_stale)),
    KEY("case_randomization", CONF_BOOL, RES(case_randomization)),
    NUM("max_upstream_queries", CONF_UINT, RES(max_upstream_queries), 4, 1000),
    NUM("max_referrals", CONF_UINT, RES(max_referrals), 2, 64),
    KEY("trust_anchor", CONF_STR, RES(trust_anchor)),
    KEY("negative_trust_anchors", CONF_STR, RES(negative_trust_anchors)),
    {.name = NULL},
};

/* "example.com:required" (repeatable). */
static int add_tls_domain(const char *v, void *sec, void *field, const char **why)
{
    struct config_delivery *d = sec;
    const char *colon = strrchr(v, ':');
    int pol = -1;
    for (int i = 0; colon && tls_policies[i]; i++)
        if (!strcmp(colon + 1, tls_policies[i]))
            pol = i;
    if (!colon || colon == v || pol < 0) {
        *why = "tls_policy must be domain:none|opportunistic|required";
        return ERR_PARSE;
    }
    d->tls_policy_domains =
        xrealloc(d->tls_policy_domains, (d->n_tls_policies + 1) * sizeof(char *));
    d->tls_policy_values = xrealloc(d->tls_policy_values, (d->n_tls_policies + 1) * sizeof(int));
    d->tls_policy_domains[d->n_tls_policies] = xstrndup(v, (size_t)(colon - v));
    d->tls_policy_values[d->n_tls_policies++] = pol;
    return 0;
}

/* "address:port" of a recursive server, or "internal": the in-process resolver. */
static int parse_resolver_addr(const char *v, void *sec, void *field, const char **why)
{
    struct config_delivery *d = sec;
    if (!strcmp(v, "internal")) {
        d->resolver_internal = true;
        return 0;
    }
    if (conf_parse_listen(v, field, why) < 0)
        return ERR_PARSE;
    d->resolver_set = true;
    return 0;
}

static const struct conf_key delivery_keys[] = {
    NUM("max_connections", CONF_UINT, DLV(max_connections), 1, 10000),
    NUM("max_per_domain", CONF_UINT, DLV(max_per_domain), 1, 1000),
    NUM("retry_initial", CONF_UINT, DLV(retry_initial), 1, 86400),
    NUM("retry_max", CONF_UINT, DLV(retry_max), 1, 7 * 86400),
    /* The minimum is low so that tests/integration/test_delivery_bounce.py can watch a
     * message expire within seconds; production values are days. */
    NUM("max_age", CONF_UINT, DLV(max_age), 5, 60 * 86400),
    NUM("scan_interval", CONF_UINT, DLV(scan_interval), 1, 3600),
    NUM("connect_timeout", CONF_UINT, DLV(connect_timeout), 1, 600),
    NUM("command_timeout", CONF_UINT, DLV(command_timeout), 1, 3600),
    NUM("remote_port", CONF_UINT, DLV(remote_port), 1, 65535),
    KEY("source_address", CONF_STR, DLV(source_address)),
    {.name = "tls", .type = CONF_ENUM, .offset = DLV(tls), .names = tls_policies,
     .why = "TLS policy must be none, opportunistic or required"},
    {.name = "tls_policy", .type = CONF_CUSTOM, .parse = add_tls_domain},
    {.name = "resolver", .type = CONF_CUSTOM, .offset = DLV(resolver), .parse = parse_resolver_addr},
    NUM("max_return", CONF_SIZE, DLV(max_return), 0, 1ull << 32),
    {.name = NULL},
};

/* A key already set in a section, for "set twice" errors. */
struct seen_key {
    char *section, *key;
    unsigned line;
};

struct load_ctx {
    struct config *cfg;
    struct seen_key *seen;
    size_t nseen;
    char why[512]; /* "[section] key: reason" */
};

void conf_access_defaults(struct config_access *a, bool implicit_tls, unsigned idle)
{
    conf_service_defaults(&a->svc, idle);
    a->svc.session_timeout = 24 * 3600; /* IMAP clients stay connected for hours */
    a->implicit_tls = implicit_tls;
    a->plaintext_auth = PLAINTEXT_AUTH_NO;
    a->max_connections_per_user = 20;
    a->max_literal_size = 64u * 1024 * 1024;
}

static void delivery_defaults(struct config_delivery *d)
{
    d->max_connections = 20;
    d->max_per_domain = 4;
    d->retry_initial = 300;  /* first retry within minutes */
    d->retry_max = 4 * 3600;
    d->max_age = 5 * 86400;  /* RFC 5321 §4.5.4.1: give up after 4-5 days */
    d->scan_interval = 60;
    d->connect_timeout = 30;
    d->command_timeout = 300;
    d->remote_port = 25;
    d->tls = 1;              /* SMTP_TLS_OPPORTUNISTIC */
    d->max_return = 1024 * 1024;
}

static void defaults(struct config *cfg)
{
    conf_service_defaults(&cfg->dns.svc, 10); /* RFC 7766 §6.2.3: idle TCP of seconds, not minutes */
    cfg->dns.svc.max_connections_per_ip = 50;
    cfg->dns.udp_max = 1232;
    cfg->dns.rrl_rate = 200; /* on by default (loopback exempt), as NSD: rrl_rate = 0 turns it off */
    cfg->dns.rrl_slip = 2;
    delivery_defaults(&cfg->delivery);
    conf_service_defaults(&cfg->resolver.svc, 10); /* RFC 7766 §6.2.3 */
    cfg->resolver.svc.max_connections_per_ip = 50;
    cfg->resolver.cache_size = 32u * 1024 * 1024;
    cfg->resolver.max_ttl = 86400;
    cfg->resolver.max_negative_ttl = 3600; /* RFC 2308 §5: one to three hours */
    cfg->resolver.qname_minimisation = true;
    cfg->resolver.max_upstream_queries = 64;
    cfg->resolver.max_referrals = 24;
    cfg->log_level = LOG_INFO;
    cfg->workers = 2;
    cfg->max_connections = 10000;
    cfg->max_connections_per_ip = 64;
    cfg->max_prelogin_connections = 1000;
    cfg->login_timeout = 30;
    cfg->shutdown_timeout = 30;
}

/* A section's key: the service keys (when it is a service), then its own table. */
static int section_key(const struct conf_key *own, void *sec, struct conf_service *svc,
                       const char *key, const char *value, const char **why)
{
    int rc = svc ? conf_keys_set(conf_service_keys, svc, svc, key, value, why) : 0;
    if (rc == 0)
        rc = conf_keys_set(own, sec, svc, key, value, why);
    if (rc == 0) {
        *why = "unknown key in this section";
        return ERR_CONFIG;
    }
    return rc < 0 ? rc : 0;
}

/* [zone NAME] and [tsig NAME]: a new entry at the header, its keys after. */
static int named_section(struct config *cfg, const char *section, const char *key,
                         const char *value, unsigned line, const char **why)
{
    bool zone = section[0] == 'z';
    const char *name = section + 5;
    struct config_dns *d = &cfg->dns;
    if (!key) {
        for (unsigned i = 0; zone && i < d->nzones; i++)
            if (ascii_eq_ci(d->zones[i].name, name)) {
                *why = "zone defined twice";
                return ERR_CONFIG;
            }
        if (zone) {
            d->zones = xrealloc(d->zones, (d->nzones + 1) * sizeof *d->zones);
            d->zones[d->nzones++] = (struct config_zone){.name = xstrdup(name), .line = line};
            size_t n = strlen(name);
            if (n >= 1 && name[n - 1] == '.') /* "example.com." -> "example.com", "." -> "" */
                d->zones[d->nzones - 1].name[n - 1] = '\0';
        } else {
            d->keys = xrealloc(d->keys, (d->nkeys + 1) * sizeof *d->keys);
            d->keys[d->nkeys++] = (struct config_tsig){.name = xstrdup(name)};
        }
        return 0;
    }
    void *sec = zone ? (void *)&d->zones[d->nzones - 1] : (void *)&d->keys[d->nkeys - 1];
    return section_key(zone ? zone_keys : tsig_keys, sec, NULL, key, value, why);
}

/* A section named in struct config: its key table, struct and service part; false if none. */
static bool builtin_section(struct config *cfg, const char *section, const struct conf_key **keys,
                            void **sec, struct conf_service **svc)
{
    struct {
        const char *name;
        const struct conf_key *keys;
        void *sec;
        struct conf_service *svc;
    } t[] = {
        {"server", server_keys, cfg, NULL},
        {"delivery", delivery_keys, &cfg->delivery, NULL},
        {"dns", dns_keys, &cfg->dns, &cfg->dns.svc},
        {"resolver", resolver_keys, &cfg->resolver, &cfg->resolver.svc},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!strcmp(section, t[i].name)) {
            *keys = t[i].keys;
            *sec = t[i].sec;
            *svc = t[i].svc;
            return true;
        }
    }
    return false;
}

bool config_builtin_section(unsigned i, const char **name_out, const struct conf_key **keys_out,
                            bool *service_out)
{
    static const struct {
        const char *name;
        const struct conf_key *keys;
        bool service;
    } t[] = {
        {"server", server_keys, false}, {"delivery", delivery_keys, false},
        {"dns", dns_keys, true},        {"resolver", resolver_keys, true},
        {"zone", zone_keys, false},     {"tsig", tsig_keys, false},
    };
    if (i >= sizeof t / sizeof t[0])
        return false;
    *name_out = t[i].name;
    *keys_out = t[i].keys;
    *service_out = t[i].service;
    return true;
}

/* A section a service declared: its definition's keys and the struct allocated for it. */
static bool declared_section(struct config *cfg, const char *section, const struct conf_key **keys,
                             void **sec, struct conf_service **svc)
{
    for (unsigned i = 0; i < cfg->nsec; i++) {
        const struct conf_section *def = cfg->sec_defs[i];
        if (def->owns || strcmp(section, def->name) != 0)
            continue;
        *keys = def->keys;
        *sec = cfg->sec_data[i];
        *svc = def->service_offset == CONF_NOT_SERVICE
                   ? NULL
                   : (struct conf_service *)((char *)*sec + def->service_offset);
        return true;
    }
    return false;
}

/* A declared section that parses its own lines (owns/parse); -1 when none claims it. */
static int claimed_section(struct config *cfg, const char *section, const char *key,
                           const char *value, const char **why)
{
    for (unsigned i = 0; i < cfg->nsec; i++) {
        const struct conf_section *def = cfg->sec_defs[i];
        if (def->owns && def->owns(section))
            return def->parse(cfg->sec_data[i], section, key, value, why) < 0 ? ERR_CONFIG : 0;
    }
    return -1;
}

static int on_key_dispatch(struct config *cfg, const char *section, const char *key,
                           const char *value, unsigned line, const char **why)
{
    const struct conf_key *keys;
    void *sec;
    struct conf_service *svc;
    if (!strncmp(section, "zone ", 5) || !strncmp(section, "tsig ", 5))
        return named_section(cfg, section, key, value, line, why);
    if (builtin_section(cfg, section, &keys, &sec, &svc) ||
        declared_section(cfg, section, &keys, &sec, &svc))
        return key ? section_key(keys, sec, svc, key, value, why) : 0;
    int rc = claimed_section(cfg, section, key, value, why);
    if (rc != -1)
        return rc;
    *why = section[0] ? "unknown section" : "key outside of any [section]";
    return ERR_CONFIG;
}

/* *p (may be NULL; "stderr" and "syslog" are not paths) made absolute against the directory
 * of cfg->path, itself taken against the working directory when relative. */
static int path_absolute(const struct config *cfg, char **p, struct str *err)
{
    if (!*p || (*p)[0] == '/' || !strcmp(*p, "stderr") || !strcmp(*p, "syslog"))
        return 0;
    struct str abs = STR_INIT;
    if (cfg->path[0] != '/') {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd)) {
            str_appendf(err, "%s: cannot resolve %s: getcwd failed", cfg->path, *p);
            return ERR_CONFIG;
        }
        str_appendf(&abs, "%s/", cwd);
    }
    const char *slash = strrchr(cfg->path, '/');
    if (slash)
        str_append(&abs, cfg->path, (size_t)(slash - cfg->path + 1));
    str_appends(&abs, *p);
    free(*p);
    *p = str_steal(&abs);
    return 0;
}

static int check_required(struct config *cfg, struct str *err)
{
    const char *missing = !cfg->hostname         ? "hostname"
                          : !cfg->primary_domain ? "primary_domain"
                          : !cfg->data_dir       ? "data_dir"
                                                 : NULL;
    if (missing) {
        str_appendf(err, "%s: [server] %s is required", cfg->path, missing);
        return ERR_CONFIG;
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        str_appendf(err, "%s: [server] tls_cert and tls_key must be set together", cfg->path);
        return ERR_CONFIG;
    }
    /* Relative paths are relative to the configuration file's directory (as nginx and
     * Knot do), made absolute now: one meaning whatever the daemon's working directory. */
    char **paths[] = {&cfg->data_dir,           &cfg->tls_cert, &cfg->tls_key, &cfg->tls_dir,
                      &cfg->resolver.root_hints, &cfg->log, &cfg->resolver.trust_anchor};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (path_absolute(cfg, paths[i], err) < 0)
            return ERR_CONFIG;
    for (unsigned i = 0; i < cfg->dns.nzones; i++)
        if (cfg->dns.zones[i].file && path_absolute(cfg, &cfg->dns.zones[i].file, err) < 0)
            return ERR_CONFIG;
    if (!cfg->recipient_delimiter)
        cfg->recipient_delimiter = xstrdup("+");
    for (unsigned i = 0; i < cfg->dns.nzones; i++) {
        if (!cfg->dns.zones[i].file) {
            str_appendf(err, "%s:%u: [zone %s] needs a file", cfg->path, cfg->dns.zones[i].line,
                        cfg->dns.zones[i].name);
            return ERR_CONFIG;
        }
    }
    for (unsigned i = 0; i < cfg->dns.nkeys; i++) {
        if (!cfg->dns.keys[i].secret) {
            str_appendf(err, "%s: [tsig %s] needs a secret", cfg->path, cfg->dns.keys[i].name);
            return ERR_CONFIG;
        }
    }
    /* Internationalised names are kept in their A-label form (IDNA 2008, RFC 5891). */
    char **names[] = {&cfg->hostname, &cfg->primary_domain};
    const char *keys[] = {"hostname", "primary_domain"};
    for (size_t i = 0; i < 2; i++) {
        char a[256];
        const char *why = NULL;
        if (idna_to_ascii(*names[i], a, sizeof a, &why) != 0) {
            str_appendf(err, "%s: [server] %s: %s", cfg->path, keys[i], why);
            return ERR_CONFIG;
        }
        free(*names[i]);
        *names[i] = xstrdup(a);
    }
    if (cfg->postmaster) {
        char a[600];
        const char *why = NULL;
        if (idna_address_to_ascii(cfg->postmaster, a, sizeof a, &why) != 0) {
            str_appendf(err, "%s: [server] postmaster: %s", cfg->path, why);
            return ERR_CONFIG;
        }
        free(cfg->postmaster);
        cfg->postmaster = xstrdup(a);
    }
    return 0;
}

/* A section that parses its own lines (owns), where repeated keys are its business. */
static bool section_claimed(const struct config *cfg, const char *section)
{
    for (unsigned i = 0; i < cfg->nsec; i++)
        if (cfg->sec_defs[i]->owns && cfg->sec_defs[i]->owns(section))
            return true;
    return false;
}

/* Keys that may be repeated in a section (each line adds one). */
static bool key_repeatable(const struct config *cfg, const char *section, const char *key)
{
    return !strcmp(key, "listen") || !strcmp(key, "tls_policy") || section_claimed(cfg, section);
}

/* "set twice" when this section already had the key; else remembers it. */
static int check_twice(struct load_ctx *ctx, const char *section, const char *key, unsigned line,
                       const char **why)
{
    for (size_t i = 0; i < ctx->nseen; i++) {
        if (!strcmp(ctx->seen[i].section, section) && !strcmp(ctx->seen[i].key, key)) {
            snprintf(ctx->why, sizeof ctx->why, "[%s] %s: set twice (first on line %u)", section,
                     key, ctx->seen[i].line);
            *why = ctx->why;
            return ERR_CONFIG;
        }
    }
    ctx->seen = xrealloc(ctx->seen, (ctx->nseen + 1) * sizeof *ctx->seen);
    ctx->seen[ctx->nseen++] = (struct seen_key){xstrdup(section), xstrdup(key), line};
    return 0;
}

/* Every key goes through here: a key set twice is an error (the second value would silently
 * win), errors name the section and key, and each listen remembers its line (for the
 * "already in use" check). */
static int on_key(void *vctx, const char *section, const char *key, const char *value,
                  unsigned line, const char **why)
{
    struct load_ctx *ctx = vctx;
    struct config *cfg = ctx->cfg;
    if (key && !key_repeatable(cfg, section, key) && check_twice(ctx, section, key, line, why) < 0)
        return ERR_CONFIG;
    int rc = on_key_dispatch(cfg, section, key, value, line, why);
    if (rc == 0 && key)
        conf_snapshot_add(cfg->written, section, key, value);
    const struct conf_key *keys;
    void *sec;
    struct conf_service *svc = NULL;
    if (rc < 0 && key) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", *why);
        snprintf(ctx->why, sizeof ctx->why, "[%s] %s: %s", section, key, inner);
        *why = ctx->why;
    } else if (rc == 0 && key && !strcmp(key, "listen") &&
               (builtin_section(cfg, section, &keys, &sec, &svc) ||
                declared_section(cfg, section, &keys, &sec, &svc)) &&
               svc && svc->n_listen) {
        svc->listen[svc->n_listen - 1].line = line;
    }
    return rc;
}

/* Allocates every declared section with its defaults (a name declared twice is a bug). */
static void declare_sections(struct config *cfg, const struct conf_section *const *declared)
{
    for (unsigned g = 0; declared && declared[g]; g++) {
        for (const struct conf_section *def = declared[g]; def->name; def++) {
            cfg->sec_defs = xrealloc(cfg->sec_defs, (cfg->nsec + 1) * sizeof *cfg->sec_defs);
            cfg->sec_data = xrealloc(cfg->sec_data, (cfg->nsec + 1) * sizeof *cfg->sec_data);
            void *sec = xcalloc(1, def->size);
            if (def->service_offset != CONF_NOT_SERVICE)
                conf_service_defaults((struct conf_service *)((char *)sec + def->service_offset),
                                      300);
            if (def->defaults)
                def->defaults(sec);
            cfg->sec_defs[cfg->nsec] = def;
            cfg->sec_data[cfg->nsec++] = sec;
        }
    }
}

static int check_declared(struct config *cfg, struct str *err)
{
    for (unsigned i = 0; i < cfg->nsec; i++)
        if (cfg->sec_defs[i]->check && cfg->sec_defs[i]->check(cfg->sec_data[i], cfg, err) < 0)
            return ERR_CONFIG;
    return 0;
}

void *config_section(const struct config *cfg, const char *name)
{
    for (unsigned i = 0; i < cfg->nsec; i++)
        if (!strcmp(cfg->sec_defs[i]->name, name))
            return cfg->sec_data[i];
    return NULL;
}

int config_load(const char *path, const struct conf_section *const *declared, struct config *cfg,
                struct str *err)
{
    memset(cfg, 0, sizeof *cfg);
    defaults(cfg);
    declare_sections(cfg, declared);
    cfg->path = xstrdup(path);
    cfg->written = conf_snapshot_new();
    struct load_ctx ctx = {.cfg = cfg};
    int rc = ini_parse_file(path, on_key, &ctx, err);
    conf_snapshot_seal(cfg->written);
    for (size_t i = 0; i < ctx.nseen; i++)
        free(ctx.seen[i].section), free(ctx.seen[i].key);
    free(ctx.seen);
    if (rc == 0)
        rc = check_required(cfg, err);
    if (rc == 0)
        rc = check_declared(cfg, err);
    if (rc < 0) {
        config_free(cfg);
        return rc;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free(cfg->path);
    conf_snapshot_free(cfg->written);
    free(cfg->hostname);
    free(cfg->primary_domain);
    free(cfg->data_dir);
    free(cfg->postmaster);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_dir);
    free(cfg->recipient_delimiter);
    free(cfg->log);
    free(cfg->user);
    free(cfg->delivery.source_address);
    for (unsigned i = 0; i < cfg->delivery.n_tls_policies; i++)
        free(cfg->delivery.tls_policy_domains[i]);
    free(cfg->delivery.tls_policy_domains);
    free(cfg->delivery.tls_policy_values);
    for (unsigned i = 0; i < cfg->dns.nzones; i++) {
        struct config_zone *z = &cfg->dns.zones[i];
        free(z->name);
        free(z->file);
        free(z->primary);
        free(z->allow_transfer);
        free(z->notify);
        free(z->allow_update);
        free(z->dnssec_algorithm);
        free(z->cds_scan);
    }
    free(cfg->dns.zones);
    for (unsigned i = 0; i < cfg->dns.nkeys; i++) {
        free(cfg->dns.keys[i].name);
        free(cfg->dns.keys[i].algorithm);
        free(cfg->dns.keys[i].secret);
    }
    free(cfg->dns.keys);
    free(cfg->resolver.allow);
    free(cfg->resolver.root_hints);
    free(cfg->resolver.trust_anchor);
    free(cfg->resolver.negative_trust_anchors);
    for (unsigned i = 0; i < cfg->nsec; i++) {
        if (cfg->sec_defs[i]->free)
            cfg->sec_defs[i]->free(cfg->sec_data[i]);
        conf_keys_free(cfg->sec_defs[i]->keys, cfg->sec_data[i]);
        free(cfg->sec_data[i]);
    }
    free(cfg->sec_defs);
    free(cfg->sec_data);
    memset(cfg, 0, sizeof *cfg);
}
