/*
 * arena — a bump allocator for per-query and per-zone memory in the DNS code.
 *
 * An arena starts on a block the caller provides (a stack or per-worker buffer, so a query
 * needs no malloc) and grows by heap chunks when that block is full. Everything allocated
 * is released at once by dns_arena_reset (keeps the first block) or dns_arena_clear.
 * Allocation never fails: overflow chunks come from xmalloc, which aborts on out-of-memory.
 * Not thread-safe: one arena per thread or per object. Performs no I/O.
 */
#ifndef PIGEON_DNS_ARENA_H
#define PIGEON_DNS_ARENA_H

#include <stddef.h>

struct dns_arena_chunk;

struct dns_arena {
    unsigned char *base;            /* the caller's first block (may be NULL) */
    size_t base_cap;                /* its size */
    size_t cap, used;               /* of the current block */
    unsigned char *cur;             /* current block: base or the newest chunk's bytes */
    struct dns_arena_chunk *chunks; /* heap chunks, newest first */
    size_t chunk_size;              /* size of the next heap chunk */
};

/* Starts an arena on mem[0..cap) (borrowed; mem may be NULL with cap 0 for heap only). */
void dns_arena_init(struct dns_arena *a, void *mem, size_t cap);
/* n bytes aligned to 8, uninitialised. Owned by the arena until reset/clear. Never NULL. */
void *dns_arena_alloc(struct dns_arena *a, size_t n);
/* Like dns_arena_alloc, zero-filled. */
void *dns_arena_zalloc(struct dns_arena *a, size_t n);
/* Copy of p[0..n) in the arena. */
void *dns_arena_dup(struct dns_arena *a, const void *p, size_t n);
/* Frees every heap chunk and starts over on the first block. */
void dns_arena_reset(struct dns_arena *a);
/* Frees every heap chunk; the arena may be initialised again. */
void dns_arena_clear(struct dns_arena *a);
/* Number of heap chunks in use (0 while the first block sufficed; for tests and stats). */
size_t dns_arena_heap_chunks(const struct dns_arena *a);

#endif
