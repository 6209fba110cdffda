/*
 * pool — a few threads for blocking work (password hashing, later large file reads) so
 * that event-loop threads never block. Each thread may own a context (e.g. its own database
 * handle) made by thread_init and released by thread_fini. Results go back through
 * loop_post.
 */
#ifndef PIGEON_CORE_POOL_H
#define PIGEON_CORE_POOL_H

struct pool;

struct pool *pool_new(unsigned threads, void *(*thread_init)(void *arg),
                      void (*thread_fini)(void *tctx), void *arg);
/* Thread-safe. work(tctx, arg) runs on one of the pool's threads. */
void pool_submit(struct pool *p, void (*work)(void *tctx, void *arg), void *arg);
/* Runs every job already submitted, then joins the threads and frees. */
void pool_free(struct pool *p);

#endif
