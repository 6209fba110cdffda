/* arena — see arena.h. */
#include "msg/arena.h"

#include "core/xmalloc.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct msg_arena_block {
    struct msg_arena_block *next;
    size_t cap;
    size_t pos;
    alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN alignof(max_align_t)

void msg_arena_init(struct msg_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 4096;
    a->used = 0;
}

void msg_arena_clear(struct msg_arena *a)
{
    struct msg_arena_block *b = a->head;
    while (b) {
        struct msg_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void msg_arena_reset(struct msg_arena *a)
{
    /* Keep one block of the default size; large one-off blocks go back to malloc. */
    struct msg_arena_block *keep = NULL;
    struct msg_arena_block *b = a->head;
    while (b) {
        struct msg_arena_block *next = b->next;
        if (!keep && b->cap == a->block_size) {
            keep = b;
            keep->next = NULL;
            keep->pos = 0;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = keep;
    a->used = 0;
}

static struct msg_arena_block *arena_block_new(size_t cap)
{
    struct msg_arena_block *b = xmalloc(sizeof *b + cap);
    b->cap = cap;
    b->pos = 0;
    b->next = NULL;
    return b;
}

void *msg_arena_alloc(struct msg_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n)
        abort(); /* overflow */
    struct msg_arena_block *b = a->head;
    if (!b || b->cap - b->pos < need) {
        if (need > a->block_size / 4 && b) {
            /* A large request gets its own block behind the current one, which stays open. */
            struct msg_arena_block *big = arena_block_new(need);
            big->next = b->next;
            b->next = big;
            big->pos = need;
            a->used += need;
            memset(big->data, 0, n);
            return big->data;
        }
        b = arena_block_new(need > a->block_size ? need : a->block_size);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->pos;
    b->pos += need;
    a->used += need;
    memset(p, 0, n);
    return p;
}

char *msg_arena_strndup(struct msg_arena *a, const char *p, size_t n)
{
    char *s = msg_arena_alloc(a, n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}
