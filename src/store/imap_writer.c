/* imap_writer — see imap_writer.h. */
#include "store/imap_writer.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/imap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define WRITER_BATCH_MAX 256

struct wjob {
    struct wjob *next;
    int (*run)(struct store *st, void *arg);
    void (*done)(void *arg, int rc);
    void *arg;
    int rc;
    bool relaxed; /* may be lost to a power failure (imap_writer_submit_relaxed) */
};

struct imap_writer {
    struct store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct wjob *head, *tail;
    bool stopping;
};

/* Runs one batch: every job in one transaction, then every done. */
static void run_batch(struct imap_writer *w, struct wjob *jobs)
{
    bool relaxed = true;
    for (struct wjob *j = jobs; j && relaxed; j = j->next)
        relaxed = j->relaxed;
    int rc = relaxed ? store_imap_batch_begin_relaxed(w->st) : store_imap_batch_begin(w->st);
    for (struct wjob *j = jobs; j; j = j->next)
        j->rc = rc ? rc : j->run(w->st, j->arg);
    if (rc == 0) {
        rc = store_imap_batch_end(w->st, true);
        if (rc != 0)
            log_err("imap writer: batch commit failed: %s", err_str(rc));
    }
    for (struct wjob *j = jobs, *next; j; j = next) {
        next = j->next;
        j->done(j->arg, j->rc ? j->rc : rc);
        free(j);
    }
}

static void *writer_main(void *vw)
{
    struct imap_writer *w = vw;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head)
            break;
        struct wjob *batch = w->head, *last = batch;
        for (int n = 1; n < WRITER_BATCH_MAX && last->next; n++)
            last = last->next;
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->mu);
        run_batch(w, batch);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int imap_writer_start(const char *data_dir, struct imap_writer **out, const char **err_out)
{
    struct imap_writer *w = xcalloc(1, sizeof *w);
    int rc = store_open(data_dir, &w->st, err_out);
    if (rc != 0) {
        free(w);
        return rc;
    }
    store_imap_tune(w->st);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        *err_out = "cannot start the IMAP writer thread";
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        store_close(w->st);
        free(w);
        return ERR_IO;
    }
    *out = w;
    return 0;
}

static void submit(struct imap_writer *w, int (*run)(struct store *st, void *arg),
                   void (*done)(void *arg, int rc), void *arg, bool relaxed)
{
    struct wjob *j = xcalloc(1, sizeof *j);
    j->run = run;
    j->done = done;
    j->arg = arg;
    j->relaxed = relaxed;
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void imap_writer_submit(struct imap_writer *w, int (*run)(struct store *st, void *arg),
                        void (*done)(void *arg, int rc), void *arg)
{
    submit(w, run, done, arg, false);
}

void imap_writer_submit_relaxed(struct imap_writer *w, int (*run)(struct store *st, void *arg),
                                void (*done)(void *arg, int rc), void *arg)
{
    submit(w, run, done, arg, true);
}

void imap_writer_stop(struct imap_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    store_close(w->st);
    free(w);
}
