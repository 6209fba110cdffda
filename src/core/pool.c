#include "core/pool.h"

#include "core/xmalloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct pool_job {
    void (*work)(void *tctx, void *arg);
    void *arg;
    struct pool_job *next;
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pool_job *head, *tail;
    bool stop;
    unsigned nthreads;
    pthread_t *threads;
    void *(*thread_init)(void *arg);
    void (*thread_fini)(void *tctx);
    void *arg;
};

static void *pool_main(void *vp)
{
    struct pool *p = vp;
    void *tctx = p->thread_init ? p->thread_init(p->arg) : NULL;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        struct pool_job *job = p->head;
        if (job) {
            p->head = job->next;
            if (!p->head)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        if (!job)
            break; /* stopping and drained */
        job->work(tctx, job->arg);
        free(job);
    }
    if (p->thread_fini)
        p->thread_fini(tctx);
    return NULL;
}

struct pool *pool_new(unsigned threads, void *(*thread_init)(void *arg),
                      void (*thread_fini)(void *tctx), void *arg)
{
    struct pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->thread_init = thread_init;
    p->thread_fini = thread_fini;
    p->arg = arg;
    p->nthreads = threads ? threads : 1;
    p->threads = xcalloc(p->nthreads, sizeof *p->threads);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_create(&p->threads[i], NULL, pool_main, p);
    return p;
}

void pool_submit(struct pool *p, void (*work)(void *tctx, void *arg), void *arg)
{
    struct pool_job *job = xmalloc(sizeof *job);
    job->work = work;
    job->arg = arg;
    job->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
