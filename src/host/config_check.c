/*
 * config_check — the checks behind `pigeond -t` and `pigeon check-config` that go beyond one
 * key's syntax, run by pigeond at start as well so that all three say the same thing: two
 * services on one port, and the files the services read (zones, certificate, root hints).
 */
#include "host/config_check.h"

#include "core/err.h"
#include "core/tls.h"
#include "core/tls_reload.h"
#include "dns/name.h"
#include "dns/resolver/anchor.h"
#include "dns/resolver/hints.h"
#include "dns/zone.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

struct bound {
    const char *section;
    const struct conf_listen *l;
    bool udp;
};

static bool wildcard(const char *host)
{
    return !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
}

static bool same_family(const char *a, const char *b)
{
    return (strchr(a, ':') != NULL) == (strchr(b, ':') != NULL);
}

/* Would binding both fail (EADDRINUSE)? Same port and protocol, and the same address or a
 * wildcard of the same family ([::] is IPV6_V6ONLY, so it does not cover 0.0.0.0). */
static bool overlap(const struct bound *a, const struct bound *b)
{
    if (a->udp != b->udp || strcmp(a->l->port, b->l->port) != 0)
        return false;
    if (!same_family(a->l->host, b->l->host))
        return false;
    unsigned char x[16], y[16];
    int fam = strchr(a->l->host, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, a->l->host, x) == 1 && inet_pton(fam, b->l->host, y) == 1 &&
        !memcmp(x, y, fam == AF_INET ? 4 : 16))
        return true;
    return wildcard(a->l->host) || wildcard(b->l->host);
}

static void add(struct bound *v, size_t *n, const char *section, const struct conf_service *s,
                bool udp_too)
{
    for (unsigned i = 0; i < s->n_listen; i++) {
        v[(*n)++] = (struct bound){section, &s->listen[i], false};
        if (udp_too)
            v[(*n)++] = (struct bound){section, &s->listen[i], true};
    }
}

int config_check_listen(const struct config *cfg, struct str *err)
{
    struct bound v[CONF_MAX_LISTEN * 32];
    size_t n = 0;
    add(v, &n, "dns", &cfg->dns.svc, true);
    add(v, &n, "resolver", &cfg->resolver.svc, true);
    for (unsigned i = 0; i < cfg->nsec; i++) {
        const struct conf_section *def = cfg->sec_defs[i];
        if (def->service_offset != CONF_NOT_SERVICE)
            add(v, &n, def->name,
                (const struct conf_service *)((const char *)cfg->sec_data[i] + def->service_offset),
                false);
        const struct conf_service *more[4];
        const char *names[4];
        unsigned k = def->services ? def->services(cfg->sec_data[i], more, names, 4) : 0;
        for (unsigned j = 0; j < k; j++)
            add(v, &n, names[j], more[j], false);
    }
    for (size_t j = 1; j < n; j++) {
        for (size_t i = 0; i < j; i++) {
            if (!overlap(&v[i], &v[j]))
                continue;
            /* http deduplicates a listen shared by several sites itself */
            if (v[i].l == v[j].l)
                continue;
            str_appendf(err, "%s:%u: [%s] listen %s: %s port %s is already [%s]'s (line %u)",
                        cfg->path, v[j].l->line, v[j].section, v[j].l->text,
                        v[j].udp ? "UDP" : "TCP", v[j].l->port, v[i].section, v[i].l->line);
            return ERR_CONFIG;
        }
    }
    return 0;
}

static int zones_check(const struct config *cfg, struct str *err)
{
    for (unsigned i = 0; i < cfg->dns.nzones; i++) {
        const struct config_zone *z = &cfg->dns.zones[i];
        if (z->primary && access(z->file, F_OK) != 0)
            continue; /* a secondary before its first transfer */
        uint8_t origin[DNS_NAME_MAXLEN];
        size_t olen;
        char text[300];
        const char *why = NULL;
        snprintf(text, sizeof text, "%s.", z->name);
        if (dns_name_from_text(text, strlen(text), NULL, origin, &olen, &why) != 0) {
            str_appendf(err, "%s:%u: [zone %s]: bad zone name: %s", cfg->path, z->line, z->name,
                        why);
            return ERR_CONFIG;
        }
        struct dns_zone *zone = NULL;
        struct str zerr = STR_INIT;
        int rc = dns_zone_load(z->file, origin, &zone, &zerr);
        if (rc != 0)
            str_appendf(err, "%s:%u: [zone %s] file: %s", cfg->path, z->line, z->name,
                        str_cstr(&zerr));
        str_clear(&zerr);
        if (zone)
            dns_zone_unref(zone);
        if (rc != 0)
            return ERR_CONFIG;
    }
    return 0;
}

int config_check_files(const struct config *cfg, struct str *err)
{
    int rc = zones_check(cfg, err);
    if (rc == 0 && cfg->tls_cert) {
        struct str terr = STR_INIT;
        SSL_CTX *ctx = tls_server_ctx_new(cfg->tls_cert, cfg->tls_key, &terr);
        if (!ctx) {
            str_appendf(err, "%s: [server] tls_cert/tls_key: %s", cfg->path, str_cstr(&terr));
            rc = ERR_CONFIG;
        } else {
            struct tls_reload *r =
                cfg->tls_dir ? tls_reload_new(ctx, cfg->tls_cert, cfg->tls_key, cfg->tls_dir,
                                              &terr)
                             : NULL;
            if (cfg->tls_dir && !r) {
                str_appendf(err, "%s: [server] tls_dir: %s", cfg->path, str_cstr(&terr));
                rc = ERR_CONFIG;
            }
            tls_reload_free(r);
            SSL_CTX_free(ctx);
        }
        str_clear(&terr);
    }
    if (rc == 0 && cfg->resolver.root_hints) {
        struct dns_hints hints = {0};
        struct str herr = STR_INIT;
        if (dns_hints_load(cfg->resolver.root_hints, &hints, &herr) < 0) {
            str_appendf(err, "%s: [resolver] root_hints: %s", cfg->path, str_cstr(&herr));
            rc = ERR_CONFIG;
        }
        dns_hints_clear(&hints);
        str_clear(&herr);
    }
    if (rc == 0 && cfg->resolver.trust_anchor) { /* as the resolver reads it at start */
        struct dns_anchors a = {0};
        struct str aerr = STR_INIT;
        if (dns_anchors_load_config(&a, cfg->resolver.trust_anchor,
                                    cfg->resolver.negative_trust_anchors, NULL, NULL, &aerr)) {
            str_appendf(err, "%s: [resolver] trust_anchor: %s", cfg->path, str_cstr(&aerr));
            rc = ERR_CONFIG;
        }
        dns_anchors_clear(&a);
        str_clear(&aerr);
    }
    return rc;
}
