/* dhcp/service/settings — see settings.h. */
#include "dhcp/service/settings.h"

#include "core/str.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static bool owns(const char *section)
{
    return !strcmp(section, "dhcp") || !strncmp(section, "dhcp-subnet ", 12);
}

static void defaults(void *sec)
{
    struct dhcp_settings *s = sec;
    s->port = 67;
    s->engine.offer_time = 60;
    s->engine.probation = 3600;
    s->engine.cache_threshold = 25;
    s->rate_per_mac = 20;
    s->rate_per_relay = 2000;
    s->ddns = true;
    s->ddns_ttl = 300;
    s->ping_timeout = 500;
    s->pool_alarm = 90;
}

static int uint_key(const char *v, unsigned min, unsigned max, unsigned *out, const char **why)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (end == v || *end || n < min || n > max) {
        *why = "number out of range";
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

static int ifaces_key(struct dhcp_settings *s, const char *v, const char **why)
{
    s->nifaces = 0;
    while (*v) {
        while (*v == ' ' || *v == ',')
            v++;
        size_t n = strcspn(v, " ,");
        if (n == 0)
            break;
        if (n >= DHCP_IFNAME_MAX || s->nifaces == DHCP_MAX_IFACES) {
            *why = "at most 16 interface names of at most 15 characters";
            return -1;
        }
        memcpy(s->ifaces[s->nifaces], v, n);
        s->ifaces[s->nifaces++][n] = '\0';
        v += n;
    }
    return 0;
}

static int main_key(struct dhcp_settings *s, const char *key, const char *v, const char **why)
{
    if (!strcmp(key, "interfaces"))
        return ifaces_key(s, v, why);
    if (!strcmp(key, "port"))
        return uint_key(v, 1, 65534, &s->port, why);
    if (!strcmp(key, "offer_time"))
        return uint_key(v, 5, 3600, &s->engine.offer_time, why);
    if (!strcmp(key, "probation"))
        return uint_key(v, 0, 86400 * 7, &s->engine.probation, why);
    if (!strcmp(key, "cache_threshold"))
        return uint_key(v, 0, 50, &s->engine.cache_threshold, why);
    if (!strcmp(key, "rate_per_mac"))
        return uint_key(v, 0, 1000000, &s->rate_per_mac, why);
    if (!strcmp(key, "rate_per_relay"))
        return uint_key(v, 0, 1000000, &s->rate_per_relay, why);
    if (!strcmp(key, "ddns_ttl"))
        return uint_key(v, 0, 86400, &s->ddns_ttl, why);
    if (!strcmp(key, "ping_timeout"))
        return uint_key(v, 10, 5000, &s->ping_timeout, why);
    if (!strcmp(key, "pool_alarm"))
        return uint_key(v, 0, 100, &s->pool_alarm, why);
    bool *flag = !strcmp(key, "ddns") ? &s->ddns : !strcmp(key, "ping_check") ? &s->ping_check
                                                                              : NULL;
    if (flag) {
        if (conf_parse_bool(v, flag) < 0) {
            *why = "expected yes or no";
            return -1;
        }
        return 0;
    }
    if (!strcmp(key, "ddns_server")) {
        s->ddns_server_set = true;
        return conf_parse_listen(v, &s->ddns_server, why);
    }
    if (!strcmp(key, "ddns_key")) {
        free(s->ddns_key);
        s->ddns_key = *v ? xstrdup(v) : NULL;
        return 0;
    }
    if (!strcmp(key, "lease_dir")) {
        free(s->lease_dir);
        s->lease_dir = *v ? xstrdup(v) : NULL;
        return 0;
    }
    *why = "unknown key in [dhcp]";
    return -1;
}

static int parse(void *sec, const char *section, const char *key, const char *value,
                 const char **why)
{
    struct dhcp_settings *s = sec;
    if (!strcmp(section, "dhcp"))
        return key ? main_key(s, key, value, why) : 0;
    struct dhcp_config *c = &s->engine;
    if (!key) {
        for (unsigned i = 0; i < c->nsubnets; i++)
            if (!strcmp(c->subnets[i].name, section + 12)) {
                *why = "this subnet has a section already";
                return -1;
            }
        c->subnets = xrealloc(c->subnets, (c->nsubnets + 1) * sizeof *c->subnets);
        if (dhcp_subnet_init(&c->subnets[c->nsubnets], section + 12, why) < 0)
            return -1;
        c->nsubnets++;
        return 0;
    }
    if (c->nsubnets == 0 || strcmp(c->subnets[c->nsubnets - 1].name, section + 12) != 0) {
        *why = "a [dhcp-subnet] section is given once, its keys together";
        return -1;
    }
    return dhcp_subnet_set(&c->subnets[c->nsubnets - 1], key, value, why);
}

static bool overlaps(const struct dhcp_subnet *a, const struct dhcp_subnet *b)
{
    uint32_t m = a->mask & b->mask;
    return (a->net & m) == (b->net & m);
}

static int check_subnet(struct dhcp_settings *s, unsigned i, const struct config *cfg,
                        struct str *err)
{
    struct dhcp_subnet *sn = &s->engine.subnets[i];
    const char *why = NULL;
    if (dhcp_subnet_finish(sn, &why) < 0) {
        str_appendf(err, "%s: [dhcp-subnet %s]: %s", cfg->path, sn->name, why);
        return -1;
    }
    bool listed = !sn->iface[0];
    for (unsigned k = 0; k < s->nifaces && !listed; k++)
        listed = !strcmp(s->ifaces[k], sn->iface);
    if (!listed) {
        str_appendf(err, "%s: [dhcp-subnet %s]: interface %s is not in [dhcp] interfaces",
                    cfg->path, sn->name, sn->iface);
        return -1;
    }
    for (unsigned k = 0; k < i; k++)
        if (overlaps(&s->engine.subnets[k], sn)) {
            str_appendf(err, "%s: [dhcp-subnet %s] overlaps [dhcp-subnet %s]", cfg->path,
                        sn->name, s->engine.subnets[k].name);
            return -1;
        }
    return 0;
}

static int check(void *sec, const struct config *cfg, struct str *err)
{
    struct dhcp_settings *s = sec;
    for (unsigned i = 0; i < s->engine.nsubnets; i++)
        if (check_subnet(s, i, cfg, err) < 0)
            return -1;
    if (s->nifaces && s->engine.nsubnets == 0) {
        str_appendf(err, "%s: [dhcp] has interfaces but no [dhcp-subnet] section", cfg->path);
        return -1;
    }
    if (s->ddns_key) {
        bool found = false;
        for (unsigned i = 0; i < cfg->dns.nkeys && !found; i++)
            found = !strcmp(cfg->dns.keys[i].name, s->ddns_key);
        if (!found) {
            str_appendf(err, "%s: [dhcp] ddns_key %s: no [tsig %s] section", cfg->path,
                        s->ddns_key, s->ddns_key);
            return -1;
        }
    }
    return 0;
}

static void release(void *sec)
{
    struct dhcp_settings *s = sec;
    for (unsigned i = 0; i < s->engine.nsubnets; i++)
        dhcp_subnet_clear(&s->engine.subnets[i]);
    free(s->engine.subnets);
    free(s->ddns_key);
    free(s->lease_dir);
}

/* What a reload applies (service.c: the engine rebuilt with the stored leases): every
 * [dhcp-subnet] key, so subnets may be added and removed too, and the [dhcp] ones that are
 * neither sockets nor files nor the DNS updater's or the ICMP check's set-up. */
static const char *const reload_keys[] = {
    "interface", "pool", "reserve", "router", "dns", "ntp", "broadcast", "search", "routes",
    "option", "domain", "lease_time", "renew_time", "rebind_time", "server_id", "authoritative",
    "bootp", "offer_time", "probation", "cache_threshold", "rate_per_mac", "rate_per_relay", "ddns_ttl",
    "ping_timeout", "pool_alarm", NULL,
};

static const struct conf_restart restart_why[] = {
    {"interfaces", "a socket per interface is bound at start, before privileges are dropped"},
    {"port", "the sockets are bound at start, before privileges are dropped"},
    {"ddns", "the DNS updater is set up at start"},
    {"ddns_server", "the DNS updater is set up at start"},
    {"ddns_key", "the DNS updater is set up at start"},
    {"lease_dir", "the lease database is opened at start"},
    {"ping_check", "the ICMP socket is opened at start, as root"},
    {NULL, NULL},
};

const struct conf_section dhcp_sections[] = {
    {.name = "dhcp", .size = sizeof(struct dhcp_settings), .service_offset = CONF_NOT_SERVICE,
     .defaults = defaults, .check = check, .free = release, .owns = owns, .parse = parse,
     .reload_keys = reload_keys, .restart_why = restart_why},
    {.name = NULL},
};
