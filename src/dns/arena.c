/* arena — see arena.h. */
#include "dns/arena.h"

#include "core/xmalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct dns_arena_chunk {
    struct dns_arena_chunk *next;
    size_t cap;
    _Alignas(max_align_t) unsigned char bytes[];
};

#define ARENA_FIRST_CHUNK 4096
#define ARENA_MAX_CHUNK (1u << 20)

void dns_arena_init(struct dns_arena *a, void *mem, size_t cap)
{
    a->base = mem;
    a->base_cap = mem ? cap : 0;
    a->cap = a->base_cap;
    a->used = 0;
    a->cur = a->base;
    a->chunks = NULL;
    a->chunk_size = ARENA_FIRST_CHUNK;
}

static void *arena_grow(struct dns_arena *a, size_t n)
{
    size_t size = a->chunk_size;
    while (size < n)
        size *= 2;
    if (a->chunk_size < ARENA_MAX_CHUNK)
        a->chunk_size *= 2;
    struct dns_arena_chunk *c = xmalloc(sizeof *c + size);
    c->next = a->chunks;
    c->cap = size;
    a->chunks = c;
    a->cur = c->bytes;
    a->cap = size;
    a->used = n;
    return c->bytes;
}

void *dns_arena_alloc(struct dns_arena *a, size_t n)
{
    size_t off = (a->used + 7) & ~(size_t)7;
    if (n == 0)
        n = 1;
    if (a->cur && off <= a->cap && n <= a->cap - off) {
        a->used = off + n;
        return a->cur + off;
    }
    return arena_grow(a, n);
}

void *dns_arena_zalloc(struct dns_arena *a, size_t n)
{
    void *p = dns_arena_alloc(a, n);
    memset(p, 0, n ? n : 1);
    return p;
}

void *dns_arena_dup(struct dns_arena *a, const void *p, size_t n)
{
    void *d = dns_arena_alloc(a, n);
    if (n)
        memcpy(d, p, n);
    return d;
}

static void arena_free_chunks(struct dns_arena *a)
{
    struct dns_arena_chunk *c = a->chunks;
    while (c) {
        struct dns_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = NULL;
}

void dns_arena_reset(struct dns_arena *a)
{
    arena_free_chunks(a);
    a->cur = a->base;
    a->cap = a->base_cap;
    a->used = 0;
    a->chunk_size = ARENA_FIRST_CHUNK;
}

void dns_arena_clear(struct dns_arena *a)
{
    arena_free_chunks(a);
    a->base = NULL;
    a->base_cap = 0;
    a->cur = NULL;
    a->cap = 0;
    a->used = 0;
}

size_t dns_arena_heap_chunks(const struct dns_arena *a)
{
    size_t n = 0;
    for (const struct dns_arena_chunk *c = a->chunks; c; c = c->next)
        n++;
    return n;
}
