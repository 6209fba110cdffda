/*
 * cache/sketch — how often keys were asked for, approximately, in little memory: a count-min
 * sketch of 4-bit-range counters (4 rows of one octet each per slot, saturating at 15) that
 * halves every counter after 10 × width additions, so old popularity fades (the "TinyLFU"
 * frequency sketch of Einziger, Friedman and Manes). The proxy cache's `policy = lfu` asks it
 * whether a new object is asked for more often than the one it would evict. Pure: no I/O, no
 * locking (the store's lock covers it).
 */
#ifndef PIGEON_CACHE_SKETCH_H
#define PIGEON_CACHE_SKETCH_H

#include <stdint.h>

struct cache_sketch;

/* width: slots per row, rounded up to a power of two (at least 64). */
struct cache_sketch *cache_sketch_new(uint32_t width);
void cache_sketch_free(struct cache_sketch *s);
/* One more request for the key whose hash is h. */
void cache_sketch_add(struct cache_sketch *s, uint64_t h);
/* The estimated number of recent requests for h (0..15). */
unsigned cache_sketch_estimate(const struct cache_sketch *s, uint64_t h);
/* A 64-bit hash of a NUL-terminated key (FNV-1a). */
uint64_t cache_sketch_hash(const char *key);

#endif
