/*
 * loop_post — hands a function call to another thread's event loop.
 *
 * Threads that are not the loop's own (the committer, the worker pool) call loop_post_send;
 * the function then runs on the loop's thread, in order. Requires evthread_use_pthreads()
 * before the event_base was created.
 */
#ifndef PIGEON_CORE_LOOP_POST_H
#define PIGEON_CORE_LOOP_POST_H

struct event_base;
struct loop_post;

struct loop_post *loop_post_new(struct event_base *base);
/* Runs what is still queued, then frees; call on the loop's thread after the loop stopped. */
void loop_post_free(struct loop_post *lp);
/* Thread-safe. fn(arg) later runs on lp's loop thread. */
void loop_post_send(struct loop_post *lp, void (*fn)(void *arg), void *arg);

#endif
