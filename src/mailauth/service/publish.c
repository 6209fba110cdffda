/*
 * publish — the mail records of the local domains kept in the primary zones this pigeond
 * serves ([mail_dns] publish), and the DKIM selectors moved on (mailauth/dkim_rotate.h).
 *
 * On worker 0, every [mail_dns] interval (and once just after the start), once the keys the
 * round will load are made (keyprep.c, off the worker's loop): for each local
 * domain, the selector list is advanced (a NEXT key becomes the signing key after
 * switch_after; a RETIRED one is withdrawn after retire_after) and the signer follows it;
 * when a primary zone served here holds the domain, its records (records.h) go to the name
 * server's control thread as an edit (dns_service_zone_edit), which turns what differs into
 * an RFC 2136 UPDATE against the zone as it is then (mailrec_update) and applies it as any
 * UPDATE: journal, new serial, DNSSEC signatures, NOTIFY, IXFR. TLSA records are published
 * only when the zone holding the MX host name is signed (RFC 7672 §2.2: DANE needs DNSSEC).
 * A pass is skipped while edits of the previous one are still queued.
 */
#include "mailauth/service/service_int.h"

#include "core/log.h"
#include "host/confgen.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/server/service/service.h"
#include "dns/zone.h"
#include "dns/zoneset.h"
#include "mailauth/dkim_rotate.h"
#include "mailauth/keystore.h"
#include "mailauth/mailrec.h"
#include "mailauth/service/records.h"
#include "store/store.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct edit {
    struct mailauth_pub *pub;
    char domain[256];
    struct mailrec_set set;
};

static size_t edit_build(void *arg, const struct dns_zone *z, uint8_t *out, size_t cap)
{
    struct edit *e = arg;
    const char *why = NULL;
    size_t changes = 0;
    size_t len = mailrec_update(&e->set, z, out, cap, &changes, &why);
    if (why)
        log_err("mail_dns: %s: %s", e->domain, why);
    else if (len)
        log_info("mail_dns: %s: %zu record set(s) to publish", e->domain, changes);
    return len;
}

static void edit_done(void *arg, unsigned rcode, const char *why)
{
    struct edit *e = arg;
    if (rcode != 0)
        log_err("mail_dns: the records of %s were not published: rcode %u%s%s", e->domain,
                rcode, why ? ", " : "", why ? why : "");
    atomic_fetch_sub(&e->pub->pending, 1);
    mailrec_set_clear(&e->set);
    free(e);
}

static void submit(struct mailauth_pub *pub, const char *domain, const char *apex,
                   const struct mailrec_set *set)
{
    struct edit *e = xcalloc(1, sizeof *e);
    e->pub = pub;
    snprintf(e->domain, sizeof e->domain, "%s", domain);
    mailrec_set_init(&e->set);
    for (size_t i = 0; i < set->n; i++) {
        if (e->set.n == e->set.cap) {
            e->set.cap = e->set.cap ? 2 * e->set.cap : set->n;
            e->set.r = xrealloc(e->set.r, e->set.cap * sizeof *e->set.r);
        }
        e->set.r[e->set.n++] = set->r[i];
    }
    atomic_fetch_add(&pub->pending, 1);
    if (dns_service_zone_edit(pub->d, apex, edit_build, edit_done, e) != 0)
        edit_done(e, 0, NULL);
}

/* Whether name has a TXT RRset in the zones worker w answers from right now. */
static bool served_txt(struct worker *w, const char *name)
{
    struct dns_zoneset *zs = dns_service_worker_zones(w);
    uint8_t wire[DNS_NAME_MAXLEN];
    size_t len;
    const char *why;
    if (!zs || dns_name_from_text(name, strlen(name), NULL, wire, &len, &why) != 0)
        return false;
    const struct dns_zone *z = dns_zoneset_find(zs, wire);
    const struct dns_node *n = z ? dns_zone_find(z, wire, NULL) : NULL;
    return n && dns_node_rrset(n, DNS_TYPE_TXT);
}

/* In a zone of ours, a new selector's clock starts when its record is served: until then
 * its `since` is moved to now, so signing never switches to a key resolvers cannot find yet
 * (nor one they may still hold a cached NXDOMAIN for: switch_after covers that). */
static bool hold_unpublished(struct mailauth_pub *pub, const char *domain,
                             struct dkim_sels *sels, int64_t now)
{
    char apex[256], name[400];
    bool is_signed, held = false;
    if (!pub->dns->publish ||
        dns_service_zone_of(pub->d, domain, apex, sizeof apex, &is_signed) != 0)
        return false;
    for (size_t i = 0; i < sels->n; i++) {
        struct dkim_sel *e = &sels->s[i];
        snprintf(name, sizeof name, "%s._domainkey.%s", e->name, domain);
        if (e->state == DKIM_SEL_NEXT && e->since != now && !served_txt(pub->w, name)) {
            e->since = now;
            held = true;
        }
    }
    return held;
}

/* The selector list of domain moved on; the signer follows the active one. */
static void rotate(struct mailauth_pub *pub, const char *domain)
{
    const struct config_dkim *k = pub->g->cfg;
    struct dkim_sels sels;
    const char *why = NULL;
    int64_t now = (int64_t)time(NULL);
    if (dkim_keystore_sels_load(k->key_dir, domain, k->selector, &sels, &why) != 0) {
        log_err("dkim: selectors of %s: %s", domain, why);
        return;
    }
    bool held = hold_unpublished(pub, domain, &sels, now);
    bool moved = dkim_sels_advance(&sels, now, k->switch_after, k->retire_after);
    if (moved || held) {
        if (dkim_keystore_sels_save(k->key_dir, domain, &sels) != 0) {
            log_err("dkim: cannot write the selector list of %s", domain);
            return;
        }
        for (size_t i = 0; moved && i < sels.n; i++)
            log_info("dkim: %s selector %s: %s", domain, sels.s[i].name,
                     dkim_sel_state_name(sels.s[i].state));
    }
    mailauth_glue_follow(pub->g, domain, dkim_sels_active(&sels)->name);
}

static void publish_domain(struct mailauth_pub *pub, const char *domain)
{
    const struct config *cfg = host_config(pub->w); /* within the tick: the reloaded one */
    char apex[256], mx_apex[256];
    bool dom_signed, mx_signed = false;
    if (dns_service_zone_of(pub->d, domain, apex, sizeof apex, &dom_signed) != 0)
        return; /* its zone is elsewhere: `pigeon domain records` tells what to publish */
    bool mx_ours = dns_service_zone_of(pub->d, cfg->hostname, mx_apex, sizeof mx_apex,
                                       &mx_signed) == 0;
    struct mailrec_set set;
    const char *why = NULL;
    mailrec_set_init(&set);
    if (mailauth_records(cfg, domain, true, mx_ours && mx_signed, &set, &why) != 0)
        log_err("mail_dns: the records of %s: %s", domain, why ? why : "?");
    else {
        submit(pub, domain, apex, &set);
        if (mx_ours && strcmp(mx_apex, apex) != 0)
            submit(pub, domain, mx_apex, &set); /* the MX host's TLSA lives in its zone */
    }
    mailrec_set_clear(&set);
}

static void one_domain(void *ctx, const char *domain)
{
    struct mailauth_pub *pub = ctx;
    if (pub->g->cfg->sign)
        rotate(pub, domain);
    if (pub->dns->publish)
        publish_domain(pub, domain);
}

/* The round itself, once keyprep.c has made the keys it will load. */
static void round_run(void *arg)
{
    struct mailauth_pub *pub = arg;
    pub->preparing = false;
    if (mailauth_keyprep_closing(pub->g->keyprep))
        return;
    if (store_domain_list(pub->w->store, one_domain, pub) != 0)
        log_err("mail_dns: cannot list the local domains");
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    struct mailauth_pub *pub = arg;
    /* [mail_dns] as the worker runs it now: a reload applies to the next round */
    pub->dns = mailauth_dns_config(host_config(pub->w));
    if (atomic_load(&pub->pending) == 0 && !pub->preparing) {
        pub->preparing = true;
        mailauth_keyprep_run(pub->g->keyprep, pub->dns->publish, pub->w->host.post, round_run,
                             pub);
    }
    struct timeval tv = {pub->dns->interval, 0};
    event_add(pub->ev, &tv);
}

struct mailauth_pub *mailauth_pub_new(struct mailauth_glue *g, struct worker *w)
{
    struct mailauth_pub *pub = xcalloc(1, sizeof *pub);
    pub->g = g;
    pub->w = w;
    pub->d = w->d;
    pub->dns = mailauth_dns_config(&w->d->cfg);
    atomic_init(&pub->pending, 0);
    pub->ev = evtimer_new(w->host.base, tick, pub);
    struct timeval soon = {0, 100000};
    event_add(pub->ev, &soon);
    return pub;
}

void mailauth_pub_stop(struct mailauth_pub *pub)
{
    if (pub && pub->ev) {
        event_free(pub->ev);
        pub->ev = NULL;
    }
}
