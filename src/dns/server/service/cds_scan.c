/*
 * cds_scan — on the control thread: the DS records of children served by other servers,
 * kept up to date from their CDS/CDNSKEY (RFC 7344, RFC 8078), as a TLD's registry does.
 *
 * For each signed primary zone with `cds_scan = RESOLVER`: two seconds after the start and
 * then every cds_scan_interval seconds after a round ends, every delegation in the zone
 * whose child is not a zone of this pigeond (those take the in-process path of cds.c) is
 * asked for CDS, CDNSKEY and DNSKEY through that validating resolver (Pigeon's own [resolver]
 * with a trust anchor, or any other), one child and one question at a time, over UDP with
 * DO. dnssec/cds_scan.c judges the replies (only validated answers count); an accepted DS set
 * or deletion goes to the zone as an edit (an UPDATE of the DS set at the cut, ctl.c), so it
 * is journaled, signed, NOTIFYed and transferred by IXFR as any other change.
 */
#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/dnssec/cds_scan.h"
#include "dns/name.h"
#include "dns/server/service/service_int.h"
#include "dns/zone.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define CDS_TRIES 3
#define CDS_TIMEOUT_MS 2000
#define CDS_FIRST_S 2

struct scan_zone {
    struct dns_cds_scanner *sc;
    size_t zi;
    struct event *timer;
    /* the round under way */
    uint8_t (*kids)[DNS_NAME_MAXLEN];
    size_t nkids, next;
    int qi; /* the question being asked of the current child */
    struct dns_udpq *q;
    uint8_t *reply[DNSSEC_CDS_NQ];
    size_t rlen[DNSSEC_CDS_NQ];
};

struct dns_cds_scanner {
    struct dns_ctl *ctl;
    struct scan_zone *z;
    size_t n;
};

/* An accepted change on its way to the zone (dns_ctl_edit). */
struct cds_edit {
    char zone[DNS_NAME_MAXLEN * 4 + 2];
    char child[DNS_NAME_MAXLEN * 4 + 2];
    uint8_t child_wire[DNS_NAME_MAXLEN];
    struct dnssec_cds_result r;
};

static size_t edit_build(void *arg, const struct dns_zone *z, uint8_t *out, size_t cap)
{
    struct cds_edit *e = arg;
    size_t len = dnssec_cds_update(z, e->child_wire, &e->r, out, cap);
    if (len && e->r.verdict == DNSSEC_CDS_DELETE)
        log_info("dns: zone %s: the DS of %s removed, as its CDS/CDNSKEY asks (RFC 8078 §4)",
                 e->zone, e->child);
    else if (len)
        log_info("dns: zone %s: the DS of %s set from its validated CDS/CDNSKEY: %zu record(s)",
                 e->zone, e->child, e->r.n);
    return len;
}

static void edit_done(void *arg, unsigned rcode, const char *why)
{
    struct cds_edit *e = arg;
    if (rcode != 0)
        log_err("dns: zone %s: the DS of %s not changed: rcode %u%s%s", e->zone, e->child,
                rcode, why ? ", " : "", why ? why : "");
    free(e);
}

static void round_clear(struct scan_zone *sz)
{
    dns_udpq_cancel(sz->q);
    sz->q = NULL;
    for (int i = 0; i < DNSSEC_CDS_NQ; i++) {
        free(sz->reply[i]);
        sz->reply[i] = NULL;
    }
    free(sz->kids);
    sz->kids = NULL;
    sz->nkids = sz->next = 0;
}

static void arm(struct scan_zone *sz, unsigned seconds)
{
    struct timeval tv = {seconds, 0};
    evtimer_add(sz->timer, &tv);
}

static void ask(struct scan_zone *sz);

/* The three replies about one child are in: judged, and an accepted change edited in. */
static void child_done(struct scan_zone *sz)
{
    struct dns_service *s = dns_ctl_service(sz->sc->ctl);
    const uint8_t *child = sz->kids[sz->next];
    struct cds_edit *e = xcalloc(1, sizeof *e);
    char zone[sizeof e->zone];
    dns_name_to_text(s->cfg->zc[sz->zi].origin, zone, sizeof zone);
    dnssec_cds_judge(child, (const uint8_t *const *)sz->reply, sz->rlen, &e->r);
    memcpy(e->zone, zone, sizeof zone);
    dns_name_to_text(child, e->child, sizeof e->child);
    dns_name_copy(e->child_wire, child);
    if (e->r.verdict == DNSSEC_CDS_REJECT)
        log_warn("dns: zone %s: the CDS/CDNSKEY of %s not taken: %s", e->zone, e->child,
                 e->r.why);
    else
        log_debug("dns: zone %s: CDS scan of %s: %s", e->zone, e->child,
                  e->r.verdict == DNSSEC_CDS_NONE ? e->r.why : "a DS set");
    if (e->r.verdict == DNSSEC_CDS_SET || e->r.verdict == DNSSEC_CDS_DELETE)
        dns_ctl_edit(sz->sc->ctl, dns_zcfg_ref(s->cfg), sz->zi, edit_build, edit_done, e);
    else
        free(e);
    for (int i = 0; i < DNSSEC_CDS_NQ; i++) {
        free(sz->reply[i]);
        sz->reply[i] = NULL;
        sz->rlen[i] = 0;
    }
    sz->next++;
    sz->qi = 0;
    if (sz->next < sz->nkids) {
        ask(sz);
        return;
    }
    log_debug("dns: zone %s: CDS scan of %zu children done", zone, sz->nkids);
    round_clear(sz);
    arm(sz, s->cfg->zc[sz->zi].cds_interval);
}

static void on_reply(void *arg, const uint8_t *resp, size_t len)
{
    struct scan_zone *sz = arg;
    sz->q = NULL; /* freed by the exchange itself */
    if (resp) {
        sz->reply[sz->qi] = xmemdup(resp, len);
        sz->rlen[sz->qi] = len;
    }
    if (++sz->qi < DNSSEC_CDS_NQ)
        ask(sz);
    else
        child_done(sz);
}

static void ask(struct scan_zone *sz)
{
    struct dns_service *s = dns_ctl_service(sz->sc->ctl);
    uint8_t msg[DNS_NAME_MAXLEN + 64];
    uint16_t id;
    if (getrandom(&id, sizeof id, 0) != sizeof id)
        id = (uint16_t)(sz->next * 3 + (size_t)sz->qi);
    size_t len = dnssec_cds_query(sz->kids[sz->next], dnssec_cds_qtypes[sz->qi], id, msg,
                                  sizeof msg);
    sz->q = dns_udpq_start(dns_ctl_base(sz->sc->ctl), &s->cfg->zc[sz->zi].cds_resolver, msg, len,
                           CDS_TRIES, CDS_TIMEOUT_MS, on_reply, sz);
}

/* Whether name is the origin of a zone this pigeond serves. */
static bool ours(const struct dns_service *s, const uint8_t *name)
{
    for (size_t i = 0; i < s->cfg->nzones; i++)
        if (dns_name_eq(s->cfg->zc[i].origin, name))
            return true;
    return false;
}

/* A round: the zone's delegations to children served elsewhere, as the zone is now. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct scan_zone *sz = arg;
    struct dns_service *s = dns_ctl_service(sz->sc->ctl);
    const struct dns_zone *z = dns_ctl_zone(sz->sc->ctl, sz->zi);
    size_t nn = 0;
    const struct dns_node *nodes = z ? dns_zone_nodes(z, &nn) : NULL;
    sz->kids = xcalloc(nn ? nn : 1, sizeof *sz->kids);
    for (size_t i = 0; i < nn; i++)
        if ((nodes[i].flags & DNS_NODE_DELEG) && !ours(s, nodes[i].name))
            dns_name_copy(sz->kids[sz->nkids++], nodes[i].name);
    if (sz->nkids == 0) {
        round_clear(sz);
        arm(sz, s->cfg->zc[sz->zi].cds_interval);
        return;
    }
    sz->next = 0;
    sz->qi = 0;
    ask(sz);
}

struct dns_cds_scanner *dns_cds_scanner_new(struct dns_ctl *ctl)
{
    struct dns_service *s = dns_ctl_service(ctl);
    struct dns_cds_scanner *sc = xcalloc(1, sizeof *sc);
    sc->ctl = ctl;
    sc->z = xcalloc(s->cfg->nzones ? s->cfg->nzones : 1, sizeof *sc->z);
    for (size_t i = 0; i < s->cfg->nzones; i++) {
        if (!s->cfg->zc[i].cds_scan || s->cfg->zc[i].secondary || !s->cfg->zc[i].dnssec)
            continue;
        struct scan_zone *sz = &sc->z[sc->n++];
        sz->sc = sc;
        sz->zi = i;
        sz->timer = evtimer_new(dns_ctl_base(ctl), on_timer, sz);
        arm(sz, CDS_FIRST_S);
        char zone[DNS_NAME_MAXLEN * 4 + 2];
        dns_name_to_text(s->cfg->zc[i].origin, zone, sizeof zone);
        log_info("dns: zone %s: CDS/CDNSKEY of its children asked of %s every %u s", zone,
                 s->cfg->zc[i].cds_resolver.text, s->cfg->zc[i].cds_interval);
    }
    return sc;
}

void dns_cds_scanner_free(struct dns_cds_scanner *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n; i++) {
        round_clear(&sc->z[i]);
        event_free(sc->z[i].timer);
    }
    free(sc->z);
    free(sc);
}
