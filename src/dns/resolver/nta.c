/* nta — see nta.h. A small array kept in canonical name order under one mutex; the earliest
 * expiry is mirrored in an atomic so the answer path can tell "nothing to expire" without
 * the lock. */
#include "dns/resolver/nta.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct dns_ntas {
    pthread_mutex_t lock;
    struct dns_nta *v;
    size_t n, cap;
    _Atomic uint64_t next_expiry; /* the earliest expires_ms, DNS_NTA_PERMANENT when none */
};

struct dns_ntas *dns_ntas_new(void)
{
    struct dns_ntas *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    atomic_init(&t->next_expiry, DNS_NTA_PERMANENT);
    return t;
}

void dns_ntas_free(struct dns_ntas *t)
{
    if (!t)
        return;
    free(t->v);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Under the lock: the earliest expiry into the atomic. */
static void update_next(struct dns_ntas *t)
{
    uint64_t next = DNS_NTA_PERMANENT;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].expires_ms < next)
            next = t->v[i].expires_ms;
    atomic_store(&t->next_expiry, next);
}

/* Under the lock: the index of name, or of where it goes (*found false). */
static size_t find(const struct dns_ntas *t, const uint8_t *name, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = dns_name_cmp(t->v[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

int dns_ntas_add(struct dns_ntas *t, const uint8_t *name, uint64_t expires_ms)
{
    int rc = 0;
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, name, &found);
    if (found) {
        t->v[i].expires_ms = expires_ms;
    } else if (t->n >= DNS_NTAS_MAX) {
        rc = ERR_LIMIT;
    } else {
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 8;
            t->v = xrealloc(t->v, t->cap * sizeof *t->v);
        }
        memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof *t->v);
        t->n++;
        dns_name_copy(t->v[i].name, name);
        dns_name_lower(t->v[i].name);
        t->v[i].expires_ms = expires_ms;
    }
    update_next(t);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

bool dns_ntas_remove(struct dns_ntas *t, const uint8_t *name)
{
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, name, &found);
    if (found) {
        memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
        t->n--;
        update_next(t);
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

bool dns_ntas_covers(struct dns_ntas *t, const uint8_t *name, uint64_t now_ms)
{
    bool hit = false;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n && !hit; i++)
        hit = t->v[i].expires_ms > now_ms && dns_name_is_sub(name, t->v[i].name);
    pthread_mutex_unlock(&t->lock);
    return hit;
}

size_t dns_ntas_list(struct dns_ntas *t, uint64_t now_ms, struct dns_nta *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n && n < cap; i++)
        if (t->v[i].expires_ms > now_ms)
            out[n++] = t->v[i];
    pthread_mutex_unlock(&t->lock);
    return n;
}

bool dns_ntas_due(const struct dns_ntas *t, uint64_t now_ms)
{
    return atomic_load_explicit(&t->next_expiry, memory_order_relaxed) <= now_ms;
}

size_t dns_ntas_expire(struct dns_ntas *t, uint64_t now_ms, uint8_t (*out)[DNS_NAME_MAXLEN],
                       size_t cap)
{
    size_t removed = 0, keep = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].expires_ms > now_ms || removed == cap) {
            t->v[keep++] = t->v[i];
            continue;
        }
        dns_name_copy(out[removed++], t->v[i].name);
    }
    t->n = keep;
    update_next(t);
    pthread_mutex_unlock(&t->lock);
    return removed;
}
