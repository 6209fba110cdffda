/*
 * throttle — a small fixed-size table of (key, score) under one mutex. A key is "p\n" addr
 * "\n" account (the pair), "u\n" account or "a\n" addr. Lookups are linear: the table is a few
 * thousand entries at most and every lookup precedes a password hash that costs far more.
 */
#include "auth/throttle.h"

#include "core/metrics.h"
#include "core/xmalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THROTTLE_KEY_MAX 336      /* "p\n" + an IPv6 text address + "\n" + a 255-octet account */
#define THROTTLE_DECAY_MS 60000u  /* one point of score forgotten per minute */
#define THROTTLE_MAX_DELAY 15000u
#define THROTTLE_SCORE_CAP 64     /* far past the delay cap; keeps decay time bounded */

struct throttle_entry {
    char key[THROTTLE_KEY_MAX];
    unsigned score;      /* 0 = free slot */
    uint64_t since;      /* decay is counted from here; also the eviction age */
    uint64_t last_start; /* when the last attempt on this key was let through */
};

struct throttle {
    pthread_mutex_t lock;
    unsigned max;
    struct throttle_entry *e;
};

enum { K_PAIR, K_ACCOUNT, K_ADDR, K_N };

struct throttle *throttle_new(unsigned max_entries)
{
    struct throttle *t = xcalloc(1, sizeof *t);
    t->max = max_entries ? max_entries : 1;
    t->e = xcalloc(t->max, sizeof *t->e);
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->e);
    free(t);
}

/* The three keys of one attempt (longer names are cut: they still count, under the prefix). */
static void make_keys(const char *addr, const char *account, char keys[K_N][THROTTLE_KEY_MAX])
{
    snprintf(keys[K_PAIR], THROTTLE_KEY_MAX, "p\n%.64s\n%s", addr, account);
    snprintf(keys[K_ACCOUNT], THROTTLE_KEY_MAX, "u\n%s", account);
    snprintf(keys[K_ADDR], THROTTLE_KEY_MAX, "a\n%.64s", addr);
}

/* Applies the decay owed up to `now`; frees the slot when the score reaches zero. */
static void entry_decay(struct throttle_entry *e, uint64_t now)
{
    if (now < e->since) {
        e->since = now; /* the clock went back: restart the period rather than wrap */
        return;
    }
    uint64_t periods = (now - e->since) / THROTTLE_DECAY_MS;
    if (periods >= e->score) {
        e->score = 0;
        return;
    }
    e->score -= (unsigned)periods;
    e->since += periods * THROTTLE_DECAY_MS;
}

/* The live entry for key after decay to now, or NULL. Caller holds the lock. */
static struct throttle_entry *entry_find(struct throttle *t, const char *key, uint64_t now)
{
    for (unsigned i = 0; i < t->max; i++) {
        struct throttle_entry *e = &t->e[i];
        if (e->score > 0 && strcmp(e->key, key) == 0) {
            entry_decay(e, now);
            return e->score ? e : NULL;
        }
    }
    return NULL;
}

/* A free slot, or else the one least recently touched (evicted). Caller holds the lock. */
static struct throttle_entry *entry_claim(struct throttle *t)
{
    struct throttle_entry *oldest = &t->e[0];
    for (unsigned i = 0; i < t->max; i++) {
        if (t->e[i].score == 0)
            return &t->e[i];
        if (t->e[i].since < oldest->since)
            oldest = &t->e[i];
    }
    return oldest;
}

static unsigned delay_for(unsigned score)
{
    if (score == 0)
        return 0;
    if (score > 4) /* 1000 << 4 is already past the cap */
        return THROTTLE_MAX_DELAY;
    unsigned d = 1000u << (score - 1);
    return d < THROTTLE_MAX_DELAY ? d : THROTTLE_MAX_DELAY;
}

/* The three entries of an attempt (NULL where there is none) and the delay they give. */
static unsigned lookup(struct throttle *t, const char *addr, const char *account, uint64_t now,
                       struct throttle_entry *e[K_N])
{
    char keys[K_N][THROTTLE_KEY_MAX];
    make_keys(addr, account, keys);
    unsigned d = 0;
    for (int k = 0; k < K_N; k++) {
        e[k] = entry_find(t, keys[k], now);
        unsigned score = !e[k] ? 0 : k == K_PAIR ? e[k]->score : e[k]->score / THROTTLE_SHARED_WEIGHT;
        unsigned dk = delay_for(score);
        d = dk > d ? dk : d;
    }
    return d;
}

unsigned throttle_delay_ms(struct throttle *t, const char *addr, const char *account,
                           uint64_t now_ms)
{
    struct throttle_entry *e[K_N];
    pthread_mutex_lock(&t->lock);
    unsigned d = lookup(t, addr, account, now_ms, e);
    pthread_mutex_unlock(&t->lock);
    return d;
}

unsigned throttle_begin(struct throttle *t, const char *addr, const char *account, uint64_t now_ms)
{
    struct throttle_entry *e[K_N];
    pthread_mutex_lock(&t->lock);
    unsigned d = lookup(t, addr, account, now_ms, e);
    /* The attempt starts d after the last one let through on any of its keys, or now. */
    uint64_t start = now_ms;
    for (int k = 0; k < K_N; k++)
        if (e[k] && e[k]->last_start + d > start)
            start = e[k]->last_start + d;
    for (int k = 0; k < K_N; k++)
        if (e[k])
            e[k]->last_start = start;
    pthread_mutex_unlock(&t->lock);
    uint64_t wait = start - now_ms;
    return wait < THROTTLE_MAX_DELAY * 4 ? (unsigned)wait : THROTTLE_MAX_DELAY * 4;
}

static struct metric failures = METRIC("pigeon_auth_failures_total",
                                       "Failed password checks (all protocols)");

void throttle_failure(struct throttle *t, const char *addr, const char *account, uint64_t now_ms)
{
    metric_inc(&failures);
    char keys[K_N][THROTTLE_KEY_MAX];
    make_keys(addr, account, keys);
    pthread_mutex_lock(&t->lock);
    for (int k = 0; k < K_N; k++) {
        struct throttle_entry *e = entry_find(t, keys[k], now_ms);
        if (!e) {
            e = entry_claim(t);
            memset(e, 0, sizeof *e);
            memcpy(e->key, keys[k], strlen(keys[k]) + 1);
            e->last_start = now_ms;
        }
        if (e->score < THROTTLE_SCORE_CAP)
            e->score++;
        e->since = now_ms;
    }
    pthread_mutex_unlock(&t->lock);
}

void throttle_success(struct throttle *t, const char *addr, const char *account)
{
    char keys[K_N][THROTTLE_KEY_MAX];
    make_keys(addr, account, keys);
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->max; i++)
        if (t->e[i].score > 0 && strcmp(t->e[i].key, keys[K_PAIR]) == 0)
            memset(&t->e[i], 0, sizeof t->e[i]);
    pthread_mutex_unlock(&t->lock);
}
