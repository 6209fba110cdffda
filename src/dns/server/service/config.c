/*
 * config — the name server's configuration derived from [dns], [tsig] and [zone] sections:
 * the keys, and for every zone its origin, ACLs, primary, NOTIFY targets and DNSSEC
 * parameters (struct dns_zconf, what the engine in src/dns/server answers with), as one
 * reference-counted struct dns_zcfg made at start and at each reload that changes them.
 * See service_int.h.
 */
#include "core/log.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "dns/dnssec/crypto.h"
#include "dns/dnssec/dnssec.h"
#include "dns/server/service/service_int.h"
#include "dns/xfr/journal.h"
#include "msg/base64.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A configuration error: logged, and reported when a reload is being answered (r). */
static void __attribute__((format(printf, 2, 3)))
zerr(struct reload_report *r, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_err("%s", text);
    reload_report_add(r, true, "%s", text);
}

static int keys_load(struct dns_zcfg *s, const struct config_dns *c, struct reload_report *r)
{
    s->keys = xcalloc(c->nkeys ? c->nkeys : 1, sizeof *s->keys);
    for (unsigned i = 0; i < c->nkeys; i++) {
        const struct config_tsig *k = &c->keys[i];
        unsigned char secret[DNS_TSIG_SECRET_MAX + 4];
        size_t n = 0;
        const char *why = "bad base64 secret";
        size_t sl = strlen(k->secret);
        if (sl / 4 * 3 > DNS_TSIG_SECRET_MAX || base64_decode(k->secret, sl, secret, &n) != 0 ||
            dns_tsig_key_init(&s->keys[i], k->name, k->algorithm, secret, n, &why) != 0) {
            zerr(r, "dns: [tsig %s]: %s", k->name, why);
            return -1;
        }
        s->nkeys++;
    }
    return 0;
}

/* "192.0.2.1", "192.0.2.1:5353", "[2001:db8::1]:53", "2001:db8::1" (port 53 by default). */
static int remote_parse(const char *w, size_t len, struct dns_remote *r)
{
    char host[80], port[8] = "53";
    if (len == 0 || len >= sizeof host)
        return -1;
    memcpy(host, w, len);
    host[len] = '\0';
    snprintf(r->text, sizeof r->text, "%s", host);
    char *h = host, *colon = strrchr(host, ':');
    if (host[0] == '[') {
        char *close = strchr(host, ']');
        if (!close || (close[1] && close[1] != ':'))
            return -1;
        *close = '\0';
        h = host + 1;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else if (colon && strchr(host, ':') != colon) {
        colon = NULL; /* a bare IPv6 address */
    }
    if (colon) {
        *colon = '\0';
        snprintf(port, sizeof port, "%s", colon + 1);
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(h, port, &hints, &ai) != 0)
        return -1;
    memcpy(&r->sa, ai->ai_addr, ai->ai_addrlen);
    r->len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static const struct dns_tsig_key *key_named(const struct dns_zcfg *s, const char *name,
                                            size_t len)
{
    uint8_t wire[DNS_NAME_MAXLEN];
    size_t n;
    const char *why;
    char text[DNS_NAME_TEXT_MAX];
    if (len >= sizeof text)
        return NULL;
    memcpy(text, name, len);
    if (dns_name_from_text(text, len, (const uint8_t *)"", wire, &n, &why) != 0)
        return NULL;
    return dns_tsig_key_find(s->keys, s->nkeys, wire);
}

/* "addr[:port] ... [key:NAME]": remotes, and the key that signs what we send them. */
static int remotes_parse(const struct dns_zcfg *s, const char *text, struct dns_remote **out,
                         size_t *n, const struct dns_tsig_key **key, const char **bad)
{
    for (const char *p = text ? text : ""; *p;) {
        p += strspn(p, " ,\t");
        size_t len = strcspn(p, " ,\t");
        if (len == 0)
            break;
        *bad = p;
        if (len > 4 && !strncmp(p, "key:", 4)) {
            if (!(*key = key_named(s, p + 4, len - 4)))
                return -1;
        } else {
            *out = xrealloc(*out, (*n + 1) * sizeof **out);
            if (remote_parse(p, len, &(*out)[*n]) != 0)
                return -1;
            (*n)++;
        }
        p += len;
    }
    return 0;
}

/* [zone] dnssec keys: a primary zone's signing parameters. */
static int zconf_dnssec(const char *data_dir, const struct config_zone *cz, struct dns_zconf *z,
                        struct reload_report *r)
{
    if (!cz->dnssec) {
        if (cz->cds_scan)
            log_err("dns: [zone %s]: cds_scan needs dnssec = on (a DS set in an unsigned "
                    "zone proves nothing)",
                    cz->name);
        return cz->cds_scan ? -1 : 0;
    }
    if (cz->primary) {
        zerr(r, "dns: [zone %s]: dnssec = on is for primary zones (a secondary serves what its "
                "primary signed)",
                cz->name);
        return -1;
    }
    z->dnssec = true;
    z->dnssec_nsec3 = cz->dnssec_nsec3;
    z->dnssec_alg = cz->dnssec_algorithm ? dnssec_alg_from_name(cz->dnssec_algorithm)
                                         : DNSSEC_ALG_ECDSAP256;
    EVP_PKEY *probe = z->dnssec_alg ? dnssec_key_generate(z->dnssec_alg) : NULL;
    if (!probe) {
        zerr(r, "dns: [zone %s]: dnssec_algorithm %s cannot sign (ECDSAP256SHA256, "
                "ECDSAP384SHA384, ED25519, ED448, RSASHA256, RSASHA512)",
                cz->name, cz->dnssec_algorithm);
        return -1;
    }
    EVP_PKEY_free(probe);
    if (cz->cds_scan && remote_parse(cz->cds_scan, strlen(cz->cds_scan), &z->cds_resolver)) {
        log_err("dns: [zone %s]: cds_scan must be the address[:port] of a validating resolver",
                cz->name);
        return -1;
    }
    z->cds_scan = cz->cds_scan != NULL;
    z->cds_interval = cz->cds_scan_interval ? cz->cds_scan_interval : 3600;
    z->dnssec_validity = (cz->dnssec_validity ? cz->dnssec_validity : 14) * 86400u;
    z->dnssec_refresh = cz->dnssec_refresh ? cz->dnssec_refresh : z->dnssec_validity / 2;
    if (z->dnssec_refresh >= z->dnssec_validity) {
        zerr(r,
             "dns: [zone %s]: dnssec_refresh (%u s) must be shorter than dnssec_validity "
             "(%u s)",
             cz->name, z->dnssec_refresh, z->dnssec_validity);
        return -1;
    }
    struct str dir = STR_INIT;
    str_appendf(&dir, "%s/dnssec", data_dir);
    z->keydir = str_steal(&dir);
    return 0;
}

/* DATA/journal/NAME.jnl: in the data directory, which the daemon's user owns, rather than
 * beside the zone file, whose directory may be read-only for it. Bytes of the name other
 * than [a-z0-9.-_] are written %XX, so a name cannot leave the directory. */
static char *journal_path(const char *data_dir, const char *name)
{
    struct str p = STR_INIT;
    str_appendf(&p, "%s/" DNS_JOURNAL_DIR "/", data_dir);
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        bool plain = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
                     *c == '_' || (*c == '.' && c != (const unsigned char *)name);
        if (*c >= 'A' && *c <= 'Z')
            str_appendf(&p, "%c", *c - 'A' + 'a');
        else if (plain)
            str_appendf(&p, "%c", *c);
        else
            str_appendf(&p, "%%%02X", *c);
    }
    str_appends(&p, ".jnl");
    return str_steal(&p);
}

static int zconf_one(struct dns_zcfg *s, const char *data_dir, const struct config_zone *cz,
                     struct dns_zconf *z, struct reload_report *r)
{
    char text[300], bad[100];
    size_t n;
    const char *why = NULL, *badp = NULL;
    z->name = xstrdup(cz->name); /* the section goes with its configuration generation */
    z->file = xstrdup(cz->file);
    snprintf(text, sizeof text, "%s.", cz->name);
    if (dns_name_from_text(text, strlen(text), NULL, z->origin, &n, &why) != 0) {
        zerr(r, "dns: [zone %s]: bad zone name: %s", cz->name, why);
        return -1;
    }
    dns_name_lower(z->origin);
    z->jnl = journal_path(data_dir, cz->name);
    const char *lists[2] = {cz->allow_transfer, cz->allow_update};
    struct dns_acl *acls[2] = {&z->xfr_acl, &z->upd_acl};
    for (int i = 0; i < 2; i++)
        if (dns_acl_parse(lists[i], acls[i], bad, sizeof bad) != 0) {
            zerr(r, "dns: [zone %s]: bad address or key in %s: %s", cz->name,
                    i ? "allow_update" : "allow_transfer", bad);
            return -1;
        }
    if (remotes_parse(s, cz->notify, &z->notify, &z->nnotify, &z->notify_key, &badp) != 0) {
        zerr(r, "dns: [zone %s]: bad notify entry (or unknown key) at: %s", cz->name, badp);
        return -1;
    }
    if (cz->primary) {
        struct dns_remote *prim = NULL;
        size_t np = 0;
        int rc = remotes_parse(s, cz->primary, &prim, &np, &z->primary_key, &badp);
        if (rc == 0 && np == 1)
            z->primary = prim[0];
        free(prim);
        if (rc != 0 || np != 1) {
            zerr(r, "dns: [zone %s]: primary must be one address[:port] [key:NAME]", cz->name);
            return -1;
        }
        z->secondary = true;
    }
    return zconf_dnssec(data_dir, cz, z, r);
}

static int zconf_load(struct dns_zcfg *s, const char *data_dir, const struct config_dns *c,
                      struct reload_report *r)
{
    s->zc = xcalloc(c->nzones ? c->nzones : 1, sizeof *s->zc);
    for (unsigned i = 0; i < c->nzones; i++, s->nzones++)
        if (zconf_one(s, data_dir, &c->zones[i], &s->zc[i], r) != 0) {
            s->nzones++;
            return -1;
        }
    return 0;
}

struct dns_zcfg *dns_zcfg_new(const struct config_dns *c, const char *data_dir,
                              struct reload_report *r)
{
    struct dns_zcfg *s = xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    if (keys_load(s, c, r) != 0 || zconf_load(s, data_dir, c, r) != 0) {
        dns_zcfg_unref(s);
        return NULL;
    }
    s->srv = (struct dns_server){s->zc, s->nzones, s->keys, s->nkeys, (uint16_t)c->udp_max};
    return s;
}

struct dns_zcfg *dns_zcfg_ref(struct dns_zcfg *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

void dns_zcfg_unref(struct dns_zcfg *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->nzones; i++) {
        dns_acl_clear(&s->zc[i].xfr_acl);
        dns_acl_clear(&s->zc[i].upd_acl);
        free(s->zc[i].notify);
        free(s->zc[i].jnl);
        free(s->zc[i].keydir);
        free((char *)s->zc[i].name);
        free((char *)s->zc[i].file);
    }
    free(s->zc);
    free(s->keys);
    free(s);
}
