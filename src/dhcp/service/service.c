/*
 * dhcp/service — see service.h. The lifecycle, the DHCP thread (its own event loop: the
 * engine's decisions are serialised and its SQLite commits must not stall a worker), the
 * one-second tick (lease expiry, `pigeon dhcp` commands) and the engine's ops.
 */
#include "dhcp/service/service.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/reload_report.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "dhcp/service/service_int.h"
#include "host/confgen.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void dhcp_service_lease_dir(const struct config *cfg, char *out, size_t cap)
{
    const struct dhcp_settings *s = config_section(cfg, "dhcp");
    if (s && s->lease_dir)
        snprintf(out, cap, "%s", s->lease_dir);
    else
        snprintf(out, cap, "%s/dhcp", cfg->data_dir);
}

/* ---- the engine's ops ---- */

/* Into the current batch: the commit thread writes it, and any ACK built after it is sent
 * only once its COMMIT returned (commit.c). */
static int op_save(void *ctx, const struct dhcp_lease *l)
{
    dhcp_batch_save(ctx, l);
    return 0;
}

static void op_bound(void *ctx, const struct dhcp_lease *l, const struct dhcp_subnet *s)
{
    struct dhcp_svc *svc = ctx;
    if (svc->ddns)
        dhcp_ddns_bound(svc->ddns, l, s);
}

static void op_unbound(void *ctx, const struct dhcp_lease *l, const struct dhcp_subnet *s)
{
    struct dhcp_svc *svc = ctx;
    if (svc->ddns)
        dhcp_ddns_unbound(svc->ddns, l, s);
}

static const struct dhcp_engine_ops engine_ops = {op_save, op_bound, op_unbound};

/* ---- reservations from `pigeon dhcp reserve`, merged into the subnets ---- */

static void add_reservation(void *ctx, const uint8_t *key, size_t len, uint32_t addr)
{
    struct dhcp_config *c = ctx;
    for (unsigned i = 0; i < c->nsubnets; i++) {
        struct dhcp_subnet *s = &c->subnets[i];
        if ((addr & s->mask) != s->net)
            continue;
        s->res = xrealloc(s->res, (s->nres + 1) * sizeof *s->res);
        struct dhcp_reservation *r = &s->res[s->nres++];
        memset(r, 0, sizeof *r);
        memcpy(r->key, key, len);
        r->key_len = (uint8_t)len;
        r->addr = addr;
        return;
    }
    log_warn("dhcp: a reservation for %s is in no subnet: ignored",
             inet_ntoa((struct in_addr){htonl(addr)}));
}

static void restore_one(void *ctx, const struct dhcp_lease *l)
{
    dhcp_engine_restore(ctx, l);
}

int dhcp_service_add_reservations(struct dhcp_config *c, struct dhcp_leases *db)
{
    return dhcp_leases_each_reservation(db, add_reservation, c);
}

/* A new engine on c: the file's reservations (nres_file per subnet; c's lists are cut back
 * to them) plus the database's, then every stored lease. NULL (logged). */
static struct dhcp_engine *engine_build(struct dhcp_svc *svc, struct dhcp_config *c,
                                        const unsigned *nres_file)
{
    for (unsigned i = 0; i < c->nsubnets; i++)
        c->subnets[i].nres = nres_file[i];
    dhcp_service_add_reservations(c, svc->db);
    const char *why = NULL;
    struct dhcp_engine *e = dhcp_engine_new(c, &engine_ops, svc, &why);
    if (!e) {
        log_err("dhcp: %s", why);
        return NULL;
    }
    if (dhcp_leases_each(svc->db, restore_one, e) < 0) {
        log_err("dhcp: the stored leases cannot be read");
        dhcp_engine_free(e);
        return NULL;
    }
    dhcp_engine_set_batch(e, svc->batch_seq + 1); /* the batch being filled */
    if (svc->failed_from) /* a batch was lost: no lease is ACKed from memory again (commit.c) */
        dhcp_engine_cache_off(e);
    return e;
}

int dhcp_service_apply(struct dhcp_svc *svc, struct dhcp_settings *cfg)
{
    struct dhcp_config *c = &cfg->engine;
    /* how many reservations each subnet has from the file: as parsed the first time cfg is
     * seen; once built its lists hold the database's too, and svc->cfg_nres says */
    bool again = cfg == svc->cfg && svc->cfg_nres;
    unsigned *nres = xcalloc(c->nsubnets ? c->nsubnets : 1, sizeof *nres);
    for (unsigned i = 0; i < c->nsubnets; i++)
        nres[i] = again ? svc->cfg_nres[i] : c->subnets[i].nres;
    if (svc->commit) { /* a rebuild reads the leases back: what is pending first */
        dhcp_batch_submit(svc);
        dhcp_commit_wait(svc->commit);
    }
    struct dhcp_engine *e = engine_build(svc, c, nres);
    if (!e) {
        free(nres);
        return -1;
    }
    dhcp_engine_free(svc->engine);
    svc->engine = e;
    free(svc->cfg_nres);
    svc->cfg_nres = nres;
    bool rates = !svc->rl_mac || cfg->rate_per_mac != svc->cfg->rate_per_mac ||
                 cfg->rate_per_relay != svc->cfg->rate_per_relay;
    svc->cfg = cfg;
    if (rates) { /* new tables only when a rate changed: the counts so far are kept */
        dhcp_ratelimit_free(svc->rl_mac);
        dhcp_ratelimit_free(svc->rl_relay);
        svc->rl_mac = dhcp_ratelimit_new(cfg->rate_per_mac, cfg->rate_per_mac * 2, 4096);
        svc->rl_relay = dhcp_ratelimit_new(cfg->rate_per_relay, cfg->rate_per_relay, 256);
    }
    if (!svc->pools)
        svc->pools = dhcp_pools_new();
    dhcp_pools_apply(svc->pools, c);
    dhcp_pools_check(svc);
    return 0;
}

/* ---- the tick ---- */

static void on_command(void *ctx, const char *verb, const char *arg)
{
    struct dhcp_svc *svc = ctx;
    struct in_addr a;
    if (!strcmp(verb, "release") && inet_pton(AF_INET, arg, &a) == 1) {
        if (dhcp_engine_release_addr(svc->engine, ntohl(a.s_addr), time(NULL)) == 0)
            log_info("dhcp: %s released by the administrator", arg);
        else
            log_info("dhcp: release %s: not bound", arg);
    } else if (!strcmp(verb, "reserved")) {
        /* a rebuild reads the leases back: what is pending first */
        if (dhcp_service_apply(svc, svc->cfg) == 0)
            log_info("dhcp: reservations reloaded");
    }
}

static void on_tick(evutil_socket_t fd, short what, void *vsvc)
{
    struct dhcp_svc *svc = vsvc;
    int64_t now = time(NULL);
    unsigned n = dhcp_engine_expire(svc->engine, now);
    if (n)
        log_info("dhcp: %u lease(s) expired", n);
    dhcp_batch_submit(svc);
    dhcp_pools_check(svc);
    /* the CLI leaves commands in the database (the commit thread's writes change the
     * version too: then the look finds none) */
    int64_t v = dhcp_leases_data_version(svc->db);
    if (v != svc->data_version) {
        svc->data_version = v;
        dhcp_leases_commands_take(svc->db, on_command, svc);
        dhcp_batch_submit(svc);
        svc->data_version = dhcp_leases_data_version(svc->db);
    }
}

/* ---- lifecycle ---- */

static void on_stop(evutil_socket_t fd, short what, void *vsvc)
{
    struct dhcp_svc *svc = vsvc;
    event_base_loopbreak(svc->base);
}

static void *thread_main(void *vsvc)
{
    struct dhcp_svc *svc = vsvc;
    event_base_dispatch(svc->base);
    return NULL;
}

static void svc_free(struct dhcp_svc *svc)
{
    dhcp_ddns_stop(svc->ddns);
    dhcp_commit_stop(svc->commit); /* when start failed half-way; else done by dhcp_stop */
    dhcp_batch_drop(svc);
    if (svc->post)
        loop_post_free(svc->post);
    dhcp_acks_flush(svc); /* what the commit thread's last groups made durable */
    dhcp_ddns_free(svc->ddns);
    dhcp_ping_free(svc->ping);
    dhcp_io_close(svc);
    if (svc->tick)
        event_free(svc->tick);
    if (svc->stop_ev)
        event_free(svc->stop_ev);
    if (svc->base)
        event_base_free(svc->base);
    dhcp_engine_free(svc->engine);
    dhcp_leases_close(svc->db);
    dhcp_ratelimit_free(svc->rl_mac);
    dhcp_ratelimit_free(svc->rl_relay);
    free(svc->cfg_nres);
    dhcp_pools_free(svc->pools);
    host_confgen_drop(svc->gen);
    free(svc);
}

static int start(struct dhcp_svc *svc)
{
    char dir[4096];
    struct str err;
    str_init(&err);
    dhcp_service_lease_dir(&svc->d->cfg, dir, sizeof dir);
    svc->db = dhcp_leases_open(dir, &err);
    if (!svc->db) {
        log_err("dhcp: %s", str_cstr(&err));
        str_clear(&err);
        return -1;
    }
    struct dhcp_config *c = &svc->cfg->engine;
    if (dhcp_service_apply(svc, svc->cfg) < 0 || dhcp_io_open(svc) < 0)
        return -1;
    svc->data_version = dhcp_leases_data_version(svc->db);
    svc->base = event_base_new();
    svc->post = loop_post_new(svc->base);
    dhcp_acks_start(svc);
    svc->commit = dhcp_commit_start(svc, dir, &err);
    if (!svc->commit) {
        log_err("dhcp: %s", str_cstr(&err));
        str_clear(&err);
        return -1;
    }
    for (unsigned i = 0; i < svc->nsocks; i++) {
        struct dhcp_sock *s = &svc->socks[i];
        s->ev = event_new(svc->base, s->fd, EV_READ | EV_PERSIST, dhcp_io_readable, s);
        event_add(s->ev, NULL);
    }
    svc->tick = event_new(svc->base, -1, EV_PERSIST, on_tick, svc);
    struct timeval one = {1, 0};
    event_add(svc->tick, &one);
    svc->stop_ev = event_new(svc->base, -1, 0, on_stop, svc);
    if (svc->cfg->ping_check && !(svc->ping = dhcp_ping_new(svc)))
        return -1;
    svc->ddns = dhcp_ddns_new(svc);
    for (unsigned i = 0; i < c->nsubnets; i++) {
        struct dhcp_pool_stats st;
        dhcp_engine_stats(svc->engine, &c->subnets[i], &st);
        log_info("dhcp: subnet %s%s%s: %u addresses, %u bound", c->subnets[i].name,
                 c->subnets[i].iface[0] ? " on " : " (relayed)", c->subnets[i].iface, st.total,
                 st.bound);
    }
    if (pthread_create(&svc->thread, NULL, thread_main, svc) != 0)
        return -1;
    svc->running = true;
    return 0;
}

static int dhcp_open(struct daemon *d, void **state_out)
{
    struct dhcp_settings *cfg = config_section(&d->cfg, "dhcp");
    if (!cfg || cfg->nifaces == 0)
        return 0;
    struct dhcp_svc *svc = xcalloc(1, sizeof *svc);
    svc->d = d;
    svc->cfg = cfg;
    *state_out = svc;
    return start(svc);
}

static void dhcp_stop(struct daemon *d, void *state)
{
    struct dhcp_svc *svc = state;
    if (!svc || !svc->running)
        return;
    /* an activated event, not loopbreak: that flag is reset if the loop has not begun */
    event_active(svc->stop_ev, EV_TIMEOUT, 0);
    pthread_join(svc->thread, NULL);
    svc->running = false;
    dhcp_ddns_stop(svc->ddns);
    /* what the last batches promised is committed; their results run here, on this
     * thread, when the loop_post is freed, and their ACKs leave then (dhcp_acks_flush) */
    dhcp_batch_submit(svc);
    dhcp_commit_stop(svc->commit);
    svc->commit = NULL;
}

static void dhcp_close(struct daemon *d, void *state)
{
    if (state)
        svc_free(state);
}

/* ---- reload: subnets, pools, reservations, options and timers; the leases kept ---- */

struct dhcp_reload {
    struct dhcp_svc *svc;
    struct dhcp_settings *cfg; /* in the generation gen holds */
    struct host_confgen *gen;
    struct reload_report *report;
};

/* The keys a reload does not apply keep their running values: the sockets, the DNS updater
 * and the ICMP check were made from them at start (the report says "needs restart"). */
static void keep_restart_keys(struct dhcp_settings *to, const struct dhcp_settings *from)
{
    memcpy(to->ifaces, from->ifaces, sizeof to->ifaces);
    to->nifaces = from->nifaces;
    to->port = from->port;
    to->ddns = from->ddns;
    to->ddns_server = from->ddns_server;
    to->ddns_server_set = from->ddns_server_set;
    to->ping_check = from->ping_check;
}

/* On the DHCP thread, between two batches: dhcp_service_apply commits what is pending and
 * rebuilds the engine on the new subnets with every stored lease; subnets that do not build
 * keep the running configuration. */
static void reload_run(void *vr)
{
    struct dhcp_reload *r = vr;
    struct dhcp_svc *svc = r->svc;
    struct host_confgen *drop = r->gen;
    if (svc->running && svc->commit) { /* else pigeond is stopping */
        keep_restart_keys(r->cfg, svc->cfg);
        if (dhcp_service_apply(svc, r->cfg) == 0) {
            drop = svc->gen;
            svc->gen = r->gen;
            log_info("dhcp: %u subnet(s) in force, leases kept", svc->cfg->engine.nsubnets);
            reload_report_add(r->report, false, "dhcp: %u subnet(s) in force, leases kept",
                              svc->cfg->engine.nsubnets);
        } else {
            reload_report_add(r->report, true,
                              "dhcp: the new subnets do not fit (see the log); the running "
                              "ones stay");
        }
    }
    host_confgen_drop(drop);
    reload_report_release(r->report);
    free(r);
}

static void dhcp_reload(struct daemon *d, void *state, const struct config *next)
{
    struct dhcp_svc *svc = state;
    struct dhcp_settings *cfg = config_section(next, "dhcp");
    if (!svc || !svc->running || !cfg)
        return;
    struct dhcp_reload *r = xmalloc(sizeof *r);
    *r = (struct dhcp_reload){svc, cfg, host_confgen_hold(d), d->reloading};
    reload_report_hold(r->report);
    loop_post_send(svc->post, reload_run, r);
}

const struct service_def dhcp_service = {
    .name = "dhcp",
    .sections = dhcp_sections,
    .open = dhcp_open,
    .reload = dhcp_reload,
    .stop = dhcp_stop,
    .close = dhcp_close,
};
