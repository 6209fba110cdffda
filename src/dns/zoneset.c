/* zoneset — see zoneset.h. */
#include "dns/zoneset.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/zone.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct dns_zoneset {
    atomic_uint refs;
    struct dns_zone **zones;
    size_t n, cap;
    uint32_t *hash; /* zone index + 1; 0 = empty; at most half full */
    uint32_t hmask;
};

struct dns_zoneset *dns_zoneset_new(void)
{
    struct dns_zoneset *zs = xcalloc(1, sizeof *zs);
    atomic_init(&zs->refs, 1);
    return zs;
}

static void zoneset_rehash(struct dns_zoneset *zs)
{
    uint32_t size = 16;
    while (size < 2 * (uint64_t)zs->n)
        size *= 2;
    free(zs->hash);
    zs->hash = xcalloc(size, sizeof *zs->hash);
    zs->hmask = size - 1;
    for (size_t i = 0; i < zs->n; i++) {
        uint32_t h = dns_name_hash(dns_zone_origin(zs->zones[i])) & zs->hmask;
        while (zs->hash[h])
            h = (h + 1) & zs->hmask;
        zs->hash[h] = (uint32_t)i + 1;
    }
}

static size_t zoneset_index(const struct dns_zoneset *zs, const uint8_t *origin)
{
    if (!zs->hash)
        return SIZE_MAX;
    uint32_t h = dns_name_hash(origin) & zs->hmask;
    for (;;) {
        uint32_t v = zs->hash[h];
        if (v == 0)
            return SIZE_MAX;
        if (dns_name_eq(dns_zone_origin(zs->zones[v - 1]), origin))
            return v - 1;
        h = (h + 1) & zs->hmask;
    }
}

struct dns_zoneset *dns_zoneset_clone(const struct dns_zoneset *zs)
{
    struct dns_zoneset *c = dns_zoneset_new();
    for (size_t i = 0; i < zs->n; i++)
        dns_zoneset_add(c, zs->zones[i]);
    return c;
}

int dns_zoneset_add(struct dns_zoneset *zs, struct dns_zone *z)
{
    size_t i = zoneset_index(zs, dns_zone_origin(z));
    dns_zone_ref(z);
    if (i != SIZE_MAX) {
        dns_zone_unref(zs->zones[i]);
        zs->zones[i] = z;
        return 0;
    }
    if (zs->n == zs->cap) {
        zs->cap = zs->cap ? zs->cap * 2 : 8;
        zs->zones = xrealloc(zs->zones, zs->cap * sizeof *zs->zones);
    }
    zs->zones[zs->n++] = z;
    if (!zs->hash || 2 * (uint64_t)zs->n > (uint64_t)zs->hmask + 1) {
        zoneset_rehash(zs);
        return 0;
    }
    uint32_t h = dns_name_hash(dns_zone_origin(z)) & zs->hmask;
    while (zs->hash[h])
        h = (h + 1) & zs->hmask;
    zs->hash[h] = (uint32_t)zs->n;
    return 0;
}

int dns_zoneset_remove(struct dns_zoneset *zs, const uint8_t *origin)
{
    size_t i = zoneset_index(zs, origin);
    if (i == SIZE_MAX)
        return ERR_NOTFOUND;
    dns_zone_unref(zs->zones[i]);
    memmove(&zs->zones[i], &zs->zones[i + 1], (zs->n - i - 1) * sizeof *zs->zones);
    zs->n--;
    zoneset_rehash(zs);
    return 0;
}

struct dns_zoneset *dns_zoneset_ref(struct dns_zoneset *zs)
{
    atomic_fetch_add_explicit(&zs->refs, 1, memory_order_relaxed);
    return zs;
}

void dns_zoneset_unref(struct dns_zoneset *zs)
{
    if (!zs || atomic_fetch_sub_explicit(&zs->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < zs->n; i++)
        dns_zone_unref(zs->zones[i]);
    free(zs->zones);
    free(zs->hash);
    free(zs);
}

const struct dns_zone *dns_zoneset_find(const struct dns_zoneset *zs, const uint8_t *name)
{
    if (zs->n == 0)
        return NULL;
    for (const uint8_t *s = name; s; s = dns_name_parent(s)) {
        size_t i = zoneset_index(zs, s);
        if (i != SIZE_MAX)
            return zs->zones[i];
    }
    return NULL;
}

struct dns_zone *dns_zoneset_get(const struct dns_zoneset *zs, const uint8_t *origin)
{
    size_t i = zoneset_index(zs, origin);
    return i == SIZE_MAX ? NULL : zs->zones[i];
}

size_t dns_zoneset_count(const struct dns_zoneset *zs)
{
    return zs->n;
}

struct dns_zone *dns_zoneset_at(const struct dns_zoneset *zs, size_t i)
{
    return i < zs->n ? zs->zones[i] : NULL;
}
