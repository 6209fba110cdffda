/*
 * ctl — the name server's control thread: the one place zones change.
 *
 * It owns each zone's current version and IXFR history, loads zone files with their journal
 * (FILE.jnl: the differences made by UPDATE, transfers and reloads, replayed at load on top of
 * the file), commits UPDATEs (journal appended and fsynced before the answer), reloads on
 * SIGHUP, installs what secondaries transferred, and after each change publishes a new
 * immutable view to every worker and sends NOTIFY. Blocking disk I/O happens here, never on a
 * worker. See service_int.h.
 */
#include "core/err.h"
#include "core/log.h"
#include "core/file.h"
#include "core/loop_post.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "dns/server/service/service_int.h"
#include "dns/server/service/sign.h"
#include "dns/dnssec/cds.h"
#include "dns/dnssec/keystore.h"
#include "dns/auth/answer.h"
#include "dns/rr.h"
#include "dns/xfr/journal.h"
#include "dns/zone.h"
#include "dns/zoneset.h"
#include "store/store.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JNL_COMPACT (2 * DNS_HIST_MAX) /* journal entries that trigger a zone-file dump */

struct ctl_zone {
    struct dns_zone *zone; /* NULL: not loaded / expired */
    struct dns_zone *served; /* dnssec = on: the signed version of zone the workers serve */
    struct dns_xfr_hist *shist; /* dnssec = on: the differences between signed versions */
    struct dns_sign_jnl sjnl;   /* ... and their journal on disk (sign.c) */
    uint32_t signed_serial;
    time_t resign_at;
    uint64_t keys_stamp; /* the zone's key files as of the last signing (keystore.h) */
    struct dns_xfr_hist *hist;
    size_t jnl_entries; /* entries in the journal file */
    struct dns_secondary *sec;
    bool notify_at_start; /* the zone file won over the journal while pigeond was stopped */
    bool notify_due;      /* changed: NOTIFY once every worker serves the new version */
    bool opened_now;      /* added by the reload being run: its file was just read */
};

struct dns_ctl {
    struct dns_service *s;
    struct event_base *base;
    struct loop_post *post;
    pthread_t thread;
    bool started, stopped;
    struct ctl_zone *z;
    struct dns_notifier *notifier;
    struct dns_arena arena;
    struct event *resign_ev; /* checks every second whether a signed zone is due */
    struct dns_cds_scanner *cds; /* children's CDS asked of a resolver (cds_scan.c) */
};

struct event_base *dns_ctl_base(struct dns_ctl *ctl)
{
    return ctl->base;
}

struct dns_service *dns_ctl_service(struct dns_ctl *ctl)
{
    return ctl->s;
}

struct dns_zone *dns_ctl_zone(struct dns_ctl *ctl, size_t zi)
{
    return ctl->z[zi].zone;
}

/* Zone zi of configuration from, in the current one: the same index when from is current,
 * else the zone with the same origin, or -1 when a reload removed it. */
static long zone_now(const struct dns_ctl *ctl, const struct dns_zcfg *from, size_t zi)
{
    const struct dns_zcfg *now = ctl->s->cfg;
    if (from == now)
        return (long)zi;
    return zi < from->nzones ? dns_server_zone_find(&now->srv, from->zc[zi].origin) : -1;
}

/* ---- journal files (jnlfile.c) ---- */

/* Journals used to live beside the zone file (FILE.jnl); they now live in the data directory,
 * which the daemon's user owns. At start an old journal is moved there (copied when the two
 * are on different file systems); one left behind in a read-only directory is no longer read. */
static void jnl_migrate(const struct dns_zconf *zc)
{
    char dir[4200], old[4200];
    snprintf(dir, sizeof dir, "%s", zc->jnl);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        log_err("dns: cannot make the journal directory %s: %s", dir, strerror(errno));
    snprintf(old, sizeof old, "%s.jnl", zc->file);
    if (access(zc->jnl, F_OK) == 0 || access(old, F_OK) != 0)
        return;
    if (rename(old, zc->jnl) == 0) {
        log_info("dns: zone %s: journal moved from %s to %s", zc->name, old, zc->jnl);
        return;
    }
    struct str data = STR_INIT;
    if (errno != EXDEV || file_read_all(old, (size_t)1 << 30, &data) != 0 ||
        store_durable_write(zc->jnl, data.ptr, data.len) != 0) {
        log_err("dns: zone %s: cannot move the journal %s to %s: %s", zc->name, old, zc->jnl,
                strerror(errno));
    } else if (unlink(old) != 0) {
        log_warn("dns: zone %s: journal copied from %s to %s; the old file cannot be removed "
                 "(%s) and is no longer read",
                 zc->name, old, zc->jnl, strerror(errno));
    } else {
        log_info("dns: zone %s: journal moved from %s to %s", zc->name, old, zc->jnl);
    }
    str_clear(&data);
}

/* ---- loading ---- */

/* What loading a zone found beside its file. */
struct load_info {
    bool file_won;       /* the file's serial was newer than the journal's last */
    uint32_t jnl_serial; /* then: the journal's last serial */
};

/* Applies the journal entries that continue the file's serial (UPDATEs and transfers made
 * since the file was written). Returns the zone to serve (a new reference or z itself). */
static struct dns_zone *jnl_replay(const struct dns_zconf *zc, struct dns_zone *z,
                                   struct dns_zdiff **d, size_t n, struct dns_xfr_hist **hist,
                                   struct load_info *info)
{
    uint32_t serial = dns_zone_serial(z);
    if (n && dns_serial_cmp(serial, d[n - 1]->to) == 1) {
        /* The administrator edited the file and raised its serial past every change the
         * journal holds: the file wins (as in BIND and Knot); the journal starts again. */
        log_info("dns: zone %s: the zone file's serial %u is newer than the journal's %u: the "
                 "file wins, the journal starts again from it",
                 zc->name, serial, d[n - 1]->to);
        if (dns_jnl_rewrite(zc->jnl, NULL) != 0)
            log_err("dns: zone %s: cannot restart %s: %s", zc->name, zc->jnl, strerror(errno));
        info->file_won = true;
        info->jnl_serial = d[n - 1]->to;
        return z;
    }
    size_t from = n;
    for (size_t i = 0; i < n && from == n; i++)
        if (d[i]->from == serial)
            from = i;
    if (from == n) {
        if (n && d[n - 1]->to == serial)
            *hist = dns_jnl_hist(d, n); /* the file already holds every change */
        else if (n)
            dns_jnl_set_aside(zc->jnl, "does not continue the zone file's serial");
        return z;
    }
    struct str err = STR_INIT;
    struct dns_zone *nz = NULL;
    if (dns_jnl_apply(z, d + from, n - from, zc->origin, &nz, &err) != 0) {
        log_err("dns: zone %s: journal does not apply (%s)", zc->name, str_cstr(&err));
        str_clear(&err);
        dns_jnl_set_aside(zc->jnl, "does not apply");
        return z;
    }
    str_clear(&err);
    log_info("dns: zone %s: %zu journal entries replayed, serial %u -> %u", zc->name, n - from,
             serial, dns_zone_serial(nz));
    *hist = dns_jnl_hist(d, n);
    dns_zone_unref(z);
    return nz;
}

/* Loads the zone file and its journal. 0 with *zone_out, or an error with err filled. */
static int zone_load(const struct dns_zconf *zc, struct dns_zone **zone_out,
                     struct dns_xfr_hist **hist_out, size_t *jnl_entries, struct load_info *info,
                     struct str *err)
{
    *zone_out = NULL;
    *hist_out = NULL;
    *info = (struct load_info){0};
    struct dns_zone *z = NULL;
    int rc = dns_zone_load(zc->file, zc->origin, &z, err);
    if (rc != 0)
        return rc;
    struct dns_zdiff **d;
    size_t n;
    if (dns_jnl_read(zc->jnl, &d, &n) != 0) {
        dns_jnl_set_aside(zc->jnl, "is unreadable");
        d = NULL;
        n = 0;
    }
    *zone_out = jnl_replay(zc, z, d, n, hist_out, info);
    *jnl_entries = *hist_out ? n : 0;
    dns_journal_free(d, n);
    return 0;
}

/* ---- DNSSEC ---- */

/* The zone to sign: the unsigned version with the DS records its children in this server
 * ask for through CDS (RFC 7344/8078), or the unsigned version itself (one more reference). */
static struct dns_zone *zone_to_sign(struct dns_ctl *ctl, size_t zi)
{
    const struct dns_zone *kids[64];
    size_t n = 0;
    for (size_t j = 0; j < ctl->s->cfg->nzones && n < 64; j++)
        if (j != zi && ctl->z[j].served)
            kids[n++] = ctl->z[j].served;
    struct dns_zone *withds = NULL;
    struct str err = STR_INIT;
    if (dnssec_parent_apply_cds(ctl->z[zi].zone, kids, n, &withds, &err) != 0)
        log_err("dns: zone %s: %s", ctl->s->cfg->zc[zi].name, str_cstr(&err));
    else if (withds)
        log_info("dns: zone %s: DS records taken from a child's CDS", ctl->s->cfg->zc[zi].name);
    str_clear(&err);
    return withds ? withds : dns_zone_ref(ctl->z[zi].zone);
}

/* The signed versions' own history, so secondaries of a signed zone get IXFR: the
 * difference from the version served so far to sz (the changed RRsets with their new
 * RRSIGs, the NSEC/NSEC3 records that changed, the SOA and its RRSIG; dns_sign keeps the
 * other signatures), appended to the signed journal too. Without a previous version the
 * history starts again. false when sz must be saved whole (no difference journaled). */
static bool signed_hist_add(struct ctl_zone *cz, const struct dns_zconf *zc,
                            const struct dns_zone *sz)
{
    struct dns_zdiff *d = NULL;
    if (cz->served && dns_serial_cmp(dns_zone_serial(sz), dns_zone_serial(cz->served)) == 1)
        d = dns_zdiff_of_zones(cz->served, sz);
    struct dns_xfr_hist *h = d ? dns_xfr_hist_append(cz->shist, d, DNS_HIST_MAX) : NULL;
    bool logged = false;
    if (d) {
        log_info("dns: zone %s: signed difference %u -> %u: %zu records out, %zu in", zc->name,
                 d->from, d->to, d->ndel, d->nadd);
        logged = dns_sign_log(zc, d, sz, &cz->sjnl);
    }
    dns_zdiff_unref(d);
    dns_xfr_hist_unref(cz->shist);
    cz->shist = h;
    return logged;
}

/* dnssec = on: a new signed version of the zone (the old one keeps serving on failure).
 * A parent zone served here is signed again when the child's CDS changes its DS. */
static void zone_sign(struct dns_ctl *ctl, size_t zi)
{
    const struct dns_zconf *zc = &ctl->s->cfg->zc[zi];
    struct ctl_zone *cz = &ctl->z[zi];
    if (!zc->dnssec || !cz->zone)
        return;
    struct dns_zone *src = zone_to_sign(ctl, zi);
    struct dns_zone *sz =
        dns_sign(zc, src, cz->served, time(NULL), &cz->signed_serial, &cz->resign_at);
    dns_zone_unref(src);
    if (!sz) {
        cz->resign_at = time(NULL) + 60; /* try again soon */
        return;
    }
    bool logged = signed_hist_add(cz, zc, sz);
    dns_zone_unref(cz->served);
    cz->served = sz;
    if (!logged)
        dns_sign_save(zc, sz, cz->shist, &cz->sjnl);
    cz->keys_stamp = dnssec_keystore_stamp(zc->keydir, zc->origin);
    for (size_t p = 0; p < ctl->s->cfg->nzones; p++) {
        struct dns_zone *pz = ctl->z[p].served, *probe = NULL;
        const struct dns_zone *kid = sz;
        struct str err = STR_INIT;
        if (p == zi || !pz || !ctl->z[p].zone ||
            dnssec_parent_apply_cds(pz, &kid, 1, &probe, &err) != 0 || !probe) {
            str_clear(&err);
            continue;
        }
        dns_zone_unref(probe); /* the parent's DS differs from this child's CDS */
        str_clear(&err);
        zone_sign(ctl, p);
        if (ctl->started)
            ctl->z[p].notify_due = true; /* the caller publishes */
    }
}

/* ---- views ---- */

static struct dns_view *view_build(struct dns_ctl *ctl)
{
    struct dns_service *s = ctl->s;
    struct dns_view *v = xcalloc(1, sizeof *v);
    atomic_init(&v->refs, 1);
    v->zs = dns_zoneset_new();
    v->n = s->cfg->nzones;
    v->z = xcalloc(s->cfg->nzones ? s->cfg->nzones : 1, sizeof *v->z);
    for (size_t i = 0; i < s->cfg->nzones; i++) {
        struct ctl_zone *cz = &ctl->z[i];
        if (!cz->zone) {
            v->any_dead = true;
            continue;
        }
        /* A signed zone's IXFR comes from the signed versions' history (the unsigned one
         * holds the differences of the unsigned data, which the journal keeps). */
        struct dns_zone *z = cz->served ? cz->served : cz->zone;
        struct dns_xfr_hist *h = cz->served ? cz->shist : cz->hist;
        dns_zoneset_add(v->zs, z);
        v->z[i].zone = dns_zone_ref(z);
        v->z[i].hist = h ? dns_xfr_hist_ref(h) : NULL;
    }
    return v;
}

/* One view handed to every worker, with the zones whose NOTIFY waits for it. The NOTIFYs
 * leave when the last worker has swapped the view in: a secondary asks at once (SOA query,
 * IXFR), and a worker still on the previous view would answer it with the old serial. */
struct publish_round {
    struct dns_ctl *ctl;
    struct dns_view *v;
    struct dns_zcfg *cfg; /* what the zone indexes below belong to (a reference) */
    atomic_uint left;     /* workers yet to swap */
    size_t n;
    bool notify[]; /* per zone */
};

struct swap {
    struct dns_worker *dw;
    struct dns_view *v;
    struct dns_zcfg *cfg; /* the configuration v was built with (a reference) */
    struct publish_round *round; /* NULL: no NOTIFY waits for this view */
};

static void round_free(struct publish_round *r)
{
    dns_view_unref(r->v);
    dns_zcfg_unref(r->cfg);
    free(r);
}

/* Control thread: the NOTIFYs, for the versions the workers now serve. */
static void round_notify(void *vr)
{
    struct publish_round *r = vr;
    struct dns_ctl *ctl = r->ctl;
    for (size_t i = 0; i < r->n && !ctl->stopped; i++) {
        long now = zone_now(ctl, r->cfg, i); /* a reload may have come in between */
        if (r->notify[i] && r->v->z[i].zone && now >= 0)
            dns_notifier_zone_changed(ctl->notifier, (size_t)now, r->v->z[i].zone);
    }
    round_free(r);
}

/* The last worker has the view. Worker threads run only while the control thread does
 * (dns_ctl_stop comes after they are joined); a swap drained at shutdown finds it stopped. */
static void round_swapped(struct publish_round *r)
{
    if (atomic_fetch_sub(&r->left, 1) != 1)
        return;
    if (r->ctl->stopped) {
        round_free(r);
        return;
    }
    loop_post_send(r->ctl->post, round_notify, r);
}

/* On the worker, between two requests. */
static void swap_view(void *vs)
{
    struct swap *sw = vs;
    dns_view_unref(sw->dw->view);
    sw->dw->view = sw->v;
    dns_zcfg_unref(sw->dw->cfg);
    sw->dw->cfg = sw->cfg;
    /* The resolver on this worker answers the server's own zones from the same set. */
    if (sw->dw->zones_changed)
        sw->dw->zones_changed(sw->dw->zones_changed_ctx, sw->v->zs);
    if (sw->round)
        round_swapped(sw->round);
    free(sw);
}

/* The zones marked notify_due, taken; NULL when there are none. */
static struct publish_round *round_new(struct dns_ctl *ctl, struct dns_view *v)
{
    size_t n = ctl->s->cfg->nzones;
    struct publish_round *r = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!ctl->z[i].notify_due)
            continue;
        ctl->z[i].notify_due = false;
        if (!r) {
            r = xcalloc(1, sizeof *r + n * sizeof r->notify[0]);
            r->ctl = ctl;
            r->v = dns_view_ref(v);
            r->cfg = dns_zcfg_ref(ctl->s->cfg);
            r->n = n;
        }
        r->notify[i] = true;
    }
    return r;
}

static void publish(struct dns_ctl *ctl)
{
    struct dns_service *s = ctl->s;
    struct dns_view *v = view_build(ctl);
    struct publish_round *r = round_new(ctl, v);
    unsigned n = 0;
    for (unsigned i = 0; i < s->nworkers; i++)
        n += s->workers[i] != NULL;
    if (r && n == 0) {
        round_notify(r); /* no worker to wait for */
        r = NULL;
    }
    if (r)
        atomic_init(&r->left, n); /* before the first swap can run */
    for (unsigned i = 0; i < s->nworkers; i++) {
        if (!s->workers[i])
            continue;
        struct swap *sw = xmalloc(sizeof *sw);
        *sw = (struct swap){s->workers[i], dns_view_ref(v), dns_zcfg_ref(s->cfg), r};
        loop_post_send(s->workers[i]->w->host.post, swap_view, sw);
    }
    dns_view_unref(v);
}

/* Once the thread runs: NOTIFY for the zones whose file won over the journal at load. */
static void start_run(void *vctl)
{
    struct dns_ctl *ctl = vctl;
    for (size_t i = 0; i < ctl->s->cfg->nzones; i++)
        if (ctl->z[i].notify_at_start && ctl->z[i].zone)
            ctl->z[i].notify_due = true;
    publish(ctl);
}

/* ---- installing a new version ---- */

/* Secondary zones, and dynamic zones whose journal grew long: the zone file is rewritten
 * from memory, and the journal keeps only the differences IXFR may still serve. */
static void zone_dump(struct dns_ctl *ctl, size_t zi)
{
    const struct dns_zconf *zc = &ctl->s->cfg->zc[zi];
    struct ctl_zone *cz = &ctl->z[zi];
    struct str text = STR_INIT;
    dns_zone_dump(cz->zone, &text);
    if (store_durable_write(zc->file, text.ptr, text.len) != 0)
        log_err("dns: zone %s: cannot write %s: %s", zc->name, zc->file, strerror(errno));
    else if (dns_jnl_rewrite(zc->jnl, cz->hist) != 0)
        log_err("dns: zone %s: cannot rewrite %s: %s", zc->name, zc->jnl, strerror(errno));
    else
        cz->jnl_entries = cz->hist ? cz->hist->n : 0;
    str_clear(&text);
}

/* As dns_ctl_install; returns -1 (nothing changed, z dropped) when the journal could not be
 * written. */
static int install_checked(struct dns_ctl *ctl, size_t zi, struct dns_zone *z, bool full,
                           struct dns_zdiff *const *diffs, size_t ndiffs)
{
    const struct dns_zconf *zc = &ctl->s->cfg->zc[zi];
    struct ctl_zone *cz = &ctl->z[zi];
    if (ndiffs && dns_jnl_append(zc->jnl, diffs, ndiffs) != 0) {
        log_err("dns: zone %s: journal %s: %s", zc->name, zc->jnl, strerror(errno));
        dns_zone_unref(z);
        return -1;
    }
    uint32_t old = cz->zone ? dns_zone_serial(cz->zone) : 0;
    bool changed = !cz->zone || old != dns_zone_serial(z);
    for (size_t i = 0; i < ndiffs; i++) {
        struct dns_xfr_hist *h = dns_xfr_hist_append(cz->hist, diffs[i], DNS_HIST_MAX);
        dns_xfr_hist_unref(cz->hist);
        cz->hist = h;
    }
    cz->jnl_entries += ndiffs;
    if (!ndiffs) { /* a whole new version: the history starts again */
        dns_xfr_hist_unref(cz->hist);
        cz->hist = NULL;
    }
    dns_zone_unref(cz->zone);
    cz->zone = z;
    if ((zc->secondary && full) || cz->jnl_entries > JNL_COMPACT)
        zone_dump(ctl, zi);
    else if (!ndiffs && cz->jnl_entries && dns_jnl_rewrite(zc->jnl, NULL) == 0)
        cz->jnl_entries = 0;
    zone_sign(ctl, zi);
    if (changed) {
        log_info("dns: zone %s now serial %u", zc->name, dns_zone_serial(z));
        cz->notify_due = true;
    }
    publish(ctl);
    return 0;
}

void dns_ctl_install(struct dns_ctl *ctl, size_t zi, struct dns_zone *z, bool full,
                     struct dns_zdiff *const *diffs, size_t ndiffs)
{
    install_checked(ctl, zi, z, full, diffs, ndiffs);
}

void dns_ctl_expire(struct dns_ctl *ctl, size_t zi)
{
    struct ctl_zone *cz = &ctl->z[zi];
    if (!cz->zone)
        return;
    log_err("dns: zone %s expired: answering SERVFAIL until a transfer succeeds",
            ctl->s->cfg->zc[zi].name);
    dns_zone_unref(cz->zone);
    cz->zone = NULL;
    dns_zone_unref(cz->served);
    cz->served = NULL;
    dns_xfr_hist_unref(cz->shist);
    cz->shist = NULL;
    publish(ctl);
}

/* ---- SIGHUP ---- */

/* One primary zone: the file (with its journal) again; a new serial becomes a difference. */
static void reload_zone(struct dns_ctl *ctl, size_t zi, struct reload_report *r)
{
    const struct dns_zconf *zc = &ctl->s->cfg->zc[zi];
    struct ctl_zone *cz = &ctl->z[zi];
    struct str err = STR_INIT;
    struct dns_zone *z;
    struct dns_xfr_hist *hist;
    size_t entries;
    struct load_info info;
    if (zone_load(zc, &z, &hist, &entries, &info, &err) != 0) {
        const char *keeps = cz->zone ? " (the previous version keeps serving)" : "";
        log_err("dns: zone %s not reloaded: %s%s", zc->name, str_cstr(&err), keeps);
        reload_report_add(r, true, "zone %s not reloaded: %s%s", zc->name, str_cstr(&err),
                          keeps);
        str_clear(&err);
        return;
    }
    str_clear(&err);
    dns_xfr_hist_unref(hist); /* ours in memory is at least as long */
    if (info.file_won) {
        cz->jnl_entries = 0; /* restarted; the difference to what is served goes in below */
        reload_report_add(r, false,
                          "zone %s: the zone file's serial %u is newer than the journal's %u: "
                          "the journal starts again from the file",
                          zc->name, dns_zone_serial(z), info.jnl_serial);
    }
    if (cz->zone && dns_zone_serial(z) == dns_zone_serial(cz->zone)) {
        struct dns_zdiff *d = dns_zdiff_of_zones(cz->zone, z);
        bool same = d && d->ndel + d->nadd == 0;
        dns_zdiff_unref(d);
        if (same) {
            reload_report_add(r, false, "zone %s: serial %u, unchanged", zc->name,
                              dns_zone_serial(z));
            dns_zone_unref(z);
            return;
        }
        log_warn("dns: zone %s changed without a new serial: secondaries will not see it",
                 zc->name);
        reload_report_add(r, false,
                          "zone %s: changed without a new serial (%u): secondaries will not "
                          "see it",
                          zc->name, dns_zone_serial(z));
        dns_ctl_install(ctl, zi, z, true, NULL, 0);
        return;
    }
    struct dns_zdiff *d = NULL;
    if (cz->zone && dns_serial_cmp(dns_zone_serial(z), dns_zone_serial(cz->zone)) == 1)
        d = dns_zdiff_of_zones(cz->zone, z);
    log_info("dns: zone %s reloaded from %s, serial %u", zc->name, zc->file, dns_zone_serial(z));
    if (cz->zone && dns_serial_cmp(dns_zone_serial(z), dns_zone_serial(cz->zone)) != 1)
        reload_report_add(r, false, "zone %s: serial %u is not newer than the %u served",
                          zc->name, dns_zone_serial(z), dns_zone_serial(cz->zone));
    else
        reload_report_add(r, false, "zone %s: serial %u", zc->name, dns_zone_serial(z));
    dns_ctl_install(ctl, zi, z, !d, d ? &d : NULL, d ? 1 : 0);
    dns_zdiff_unref(d);
}

/* ---- UPDATE ---- */

static void update_reply(struct dns_ctl *ctl, struct dns_job *job, unsigned rcode)
{
    size_t cap = DNS_MSG_MAX;
    job->reply = xmalloc(cap);
    dns_arena_reset(&ctl->arena);
    job->reply_len = dns_server_update_answer(job->pkt, job->len, rcode, job->tcp,
                                              ctl->s->cfg->srv.udp_max, &job->tsig, dns_now_sec(),
                                              &ctl->arena, job->reply, cap);
}

static void update_run(void *vjob)
{
    struct dns_job *job = vjob;
    struct dns_ctl *ctl = job->dw->s->ctl;
    long zi = zone_now(ctl, job->cfg, job->zi);
    if (zi < 0) { /* the zone was removed by a reload since the worker took the request */
        update_reply(ctl, job, DNS_RCODE_NOTAUTH);
        loop_post_send(job->dw->w->host.post, dns_job_done, job);
        return;
    }
    job->zi = (size_t)zi;
    const struct dns_zconf *zc = &ctl->s->cfg->zc[job->zi];
    struct ctl_zone *cz = &ctl->z[job->zi];
    struct dns_server_update_result res;
    dns_arena_reset(&ctl->arena);
    if (dns_server_update_apply(ctl->stopped ? NULL : cz->zone, job->pkt, job->len, &ctl->arena,
                                &res) != 0) {
        job->reply_len = 0;
        loop_post_send(job->dw->w->host.post, dns_job_done, job);
        return;
    }
    unsigned rcode = res.rcode;
    if (res.zone && install_checked(ctl, job->zi, res.zone, false, &res.diff, 1))
        rcode = DNS_RCODE_SERVFAIL; /* the journal could not be written: not applied */
    char who[80] = "?";
    dns_server_addr_text((struct sockaddr *)&job->peer, who, sizeof who);
    char rc_text[16];
    log_info("dns: UPDATE of %s from %s: %s%s%s%s", zc->name, who, dns_rcode_name(rcode, rc_text),
             res.why ? " (" : "", res.why ? res.why : "",
             res.why ? ")" : (res.zone ? "" : ", nothing changed"));
    dns_zdiff_unref(res.diff);
    update_reply(ctl, job, rcode);
    loop_post_send(job->dw->w->host.post, dns_job_done, job);
}

void dns_ctl_update(struct dns_ctl *ctl, struct dns_job *job)
{
    loop_post_send(ctl->post, update_run, job);
}

/* ---- edits from inside the process ---- */

struct edit_job {
    struct dns_ctl *ctl;
    struct dns_zcfg *cfg;
    size_t zi;
    dns_zone_edit_build build;
    dns_zone_edit_done done;
    void *arg;
};

/* The edit's UPDATE applied as update_run applies one from the network. */
static unsigned edit_apply(struct dns_ctl *ctl, size_t zi, const uint8_t *pkt, size_t len,
                           const char **why)
{
    struct ctl_zone *cz = &ctl->z[zi];
    struct dns_server_update_result res;
    dns_arena_reset(&ctl->arena);
    if (dns_server_update_apply(cz->zone, pkt, len, &ctl->arena, &res) != 0) {
        *why = "the edit is not a well-formed UPDATE";
        return DNS_RCODE_FORMERR;
    }
    unsigned rcode = res.rcode;
    *why = res.why;
    if (res.zone && install_checked(ctl, zi, res.zone, false, &res.diff, 1)) {
        rcode = DNS_RCODE_SERVFAIL;
        *why = "the journal could not be written";
    }
    char rc_text[16];
    log_info("dns: zone %s edited by pigeond: %s%s%s%s", ctl->s->cfg->zc[zi].name,
             dns_rcode_name(rcode, rc_text), *why ? " (" : "", *why ? *why : "",
             *why ? ")" : (res.zone ? "" : ", nothing changed"));
    dns_zdiff_unref(res.diff);
    return rcode;
}

static void edit_run(void *vjob)
{
    struct edit_job *j = vjob;
    struct dns_ctl *ctl = j->ctl;
    long zi = ctl->stopped ? -1 : zone_now(ctl, j->cfg, j->zi);
    struct ctl_zone *cz = zi >= 0 ? &ctl->z[zi] : NULL;
    unsigned rcode = DNS_RCODE_SERVFAIL;
    const char *why = ctl->stopped ? "pigeond is stopping"
                      : !cz        ? "the zone is no longer served"
                                   : "the zone is not loaded";
    if (cz && cz->zone) {
        uint8_t *pkt = xmalloc(DNS_MSG_MAX);
        size_t len = j->build(j->arg, cz->zone, pkt, DNS_MSG_MAX);
        rcode = DNS_RCODE_NOERROR;
        why = NULL;
        if (len)
            rcode = edit_apply(ctl, (size_t)zi, pkt, len, &why);
        free(pkt);
    }
    j->done(j->arg, rcode, why);
    dns_zcfg_unref(j->cfg);
    free(j);
}

void dns_ctl_edit(struct dns_ctl *ctl, struct dns_zcfg *cfg, size_t zi, dns_zone_edit_build build,
                  dns_zone_edit_done done, void *arg)
{
    struct edit_job *j = xmalloc(sizeof *j);
    *j = (struct edit_job){ctl, cfg, zi, build, done, arg};
    if (ctl->post)
        loop_post_send(ctl->post, edit_run, j);
    else
        edit_run(j); /* stopped: answered SERVFAIL at once */
}

/* ---- NOTIFY ---- */

struct notified {
    struct dns_ctl *ctl;
    struct dns_zcfg *cfg;
    size_t zi;
};

static void notified_run(void *vn)
{
    struct notified *n = vn;
    long zi = n->ctl->stopped ? -1 : zone_now(n->ctl, n->cfg, n->zi);
    if (zi >= 0 && n->ctl->z[zi].sec)
        dns_secondary_notified(n->ctl->z[zi].sec);
    dns_zcfg_unref(n->cfg);
    free(n);
}

void dns_ctl_notified(struct dns_ctl *ctl, struct dns_zcfg *cfg, size_t zi)
{
    struct notified *n = xmalloc(sizeof *n);
    *n = (struct notified){ctl, cfg, zi};
    loop_post_send(ctl->post, notified_run, n);
}

/* A new key file of the zone (`pigeon dnssec rollover`), or one renamed or removed. Only the
 * zone's own key files count: the directory is shared by every signed zone and holds their
 * serial and signed-version files too, so its mtime moved at every signing of any zone, and
 * two signed zones (a forward zone and its reverse) signed each other again every second. */
static bool keys_changed(const struct dns_zconf *zc, const struct ctl_zone *cz)
{
    return dnssec_keystore_stamp(zc->keydir, zc->origin) != cz->keys_stamp;
}

/* Every second: zones whose signatures reached half their validity, whose rollover has a
 * step due, or whose keys changed are signed again. */
static void resign_tick(evutil_socket_t fd, short what, void *vctl)
{
    struct dns_ctl *ctl = vctl;
    time_t now = time(NULL);
    bool any = false;
    for (size_t i = 0; i < ctl->s->cfg->nzones; i++) {
        struct ctl_zone *cz = &ctl->z[i];
        if (!ctl->s->cfg->zc[i].dnssec || !cz->zone ||
            (now < cz->resign_at && !keys_changed(&ctl->s->cfg->zc[i], cz)))
            continue;
        zone_sign(ctl, i);
        cz->notify_due = true;
        any = true;
    }
    if (any)
        publish(ctl);
}

/* ---- life cycle ---- */

/* Zone zi, at start or added by a reload: its file and journal loaded (a secondary without
 * a copy waits for a transfer), signed, its secondary started. false: a primary zone whose
 * file did not load (logged and reported into r). */
static bool zone_open(struct dns_ctl *ctl, size_t zi, struct reload_report *r)
{
    const struct dns_zconf *zc = &ctl->s->cfg->zc[zi];
    struct ctl_zone *cz = &ctl->z[zi];
    struct str err = STR_INIT;
    struct load_info info = {0};
    bool present = access(zc->file, F_OK) == 0, ok = true;
    jnl_migrate(zc);
    if ((present || !zc->secondary) &&
        zone_load(zc, &cz->zone, &cz->hist, &cz->jnl_entries, &info, &err) == 0) {
        log_info("dns: zone %s loaded from %s, serial %u, %zu records", zc->name, zc->file,
                 dns_zone_serial(cz->zone), dns_zone_records(cz->zone));
        reload_report_add(r, false, "zone %s added: serial %u", zc->name,
                          dns_zone_serial(cz->zone));
    } else if (zc->secondary) {
        log_info("dns: zone %s: %s; waiting for a transfer from %s", zc->name,
                 present ? str_cstr(&err) : "no copy yet", zc->primary.text);
        reload_report_add(r, false, "zone %s added: a secondary of %s", zc->name,
                          zc->primary.text);
    } else {
        log_err("dns: zone %s not loaded: %s", zc->name, str_cstr(&err));
        reload_report_add(r, true, "zone %s not loaded: %s", zc->name, str_cstr(&err));
        ok = false;
    }
    str_clear(&err);
    /* Secondaries still have the journal's version: tell them once the thread runs (they
     * ask for IXFR, and get the whole zone: no history leads from there to the file). */
    cz->notify_at_start = info.file_won && !zc->secondary;
    if (r && cz->zone && !zc->secondary)
        cz->notify_due = true;  /* added by a reload: its secondaries may not know it yet */
    if (zc->dnssec && cz->zone) /* the version served before the stop, or the crash */
        cz->served = dns_sign_load_saved(zc, &cz->shist, &cz->sjnl);
    uint32_t before = cz->served ? dns_zone_serial(cz->served) : 0;
    zone_sign(ctl, zi);
    /* signed again at start: secondaries of the saved version take the step by IXFR */
    if (before && cz->served && dns_zone_serial(cz->served) != before)
        cz->notify_at_start = true;
    if (zc->secondary)
        cz->sec = dns_secondary_new(ctl, zi, cz->zone != NULL);
    return ok;
}

/* ---- a new configuration (reload) ---- */

/* Whether two [zone] sections read the same data, so the zone keeps its state. */
static bool zone_same_source(const struct dns_zconf *a, const struct dns_zconf *b)
{
    return !strcmp(a->file, b->file) && a->secondary == b->secondary &&
           (!a->secondary || !strcmp(a->primary.text, b->primary.text));
}

static bool zone_same_signing(const struct dns_zconf *a, const struct dns_zconf *b)
{
    return a->dnssec == b->dnssec && a->dnssec_nsec3 == b->dnssec_nsec3 &&
           a->dnssec_alg == b->dnssec_alg && a->dnssec_validity == b->dnssec_validity &&
           a->dnssec_refresh == b->dnssec_refresh;
}

static void ctl_zone_clear(struct ctl_zone *cz)
{
    dns_secondary_free(cz->sec);
    dns_zone_unref(cz->zone);
    dns_zone_unref(cz->served);
    dns_xfr_hist_unref(cz->hist);
    dns_xfr_hist_unref(cz->shist);
    memset(cz, 0, sizeof *cz);
}

/* Old zone i's state moves to new zone j (its settings change; a secondary starts again on
 * the new ones, a signed zone is signed again when its parameters changed). */
static void zone_keep(struct dns_ctl *ctl, struct ctl_zone *to, const struct dns_zconf *was,
                      const struct dns_zconf *now, size_t i)
{
    *to = ctl->z[i];
    memset(&ctl->z[i], 0, sizeof ctl->z[i]);
    dns_secondary_free(to->sec); /* it points into the old configuration */
    to->sec = NULL;
    if (!zone_same_signing(was, now)) {
        dns_zone_unref(to->served);
        to->served = NULL;
        dns_xfr_hist_unref(to->shist); /* the signed differences are of the old signing */
        to->shist = NULL;
        to->resign_at = 0;
        to->notify_due = true;
    }
}

/* Puts nw (the control thread's reference) in force; zones added are read, zones removed
 * stop being served. Publishes the new view. */
static void reconfig(struct dns_ctl *ctl, struct dns_zcfg *nw, struct reload_report *r)
{
    struct dns_service *s = ctl->s;
    struct dns_zcfg *old = s->cfg;
    struct ctl_zone *z = xcalloc(nw->nzones ? nw->nzones : 1, sizeof *z);
    bool *kept = xcalloc(nw->nzones ? nw->nzones : 1, sizeof *kept);
    long *map = xcalloc(old->nzones ? old->nzones : 1, sizeof *map);
    for (size_t i = 0; i < old->nzones; i++) {
        const struct dns_zconf *zc = &old->zc[i];
        long j = dns_server_zone_find(&nw->srv, zc->origin);
        map[i] = j >= 0 && zone_same_source(zc, &nw->zc[j]) ? j : -1;
        if (map[i] >= 0) {
            zone_keep(ctl, &z[j], zc, &nw->zc[j], i);
            kept[j] = true;
            continue;
        }
        log_info("dns: zone %s %s", zc->name, j < 0 ? "removed" : "now read from elsewhere");
        if (j < 0)
            reload_report_add(r, false, "zone %s removed: no longer served", zc->name);
        ctl_zone_clear(&ctl->z[i]);
    }
    pthread_mutex_lock(&s->cfg_lock);
    s->cfg = nw;
    pthread_mutex_unlock(&s->cfg_lock);
    free(ctl->z);
    ctl->z = z;
    dns_notifier_remap(ctl->notifier, map, old->nzones);
    dns_cds_scanner_free(ctl->cds); /* it counts zones by index: made again for the new set */
    ctl->cds = dns_cds_scanner_new(ctl);
    for (size_t j = 0; j < nw->nzones; j++) {
        if (!kept[j]) {
            zone_open(ctl, j, r);
            z[j].opened_now = true;
            continue;
        }
        if (nw->zc[j].secondary)
            z[j].sec = dns_secondary_new(ctl, j, z[j].zone != NULL);
        if (!z[j].served)
            zone_sign(ctl, j);
    }
    free(kept);
    free(map);
    dns_zcfg_unref(old);
    publish(ctl);
}

struct reload_job {
    struct dns_ctl *ctl;
    struct dns_zcfg *cfg; /* NULL: the configuration stays */
    struct reload_report *report;
};

static void reload_run(void *vjob)
{
    struct reload_job *job = vjob;
    struct dns_ctl *ctl = job->ctl;
    if (ctl->stopped) {
        reload_report_add(job->report, true, "dns: pigeond is stopping, zones not reloaded");
        dns_zcfg_unref(job->cfg);
    } else if (job->cfg) {
        reconfig(ctl, job->cfg, job->report);
    }
    for (size_t i = 0; i < ctl->s->cfg->nzones && !ctl->stopped; i++) {
        if (!ctl->s->cfg->zc[i].secondary && !ctl->z[i].opened_now)
            reload_zone(ctl, i, job->report);
        ctl->z[i].opened_now = false;
    }
    if (!ctl->stopped)
        log_info("dns: reload done");
    reload_report_release(job->report);
    free(job);
}

void dns_ctl_reload(struct dns_ctl *ctl, struct dns_zcfg *cfg, struct reload_report *report)
{
    if (!ctl->started || ctl->stopped) {
        dns_zcfg_unref(cfg);
        return;
    }
    struct reload_job *job = xmalloc(sizeof *job);
    *job = (struct reload_job){ctl, cfg, report};
    reload_report_hold(report);
    loop_post_send(ctl->post, reload_run, job);
}

struct dns_ctl *dns_ctl_new(struct dns_service *s, struct dns_view **view_out, bool *all_ok)
{
    struct dns_ctl *ctl = xcalloc(1, sizeof *ctl);
    ctl->s = s;
    ctl->base = event_base_new();
    ctl->post = loop_post_new(ctl->base);
    ctl->z = xcalloc(s->cfg->nzones ? s->cfg->nzones : 1, sizeof *ctl->z);
    dns_arena_init(&ctl->arena, NULL, 0);
    ctl->notifier = dns_notifier_new(ctl);
    *all_ok = true;
    for (size_t i = 0; i < s->cfg->nzones; i++)
        *all_ok &= zone_open(ctl, i, NULL);
    ctl->resign_ev = event_new(ctl->base, -1, EV_PERSIST, resign_tick, ctl);
    struct timeval second = {1, 0};
    event_add(ctl->resign_ev, &second);
    ctl->cds = dns_cds_scanner_new(ctl);
    *view_out = view_build(ctl);
    return ctl;
}

static void *ctl_main(void *vctl)
{
    struct dns_ctl *ctl = vctl;
    event_base_loop(ctl->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

void dns_ctl_start(struct dns_ctl *ctl)
{
    if (ctl->started)
        return;
    /* Signals belong to the main thread. */
    sigset_t set, old;
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    ctl->started = pthread_create(&ctl->thread, NULL, ctl_main, ctl) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* The workers may have started with a view older than what the thread now serves. */
    if (ctl->started)
        loop_post_send(ctl->post, start_run, ctl);
}

static void ctl_exit(void *vctl)
{
    struct dns_ctl *ctl = vctl;
    event_base_loopbreak(ctl->base);
}

void dns_ctl_stop(struct dns_ctl *ctl)
{
    if (!ctl->started || ctl->stopped)
        return;
    loop_post_send(ctl->post, ctl_exit, ctl);
    pthread_join(ctl->thread, NULL);
    ctl->stopped = true;
    for (size_t i = 0; i < ctl->s->cfg->nzones; i++)
        if (ctl->z[i].served)
            dns_sign_save(&ctl->s->cfg->zc[i], ctl->z[i].served, ctl->z[i].shist, &ctl->z[i].sjnl);
    /* Requests still queued (UPDATEs) run now, on this thread, and see `stopped`: they are
     * answered SERVFAIL through the workers' loops, which still exist. */
    loop_post_free(ctl->post);
    ctl->post = NULL;
}

void dns_ctl_free(struct dns_ctl *ctl)
{
    if (!ctl)
        return;
    if (ctl->post)
        loop_post_free(ctl->post);
    for (size_t i = 0; i < ctl->s->cfg->nzones; i++)
        ctl_zone_clear(&ctl->z[i]);
    dns_notifier_free(ctl->notifier);
    dns_cds_scanner_free(ctl->cds);
    if (ctl->resign_ev)
        event_free(ctl->resign_ev);
    free(ctl->z);
    dns_arena_clear(&ctl->arena);
    event_base_free(ctl->base);
    free(ctl);
}
