/* autotrust — see autotrust.h. A small array of followed keys under one mutex; the state
 * file's lines are "STATE SINCE" and the key as a master-file DNSKEY record. */
#include "dns/resolver/autotrust.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/dnssec/dnssec.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/rr.h"
#include "dns/zonefile.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 2048 /* DNSKEY rdata octets kept (RSA-8192 fits) */

struct at_key {
    uint8_t zone[DNS_NAME_MAXLEN];
    uint8_t rdata[KEY_MAX]; /* REVOKE bit cleared */
    uint16_t len;
    enum dns_autotrust_state state;
    int64_t since; /* when it entered its state */
    bool seen;     /* in the set being observed */
};

struct dns_autotrust {
    pthread_mutex_t lock;
    struct at_key *v;
    size_t n;
};

static const char *const state_names[] = {NULL, "addpend", "valid", "missing", "revoked"};

struct dns_autotrust *dns_autotrust_new(void)
{
    struct dns_autotrust *at = xcalloc(1, sizeof *at);
    pthread_mutex_init(&at->lock, NULL);
    at->v = xcalloc(DNS_AUTOTRUST_MAX_KEYS, sizeof *at->v);
    return at;
}

void dns_autotrust_free(struct dns_autotrust *at)
{
    if (!at)
        return;
    pthread_mutex_destroy(&at->lock);
    free(at->v);
    free(at);
}

/* Under the lock: the entry of (zone, rdata with the REVOKE bit ignored), or NULL. */
static struct at_key *find(struct dns_autotrust *at, const uint8_t *zone, const uint8_t *rd,
                           uint16_t len)
{
    if (len < 4 || len > KEY_MAX)
        return NULL;
    for (size_t i = 0; i < at->n; i++) {
        struct at_key *k = &at->v[i];
        if (k->len == len && dns_name_eq(k->zone, zone) && k->rdata[0] == rd[0] &&
            (k->rdata[1] | (DNSSEC_FLAG_REVOKE & 0xff)) == (rd[1] | (DNSSEC_FLAG_REVOKE & 0xff)) &&
            memcmp(k->rdata + 2, rd + 2, len - 2) == 0)
            return k;
    }
    return NULL;
}

static struct at_key *add(struct dns_autotrust *at, const uint8_t *zone, const uint8_t *rd,
                          uint16_t len, enum dns_autotrust_state st, int64_t since)
{
    if (at->n == DNS_AUTOTRUST_MAX_KEYS || len < 4 || len > KEY_MAX)
        return NULL;
    struct at_key *k = &at->v[at->n++];
    memset(k, 0, sizeof *k);
    dns_name_copy(k->zone, zone);
    dns_name_lower(k->zone);
    memcpy(k->rdata, rd, len);
    k->rdata[1] &= (uint8_t) ~(DNSSEC_FLAG_REVOKE & 0xff);
    k->len = len;
    k->state = st;
    k->since = since;
    return k;
}

static void drop(struct dns_autotrust *at, size_t i)
{
    at->v[i] = at->v[--at->n];
}

/* ---- the state text ---- */

struct load_ctx {
    struct dns_autotrust *at;
    enum dns_autotrust_state st;
    int64_t since;
};

static int on_rr(void *vc, const struct dns_zonefile_rr *rr, const char **why)
{
    struct load_ctx *c = vc;
    if (rr->type != DNS_TYPE_DNSKEY) {
        *why = "not a DNSKEY record";
        return ERR_PARSE;
    }
    if (!add(c->at, rr->owner, rr->rdata, rr->rdlen, c->st, c->since)) {
        *why = "too many keys";
        return ERR_LIMIT;
    }
    return 0;
}

/* One line: "STATE SINCE OWNER TTL IN DNSKEY ...". */
static int load_line(struct dns_autotrust *at, const char *line, size_t len, struct str *err)
{
    struct load_ctx c = {at, 0, 0};
    size_t w = 0;
    while (w < len && line[w] != ' ')
        w++;
    for (int s = DNS_AT_ADDPEND; s <= DNS_AT_REVOKED; s++)
        if (strlen(state_names[s]) == w && memcmp(line, state_names[s], w) == 0)
            c.st = s;
    char *end = NULL;
    if (w < len)
        c.since = strtoll(line + w + 1, &end, 10);
    if (!c.st || !end || end == line + w + 1 || *end != ' ' || (size_t)(end - line) > len) {
        str_appends(err, "expected STATE SINCE DNSKEY-record");
        return ERR_PARSE;
    }
    static const uint8_t root[1] = {0};
    return dns_zonefile_parse(end + 1, len - (size_t)(end + 1 - line), "state", root,
                              DNS_ZF_NO_INCLUDE | DNS_ZF_TTL_OPTIONAL, on_rr, &c, err);
}

int dns_autotrust_load(struct dns_autotrust *at, const char *text, size_t len, struct str *err)
{
    pthread_mutex_lock(&at->lock);
    at->n = 0;
    unsigned lineno = 0;
    int rc = 0;
    for (const char *p = text, *end = text + len; p < end && rc == 0;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (l && p[0] != '#') {
            struct str why = STR_INIT;
            if ((rc = load_line(at, p, l, &why)) != 0)
                str_appendf(err, "line %u: %s", lineno, str_cstr(&why));
            str_clear(&why);
        }
        p += l + 1;
    }
    if (rc != 0)
        at->n = 0;
    pthread_mutex_unlock(&at->lock);
    return rc;
}

void dns_autotrust_save(struct dns_autotrust *at, struct str *out)
{
    pthread_mutex_lock(&at->lock);
    str_appends(out, "# RFC 5011 trust-anchor states (written by pigeond): STATE SINCE KEY\n");
    for (size_t i = 0; i < at->n; i++) {
        const struct at_key *k = &at->v[i];
        str_appendf(out, "%s %" PRId64 " ", state_names[k->state], k->since);
        dns_print_rr(k->zone, DNS_TYPE_DNSKEY, DNS_CLASS_IN, 0, k->rdata, k->len, out);
        str_appends(out, "\n");
    }
    pthread_mutex_unlock(&at->lock);
}

/* ---- observing a DNSKEY set ---- */

static uint16_t key_flags(const uint8_t *rd)
{
    return (uint16_t)(rd[0] << 8 | rd[1]);
}

/* One key of the set; true when the state changed. */
static bool observe_key(struct dns_autotrust *at, const uint8_t *zone,
                        const struct dns_autotrust_key *key, bool anchored, int64_t hold,
                        int64_t now)
{
    uint16_t fl = key_flags(key->rdata);
    struct at_key *k = find(at, zone, key->rdata, key->len);
    if (k)
        k->seen = true;
    if (fl & DNSSEC_FLAG_REVOKE) { /* §2.1: only a revocation the key signed itself counts */
        if (!k || !key->self_signed_revoke || k->state == DNS_AT_REVOKED)
            return false;
        k->state = DNS_AT_REVOKED;
        k->since = now;
        return true;
    }
    if (!k) {
        k = add(at, zone, key->rdata, key->len, anchored ? DNS_AT_VALID : DNS_AT_ADDPEND, now);
        if (k)
            k->seen = true;
        return k != NULL;
    }
    if ((k->state == DNS_AT_ADDPEND && now - k->since >= hold) || k->state == DNS_AT_MISSING) {
        k->state = DNS_AT_VALID; /* §4: the add hold-down has passed; or back again */
        k->since = now;
        return true;
    }
    return false;
}

bool dns_autotrust_observe(struct dns_autotrust *at, const uint8_t *zone,
                           const struct dns_autotrust_key *keys, const bool *anchored, size_t n,
                           uint32_t ttl, int64_t now)
{
    int64_t hold = ttl > DNS_AUTOTRUST_HOLD_DOWN ? ttl : DNS_AUTOTRUST_HOLD_DOWN;
    bool changed = false;
    pthread_mutex_lock(&at->lock);
    for (size_t i = 0; i < at->n; i++)
        at->v[i].seen = false;
    for (size_t i = 0; i < n; i++)
        if (keys[i].len >= 4 && (key_flags(keys[i].rdata) & DNSSEC_FLAG_SEP) &&
            (key_flags(keys[i].rdata) & DNSSEC_FLAG_ZONE))
            changed |= observe_key(at, zone, &keys[i], anchored[i], hold, now);
    for (size_t i = at->n; i-- > 0;) {
        struct at_key *k = &at->v[i];
        if (!dns_name_eq(k->zone, zone))
            continue;
        if ((k->state == DNS_AT_ADDPEND && !k->seen) ||
            (k->state == DNS_AT_REVOKED && now - k->since >= DNS_AUTOTRUST_HOLD_DOWN)) {
            drop(at, i); /* §4: back to Start; Removed */
            changed = true;
        } else if (k->state == DNS_AT_VALID && !k->seen) {
            k->state = DNS_AT_MISSING;
            k->since = now;
            changed = true;
        }
    }
    pthread_mutex_unlock(&at->lock);
    return changed;
}

size_t dns_autotrust_trusted(struct dns_autotrust *at, const uint8_t *zone, struct dns_arena *a,
                             struct dns_rdata *out)
{
    size_t n = 0;
    pthread_mutex_lock(&at->lock);
    for (size_t i = 0; i < at->n; i++) {
        const struct at_key *k = &at->v[i];
        if ((k->state == DNS_AT_VALID || k->state == DNS_AT_MISSING) &&
            dns_name_eq(k->zone, zone))
            out[n++] = (struct dns_rdata){k->len, dns_arena_dup(a, k->rdata, k->len)};
    }
    pthread_mutex_unlock(&at->lock);
    return n;
}

enum dns_autotrust_state dns_autotrust_state_of(struct dns_autotrust *at, const uint8_t *zone,
                                                const uint8_t *rdata, uint16_t len)
{
    pthread_mutex_lock(&at->lock);
    const struct at_key *k = find(at, zone, rdata, len);
    enum dns_autotrust_state st = k ? k->state : 0;
    pthread_mutex_unlock(&at->lock);
    return st;
}

bool dns_autotrust_revoked(struct dns_autotrust *at, const uint8_t *zone, const uint8_t *rdata,
                           uint16_t len)
{
    return dns_autotrust_state_of(at, zone, rdata, len) == DNS_AT_REVOKED;
}
