/* proxy service — see service.h: the [proxy] section, the store, the workers' origin side,
 * request collapsing. */
#include "proxy/service/service_int.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "conf/snapshot.h"
#include "host/confgen.h"

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct proto_ops proxy_proto;

static const char *const policy_names[] = {"lru", "lfu", NULL};
static const char *const resolver_names[] = {"system", "pigeon", NULL};

#define P(f) offsetof(struct proxy_config, f)
static const struct conf_key proxy_keys[] = {
    {.name = "cache_dir", .type = CONF_STR, .offset = P(cache_dir)},
    {.name = "cache_memory",
     .type = CONF_SIZE,
     .offset = P(cache_memory),
     .min = 0,
     .max = 1ull << 40},
    {.name = "cache_disk", .type = CONF_SIZE, .offset = P(cache_disk), .min = 0, .max = 1ull << 50},
    {.name = "max_object_size",
     .type = CONF_SIZE,
     .offset = P(max_object_size),
     .min = 0,
     .max = 1ull << 50},
    {.name = "memory_object_size",
     .type = CONF_SIZE,
     .offset = P(memory_object_size),
     .min = 0,
     .max = 1ull << 32},
    {.name = "allow", .type = CONF_STR, .offset = P(allow)},
    {.name = "auth", .type = CONF_BOOL, .offset = P(auth)},
    {.name = "allow_origins", .type = CONF_STR, .offset = P(allow_origins)},
    {.name = "origin_ca_file", .type = CONF_STR, .offset = P(origin_ca_file)},
    {.name = "via", .type = CONF_STR, .offset = P(via)},
    {.name = "connect_timeout",
     .type = CONF_UINT,
     .offset = P(connect_timeout),
     .min = 1,
     .max = 600},
    {.name = "read_timeout", .type = CONF_UINT, .offset = P(read_timeout), .min = 1, .max = 3600},
    {.name = "retries", .type = CONF_UINT, .offset = P(retries), .min = 0, .max = 5},
    {.name = "heuristic_percent",
     .type = CONF_UINT,
     .offset = P(heuristic_percent),
     .min = 0,
     .max = 100},
    {.name = "heuristic_max",
     .type = CONF_UINT,
     .offset = P(heuristic_max),
     .min = 0,
     .max = 365 * 86400},
    {.name = "max_body_size",
     .type = CONF_SIZE,
     .offset = P(max_body_size),
     .min = 0,
     .max = 1ull << 32},
    {.name = "policy",
     .type = CONF_ENUM,
     .offset = P(policy),
     .names = policy_names,
     .why = "policy must be lru or lfu"},
    {.name = "resolver",
     .type = CONF_ENUM,
     .offset = P(resolver),
     .names = resolver_names,
     .why = "resolver must be system or pigeon"},
    {.name = "resolver_fallback", .type = CONF_BOOL, .offset = P(resolver_fallback)},
    {.name = NULL},
};

static void proxy_defaults(void *vsec)
{
    struct proxy_config *c = vsec;
    conf_service_defaults(&c->svc, 60);
    c->svc.max_connections_per_ip = 256; /* browsers open many connections to a proxy */
    c->cache_memory = 64ull << 20;
    c->cache_disk = 1ull << 30;
    c->max_object_size = 1ull << 30;
    c->memory_object_size = 1ull << 20;
    c->connect_timeout = 10;
    c->read_timeout = 60;
    c->retries = 1;
    c->heuristic_percent = 10;
    c->heuristic_max = 86400;
    c->max_body_size = 64ull << 20;
    c->policy = CACHE_LRU;
    c->resolver = PROXY_RESOLVER_SYSTEM;
    c->resolver_fallback = true;
}

static int proxy_check(void *vsec, const struct config *cfg, struct str *err)
{
    struct proxy_config *c = vsec;
    struct net_acl acl;
    char bad[80];
    const char *lists[] = {c->allow, c->allow_origins};
    for (int i = 0; i < 2; i++) {
        if (net_acl_parse(lists[i], &acl, NULL, NULL, bad, sizeof bad) != 0) {
            str_appendf(err, "[proxy] %s: not an address prefix: %s", i ? "allow_origins" : "allow",
                        bad);
            return -1;
        }
        net_acl_clear(&acl);
    }
    return proxy_sites_check(cfg, err);
}

static void proxy_free_sec(void *vsec)
{
    conf_keys_free(proxy_keys, vsec);
}

#define RV(f) offsetof(struct reverse_config, f)
static const struct conf_key reverse_keys[] = {
    {.name = "origin", .type = CONF_STR, .offset = RV(origin)},
    {.name = "allow", .type = CONF_STR, .offset = RV(allow)},
    {.name = NULL},
};

static void reverse_defaults(void *vsec)
{
    struct reverse_config *c = vsec;
    conf_service_defaults(&c->svc, 60);
    c->svc.max_connections_per_ip = 256;
}

static int reverse_check(void *vsec, const struct config *cfg, struct str *err)
{
    struct reverse_config *c = vsec;
    struct proxy_origins o;
    const char *why = "origin must be http://host[:port] or https://...";
    if (c->svc.enabled && (!c->origin || proxy_origins_parse(c->origin, &o, &why) != 0)) {
        str_appendf(err, "[reverse_proxy] origin: %s", why);
        return -1;
    }
    struct net_acl acl;
    char bad[80];
    if (net_acl_parse(c->allow, &acl, NULL, NULL, bad, sizeof bad) != 0) {
        str_appendf(err, "[reverse_proxy] allow: not an address prefix: %s", bad);
        return -1;
    }
    net_acl_clear(&acl);
    return 0;
}

static void reverse_free_sec(void *vsec)
{
    conf_keys_free(reverse_keys, vsec);
}

/* What proxy_reload applies, to the requests and connections that start after it. */
static const char *const proxy_reload_keys[] = {
    CONF_SERVICE_RELOAD_KEYS, "allow", "allow_origins", "auth", "connect_timeout",
    "read_timeout", "retries", "resolver", "resolver_fallback", NULL,
};

static const struct conf_restart proxy_restart_why[] = {
    {"cache_dir", "the cache's files and index are opened at start"},
    {"cache_memory", "the cache's budgets are set when it is opened, at start"},
    {"cache_disk", "the cache's budgets are set when it is opened, at start"},
    {"max_object_size", "the cache's budgets are set when it is opened, at start"},
    {"memory_object_size", "the cache's budgets are set when it is opened, at start"},
    {"policy", "the cache's eviction policy is set when it is opened, at start"},
    {"origin_ca_file", "the TLS context towards origins is made at start"},
    {"via", "the Via and Cache-Status names are fixed at start"},
    {"heuristic_percent", "the freshness rules are fixed at start"},
    {"heuristic_max", "the freshness rules are fixed at start"},
    {"max_body_size", "the request parser's limits are fixed at start"},
    {NULL, NULL},
};

static const struct conf_section proxy_sections[] = {
    {.name = "proxy",
     .size = sizeof(struct proxy_config),
     .service_offset = offsetof(struct proxy_config, svc),
     .keys = proxy_keys,
     .defaults = proxy_defaults,
     .check = proxy_check,
     .free = proxy_free_sec,
     .reload_keys = proxy_reload_keys,
     .restart_why = proxy_restart_why},
    {.name = "reverse_proxy",
     .size = sizeof(struct reverse_config),
     .service_offset = offsetof(struct reverse_config, svc),
     .keys = reverse_keys,
     .defaults = reverse_defaults,
     .check = reverse_check,
     .free = reverse_free_sec},
    {.name = NULL},
};

/* ---- lifecycle ---- */

static SSL_CTX *client_tls(const struct proxy_config *c)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(ctx);
    if (c->origin_ca_file && SSL_CTX_load_verify_locations(ctx, c->origin_ca_file, NULL) != 1) {
        log_err("proxy: cannot read origin_ca_file %s", c->origin_ca_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/* What a reload put in force: kept until close, as a request in flight may still read it. */
struct proxy_reloaded {
    struct proxy_reloaded *next;
    struct proxy_config cfg; /* numbers and flags; its strings NULL */
    struct net_acl clients, origins;
};

static void state_free(struct proxy_state *st)
{
    if (!st)
        return;
    while (st->reloaded) {
        struct proxy_reloaded *r = st->reloaded;
        st->reloaded = r->next;
        net_acl_clear(&r->clients);
        net_acl_clear(&r->origins);
        free(r);
    }
    cache_store_close(st->store);
    net_acl_clear(&st->clients);
    net_acl_clear(&st->origins);
    net_acl_clear(&st->reverse_clients);
    if (st->client_tls)
        SSL_CTX_free(st->client_tls);
    proxy_inflight_free_all(st);
    proxy_sites_free(st);
    pthread_mutex_destroy(&st->inflight_lock);
    free(st);
}

static int proxy_open(struct daemon *d, void **state_out)
{
    const struct proxy_config *c = config_section(&d->cfg, "proxy");
    const struct reverse_config *rc = config_section(&d->cfg, "reverse_proxy");
    if (!c || (!c->svc.enabled && !(rc && rc->svc.enabled) && !proxy_sites_configured(&d->cfg)))
        return 0;
    struct proxy_state *st = xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->inflight_lock, NULL);
    st->cfg = c;
    char bad[80];
    net_acl_parse(c->allow ? c->allow : "127.0.0.0/8 ::1", &st->clients, NULL, NULL, bad,
                  sizeof bad);
    net_acl_parse(c->allow_origins, &st->origins, NULL, NULL, bad, sizeof bad);
    st->clients_now = &st->clients;
    st->origins_now = &st->origins;
    st->rules = (struct cache_rules){c->heuristic_percent, c->heuristic_max};
    st->lim = (struct http_limits){8192, 65536, c->max_body_size};
    snprintf(st->name, sizeof st->name, "%s", c->via ? c->via : "pigeon");
    snprintf(st->via, sizeof st->via, "1.1 %s", st->name);
    for (unsigned i = 0; i < c->svc.n_listen; i++)
        st->own_ports[st->n_own_ports++] = (uint16_t)atoi(c->svc.listen[i].port);
    char dir[4096];
    if (c->cache_dir)
        snprintf(dir, sizeof dir, "%s", c->cache_dir);
    else
        snprintf(dir, sizeof dir, "%s/proxy-cache", d->cfg.data_dir);
    struct cache_budget b = {c->cache_memory, c->cache_disk, c->max_object_size,
                             c->memory_object_size, (enum cache_policy)c->policy};
    const char *err = NULL;
    st->store = cache_store_open(dir, &b, &err);
    st->client_tls = client_tls(c);
    if (!st->store || !st->client_tls) {
        log_err("proxy: %s: %s", dir, err ? err : "no TLS client context");
        state_free(st);
        return -1;
    }
    struct cache_stats s;
    cache_store_stats(st->store, &s);
    log_info("proxy: cache %s: %llu objects, %llu bytes on disk", dir,
             (unsigned long long)s.objects, (unsigned long long)s.disk_bytes);
    *state_out = st;
    if (rc && rc->svc.enabled) {
        st->rcfg = rc;
        const char *why;
        proxy_origins_parse(rc->origin, &st->reverse, &why); /* checked by reverse_check */
        net_acl_parse(rc->allow, &st->reverse_clients, NULL, NULL, bad, sizeof bad);
        if (host_listen_tcp(d, "reverse_proxy", &proxy_proto, rc, &rc->svc, false) < 0)
            return -1;
    }
    if (c->svc.enabled && host_listen_tcp(d, "proxy", &proxy_proto, c, &c->svc, false) < 0)
        return -1;
    return proxy_sites_open(d, st);
}

static void *proxy_attach(struct worker *w, void *state)
{
    if (!state)
        return NULL;
    struct proxy_worker *pw = xcalloc(1, sizeof *pw);
    pw->w = w;
    pw->st = state;
    pw->dns = evdns_base_new(w->host.base,
                             EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_NAMESERVERS_NO_DEFAULT);
    if (!pw->dns) /* no resolv.conf: names from /etc/hosts and numeric addresses only */
        pw->dns = evdns_base_new(w->host.base, 0);
    if (pw->dns)
        evdns_base_load_hosts(pw->dns, NULL);
    return pw;
}

static void on_stop_timer(evutil_socket_t fd, short what, void *vpw)
{
    proxy_fetch_cut_all(vpw);
}

void proxy_worker_stopping(struct proxy_worker *pw)
{
    if (pw->stop_timer)
        return;
    pw->stop_timer = evtimer_new(pw->w->host.base, on_stop_timer, pw);
    struct timeval tv = {(time_t)pw->w->d->cfg.shutdown_timeout, 0};
    if (pw->stop_timer)
        evtimer_add(pw->stop_timer, &tv);
}

static void proxy_detach(struct worker *w, void *wstate)
{
    struct proxy_worker *pw = wstate;
    if (!pw)
        return;
    if (pw->stop_timer)
        event_free(pw->stop_timer);
    proxy_fetch_free_all(pw);
    upstream_idle_free_all(pw);
    if (pw->dns)
        evdns_base_free(pw->dns, 0);
    free(pw);
}

/* Reload: who may use the proxy, which local origins it may fetch from, the timeouts,
 * retries, Proxy-Authorization and the resolver, for what starts after it; the listener's
 * per-address limit and timeouts. The cache and the names in Via stay (proxy_restart_why). */
static void proxy_key_changed(void *vchanged, const char *section, const char *key)
{
    if (!strcmp(section, "proxy") || !strncmp(section, "http ", 5))
        *(bool *)vchanged = true;
}

static void proxy_reload(struct daemon *d, void *state, const struct config *next)
{
    static const char *const names[] = {"proxy", NULL};
    struct proxy_state *st = state;
    const struct proxy_config *c = config_section(next, "proxy");
    if (!st && proxy_sites_configured(next))
        reload_report_add(d->reloading, true, "proxy: [http NAME] proxy_to needs a restart: "
                                              "the proxy service did not run at start");
    bool changed = false; /* what a reload puts in force is kept until close: only if new */
    if (st)
        conf_snapshot_diff(host_config_main(d)->written, next->written, proxy_key_changed,
                           &changed);
    host_relisten_sections(d, next, names);
    if (!st || !c || !changed)
        return;
    struct proxy_reloaded *r = xcalloc(1, sizeof *r);
    r->cfg = *c;
    r->cfg.cache_dir = r->cfg.allow = r->cfg.allow_origins = NULL;
    r->cfg.origin_ca_file = r->cfg.via = NULL;
    char bad[80]; /* both lists were checked by proxy_check */
    net_acl_parse(c->allow ? c->allow : "127.0.0.0/8 ::1", &r->clients, NULL, NULL, bad,
                  sizeof bad);
    net_acl_parse(c->allow_origins, &r->origins, NULL, NULL, bad, sizeof bad);
    r->next = st->reloaded;
    st->reloaded = r;
    st->cfg = &r->cfg;
    st->clients_now = &r->clients;
    st->origins_now = &r->origins;
    proxy_sites_reload(st, next, d->reloading);
}

/* The workers' loops have stopped: what fetches still run is freed by each worker's detach,
 * and none of them may post a wake to a loop any more (some are freed before others). */
static void proxy_stop(struct daemon *d, void *state)
{
    struct proxy_state *st = state;
    if (st)
        atomic_store_explicit(&st->closing, true, memory_order_relaxed);
}

static void proxy_close(struct daemon *d, void *state)
{
    state_free(state);
}

struct proxy_worker *proxy_worker_of(struct conn *c)
{
    return host_worker_state(conn_worker(c), &proxy_service);
}

const struct service_def proxy_service = {
    .name = "proxy",
    .sections = proxy_sections,
    .open = proxy_open,
    .reload = proxy_reload,
    .attach = proxy_attach,
    .detach = proxy_detach,
    .control = proxy_control,
    .stop = proxy_stop,
    .close = proxy_close,
};
