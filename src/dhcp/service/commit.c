/*
 * dhcp/service/commit — group commit of the leases, on a thread of its own.
 *
 * The DHCP thread decides; each batch of datagrams it handled becomes a struct dhcp_batch:
 * the leases it changed and the ACKs that promise them. The commit thread takes every batch
 * queued while its last COMMIT waited for fsync, writes all their leases in one SQLite
 * transaction (its own handle on leases.db, synchronous=FULL), and only once COMMIT has
 * returned sends their ACKs: an ACKed lease is on disk, and a failed COMMIT sends none.
 * Meanwhile the DHCP thread goes on reading, offering and deciding: the fsync no longer
 * holds up the next batch, and under load one fsync covers every batch made while the
 * previous one ran (the window is as long as the disk takes). Groups are committed in the
 * order their batches were made, so a later change of an address (RELEASE after ACK) lands
 * after the earlier one.
 *
 * After each commit, each batch goes back to the DHCP thread through its loop_post with its
 * outcome (names in DNS follow committed leases only). At most COMMIT_MAX_ROWS leases wait
 * to be taken; beyond that the DHCP thread waits for the disk (back-pressure, not unbounded
 * memory).
 */
#include "dhcp/service/service_int.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/str.h"
#include "core/xmalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define COMMIT_MAX_ROWS 65536

struct dhcp_ack {
    struct dhcp_sock *sock;
    struct dhcp_reply r;
};

struct dhcp_batch {
    struct dhcp_batch *next;
    struct dhcp_svc *svc;
    uint64_t seq;
    struct dhcp_lease *rows;
    unsigned nrows, caprows;
    struct dhcp_ack *acks;
    unsigned nacks, capacks;
    bool ok;
};

struct dhcp_commit {
    struct dhcp_svc *svc;
    struct dhcp_leases *db; /* the commit thread's own handle */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work, idle;
    struct dhcp_batch *queue, *tail; /* submitted, not yet taken */
    unsigned queued_rows;
    bool busy; /* a group is being committed */
    bool stop;
};

/* ---- the DHCP thread's side ---- */

static struct dhcp_batch *batch_cur(struct dhcp_svc *svc)
{
    if (!svc->batch)
        svc->batch = xcalloc(1, sizeof *svc->batch);
    return svc->batch;
}

void dhcp_batch_save(struct dhcp_svc *svc, const struct dhcp_lease *l)
{
    struct dhcp_batch *b = batch_cur(svc);
    if (b->nrows == b->caprows) {
        b->caprows = b->caprows ? 2 * b->caprows : 16;
        b->rows = xrealloc(b->rows, b->caprows * sizeof *b->rows);
    }
    b->rows[b->nrows++] = *l;
}

void dhcp_batch_ack(struct dhcp_svc *svc, struct dhcp_sock *sock, const struct dhcp_reply *r)
{
    struct dhcp_batch *b = batch_cur(svc);
    if (b->nacks == b->capacks) {
        b->capacks = b->capacks ? 2 * b->capacks : 8;
        b->acks = xrealloc(b->acks, b->capacks * sizeof *b->acks);
    }
    b->acks[b->nacks].sock = sock;
    memcpy(&b->acks[b->nacks].r, r, sizeof *r);
    b->nacks++;
}

static void batch_free(struct dhcp_batch *b)
{
    free(b->rows);
    free(b->acks);
    free(b);
}

void dhcp_batch_submit(struct dhcp_svc *svc)
{
    struct dhcp_batch *b = svc->batch;
    if (!b)
        return;
    svc->batch = NULL;
    b->svc = svc;
    b->seq = ++svc->batch_seq;
    if (svc->ddns)
        dhcp_ddns_hold(svc->ddns, b->seq);
    struct dhcp_commit *cm = svc->commit;
    pthread_mutex_lock(&cm->lock);
    while (cm->queued_rows >= COMMIT_MAX_ROWS && !cm->stop)
        pthread_cond_wait(&cm->idle, &cm->lock);
    if (cm->tail)
        cm->tail->next = b;
    else
        cm->queue = b;
    cm->tail = b;
    cm->queued_rows += b->nrows;
    pthread_cond_signal(&cm->work);
    pthread_mutex_unlock(&cm->lock);
}

void dhcp_commit_wait(struct dhcp_commit *cm)
{
    pthread_mutex_lock(&cm->lock);
    while (cm->queue || cm->busy)
        pthread_cond_wait(&cm->idle, &cm->lock);
    pthread_mutex_unlock(&cm->lock);
}

/* Back on the DHCP thread: the names of a committed batch's leases may go into DNS. */
static void settled(void *arg)
{
    struct dhcp_batch *b = arg;
    if (b->svc->ddns)
        dhcp_ddns_settle(b->svc->ddns, b->seq, b->ok);
    batch_free(b);
}

/* ---- the commit thread ---- */

static unsigned group_rows(const struct dhcp_batch *group)
{
    unsigned n = 0;
    for (const struct dhcp_batch *b = group; b; b = b->next)
        n += b->nrows;
    return n;
}

/* Every lease of the group in one transaction; true when COMMIT returned. */
static bool write_group(struct dhcp_commit *cm, const struct dhcp_batch *group)
{
    unsigned rows = group_rows(group);
    if (rows == 0)
        return true; /* INFORM's ACKs promise nothing durable */
    if (dhcp_leases_begin(cm->db) < 0)
        return false;
    bool ok = true;
    for (const struct dhcp_batch *b = group; b && ok; b = b->next)
        for (unsigned i = 0; i < b->nrows && ok; i++)
            ok = dhcp_leases_save(cm->db, &b->rows[i]) == 0;
    if (ok && dhcp_leases_commit(cm->db) == 0)
        return true;
    dhcp_leases_rollback(cm->db);
    log_err("dhcp: %u lease change(s) not committed: their ACKs are not sent", rows);
    return false;
}

static void commit_group(struct dhcp_commit *cm, struct dhcp_batch *group)
{
    bool ok = write_group(cm, group);
    for (struct dhcp_batch *b = group, *next; b; b = next) {
        next = b->next;
        b->ok = ok;
        for (unsigned i = 0; ok && i < b->nacks; i++)
            dhcp_io_send(b->acks[i].sock, &b->acks[i].r);
        loop_post_send(cm->svc->post, settled, b);
    }
}

static void *commit_main(void *arg)
{
    struct dhcp_commit *cm = arg;
    pthread_mutex_lock(&cm->lock);
    for (;;) {
        while (!cm->queue && !cm->stop)
            pthread_cond_wait(&cm->work, &cm->lock);
        if (!cm->queue)
            break; /* stopping, and everything submitted is committed */
        struct dhcp_batch *group = cm->queue;
        cm->queue = cm->tail = NULL;
        cm->queued_rows = 0;
        cm->busy = true;
        pthread_cond_broadcast(&cm->idle); /* room again for a waiting submit */
        pthread_mutex_unlock(&cm->lock);
        commit_group(cm, group);
        pthread_mutex_lock(&cm->lock);
        cm->busy = false;
        pthread_cond_broadcast(&cm->idle);
    }
    pthread_mutex_unlock(&cm->lock);
    return NULL;
}

struct dhcp_commit *dhcp_commit_start(struct dhcp_svc *svc, const char *dir, struct str *err)
{
    struct dhcp_commit *cm = xcalloc(1, sizeof *cm);
    cm->svc = svc;
    cm->db = dhcp_leases_open(dir, err);
    if (!cm->db) {
        free(cm);
        return NULL;
    }
    pthread_mutex_init(&cm->lock, NULL);
    pthread_cond_init(&cm->work, NULL);
    pthread_cond_init(&cm->idle, NULL);
    if (pthread_create(&cm->thread, NULL, commit_main, cm) != 0) {
        str_appends(err, "cannot start the lease commit thread");
        dhcp_leases_close(cm->db);
        free(cm);
        return NULL;
    }
    return cm;
}

void dhcp_commit_stop(struct dhcp_commit *cm)
{
    if (!cm)
        return;
    pthread_mutex_lock(&cm->lock);
    cm->stop = true;
    pthread_cond_broadcast(&cm->work);
    pthread_cond_broadcast(&cm->idle);
    pthread_mutex_unlock(&cm->lock);
    pthread_join(cm->thread, NULL);
    pthread_mutex_destroy(&cm->lock);
    pthread_cond_destroy(&cm->work);
    pthread_cond_destroy(&cm->idle);
    dhcp_leases_close(cm->db);
    free(cm);
}

void dhcp_batch_drop(struct dhcp_svc *svc)
{
    if (svc->batch)
        batch_free(svc->batch);
    svc->batch = NULL;
}
