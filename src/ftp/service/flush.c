/*
 * ftp service, flush — an upload made durable as it arrives, not all at the end.
 *
 * A stored file is fsynced before "226" (xfer.c). Left to that one fsync, a large upload
 * waits at its end for the disk's cache flush of everything it sent: on this project's
 * virtual disk some 0.3-0.5 s per GB, after the last byte arrived. So every upload_flush
 * octets written (64 MB by default; 0: off) an fdatasync runs on the pool beside the
 * writes, which go on meanwhile: the final fsync then finds at most one step left.
 *
 * One rolling flush of the whole service is in flight at a time (ftp_state.flushing): a
 * flush of one file flushes the disk's cache for all, and the pool's two threads stay free
 * for the transfers' writes. A step skipped for that is taken after the next write. The
 * flush works on a duplicate of the file's descriptor, which it closes itself: it may
 * outlive its transfer (ABOR, a lost connection) and even its connection (ftp_conn.orphan).
 * A failed flush fails the upload (451, or 452 when the disk is full), as a failed write
 * does; the final fsync waits for the flush in flight (xfer_store_end).
 */
#include "ftp/service/xfer_int.h"

#include "host/host.h"

#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct flush_job {
    struct ftp_conn *fc;
    struct ftp_xfer_run *run; /* NULL once the transfer ended */
    int fd;                   /* the job's own duplicate of the file */
    int err;
};

static void flush_done(void *arg);

/* On a pool thread. */
static void flush_work(void *tctx, void *arg)
{
    struct flush_job *f = arg;
    f->err = fdatasync(f->fd) < 0 ? errno : 0;
    loop_post_send(f->fc->w->host.post, flush_done, f);
}

void ftp_flush_maybe(struct ftp_xfer_run *r)
{
    struct ftp_conn *fc = r->fc;
    uint64_t step = fc->set->cfg->upload_flush;
    if (!step || r->flush || r->written - r->flush_at < step)
        return;
    bool idle = false;
    if (!atomic_compare_exchange_strong(&fc->st->flushing, &idle, true))
        return; /* another upload's flush is in flight: after the next write */
    int fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        atomic_store(&fc->st->flushing, false);
        return; /* no descriptor to spare: the final fsync does it all */
    }
    struct flush_job *f = xmalloc(sizeof *f);
    *f = (struct flush_job){.fc = fc, .run = r, .fd = fd};
    r->flush = f;
    r->flush_at = r->written;
    fc->jobs++;
    pool_submit(fc->st->pool, flush_work, f);
}

void ftp_flush_detach(struct ftp_xfer_run *r)
{
    if (r->flush)
        r->flush->run = NULL;
    r->flush = NULL;
}

/* Back on the worker. */
static void flush_done(void *arg)
{
    struct flush_job *f = arg;
    struct ftp_conn *fc = f->fc;
    struct ftp_xfer_run *r = f->run;
    int err = f->err;
    close(f->fd);
    free(f);
    atomic_store(&fc->st->flushing, false);
    fc->jobs--;
    if (!r) {
        if (fc->orphan && fc->jobs == 0)
            ftp_conn_free(fc); /* the connection went while the flush ran (conn.c) */
        return;
    }
    r->flush = NULL;
    r->flushes++;
    if (err)
        return xfer_store_fail(fc, err);
    if (r->sync_wait)
        xfer_sync_start(r);
}
