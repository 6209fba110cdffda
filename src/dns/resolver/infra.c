/* infra — see infra.h. A chained hash of per-address entries; cleared when it grows past
 * max_hosts (the state is soft: everything is learned again). */
#include "dns/resolver/infra.h"

#include "core/xmalloc.h"
#include "dns/name.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LAME_SLOTS 4
#define NBUCKETS 1024

struct host {
    struct host *next;
    uint8_t family;
    uint8_t addr[16];
    uint16_t port;
    uint64_t expire_ms;
    unsigned srtt, rttvar, rto, timeouts;
    uint64_t probe_at; /* down: when a probe is allowed again */
    bool known, noedns;
    uint32_t lame_zone[LAME_SLOTS];
    uint64_t lame_until[LAME_SLOTS];
};

struct dns_infra {
    pthread_mutex_t lock;
    struct host *b[NBUCKETS];
    size_t count, max;
    unsigned ttl_ms;
};

struct dns_infra *dns_infra_new(size_t max_hosts, unsigned host_ttl)
{
    struct dns_infra *inf = xcalloc(1, sizeof *inf);
    pthread_mutex_init(&inf->lock, NULL);
    inf->max = max_hosts ? max_hosts : 10000;
    inf->ttl_ms = (host_ttl ? host_ttl : 900) * 1000u;
    return inf;
}

static void clear_all(struct dns_infra *inf)
{
    for (size_t i = 0; i < NBUCKETS; i++) {
        for (struct host *h = inf->b[i], *n; h; h = n) {
            n = h->next;
            free(h);
        }
        inf->b[i] = NULL;
    }
    inf->count = 0;
}

void dns_infra_free(struct dns_infra *inf)
{
    if (!inf)
        return;
    clear_all(inf);
    pthread_mutex_destroy(&inf->lock);
    free(inf);
}

static void key_of(const struct sockaddr *sa, uint8_t addr[16], uint16_t *port, uint8_t *fam)
{
    memset(addr, 0, 16);
    *fam = (uint8_t)sa->sa_family;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(addr, &s6->sin6_addr, 16);
        *port = s6->sin6_port;
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        memcpy(addr, &s4->sin_addr, 4);
        *port = s4->sin_port;
    }
}

static uint32_t hash_key(const uint8_t addr[16], uint16_t port)
{
    uint32_t h = 2166136261u ^ port;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h;
}

static void host_reset(struct host *h, uint64_t now_ms, unsigned ttl_ms)
{
    struct host *next = h->next;
    uint8_t fam = h->family, addr[16];
    uint16_t port = h->port;
    memcpy(addr, h->addr, 16);
    memset(h, 0, sizeof *h);
    h->next = next;
    h->family = fam;
    h->port = port;
    memcpy(h->addr, addr, 16);
    h->rto = DNS_INFRA_UNKNOWN_MS;
    h->expire_ms = now_ms + ttl_ms;
}

/* The entry for sa; created when create is set (else NULL when unknown or expired). */
static struct host *lookup(struct dns_infra *inf, const struct sockaddr *sa, uint64_t now_ms,
                           bool create)
{
    uint8_t addr[16], fam;
    uint16_t port;
    key_of(sa, addr, &port, &fam);
    uint32_t k = hash_key(addr, port) & (NBUCKETS - 1);
    for (struct host *h = inf->b[k]; h; h = h->next) {
        if (h->family != fam || h->port != port || memcmp(h->addr, addr, 16) != 0)
            continue;
        if (now_ms >= h->expire_ms) {
            if (!create)
                return NULL;
            host_reset(h, now_ms, inf->ttl_ms);
        }
        return h;
    }
    if (!create)
        return NULL;
    if (inf->count >= inf->max)
        clear_all(inf);
    struct host *h = xcalloc(1, sizeof *h);
    h->family = fam;
    h->port = port;
    memcpy(h->addr, addr, 16);
    host_reset(h, now_ms, inf->ttl_ms);
    h->next = inf->b[k];
    inf->b[k] = h;
    inf->count++;
    return h;
}

static bool is_lame(const struct host *h, const uint8_t *zone, uint64_t now_ms)
{
    if (!zone)
        return false;
    uint32_t z = dns_name_hash(zone);
    for (int i = 0; i < LAME_SLOTS; i++)
        if (h->lame_zone[i] == z && now_ms < h->lame_until[i])
            return true;
    return false;
}

void dns_infra_get(struct dns_infra *inf, const struct sockaddr *sa, const uint8_t *zone,
                   uint64_t now_ms, struct dns_infra_info *out)
{
    memset(out, 0, sizeof *out);
    out->score_ms = DNS_INFRA_UNKNOWN_MS;
    out->rto_ms = DNS_INFRA_UNKNOWN_MS;
    pthread_mutex_lock(&inf->lock);
    struct host *h = lookup(inf, sa, now_ms, false);
    if (h) {
        out->known = h->known;
        out->rto_ms = h->rto;
        out->timeouts = h->timeouts;
        out->score_ms = h->timeouts ? h->rto : h->known ? h->srtt : DNS_INFRA_UNKNOWN_MS;
        out->down = h->timeouts >= DNS_INFRA_DOWN_AFTER && now_ms < h->probe_at;
        out->noedns = h->noedns;
        out->lame = is_lame(h, zone, now_ms);
    }
    pthread_mutex_unlock(&inf->lock);
}

static unsigned clamp_rto(unsigned v)
{
    return v < DNS_INFRA_MIN_RTO   ? DNS_INFRA_MIN_RTO
           : v > DNS_INFRA_MAX_RTO ? DNS_INFRA_MAX_RTO
                                   : v;
}

void dns_infra_rtt(struct dns_infra *inf, const struct sockaddr *sa, unsigned rtt_ms,
                   uint64_t now_ms)
{
    pthread_mutex_lock(&inf->lock);
    struct host *h = lookup(inf, sa, now_ms, true);
    if (!h->known) { /* RFC 6298 §2.2 */
        h->srtt = rtt_ms;
        h->rttvar = rtt_ms / 2;
        h->known = true;
    } else { /* §2.3, alpha 1/8, beta 1/4 */
        unsigned diff = h->srtt > rtt_ms ? h->srtt - rtt_ms : rtt_ms - h->srtt;
        h->rttvar = (3 * h->rttvar + diff) / 4;
        h->srtt = (7 * h->srtt + rtt_ms) / 8;
    }
    h->rto = clamp_rto(h->srtt + 4 * h->rttvar);
    h->timeouts = 0;
    h->expire_ms = now_ms + inf->ttl_ms;
    pthread_mutex_unlock(&inf->lock);
}

void dns_infra_timeout(struct dns_infra *inf, const struct sockaddr *sa, uint64_t now_ms)
{
    pthread_mutex_lock(&inf->lock);
    struct host *h = lookup(inf, sa, now_ms, true);
    h->timeouts++;
    h->rto = clamp_rto(h->rto * 2);          /* RFC 6298 §5.5 */
    if (h->timeouts >= DNS_INFRA_DOWN_AFTER) /* probe again later, spaced by the back-off */
        h->probe_at = now_ms + (uint64_t)h->rto * 8;
    h->expire_ms = now_ms + inf->ttl_ms;
    pthread_mutex_unlock(&inf->lock);
}

void dns_infra_set_noedns(struct dns_infra *inf, const struct sockaddr *sa, uint64_t now_ms)
{
    pthread_mutex_lock(&inf->lock);
    lookup(inf, sa, now_ms, true)->noedns = true;
    pthread_mutex_unlock(&inf->lock);
}

void dns_infra_set_lame(struct dns_infra *inf, const struct sockaddr *sa, const uint8_t *zone,
                        uint64_t now_ms)
{
    pthread_mutex_lock(&inf->lock);
    struct host *h = lookup(inf, sa, now_ms, true);
    uint32_t z = dns_name_hash(zone);
    int slot = 0;
    for (int i = 0; i < LAME_SLOTS; i++) {
        if (h->lame_zone[i] == z || h->lame_until[i] < h->lame_until[slot]) {
            slot = i;
            if (h->lame_zone[i] == z)
                break;
        }
    }
    h->lame_zone[slot] = z;
    h->lame_until[slot] = now_ms + inf->ttl_ms;
    pthread_mutex_unlock(&inf->lock);
}
