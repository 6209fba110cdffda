/*
 * cmd_dnssec — `pigeon dnssec ...`: offline signing and checking of zone files with Pigeon's
 * own signer and validator (the same code pigeond uses), and a zone's keys and DS records.
 *
 *   dnssec keygen KEYDIR ORIGIN [ALG] [csk|ksk|zsk]   make a key (file mode 0600)
 *   dnssec sign ORIGIN FILE KEYDIR [+nsec3] [+alg=A] [+validity=DAYS] [+now=T]
 *                                                      signed zone on stdout
 *   dnssec verify ORIGIN FILE [+now=T]                 check every signature and the chain
 *   dnssec ds ZONE | ORIGIN KEYDIR                     DS records (SHA-256) for the parent
 *   dnssec status ZONE                                 a configured zone's keys and their states
 *   dnssec rollover ZONE [zsk|ksk|csk]                 starts a key rollover (pigeond does it)
 *
 * Blocks on file reads and writes; key generation uses OpenSSL's random source.
 */
#include "cli/cli.h"

#include "core/str.h"
#include "dns/dnssec/keystore.h"
#include "dns/dnssec/zone_verify.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/rr.h"
#include "dns/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int origin_arg(const char *arg, uint8_t origin[DNS_NAME_MAXLEN])
{
    size_t olen;
    const char *why = NULL;
    if (dns_name_from_text(arg, strlen(arg), NULL, origin, &olen, &why) != 0)
        return cli_fail("bad zone origin '%s': %s", arg, why);
    return 0;
}

static int load_zone(const char *path, const uint8_t *origin, struct dns_zone **z)
{
    struct str err = STR_INIT;
    int rc = dns_zone_load(path, origin, z, &err);
    if (rc != 0)
        fprintf(stderr, "%s\n", str_cstr(&err));
    str_clear(&err);
    return rc ? CLI_FAIL : 0;
}

/* "+name=value" options; returns the value or NULL. */
static const char *opt_value(const char *arg, const char *name)
{
    size_t l = strlen(name);
    if (arg[0] != '+' || strncmp(arg + 1, name, l) != 0 || arg[1 + l] != '=')
        return NULL;
    return arg + 2 + l;
}

int cli_dnssec_keygen(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    uint8_t origin[DNS_NAME_MAXLEN];
    if (origin_arg(argv[1], origin))
        return CLI_FAIL;
    uint8_t alg = argc > 2 ? dnssec_alg_from_name(argv[2]) : DNSSEC_ALG_ECDSAP256;
    if (!alg)
        return cli_fail("unknown algorithm '%s' (ECDSAP256SHA256, ED25519, RSASHA256, ...)",
                        argv[2]);
    enum dnssec_role role = DNSSEC_ROLE_CSK;
    if (argc > 3 && strcmp(argv[3], "ksk") == 0)
        role = DNSSEC_ROLE_KSK;
    else if (argc > 3 && strcmp(argv[3], "zsk") == 0)
        role = DNSSEC_ROLE_ZSK;
    else if (argc > 3 && strcmp(argv[3], "csk") != 0)
        return cli_fail("role must be csk, ksk or zsk");
    struct dnssec_keyset ks = {0};
    struct str err = STR_INIT;
    int rc = dnssec_keystore_create(argv[0], origin, alg, role, DNSSEC_KEY_ACTIVE, &ks, &err);
    if (rc == 0)
        printf("%s\n", ks.path[0]);
    else
        cli_fail("%s", str_cstr(&err));
    dnssec_keyset_clear(&ks);
    str_clear(&err);
    return rc ? CLI_FAIL : CLI_OK;
}

static void print_zone(const struct dns_zone *z)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    struct str line = STR_INIT;
    for (size_t i = 0; i < nn; i++)
        for (unsigned r = 0; r < nodes[i].nrrsets; r++) {
            const struct dns_rrset *s = &nodes[i].rrsets[r];
            for (unsigned j = 0; j < s->count; j++) {
                str_reset(&line);
                dns_print_rr(nodes[i].name, s->type, DNS_CLASS_IN, s->ttl, s->rdata[j].data,
                             s->rdata[j].len, &line);
                str_appendc(&line, '\n');
                fwrite(line.ptr, 1, line.len, stdout);
            }
        }
    str_clear(&line);
}

static int sign_options(int argc, char **argv, struct dnssec_sign_params *p, uint8_t *alg)
{
    p->now = (uint32_t)time(NULL);
    p->inception_ago = 3600;
    p->validity = 14 * 86400;
    for (int i = 3; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "+nsec3") == 0)
            p->nsec3 = true;
        else if ((v = opt_value(argv[i], "alg")) && (*alg = dnssec_alg_from_name(v)) != 0)
            continue;
        else if ((v = opt_value(argv[i], "validity")) && atoi(v) > 0 && atoi(v) < 3650)
            p->validity = (uint32_t)atoi(v) * 86400;
        else if ((v = opt_value(argv[i], "now")))
            p->now = (uint32_t)strtoul(v, NULL, 10);
        else
            return cli_fail("unknown option '%s'", argv[i]);
    }
    return 0;
}

int cli_dnssec_sign(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    uint8_t origin[DNS_NAME_MAXLEN], alg = DNSSEC_ALG_ECDSAP256;
    struct dnssec_sign_params p = {0};
    struct dns_zone *z = NULL, *signed_z = NULL;
    if (origin_arg(argv[0], origin) || sign_options(argc, argv, &p, &alg) ||
        load_zone(argv[1], origin, &z))
        return CLI_FAIL;
    struct dnssec_keyset ks = {0};
    struct str err = STR_INIT;
    int rc = dnssec_keystore_ensure(argv[2], origin, alg, &ks, &err);
    if (rc == 0) {
        struct dnssec_key keys[DNSSEC_KEYSET_MAX];
        memcpy(keys, ks.keys, ks.n * sizeof keys[0]);
        rc = dnssec_sign_zone(z, keys, ks.n, &p, &signed_z, &err);
    }
    if (rc == 0)
        print_zone(signed_z);
    else
        cli_fail("%s", str_cstr(&err));
    dns_zone_unref(signed_z);
    dns_zone_unref(z);
    dnssec_keyset_clear(&ks);
    str_clear(&err);
    return rc ? CLI_FAIL : CLI_OK;
}

int cli_dnssec_verify(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    uint8_t origin[DNS_NAME_MAXLEN];
    uint32_t now = (uint32_t)time(NULL);
    const char *v;
    for (int i = 2; i < argc; i++) {
        if ((v = opt_value(argv[i], "now")))
            now = (uint32_t)strtoul(v, NULL, 10);
        else
            return cli_fail("unknown option '%s'", argv[i]);
    }
    struct dns_zone *z = NULL;
    if (origin_arg(argv[0], origin) || load_zone(argv[1], origin, &z))
        return CLI_FAIL;
    struct dnssec_zone_report r = {0};
    int rc = dnssec_zone_verify(z, now, &r);
    fputs(str_cstr(&r.errors), stdout);
    if (rc == 0)
        printf("ok: %zu RRsets signed, %s chain of %zu\n", r.rrsets, r.nsec3 ? "NSEC3" : "NSEC",
               r.chain);
    else
        printf("bogus: %zu problems\n", r.failures);
    str_clear(&r.errors);
    dns_zone_unref(z);
    return rc ? CLI_FAIL : CLI_OK;
}

/* A configured [zone] with dnssec = on: its origin and key directory (DATA/dnssec). */
static int zone_conf(struct cli_ctx *ctx, const char *name, uint8_t origin[DNS_NAME_MAXLEN],
                     struct str *keydir, const struct config_zone **zc_out)
{
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    size_t l = strlen(name);
    if (l > 1 && name[l - 1] == '.')
        l--;
    for (unsigned i = 0; i < ctx->cfg.dns.nzones; i++) {
        const struct config_zone *z = &ctx->cfg.dns.zones[i];
        if (strlen(z->name) != l || strncasecmp(z->name, name, l) != 0)
            continue;
        if (!z->dnssec)
            return cli_fail("[zone %s] is not signed (dnssec = on)", z->name);
        char text[300];
        snprintf(text, sizeof text, "%s.", z->name);
        if (origin_arg(text, origin))
            return CLI_FAIL;
        str_appendf(keydir, "%s/dnssec", ctx->cfg.data_dir);
        if (zc_out)
            *zc_out = z;
        return 0;
    }
    return cli_fail("no [zone %.*s] in %s", (int)l, name, ctx->conf_path);
}

int cli_dnssec_ds(struct cli_ctx *ctx, int argc, char **argv)
{
    uint8_t origin[DNS_NAME_MAXLEN];
    struct str dir = STR_INIT;
    if (argc == 1 ? zone_conf(ctx, argv[0], origin, &dir, NULL) != 0
                  : (str_appends(&dir, argv[1]), origin_arg(argv[0], origin) != 0)) {
        str_clear(&dir);
        return CLI_FAIL;
    }
    struct dnssec_keyset ks = {0};
    struct str err = STR_INIT, line = STR_INIT;
    int rc = dnssec_keystore_load(str_cstr(&dir), origin, &ks, &err);
    if (rc)
        cli_fail("%s", str_cstr(&err));
    else if (ks.n == 0)
        rc = cli_fail("no keys for that zone in %s", str_cstr(&dir));
    for (size_t i = 0; rc == 0 && i < ks.n; i++) {
        uint8_t ds[4 + DNSSEC_DIGEST_MAX];
        size_t dl;
        if (!ks.keys[i].ksk || ks.state[i] == DNSSEC_KEY_RETIRED ||
            dnssec_ds_make(origin, ks.keys[i].dnskey, ks.keys[i].dnskey_len,
                           DNSSEC_DIGEST_SHA256, ds, &dl) != 0)
            continue;
        str_reset(&line);
        dns_print_rr(origin, DNS_TYPE_DS, DNS_CLASS_IN, 3600, ds, dl, &line);
        printf("%s\n", str_cstr(&line));
    }
    dnssec_keyset_clear(&ks);
    str_clear(&err);
    str_clear(&line);
    str_clear(&dir);
    return rc ? CLI_FAIL : CLI_OK;
}

int cli_dnssec_status(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    uint8_t origin[DNS_NAME_MAXLEN];
    struct str dir = STR_INIT, err = STR_INIT;
    struct dnssec_keyset ks = {0};
    int rc = zone_conf(ctx, argv[0], origin, &dir, NULL);
    if (rc == 0 && dnssec_keystore_load(str_cstr(&dir), origin, &ks, &err) != 0)
        rc = cli_fail("%s", str_cstr(&err));
    if (rc == 0 && ks.n == 0)
        printf("no keys yet: pigeond makes a CSK when it first signs the zone\n");
    for (size_t i = 0; rc == 0 && i < ks.n; i++) {
        char when[32];
        time_t t = (time_t)ks.since[i];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
        const char *alg = dnssec_alg_name(ks.keys[i].alg);
        printf("key %05u %s %s %s since %s  %s\n", ks.keys[i].tag, alg ? alg : "?",
               dnssec_role_name(ks.role[i]), dnssec_state_name(ks.state[i]), when, ks.path[i]);
    }
    dnssec_keyset_clear(&ks);
    str_clear(&dir);
    str_clear(&err);
    return rc ? CLI_FAIL : CLI_OK;
}

int cli_dnssec_rollover(struct cli_ctx *ctx, int argc, char **argv)
{
    uint8_t origin[DNS_NAME_MAXLEN];
    struct str dir = STR_INIT, err = STR_INIT;
    const struct config_zone *zc = NULL;
    struct dnssec_keyset ks = {0};
    enum dnssec_role role = DNSSEC_ROLE_CSK;
    if (argc > 1 && strcmp(argv[1], "zsk") == 0)
        role = DNSSEC_ROLE_ZSK;
    else if (argc > 1 && strcmp(argv[1], "ksk") == 0)
        role = DNSSEC_ROLE_KSK;
    else if (argc > 1 && strcmp(argv[1], "csk") != 0)
        return cli_fail("the key to roll is zsk, ksk or csk");
    int rc = zone_conf(ctx, argv[0], origin, &dir, &zc);
    uint8_t alg = DNSSEC_ALG_ECDSAP256;
    if (rc == 0 && zc->dnssec_algorithm)
        alg = dnssec_alg_from_name(zc->dnssec_algorithm);
    if (rc == 0 && dnssec_keystore_create(str_cstr(&dir), origin, alg, role,
                                          DNSSEC_KEY_PUBLISHED, &ks, &err) != 0)
        rc = cli_fail("%s", str_cstr(&err));
    if (rc == 0)
        printf("new %s %05u published in %s: pigeond signs with it once the zone's longest TTL "
               "has passed, then retires the old one (see `pigeon dnssec status`)\n",
               dnssec_role_name(role), ks.keys[0].tag, ks.path[0]);
    dnssec_keyset_clear(&ks);
    str_clear(&dir);
    str_clear(&err);
    return rc ? CLI_FAIL : CLI_OK;
}
