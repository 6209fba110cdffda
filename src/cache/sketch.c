/* cache/sketch — see sketch.h. */
#include "cache/sketch.h"

#include "core/xmalloc.h"

#include <stdlib.h>

#define ROWS 4
#define MAX_COUNT 15

struct cache_sketch {
    uint8_t *t; /* ROWS rows of width counters */
    uint32_t mask;
    uint64_t adds, reset_at;
};

struct cache_sketch *cache_sketch_new(uint32_t width)
{
    uint32_t w = 64;
    while (w < width && w < (1u << 26))
        w <<= 1;
    struct cache_sketch *s = xcalloc(1, sizeof *s);
    s->t = xcalloc(ROWS, w);
    s->mask = w - 1;
    s->reset_at = 10ull * w;
    return s;
}

void cache_sketch_free(struct cache_sketch *s)
{
    if (!s)
        return;
    free(s->t);
    free(s);
}

/* Row i's slot for h: a different mix of h per row. */
static uint32_t slot(const struct cache_sketch *s, uint64_t h, unsigned i)
{
    uint64_t x = h + (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return i * (s->mask + 1) + ((uint32_t)x & s->mask);
}

/* Ageing: every counter halves, so a key popular long ago does not stay in forever. */
static void halve(struct cache_sketch *s)
{
    for (uint64_t i = 0; i < (uint64_t)ROWS * (s->mask + 1); i++)
        s->t[i] >>= 1;
    s->adds /= 2;
}

void cache_sketch_add(struct cache_sketch *s, uint64_t h)
{
    /* Conservative update: only the smallest counters grow, which keeps the estimate tight. */
    unsigned est = cache_sketch_estimate(s, h);
    if (est < MAX_COUNT)
        for (unsigned i = 0; i < ROWS; i++) {
            uint8_t *c = &s->t[slot(s, h, i)];
            if (*c == est)
                (*c)++;
        }
    if (++s->adds >= s->reset_at)
        halve(s);
}

unsigned cache_sketch_estimate(const struct cache_sketch *s, uint64_t h)
{
    unsigned min = MAX_COUNT;
    for (unsigned i = 0; i < ROWS; i++) {
        unsigned c = s->t[slot(s, h, i)];
        if (c < min)
            min = c;
    }
    return min;
}

uint64_t cache_sketch_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}
