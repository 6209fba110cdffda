#include "core/connlimit.h"

#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CONNLIMIT_BUCKETS 1024

struct cl_entry {
    char *key;
    unsigned count;
    struct cl_entry *next;
};

struct connlimit {
    pthread_mutex_t mu;
    struct cl_entry *buckets[CONNLIMIT_BUCKETS];
};

static unsigned hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % CONNLIMIT_BUCKETS;
}

struct connlimit *connlimit_new(void)
{
    struct connlimit *cl = xcalloc(1, sizeof *cl);
    pthread_mutex_init(&cl->mu, NULL);
    return cl;
}

void connlimit_free(struct connlimit *cl)
{
    if (!cl)
        return;
    for (unsigned i = 0; i < CONNLIMIT_BUCKETS; i++) {
        for (struct cl_entry *e = cl->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e->key);
            free(e);
        }
    }
    pthread_mutex_destroy(&cl->mu);
    free(cl);
}

bool connlimit_acquire(struct connlimit *cl, const char *key, unsigned max)
{
    unsigned h = hash(key);
    bool ok = true;
    pthread_mutex_lock(&cl->mu);
    struct cl_entry *e = cl->buckets[h];
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->key = xstrdup(key);
        e->next = cl->buckets[h];
        cl->buckets[h] = e;
    }
    if (e->count >= max)
        ok = false;
    else
        e->count++;
    pthread_mutex_unlock(&cl->mu);
    return ok;
}

void connlimit_release(struct connlimit *cl, const char *key)
{
    unsigned h = hash(key);
    pthread_mutex_lock(&cl->mu);
    struct cl_entry **pp = &cl->buckets[h];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    struct cl_entry *e = *pp;
    if (e && e->count > 0 && --e->count == 0) {
        *pp = e->next;
        free(e->key);
        free(e);
    }
    pthread_mutex_unlock(&cl->mu);
}

void connlimit_addr_key(const char *addr, char *out, size_t cap)
{
    struct in6_addr a6;
    char text[INET6_ADDRSTRLEN];
    if (strchr(addr, ':') && inet_pton(AF_INET6, addr, &a6) == 1) {
        memset(a6.s6_addr + 8, 0, 8);
        if (inet_ntop(AF_INET6, &a6, text, sizeof text)) {
            snprintf(out, cap, "%s/64", text);
            return;
        }
    }
    size_t n = strnlen(addr, cap ? cap - 1 : 0); /* IPv4 (and anything else): as it is */
    if (cap) {
        memcpy(out, addr, n);
        out[n] = '\0';
    }
}
