/*
 * sign — DNSSEC signing for the name server's control thread (Knot's automatic
 * signing): a primary zone with `dnssec = on` is signed at load, after every UPDATE, IXFR-in
 * or reload, and again when half of the signature validity has passed. Keys come from
 * DATA/dnssec/ (one CSK made on first use); the signed serial is kept in
 * DATA/dnssec/<zone>.serial so it only ever grows, across restarts too (secondaries follow
 * it); the signed versions themselves in <zone>.signed (one whole) and <zone>.sjnl (the
 * differences, journaled as they are made), so a restart serves what secondaries hold.
 * Blocking file I/O and signing: control thread only.
 */
#include "dns/server/service/sign.h"

#include "core/err.h"
#include "core/log.h"
#include "dns/dnssec/keystore.h"
#include "dns/dnssec/signer.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/server/service/service_int.h"
#include "dns/xfr/journal.h"
#include "store/store.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void keydir_file(const struct dns_zconf *zc, const char *ext, struct str *out)
{
    str_appendf(out, "%s/%s.%s", zc->keydir, zc->name[0] ? zc->name : "root", ext);
}

static void serial_path(const struct dns_zconf *zc, struct str *out)
{
    keydir_file(zc, "serial", out);
}

static uint32_t serial_read(const struct dns_zconf *zc)
{
    struct str p = STR_INIT;
    serial_path(zc, &p);
    FILE *f = fopen(str_cstr(&p), "r");
    unsigned long v = 0;
    if (f) {
        if (fscanf(f, "%lu", &v) != 1)
            v = 0;
        fclose(f);
    }
    str_clear(&p);
    return (uint32_t)v;
}

static void serial_write(const struct dns_zconf *zc, uint32_t serial)
{
    struct str p = STR_INIT;
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%u\n", serial);
    serial_path(zc, &p);
    if (store_durable_write(str_cstr(&p), buf, (size_t)n) != 0)
        log_warn("dns: zone %s: cannot write %s: %s", zc->name, str_cstr(&p), strerror(errno));
    str_clear(&p);
}

/* The serial of the next signed version: the zone's own when it moved ahead, else one more
 * than the last signed (RFC 1982 arithmetic). */
static uint32_t next_serial(const struct dns_zconf *zc, uint32_t unsigned_serial,
                            uint32_t *last)
{
    if (*last == 0)
        *last = serial_read(zc);
    if (*last == 0 || dns_serial_cmp(unsigned_serial, *last) == 1)
        return unsigned_serial;
    return dns_serial_add(*last, 1);
}

/* The longest TTL in the zone: how long a resolver may hold old keys or signatures. */
static uint32_t zone_max_ttl(const struct dns_zone *z)
{
    size_t nn;
    const struct dns_node *nodes = dns_zone_nodes(z, &nn);
    uint32_t max = 0;
    for (size_t i = 0; i < nn; i++)
        for (unsigned r = 0; r < nodes[i].nrrsets; r++)
            if (nodes[i].rrsets[r].ttl > max)
                max = nodes[i].rrsets[r].ttl;
    return max;
}

struct dns_zone *dns_sign(const struct dns_zconf *zc, const struct dns_zone *z,
                          const struct dns_zone *prev, time_t now, uint32_t *last_serial,
                          time_t *resign_at)
{
    struct dnssec_keyset ks = {0};
    struct str err = STR_INIT;
    struct dns_zone *out = NULL;
    if (mkdir(zc->keydir, 0700) != 0 && errno != EEXIST)
        log_err("dns: zone %s: cannot make %s: %s", zc->name, zc->keydir, strerror(errno));
    int rc = dnssec_keystore_ensure(zc->keydir, zc->origin, zc->dnssec_alg, &ks, &err);
    int64_t next_step = INT64_MAX;
    if (rc == 0 && dnssec_keystore_roll(&ks, now, zone_max_ttl(z), &next_step, &err) > 0)
        log_info("dns: zone %s: key rollover step done", zc->name);
    if (err.len) {
        log_err("dns: zone %s: %s", zc->name, str_cstr(&err));
        str_reset(&err);
    }
    if (rc == 0) {
        struct dnssec_key keys[DNSSEC_KEYSET_MAX];
        memcpy(keys, ks.keys, ks.n * sizeof keys[0]);
        uint32_t serial = next_serial(zc, dns_zone_serial(z), last_serial);
        struct dnssec_sign_stats st;
        /* A signature is made again once less than dnssec_refresh of its validity is left
         * (half of it by default, as Knot's); until then the previous version's is kept for
         * an unchanged RRset. */
        struct dnssec_sign_params p = {.now = (uint32_t)now,
                                       .inception_ago = 3600,
                                       .validity = zc->dnssec_validity,
                                       .nsec3 = zc->dnssec_nsec3,
                                       .set_serial = true,
                                       .serial = serial,
                                       .prev = prev,
                                       .refresh = zc->dnssec_refresh,
                                       .stats = &st};
        rc = dnssec_sign_zone(z, keys, ks.n, &p, &out, &err);
        if (rc == 0) {
            if (serial != *last_serial)
                serial_write(zc, serial);
            *last_serial = serial;
            *resign_at = now + (int32_t)(st.first_expiry - (uint32_t)now) - p.refresh;
            if (*resign_at <= now)
                *resign_at = now + 1;
            if (next_step < *resign_at)
                *resign_at = (time_t)next_step;
            log_info("dns: zone %s signed, serial %u, %zu keys, %zu records, %zu signatures "
                     "made, %zu kept, next signing in %lld s",
                     zc->name, serial, ks.n, dns_zone_records(out), st.made, st.kept,
                     (long long)(*resign_at - now));
        }
    }
    if (rc != 0)
        log_err("dns: zone %s: not signed: %s", zc->name, str_cstr(&err));
    dnssec_keyset_clear(&ks);
    str_clear(&err);
    return out;
}

/* The signed versions on disk: <zone>.signed one version whole, <zone>.sjnl differences. */
static void saved_paths(const struct dns_zconf *zc, struct str *whole, struct str *jnl)
{
    keydir_file(zc, "signed", whole);
    keydir_file(zc, "sjnl", jnl);
}

static size_t hist_records(const struct dns_xfr_hist *h)
{
    size_t n = 0;
    for (size_t i = 0; h && i < h->n; i++)
        n += h->d[i]->ndel + h->d[i]->nadd;
    return n;
}

void dns_sign_save(const struct dns_zconf *zc, const struct dns_zone *served,
                   const struct dns_xfr_hist *hist, struct dns_sign_jnl *j)
{
    struct str p = STR_INIT, jp = STR_INIT, text = STR_INIT;
    saved_paths(zc, &p, &jp);
    dns_zone_dump(served, &text);
    /* The version first, then the journal: a crash between leaves the old journal, whose
     * last difference ends at this version's serial (or an older version whole). */
    if (store_durable_write(str_cstr(&p), text.ptr, text.len) != 0)
        log_warn("dns: zone %s: cannot write %s: %s", zc->name, str_cstr(&p), strerror(errno));
    else if (dns_jnl_rewrite(str_cstr(&jp), hist) != 0)
        log_warn("dns: zone %s: cannot write %s: %s", zc->name, str_cstr(&jp), strerror(errno));
    *j = (struct dns_sign_jnl){hist ? hist->n : 0, hist_records(hist), false};
    str_clear(&p);
    str_clear(&jp);
    str_clear(&text);
}

bool dns_sign_log(const struct dns_zconf *zc, struct dns_zdiff *d, const struct dns_zone *served,
                  struct dns_sign_jnl *j)
{
    struct str jp = STR_INIT;
    keydir_file(zc, "sjnl", &jp);
    bool ok = !j->stale && dns_jnl_append(str_cstr(&jp), &d, 1) == 0;
    if (!ok && !j->stale)
        log_warn("dns: zone %s: cannot append to %s: %s", zc->name, str_cstr(&jp), strerror(errno));
    str_clear(&jp);
    j->entries++;
    j->records += d->ndel + d->nadd;
    /* Long enough to be worth a new whole version: more entries than twice the history
     * kept, or more records than twice the zone (each periodic pass re-signs many). */
    return ok && j->entries <= 2 * DNS_HIST_MAX && j->records <= 2 * dns_zone_records(served);
}

/* The saved version with the journal's differences that continue it applied; *hist the
 * journal's history. NULL when the journal does not apply. */
static struct dns_zone *saved_replay(const struct dns_zconf *zc, struct dns_zone *z,
                                     const char *jpath, struct dns_xfr_hist **hist,
                                     struct dns_sign_jnl *j)
{
    struct dns_zdiff **d = NULL;
    size_t n = 0, from = 0;
    if (dns_jnl_read(jpath, &d, &n) != 0) {
        dns_jnl_set_aside(jpath, "is unreadable");
        n = 0;
    }
    while (from < n && d[from]->from != dns_zone_serial(z))
        from++;
    struct str err = STR_INIT;
    struct dns_zone *nz = NULL;
    if (from < n && dns_jnl_apply(z, d + from, n - from, zc->origin, &nz, &err) != 0) {
        log_warn("dns: zone %s: %s does not apply (%s): the saved version is not used", zc->name,
                 jpath, str_cstr(&err));
        dns_zone_unref(z);
        z = NULL;
    } else if (nz) {
        log_info("dns: zone %s: %zu signed differences replayed, serial %u -> %u", zc->name,
                 n - from, dns_zone_serial(z), dns_zone_serial(nz));
        dns_zone_unref(z);
        z = nz;
    }
    if (z && n && d[n - 1]->to != dns_zone_serial(z)) {
        j->stale = true; /* the journal leads elsewhere: written afresh at the next signing */
    } else if (z) {
        *hist = dns_jnl_hist(d, n);
        j->entries = n;
        for (size_t i = 0; i < n; i++)
            j->records += d[i]->ndel + d[i]->nadd;
    }
    str_clear(&err);
    dns_journal_free(d, n);
    return z;
}

struct dns_zone *dns_sign_load_saved(const struct dns_zconf *zc, struct dns_xfr_hist **hist_out,
                                     struct dns_sign_jnl *j)
{
    struct str p = STR_INIT, jp = STR_INIT, err = STR_INIT;
    saved_paths(zc, &p, &jp);
    struct dns_zone *z = NULL;
    uint32_t last = serial_read(zc);
    *hist_out = NULL;
    *j = (struct dns_sign_jnl){0};
    if (access(str_cstr(&p), F_OK) == 0 && dns_zone_load(str_cstr(&p), zc->origin, &z, &err) != 0)
        log_warn("dns: zone %s: %s not used: %s", zc->name, str_cstr(&p), str_cstr(&err));
    if (z)
        z = saved_replay(zc, z, str_cstr(&jp), hist_out, j);
    /* Older than the last signed serial after a crash between the serial file and the
     * journal: that version was never served, so secondaries hold this one at most. */
    if (z && last && dns_serial_cmp(dns_zone_serial(z), last) == 1) {
        log_info("dns: zone %s: %s leads to serial %u, after the last signed %u: not used",
                 zc->name, str_cstr(&p), dns_zone_serial(z), last);
        dns_zone_unref(z);
        dns_xfr_hist_unref(*hist_out);
        *hist_out = NULL;
        z = NULL;
    }
    str_clear(&p);
    str_clear(&jp);
    str_clear(&err);
    return z;
}
