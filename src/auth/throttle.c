/*
 * throttle — a small fixed-size table of (address, score) under one mutex. Lookups are linear:
 * the table is a few thousand entries at most and every lookup precedes a password hash that
 * costs far more.
 */
#include "auth/throttle.h"

#include "core/xmalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define THROTTLE_ADDR_MAX 64   /* an IPv6 text address with a scope id fits */
#define THROTTLE_DECAY_SECS 60 /* one point of score forgotten per minute */
#define THROTTLE_MAX_DELAY 15000
#define THROTTLE_SCORE_CAP 64 /* far past the delay cap; keeps decay time bounded */

struct throttle_entry {
    char addr[THROTTLE_ADDR_MAX];
    unsigned score; /* 0 = free slot */
    time_t since;   /* decay is counted from here */
};

struct throttle {
    pthread_mutex_t lock;
    unsigned max;
    struct throttle_entry *e;
};

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

/* Applies the decay owed up to `now`; frees the slot when the score reaches zero. */
static void entry_decay(struct throttle_entry *e, time_t now)
{
    if (now < e->since) {
        e->since = now; /* the clock went back: restart the period rather than wrap */
        return;
    }
    time_t periods = (now - e->since) / THROTTLE_DECAY_SECS;
    if (periods >= (time_t)e->score) {
        e->score = 0;
        return;
    }
    e->score -= (unsigned)periods;
    e->since += periods * THROTTLE_DECAY_SECS;
}

/* The live entry for addr (truncated to the slot size), or NULL. Caller holds the lock. */
static struct throttle_entry *entry_find(struct throttle *t, const char *addr)
{
    for (unsigned i = 0; i < t->max; i++)
        if (t->e[i].score > 0 && strncmp(t->e[i].addr, addr, THROTTLE_ADDR_MAX - 1) == 0)
            return &t->e[i];
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

unsigned throttle_delay_ms(struct throttle *t, const char *addr, time_t now)
{
    unsigned delay = 0;
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = entry_find(t, addr);
    if (e) {
        entry_decay(e, now);
        delay = delay_for(e->score);
    }
    pthread_mutex_unlock(&t->lock);
    return delay;
}

void throttle_failure(struct throttle *t, const char *addr, time_t now)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = entry_find(t, addr);
    if (e)
        entry_decay(e, now);
    if (!e || e->score == 0) {
        e = entry_claim(t);
        memset(e, 0, sizeof *e);
        memcpy(e->addr, addr, strnlen(addr, THROTTLE_ADDR_MAX - 1));
    }
    if (e->score < THROTTLE_SCORE_CAP)
        e->score++;
    e->since = now;
    pthread_mutex_unlock(&t->lock);
}

void throttle_success(struct throttle *t, const char *addr)
{
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *e = entry_find(t, addr);
    if (e)
        memset(e, 0, sizeof *e);
    pthread_mutex_unlock(&t->lock);
}
