/*
 * committer — group commit (see committer.h).
 *
 * Jobs move pending -> (a writer thread writes the blob) -> ready -> (the committer thread
 * takes every ready job, up to COMMITTER_BATCH_MAX, syncs the blob directories once, commits
 * all rows in one transaction) -> done callback. One mutex guards both lists; writers sleep
 * on work_cv, the committer on ready_cv. Nothing polls.
 *
 * Memory: jobs are malloc'd by committer_submit and freed after their done callback; the
 * store_msg and its buffers belong to the submitter throughout.
 */
#include "store/committer.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define COMMITTER_BATCH_MAX 256

struct job {
    struct job *next;
    struct store_msg *msg;
    void (*done)(struct store_msg *msg, void *arg);
    void *arg;
};

struct job_list {
    struct job *head, *tail;
};

struct committer {
    char *data_dir;     /* owned */
    struct store *st;   /* the committer thread's own handle */
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t work_cv;
    pthread_cond_t ready_cv;
    struct job_list pending; /* submitted, blob not written yet */
    struct job_list ready;   /* blob written (or failed), rows not committed */
    size_t writing;          /* jobs a writer holds right now */
    bool stopping;
    unsigned n_writers; /* started writer threads */
    pthread_t *writers;
    bool committer_started;
    pthread_t thread;
    struct store_msg scratch[COMMITTER_BATCH_MAX]; /* store_commit_batch wants an array */
};

static void list_push(struct job_list *l, struct job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static struct job *list_pop(struct job_list *l)
{
    struct job *j = l->head;
    if (j) {
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
    }
    return j;
}

/* Writer thread: writes blobs until stopping and nothing is pending. */
static void *writer_main(void *arg)
{
    struct committer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->pending.head && !c->stopping)
            pthread_cond_wait(&c->work_cv, &c->mu);
        struct job *j = list_pop(&c->pending);
        if (!j)
            break;
        c->writing++;
        pthread_mutex_unlock(&c->mu);
        j->msg->result = store_blob_write(c->data_dir, j->msg);
        pthread_mutex_lock(&c->mu);
        c->writing--;
        list_push(&c->ready, j);
        pthread_cond_signal(&c->ready_cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Syncs and commits the jobs of batch whose blob was written, then runs every done. */
static struct metric stored = METRIC("pigeon_messages_stored_total",
                                     "Messages made durable (received by SMTP, or bounces)");

static void commit_jobs(struct committer *c, struct job **batch, size_t n)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        if (batch[i]->msg->result == 0)
            c->scratch[ok++] = *batch[i]->msg; /* shallow: the buffers stay the submitter's */
    if (ok > 0) {
        int rc = store_blobs_sync(c->data_dir);
        if (rc == 0)
            store_commit_batch(c->st, c->scratch, ok);
        for (size_t i = 0, k = 0; i < n; i++)
            if (batch[i]->msg->result == 0)
                batch[i]->msg->result = rc == 0 ? c->scratch[k++].result : rc;
    }
    for (size_t i = 0; i < n; i++) {
        struct store_msg *m = batch[i]->msg;
        if (m->result == 0)
            metric_inc(&stored);
        if (m->result != 0)
            log_err("store: message %s not stored: %s", m->id[0] ? m->id : "-", err_str(m->result));
        batch[i]->done(m, batch[i]->arg);
        free(batch[i]);
    }
}

/* Committer thread: commits ready jobs in batches until stopping and everything is done. */
static void *committer_main(void *arg)
{
    struct committer *c = arg;
    struct job *batch[COMMITTER_BATCH_MAX];
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->ready.head && !(c->stopping && !c->pending.head && c->writing == 0))
            pthread_cond_wait(&c->ready_cv, &c->mu);
        if (!c->ready.head)
            break;
        size_t n = 0;
        while (n < COMMITTER_BATCH_MAX && c->ready.head)
            batch[n++] = list_pop(&c->ready);
        pthread_mutex_unlock(&c->mu);
        commit_jobs(c, batch, n);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Frees c after its threads are joined (or were never started). */
static void committer_free(struct committer *c)
{
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->work_cv);
    pthread_cond_destroy(&c->ready_cv);
    store_close(c->st);
    free(c->writers);
    free(c->data_dir);
    free(c);
}

/* Starts the threads; on failure *err_out is static or thread-local text (see store_open). */
int committer_start(const char *data_dir, unsigned writers, struct committer **out,
                    const char **err_out)
{
    *out = NULL;
    struct committer *c = xcalloc(1, sizeof *c);
    int rc = store_open(data_dir, &c->st, err_out);
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->data_dir = xstrdup(store_data_dir(c->st));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->work_cv, NULL);
    pthread_cond_init(&c->ready_cv, NULL);
    if (writers == 0)
        writers = 1;
    c->writers = xcalloc(writers, sizeof c->writers[0]);
    while (c->n_writers < writers &&
           pthread_create(&c->writers[c->n_writers], NULL, writer_main, c) == 0)
        c->n_writers++;
    if (c->n_writers == writers && pthread_create(&c->thread, NULL, committer_main, c) == 0)
        c->committer_started = true;
    if (!c->committer_started) {
        if (err_out)
            *err_out = "cannot start committer threads";
        committer_stop(c);
        return ERR_IO;
    }
    *out = c;
    return 0;
}

/* Takes ownership of nothing: msg stays the caller's until done(msg, arg) has run. */
void committer_submit(struct committer *c, struct store_msg *msg,
                      void (*done)(struct store_msg *msg, void *arg), void *arg)
{
    struct job *j = xmalloc(sizeof *j);
    j->msg = msg;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&c->mu);
    assert(!c->stopping && "committer_submit after committer_stop");
    list_push(&c->pending, j);
    pthread_cond_signal(&c->work_cv);
    pthread_mutex_unlock(&c->mu);
}

/* Blocks until every submitted message's done has run; then c is freed. NULL is a no-op. */
void committer_stop(struct committer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_broadcast(&c->work_cv);
    pthread_cond_broadcast(&c->ready_cv);
    pthread_mutex_unlock(&c->mu);
    for (unsigned i = 0; i < c->n_writers; i++)
        pthread_join(c->writers[i], NULL);
    if (c->committer_started)
        pthread_join(c->thread, NULL);
    committer_free(c);
}
