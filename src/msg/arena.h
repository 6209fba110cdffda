/*
 * arena — a bump allocator for trees built once and freed at once (the MIME tree, an IMAP
 * command's arguments). Blocks are malloc'd (xmalloc: never NULL); msg_arena_reset keeps the
 * first block for reuse, msg_arena_clear frees everything. Pointers stay valid until then.
 * Not thread-safe; performs no I/O.
 */
#ifndef PIGEON_MSG_ARENA_H
#define PIGEON_MSG_ARENA_H

#include <stddef.h>

struct msg_arena_block;

struct msg_arena {
    struct msg_arena_block *head; /* newest block first */
    size_t block_size;            /* default size of a new block */
    size_t used;                  /* bytes handed out since the last reset (for limits) */
};

/* block_size 0 picks 4 KiB. Allocates nothing until the first msg_arena_alloc. */
void msg_arena_init(struct msg_arena *a, size_t block_size);
/* Frees every block; the arena is empty and may be reused. */
void msg_arena_clear(struct msg_arena *a);
/* Frees every block but the first one, which is kept for reuse. Invalidates all pointers. */
void msg_arena_reset(struct msg_arena *a);

/* n zeroed bytes aligned for any type; owned by the arena. Never NULL (n 0 gives 1 byte). */
void *msg_arena_alloc(struct msg_arena *a, size_t n);
/* A NUL-terminated copy of p[0..n) in the arena. */
char *msg_arena_strndup(struct msg_arena *a, const char *p, size_t n);

#endif
