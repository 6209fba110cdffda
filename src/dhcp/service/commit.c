/*
 * dhcp/service/commit — group commit of the leases, on a thread of its own, and the paced
 * sending of the ACKs it makes durable.
 *
 * The DHCP thread decides; each batch of datagrams it handled becomes a struct dhcp_batch:
 * the leases it changed and the ACKs that promise them. The commit thread takes every batch
 * queued while its last COMMIT waited for fsync and writes all their leases in one SQLite
 * transaction (its own handle on leases.db, synchronous=FULL). Meanwhile the DHCP thread
 * goes on reading, offering and deciding: the fsync no longer holds up the next batch, and
 * under load one fsync covers every batch made while the previous one ran (the window is as
 * long as the disk takes). Groups are committed in the order their batches were made, so a
 * later change of an address (RELEASE after ACK) lands after the earlier one.
 *
 * Once COMMIT has returned, the group goes back to the DHCP thread through its loop_post
 * with its outcome: a failed COMMIT sends no ACK; a committed group's ACKs go to the pacer
 * (dhcp/pace.h), which lets them out evenly at twice the rate their requests came in (at
 * most DHCP_PACE_BURST per loop turn) rather than as one burst that would overflow the
 * receive buffer of a relay or a test client; the DHCP thread sends them between its reads,
 * while the commit thread already writes the next group. So an ACKed lease is on disk, and
 * names in DNS follow committed leases only. At most COMMIT_MAX_ROWS leases wait to be
 * taken; beyond that the DHCP thread waits for the disk (back-pressure, not unbounded
 * memory).
 */
#include "dhcp/service/service_int.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "dhcp/pace.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMMIT_MAX_ROWS 65536
#define DHCP_PACE_BURST 16 /* ACKs sent in one loop turn at most */

struct dhcp_ack {
    struct dhcp_batch *batch;
    struct dhcp_sock *sock;
    int64_t arrived; /* µs, CLOCK_MONOTONIC: when its request came in */
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
    unsigned unsent;   /* ACKs of a committed batch still with the pacer */
    int64_t taken;     /* µs, CLOCK_MONOTONIC: when the commit thread took its group */
    int64_t committed; /* µs, CLOCK_MONOTONIC: when its group's COMMIT returned */
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

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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

void dhcp_batch_ack(struct dhcp_svc *svc, struct dhcp_sock *sock, const struct dhcp_reply *r,
                    int64_t arrived)
{
    struct dhcp_batch *b = batch_cur(svc);
    if (b->nacks == b->capacks) {
        b->capacks = b->capacks ? 2 * b->capacks : 8;
        b->acks = xrealloc(b->acks, b->capacks * sizeof *b->acks);
    }
    b->acks[b->nacks].sock = sock;
    b->acks[b->nacks].arrived = arrived;
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
    if (svc->engine)
        dhcp_engine_set_batch(svc->engine, svc->batch_seq + 1);
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

/* Sends what the pacer has due now (DHCP_PACE_BURST at most), frees the batches whose ACKs
 * have all left, and sets the timer for the next. */
static void pace_run(struct dhcp_svc *svc, int64_t now)
{
    void *out[DHCP_PACE_BURST];
    int64_t next;
    unsigned n = dhcp_pace_take(svc->pace, now, out, &next);
    for (unsigned i = 0; i < n; i++) {
        struct dhcp_ack *a = out[i];
        struct dhcp_batch *b = a->batch;
        dhcp_io_send(a->sock, &a->r);
        if (--b->unsent == 0)
            batch_free(b);
    }
    if (next < 0 || !svc->pace_ev)
        return;
    int64_t wait = next > now ? next - now : 0;
    struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
    evtimer_add(svc->pace_ev, &tv);
}

static void on_pace(evutil_socket_t fd, short what, void *vsvc)
{
    pace_run(vsvc, mono_us());
}

/* Back on the DHCP thread, a committed group (or one that failed): the names of its leases
 * may go into DNS, and its ACKs to the pacer, spread over half the time the group was open
 * (from its first ACKed request's arrival until the commit thread took it). */
/* An ACK of a committed batch that may go: not a cached one repeating a lease whose own
 * batch failed (that lease is not on disk). */
static bool sendable(const struct dhcp_svc *svc, const struct dhcp_ack *a)
{
    return !(svc->failed_from && a->r.cached && a->r.saved_in >= svc->failed_from);
}

static void settled(void *arg)
{
    struct dhcp_batch *group = arg;
    struct dhcp_svc *svc = group->svc;
    for (struct dhcp_batch *b = group; b; b = b->next)
        if (!b->ok && !svc->failed_from) {
            svc->failed_from = b->seq; /* from now on every renewal is written again */
            dhcp_engine_cache_off(svc->engine);
        }
    unsigned n = 0;
    int64_t first = group->taken;
    for (struct dhcp_batch *b = group; b; b = b->next)
        for (unsigned i = 0; b->ok && i < b->nacks; i++)
            if (sendable(svc, &b->acks[i])) {
                n++;
                first = b->acks[i].arrived < first ? b->acks[i].arrived : first;
            }
    dhcp_pace_group(svc->pace, group->committed, n, group->taken - first);
    for (struct dhcp_batch *b = group, *next; b; b = next) {
        next = b->next;
        if (svc->ddns)
            dhcp_ddns_settle(svc->ddns, b->seq, b->ok);
        if (b->ok)
            svc->committed_seq = b->seq;
        b->unsent = 0;
        unsigned dropped = 0;
        for (unsigned i = 0; b->ok && i < b->nacks; i++) {
            if (!sendable(svc, &b->acks[i])) {
                dropped++;
                continue;
            }
            b->acks[b->unsent] = b->acks[i];
            b->acks[b->unsent].batch = b;
            dhcp_pace_push(svc->pace, &b->acks[b->unsent++]);
        }
        if (dropped)
            log_warn("dhcp: %u cached ACK(s) not sent: their leases were in a batch that "
                     "failed (the clients' retries are written again)", dropped);
        if (b->unsent == 0)
            batch_free(b);
    }
    pace_run(svc, mono_us());
}

void dhcp_acks_start(struct dhcp_svc *svc)
{
    svc->pace = dhcp_pace_new(DHCP_PACE_BURST);
    svc->pace_ev = evtimer_new(svc->base, on_pace, svc);
}

void dhcp_acks_flush(struct dhcp_svc *svc)
{
    if (!svc->pace)
        return;
    if (svc->pace_ev)
        event_free(svc->pace_ev);
    svc->pace_ev = NULL;
    while (dhcp_pace_pending(svc->pace))
        pace_run(svc, INT64_MAX);
    dhcp_pace_free(svc->pace);
    svc->pace = NULL;
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

/* The ACKs leave from the DHCP thread, paced, once it has the group back (settled). */
static void commit_group(struct dhcp_commit *cm, struct dhcp_batch *group)
{
    bool ok = write_group(cm, group);
    int64_t now = mono_us();
    for (struct dhcp_batch *b = group; b; b = b->next) {
        b->ok = ok;
        b->committed = now;
    }
    loop_post_send(cm->svc->post, settled, group);
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
        group->taken = mono_us();
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
