#include "daemon/config.h"

#include "http/service/config.h"

#include "core/err.h"
#include "core/idna.h"
#include "core/ini.h"
#include "core/log.h"
#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum key_type {
    K_STR, K_UINT, K_SIZE, K_BOOL, K_LISTEN, K_LOGLEVEL, K_PLAINAUTH, K_TLSPOLICY, K_TLSDOMAIN,
    K_ADDR, K_SPF
};

struct key_spec {
    const char *name;
    enum key_type type;
    size_t offset;          /* within struct config, or within struct config_smtp */
    unsigned long long min, max;
};

#define SRV(f) offsetof(struct config, f)
#define SMTP(f) offsetof(struct config_smtp, f)

static const struct key_spec server_keys[] = {
    {"hostname", K_STR, SRV(hostname), 0, 0},
    {"primary_domain", K_STR, SRV(primary_domain), 0, 0},
    {"data_dir", K_STR, SRV(data_dir), 0, 0},
    {"postmaster", K_STR, SRV(postmaster), 0, 0},
    {"tls_cert", K_STR, SRV(tls_cert), 0, 0},
    {"tls_key", K_STR, SRV(tls_key), 0, 0},
    {"tls_dir", K_STR, SRV(tls_dir), 0, 0},
    {"recipient_delimiter", K_STR, SRV(recipient_delimiter), 0, 0},
    {"log_level", K_LOGLEVEL, SRV(log_level), 0, 0},
    {"log", K_STR, SRV(log), 0, 0},
    {"user", K_STR, SRV(user), 0, 0},
    {"workers", K_UINT, SRV(workers), 1, 64},
    {"max_connections", K_UINT, SRV(max_connections), 1, 1000000},
    {"shutdown_timeout", K_UINT, SRV(shutdown_timeout), 0, 3600},
    {NULL, 0, 0, 0, 0},
};

#define SVC(f) offsetof(struct config_service, f)
#define ACC(f) offsetof(struct config_access, f)

/* Keys of every TCP service section (offsets within struct config_service). */
static const struct key_spec service_keys[] = {
    {"listen", K_LISTEN, 0, 0, 0},
    {"max_connections_per_ip", K_UINT, SVC(max_connections_per_ip), 1, 1000000},
    {"idle_timeout", K_UINT, SVC(idle_timeout), 1, 86400},
    {"session_timeout", K_UINT, SVC(session_timeout), 1, 7 * 86400},
    {"max_errors", K_UINT, SVC(max_errors), 1, 10000},
    {NULL, 0, 0, 0, 0},
};

static const struct key_spec smtp_keys[] = {
    {"max_message_size", K_SIZE, SMTP(max_message_size), 1024, 1ull << 40},
    {"max_recipients", K_UINT, SMTP(max_recipients), 1, 100000},
    {"starttls", K_BOOL, SMTP(starttls), 0, 0},
    {"auth", K_BOOL, SMTP(auth), 0, 0},
    {"spf", K_SPF, SMTP(spf), 0, 0},
    {"reject_bare_line_ends", K_BOOL, SMTP(reject_bare_line_ends), 0, 0},
    {NULL, 0, 0, 0, 0},
};

static const struct key_spec access_keys[] = {
    {"plaintext_auth", K_PLAINAUTH, ACC(plaintext_auth), 0, 0},
    {"max_connections_per_user", K_UINT, ACC(max_connections_per_user), 1, 100000},
    {"max_literal_size", K_SIZE, ACC(max_literal_size), 1024, 1ull << 40},
    {NULL, 0, 0, 0, 0},
};

#define DNS(f) offsetof(struct config_dns, f)
#define ZONE(f) offsetof(struct config_zone, f)
#define TSIG(f) offsetof(struct config_tsig, f)

static const struct key_spec dns_keys[] = {
    {"udp_max", K_UINT, DNS(udp_max), 512, 4096},
    {"rrl_rate", K_UINT, DNS(rrl_rate), 0, 1000000},
    {"rrl_slip", K_UINT, DNS(rrl_slip), 0, 10},
    {NULL, 0, 0, 0, 0},
};

static const struct key_spec zone_keys[] = {
    {"file", K_STR, ZONE(file), 0, 0},
    {"primary", K_STR, ZONE(primary), 0, 0},
    {"allow_transfer", K_STR, ZONE(allow_transfer), 0, 0},
    {"notify", K_STR, ZONE(notify), 0, 0},
    {"allow_update", K_STR, ZONE(allow_update), 0, 0},
    {"dnssec", K_BOOL, ZONE(dnssec), 0, 0},
    {"dnssec_algorithm", K_STR, ZONE(dnssec_algorithm), 0, 0},
    {"dnssec_nsec3", K_BOOL, ZONE(dnssec_nsec3), 0, 0},
    {"dnssec_validity", K_UINT, ZONE(dnssec_validity), 2, 365},
    {NULL, 0, 0, 0, 0},
};

static const struct key_spec tsig_keys[] = {
    {"algorithm", K_STR, TSIG(algorithm), 0, 0},
    {"secret", K_STR, TSIG(secret), 0, 0},
    {NULL, 0, 0, 0, 0},
};

#define RES(f) offsetof(struct config_resolver, f)

static const struct key_spec resolver_keys[] = {
    {"allow", K_STR, RES(allow), 0, 0},
    {"root_hints", K_STR, RES(root_hints), 0, 0},
    {"cache_size", K_SIZE, RES(cache_size), 64 * 1024, 1ull << 40},
    {"min_ttl", K_UINT, RES(min_ttl), 0, 86400},
    {"max_ttl", K_UINT, RES(max_ttl), 1, 7 * 86400},
    {"max_negative_ttl", K_UINT, RES(max_negative_ttl), 1, 86400},
    {"qname_minimisation", K_BOOL, RES(qname_minimisation), 0, 0},
    {"serve_stale", K_BOOL, RES(serve_stale), 0, 0},
    {"case_randomization", K_BOOL, RES(case_randomization), 0, 0},
    {"max_upstream_queries", K_UINT, RES(max_upstream_queries), 4, 1000},
    {"max_referrals", K_UINT, RES(max_referrals), 2, 64},
    {NULL, 0, 0, 0, 0},
};

#define DLV(f) offsetof(struct config_delivery, f)

static const struct key_spec delivery_keys[] = {
    {"max_connections", K_UINT, DLV(max_connections), 1, 10000},
    {"max_per_domain", K_UINT, DLV(max_per_domain), 1, 1000},
    {"retry_initial", K_UINT, DLV(retry_initial), 1, 86400},
    {"retry_max", K_UINT, DLV(retry_max), 1, 7 * 86400},
    /* The minimum is low so that tests/integration/test_delivery_bounce.py can watch a
     * message expire within seconds; production values are days. */
    {"max_age", K_UINT, DLV(max_age), 5, 60 * 86400},
    {"scan_interval", K_UINT, DLV(scan_interval), 1, 3600},
    {"connect_timeout", K_UINT, DLV(connect_timeout), 1, 600},
    {"command_timeout", K_UINT, DLV(command_timeout), 1, 3600},
    {"remote_port", K_UINT, DLV(remote_port), 1, 65535},
    {"source_address", K_STR, DLV(source_address), 0, 0},
    {"tls", K_TLSPOLICY, DLV(tls), 0, 0},
    {"tls_policy", K_TLSDOMAIN, 0, 0, 0},
    {"resolver", K_ADDR, DLV(resolver), 0, 0},
    {"max_return", K_SIZE, DLV(max_return), 0, 1ull << 32},
    {NULL, 0, 0, 0, 0},
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

static void service_defaults(struct config_service *s, unsigned idle)
{
    s->max_connections_per_ip = 20;
    s->idle_timeout = idle;
    s->session_timeout = 3600;
    s->max_errors = 20;
}

static void smtp_defaults(struct config_smtp *s, bool submission)
{
    /* RFC 5321 §4.5.3.2.7: server timeout 5 minutes */
    service_defaults(&s->svc, 300);
    s->submission = submission;
    s->max_message_size = 25u * 1024 * 1024;
    s->max_recipients = 100;
    s->starttls = true;
    s->auth = submission;
    /* The MX role checks SPF and refuses a fail (RFC 7208 §8.4); submission is authenticated. */
    s->spf = submission ? CONFIG_SPF_OFF : CONFIG_SPF_REJECT;
}

static void access_defaults(struct config_access *a, bool implicit_tls, unsigned idle)
{
    service_defaults(&a->svc, idle);
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
    service_defaults(&cfg->dns.svc, 10); /* RFC 7766 §6.2.3: idle TCP of seconds, not minutes */
    cfg->dns.svc.max_connections_per_ip = 50;
    cfg->dns.udp_max = 1232;
    cfg->dns.rrl_rate = 200; /* on by default (loopback exempt), as NSD: rrl_rate = 0 turns it off */
    cfg->dns.rrl_slip = 2;
    delivery_defaults(&cfg->delivery);
    service_defaults(&cfg->resolver.svc, 10); /* RFC 7766 §6.2.3 */
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
    cfg->shutdown_timeout = 30;
    smtp_defaults(&cfg->smtp, false);
    smtp_defaults(&cfg->submission, true);
    smtp_defaults(&cfg->submissions, true);
    /* RFC 1939 §3: at least 10 minutes; RFC 3501 §5.4: at least 30 minutes. */
    access_defaults(&cfg->pop3, false, 600);
    access_defaults(&cfg->pop3s, true, 600);
    access_defaults(&cfg->imap, false, 1800);
    access_defaults(&cfg->imaps, true, 1800);
}

/* Parses "host:port", "[v6]:port"; numeric addresses only, so no DNS at start-up. */
int config_parse_listen(const char *v, struct config_listen *out, const char **why)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || !colon[1]) {
        *why = "listen must be address:port (e.g. 127.0.0.1:25 or [::1]:25)";
        return ERR_PARSE;
    }
    struct slice host = slice_make(v, (size_t)(colon - v));
    if (host.p[0] == '[') {
        if (host.len < 3 || host.p[host.len - 1] != ']') {
            *why = "IPv6 listen address must be written [addr]:port";
            return ERR_PARSE;
        }
        host = slice_make(host.p + 1, host.len - 2);
    }
    unsigned long long port;
    if (slice_to_u64(slice_cstr(colon + 1), 65535, &port) < 0 || port == 0) {
        *why = "listen port must be 1-65535";
        return ERR_PARSE;
    }
    if (host.len >= sizeof out->host || strlen(v) >= sizeof out->text) {
        *why = "listen address too long";
        return ERR_RANGE;
    }
    memcpy(out->host, host.p, host.len);
    out->host[host.len] = '\0';
    if (strcmp(out->host, "*") == 0)
        strcpy(out->host, "0.0.0.0");
    unsigned char tmp[16];
    if (inet_pton(AF_INET, out->host, tmp) != 1 && inet_pton(AF_INET6, out->host, tmp) != 1) {
        *why = "listen address must be a numeric IPv4 or IPv6 address";
        return ERR_PARSE;
    }
    snprintf(out->port, sizeof out->port, "%llu", port);
    snprintf(out->text, sizeof out->text, "%s", v);
    return 0;
}

static int parse_tls_policy(const char *v, int *out, const char **why)
{
    static const char *const names[] = {"none", "opportunistic", "required"};
    for (int i = 0; i < 3; i++) {
        if (!strcmp(v, names[i])) {
            *out = i;
            return 0;
        }
    }
    *why = "TLS policy must be none, opportunistic or required";
    return ERR_PARSE;
}

/* "example.com:required" (repeatable). */
static int add_tls_domain(const char *v, char *base, const char **why)
{
    struct config_delivery *d = (struct config_delivery *)base;
    const char *colon = strrchr(v, ':');
    int pol;
    if (!colon || colon == v || parse_tls_policy(colon + 1, &pol, why) < 0) {
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

/* Accepts a plain number or one with a K, M or G suffix (powers of 1024). */
int config_parse_size(const char *v, unsigned long long *out)
{
    size_t n = strlen(v);
    unsigned long long mult = 1;
    if (n > 1) {
        char c = v[n - 1];
        if (c == 'k' || c == 'K')
            mult = 1024;
        else if (c == 'm' || c == 'M')
            mult = 1024 * 1024;
        else if (c == 'g' || c == 'G')
            mult = 1024ull * 1024 * 1024;
        if (mult > 1)
            n--;
    }
    unsigned long long x;
    int rc = slice_to_u64(slice_make(v, n), (1ull << 50), &x);
    if (rc < 0)
        return rc;
    *out = x * mult;
    return 0;
}

int config_parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = false;
    else
        return ERR_PARSE;
    return 0;
}

static int set_key(const struct key_spec *k, char *base, struct config_service *svc, const char *v,
                   const char **why)
{
    void *field = base + k->offset;
    unsigned long long x;
    switch (k->type) {
    case K_STR:
        free(*(char **)field);
        *(char **)field = *v ? xstrdup(v) : NULL;
        return 0;
    case K_UINT:
    case K_SIZE:
        if ((k->type == K_UINT ? slice_to_u64(slice_cstr(v), 0xffffffffu, &x) : config_parse_size(v, &x)) <
                0 ||
            x < k->min || x > k->max) {
            *why = k->type == K_UINT ? "value must be a number in range" : "value must be a size "
                                                                           "(e.g. 25M) in range";
            return ERR_RANGE;
        }
        if (k->type == K_UINT)
            *(unsigned *)field = (unsigned)x;
        else
            *(uint64_t *)field = x;
        return 0;
    case K_BOOL:
        if (config_parse_bool(v, (bool *)field) < 0) {
            *why = "value must be yes or no";
            return ERR_PARSE;
        }
        return 0;
    case K_LOGLEVEL: {
        int lv = log_level_parse(v);
        if (lv < 0) {
            *why = "log_level must be err, warn, info or debug";
            return ERR_PARSE;
        }
        *(int *)field = lv;
        return 0;
    }
    case K_LISTEN:
        if (svc->n_listen >= CONFIG_MAX_LISTEN) {
            *why = "too many listen lines in this section";
            return ERR_LIMIT;
        }
        if (config_parse_listen(v, &svc->listen[svc->n_listen], why) < 0)
            return ERR_PARSE;
        svc->n_listen++;
        svc->enabled = true;
        return 0;
    case K_SPF:
        if (!strcmp(v, "off"))
            *(int *)field = CONFIG_SPF_OFF;
        else if (!strcmp(v, "mark"))
            *(int *)field = CONFIG_SPF_MARK;
        else if (!strcmp(v, "reject"))
            *(int *)field = CONFIG_SPF_REJECT;
        else {
            *why = "spf must be off, mark or reject";
            return ERR_PARSE;
        }
        return 0;
    case K_TLSPOLICY:
        return parse_tls_policy(v, (int *)field, why);
    case K_TLSDOMAIN:
        return add_tls_domain(v, base, why);
    case K_ADDR: {
        struct config_listen *a = field;
        if (!strcmp(v, "internal")) { /* the in-process resolver */
            ((struct config_delivery *)base)->resolver_internal = true;
            return 0;
        }
        if (config_parse_listen(v, a, why) < 0)
            return ERR_PARSE;
        ((struct config_delivery *)base)->resolver_set = true;
        return 0;
    }
    case K_PLAINAUTH:
        if (!strcmp(v, "no"))
            *(enum plaintext_auth *)field = PLAINTEXT_AUTH_NO;
        else if (!strcmp(v, "loopback"))
            *(enum plaintext_auth *)field = PLAINTEXT_AUTH_LOOPBACK;
        else if (!strcmp(v, "yes"))
            *(enum plaintext_auth *)field = PLAINTEXT_AUTH_YES;
        else {
            *why = "plaintext_auth must be no, loopback or yes";
            return ERR_PARSE;
        }
        return 0;
    }
    return ERR_PARSE;
}

/* Looks key up in table; 1 if found (and set), 0 if not in this table, < 0 on a bad value. */
static int try_table(const struct key_spec *table, char *base, struct config_service *svc,
                     const char *key, const char *value, const char **why)
{
    for (const struct key_spec *k = table; k->name; k++)
        if (!strcmp(k->name, key))
            return set_key(k, base, svc, value, why) < 0 ? ERR_CONFIG : 1;
    return 0;
}

/* A service section: the common keys, then the kind's own. */
static int service_key(struct config_service *svc, const struct key_spec *own, char *own_base,
                       const char *key, const char *value, const char **why)
{
    int rc = try_table(service_keys, (char *)svc, svc, key, value, why);
    if (rc == 0)
        rc = try_table(own, own_base, svc, key, value, why);
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
    char *base = zone ? (char *)&d->zones[d->nzones - 1] : (char *)&d->keys[d->nkeys - 1];
    int rc = try_table(zone ? zone_keys : tsig_keys, base, NULL, key, value, why);
    if (rc == 0)
        *why = "unknown key in this section";
    return rc == 1 ? 0 : ERR_CONFIG;
}

static struct config_access *access_section(struct config *cfg, const char *section)
{
    if (!strcmp(section, "pop3"))
        return &cfg->pop3;
    if (!strcmp(section, "pop3s"))
        return &cfg->pop3s;
    if (!strcmp(section, "imap"))
        return &cfg->imap;
    if (!strcmp(section, "imaps"))
        return &cfg->imaps;
    return NULL;
}

static int on_key_dispatch(void *vctx, const char *section, const char *key, const char *value,
                           unsigned line, const char **why)
{
    struct load_ctx *ctx = vctx;
    struct config *cfg = ctx->cfg;
    struct config_access *acc = access_section(cfg, section);
    struct config_smtp *smtp = !strcmp(section, "smtp")         ? &cfg->smtp
                               : !strcmp(section, "submission") ? &cfg->submission
                               : !strcmp(section, "submissions") ? &cfg->submissions
                                                                : NULL;
    (void)line;
    if (!strcmp(section, "server")) {
        if (!key)
            return 0;
        int rc = try_table(server_keys, (char *)cfg, NULL, key, value, why);
        if (rc == 0)
            *why = "unknown key in this section";
        return rc == 1 ? 0 : ERR_CONFIG;
    }
    if (!strcmp(section, "resolver"))
        return key ? service_key(&cfg->resolver.svc, resolver_keys, (char *)&cfg->resolver, key,
                                 value, why)
                   : 0;
    if (!strcmp(section, "dns"))
        return key ? service_key(&cfg->dns.svc, dns_keys, (char *)&cfg->dns, key, value, why) : 0;
    if (!strncmp(section, "zone ", 5) || !strncmp(section, "tsig ", 5))
        return named_section(cfg, section, key, value, line, why);
    if (http_config_owns(section))
        return http_config_key(&cfg->http, section, key, value, why);
    if (!strcmp(section, "delivery")) {
        if (!key)
            return 0;
        int rc = try_table(delivery_keys, (char *)&cfg->delivery, NULL, key, value, why);
        if (rc == 0)
            *why = "unknown key in this section";
        return rc == 1 ? 0 : ERR_CONFIG;
    }
    if (smtp)
        return key ? service_key(&smtp->svc, smtp_keys, (char *)smtp, key, value, why) : 0;
    if (acc)
        return key ? service_key(&acc->svc, access_keys, (char *)acc, key, value, why) : 0;
    *why = section[0] ? "unknown section" : "key outside of any [section]";
    return ERR_CONFIG;
}

/* Keys that may be repeated in a section (each line adds one). */
static bool key_repeatable(const char *section, const char *key)
{
    return !strcmp(key, "listen") || !strcmp(key, "tls_policy") || http_config_owns(section);
}

/* The section's TCP/UDP service, for the line of each listen (conflict messages). */
static struct config_service *section_service(struct config *cfg, const char *section)
{
    struct config_access *acc = access_section(cfg, section);
    if (acc)
        return &acc->svc;
    static const char *const names[] = {"smtp", "submission", "submissions", "dns", "resolver"};
    struct config_service *svcs[] = {&cfg->smtp.svc, &cfg->submission.svc,
                                     &cfg->submissions.svc, &cfg->dns.svc, &cfg->resolver.svc};
    for (size_t i = 0; i < 5; i++)
        if (!strcmp(section, names[i]))
            return svcs[i];
    return NULL;
}

/* Every key goes through here: a key set twice is an error (the second value would silently
 * win), and errors name the section and key. */
static int on_key(void *vctx, const char *section, const char *key, const char *value,
                  unsigned line, const char **why)
{
    struct load_ctx *ctx = vctx;
    if (key && !key_repeatable(section, key)) {
        for (size_t i = 0; i < ctx->nseen; i++) {
            if (!strcmp(ctx->seen[i].section, section) && !strcmp(ctx->seen[i].key, key)) {
                snprintf(ctx->why, sizeof ctx->why, "[%s] %s: set twice (first on line %u)",
                         section, key, ctx->seen[i].line);
                *why = ctx->why;
                return ERR_CONFIG;
            }
        }
        ctx->seen = xrealloc(ctx->seen, (ctx->nseen + 1) * sizeof *ctx->seen);
        ctx->seen[ctx->nseen++] = (struct seen_key){xstrdup(section), xstrdup(key), line};
    }
    int rc = on_key_dispatch(vctx, section, key, value, line, why);
    if (rc < 0 && key) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", *why);
        snprintf(ctx->why, sizeof ctx->why, "[%s] %s: %s", section, key, inner);
        *why = ctx->why;
    } else if (rc == 0 && key && !strcmp(key, "listen")) {
        struct config_service *svc = section_service(ctx->cfg, section);
        if (svc && svc->n_listen)
            svc->listen[svc->n_listen - 1].line = line;
    }
    return rc;
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
                      &cfg->resolver.root_hints, &cfg->log};
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
    return http_config_check(cfg->http, cfg->path, err);
}

int config_load(const char *path, struct config *cfg, struct str *err)
{
    memset(cfg, 0, sizeof *cfg);
    defaults(cfg);
    cfg->path = xstrdup(path);
    struct load_ctx ctx = {.cfg = cfg};
    int rc = ini_parse_file(path, on_key, &ctx, err);
    for (size_t i = 0; i < ctx.nseen; i++)
        free(ctx.seen[i].section), free(ctx.seen[i].key);
    free(ctx.seen);
    if (rc == 0)
        rc = check_required(cfg, err);
    if (rc == 0)
        rc = config_check_listen(cfg, err);
    if (rc < 0) {
        config_free(cfg);
        return rc;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free(cfg->path);
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
    http_config_free(cfg->http);
    memset(cfg, 0, sizeof *cfg);
}
