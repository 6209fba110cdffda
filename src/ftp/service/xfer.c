/*
 * ftp service, xfer — one transfer over its data connection, on the worker's loop.
 *
 * Before the data connection: the file is opened (or the listing made) beneath the session's
 * tree, so a missing file is answered 550 without a connection. Then:
 *   RETR, STOR, APPE, STOU in TYPE I, plain or under TLS: stream.c, straight on the data
 *   socket (sendfile for a plain RETR);
 *   RETR in TYPE A: reads on the service's pool (256 KB, LF → CRLF on the pool too), one
 *   ahead, as the output drains below 768 KB;
 *   LIST/NLST/MLSD: the listing made in memory;
 *   STOR/APPE/STOU in TYPE A: what arrives is written on the pool, 256 KB at a time
 *   (CRLF → LF), the data connection reading on meanwhile up to 1 MB.
 * (TYPE A and listings go through a bufferevent, plain or TLS.)
 * At the end of an upload's data the file is fsynced on the pool, and only then is "226"
 * sent.
 * So the worker never waits for the disk; one disk job per transfer is in flight at a time,
 * and a job outlives its transfer (ABOR) and even its connection (ftp_conn.orphan) safely.
 * REST: RETR starts at the offset; STOR cuts the file there and writes from it (resume).
 * Under TLS (PROT P) the server is the TLS server of the data connection (RFC 4217 §7) and
 * ends it with close_notify. A stall longer than data_timeout ends the session with 421.
 * Every transfer ends with one xferlog-like log line.
 */
#include "ftp/service/xfer_int.h"

#include "host/host.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "ftp/ascii.h"
#include "ftp/path.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK XFER_CHUNK
#define OUT_HIGH ((size_t)1024 * 1024) /* queued output before waiting for it to drain */
#define WRITEBACK ((uint64_t)8 * 1024 * 1024)

bool xfer_sending(enum ftp_xfer_kind k)
{
    return k == FTP_XFER_RETR || k == FTP_XFER_LIST || k == FTP_XFER_NLST || k == FTP_XFER_MLSD;
}

uint64_t ftp_xfer_bytes(const struct ftp_conn *fc)
{
    return fc->run ? fc->run->bytes : 0;
}

static const char *const verbs[] = {"RETR", "STOR", "APPE", "STOU", "LIST", "NLST", "MLSD"};

/* Octets moved so far: the run's count, and the copy `pigeon ftp sessions` reads. */
void xfer_count(struct ftp_xfer_run *r, uint64_t n)
{
    r->bytes += n;
    atomic_store_explicit(&r->fc->show.bytes, r->bytes, memory_order_relaxed);
}

/* An upload's line ends with its rolling flushes (flush.c). */
static void xfer_log(struct ftp_xfer_run *r, const char *result)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - r->t0.tv_sec) + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9;
    char flushes[32] = "";
    if (!xfer_sending(r->kind))
        snprintf(flushes, sizeof flushes, " flushes %u", r->flushes);
    log_info("ftp " LOG_ID " xfer %s %s %s %llu octets %.3f s %s %s %s %s%s", LOG_IDV(r->fc->id),
             r->fc->peer, ftp_session_user(r->fc->s), verbs[r->kind],
             (unsigned long long)r->bytes, secs, r->ascii ? "a" : "b", r->tls ? "tls" : "clear",
             r->path, result, flushes);
}

/* Closes the data connection: under TLS with close_notify first (RFC 4217 §10). */
static void data_close(struct ftp_xfer_run *r)
{
    ftp_stream_close(r);
    if (!r->bev)
        return;
    SSL *ssl = bufferevent_openssl_get_ssl(r->bev);
    if (ssl && r->connected) {
        ERR_clear_error(); /* the worker's queue: see stream.c's tls_drop_errors */
        SSL_shutdown(ssl);
        ERR_clear_error();
    }
    bufferevent_free(r->bev);
    r->bev = NULL;
}

static void run_free(struct ftp_xfer_run *r)
{
    data_close(r);
    if (r->fd >= 0 && !r->job)
        close(r->fd);
    if (r->job)
        r->job->run = NULL; /* the job closes the file when it returns */
    ftp_flush_detach(r);
    free(r->fill);
    xfer_pipe_close(&r->pfill);
    xfer_pipe_close(&r->pspare);
    free(r->out);
    free(r->ready);
    free(r->spare);
    str_clear(&r->listing);
    free(r);
}

/* Ends the transfer: log line, engine told, the run freed. From an event callback. */
void xfer_finish(struct ftp_conn *fc, enum ftp_xfer_result res, const char *what)
{
    struct ftp_xfer_run *r = fc->run;
    fc->run = NULL;
    xfer_log(r, what);
    run_free(r);
    ftp_show_xfer(fc, NULL, NULL);
    ftp_session_xfer_done(fc->s, res, 0);
    if (!fc->in_engine)
        conn_resume(fc->c); /* may free fc: the last thing done */
}

void ftp_xfer_fail(struct ftp_conn *fc, enum ftp_xfer_result r)
{
    if (fc->run)
        xfer_finish(fc, r, r == FTP_XFER_NOCONN ? "no-connection" : "failed");
}

void ftp_xfer_abort(struct ftp_conn *fc)
{
    if (!fc->run)
        return;
    struct ftp_xfer_run *r = fc->run;
    fc->run = NULL;
    xfer_log(r, "aborted");
    run_free(r);
    ftp_show_xfer(fc, NULL, NULL);
}

/* ---- the disk jobs ---- */

static void disk_done(void *arg);

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Starts the disk writes of what was stored so far, every WRITEBACK octets, so the fsync
 * before "226" finds little left to do (the kernel would otherwise hold it all as dirty
 * pages until then). Does not wait for the writes. */
static void start_writeback(struct disk_job *j)
{
    if (j->written - j->flushed < WRITEBACK)
        return;
    off_t base = lseek(j->fd, 0, SEEK_CUR) - (off_t)(j->written - j->flushed);
    if (base >= 0)
        (void)sync_file_range(j->fd, base, (off_t)(j->written - j->flushed),
                              SYNC_FILE_RANGE_WRITE);
    j->flushed = j->written;
}

static void disk_read(struct disk_job *j)
{
    do
        j->got = pread(j->fd, j->buf, j->len, (off_t)j->off);
    while (j->got < 0 && errno == EINTR);
    j->out = j->buf;
    j->out_len = j->got > 0 ? (size_t)j->got : 0;
    if (j->ascii && j->got > 0) {
        j->out = j->buf + CHUNK;
        j->out_len = ftp_ascii_to_wire(j->buf, (size_t)j->got, j->buf + CHUNK, &j->ascii_cr);
    }
}

/* A spliced upload's piece: from the pipe (exactly len octets in it, so the blocking
 * splice never waits for the pipe) into the file, the kernel copying from the socket's own
 * pages: no copy through user space. */
static void disk_splice(struct disk_job *j)
{
    size_t left = j->len;
    while (left > 0) {
        ssize_t n = splice(j->pipe.rd, NULL, j->fd, NULL, left, SPLICE_F_MOVE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            j->err = n < 0 ? errno : EIO;
            return;
        }
        left -= (size_t)n;
    }
    j->written += j->len;
    start_writeback(j);
}

static void disk_write(struct disk_job *j)
{
    if (j->pipe.rd >= 0)
        return disk_splice(j);
    const char *p = j->buf;
    size_t len = j->len;
    if (j->ascii) {
        len = ftp_ascii_from_wire(j->buf, j->len, j->buf + CHUNK, &j->ascii_cr);
        p = j->buf + CHUNK;
    }
    if (write_all(j->fd, p, len) < 0) {
        j->err = errno;
        return;
    }
    j->written += len;
    start_writeback(j);
}

/* On a pool thread. */
static void disk_work(void *tctx, void *arg)
{
    struct disk_job *j = arg;
    if (j->op == DISK_READ)
        disk_read(j);
    else if (j->op == DISK_WRITE)
        disk_write(j);
    else
        j->err = fsync(j->fd) < 0 ? errno : 0;
    loop_post_send(j->fc->w->host.post, disk_done, j);
}

struct disk_job *xfer_job_new(struct ftp_xfer_run *r, enum disk_op op)
{
    struct disk_job *j = r->spare ? r->spare : xmalloc(sizeof *j);
    r->spare = NULL;
    memset(j, 0, offsetof(struct disk_job, buf));
    j->fc = r->fc;
    j->run = r;
    j->op = op;
    j->fd = r->fd;
    j->ascii = r->ascii;
    j->ascii_cr = r->ascii_cr;
    j->off = r->off;
    j->written = r->written;
    j->flushed = r->flushed;
    j->pipe = (struct xfer_pipe){-1, -1};
    return j;
}

void xfer_job_submit(struct ftp_xfer_run *r, struct disk_job *j)
{
    r->job = j;
    r->fc->jobs++;
    pool_submit(r->fc->st->pool, disk_work, j);
}

/* ---- sending ---- */

static void send_progress(struct ftp_conn *fc);

/* RETR in TYPE A: the next chunk is read on the pool while the output drains. */
static void read_next(struct ftp_xfer_run *r)
{
    if (r->job || r->sent_all ||
        evbuffer_get_length(bufferevent_get_output(r->bev)) >= OUT_HIGH)
        return;
    struct disk_job *j = xfer_job_new(r, DISK_READ);
    /* TYPE A may double what it reads (LF → CRLF): the rest of buf holds the copy */
    j->len = r->ascii ? CHUNK : sizeof j->buf;
    xfer_job_submit(r, j);
}

/* A job whose result has been taken is kept as the run's spare: true when it was (the run
 * frees it), false when the caller frees it. */
bool xfer_keep_spare(struct ftp_xfer_run *r, struct disk_job *j)
{
    if (r->spare)
        return false;
    r->spare = j;
    return true;
}

static bool read_done(struct ftp_xfer_run *r, struct disk_job *j)
{
    r->ascii_cr = j->ascii_cr;
    if (j->got <= 0) {
        r->sent_all = true; /* a read error or a shrunk file ends it short: send_progress */
        if (j->got < 0 || r->off < r->end)
            r->end = r->off + 1;
    } else {
        r->off += (uint64_t)j->got;
        r->sent_all = r->off >= r->end;
        evbuffer_add(bufferevent_get_output(r->bev), j->out, j->out_len);
        xfer_count(r, j->out_len);
    }
    bool kept = xfer_keep_spare(r, j);
    read_next(r);
    send_progress(r->fc);
    return kept;
}

static void pump_send(struct ftp_xfer_run *r)
{
    struct evbuffer *out = bufferevent_get_output(r->bev);
    if (r->kind != FTP_XFER_RETR) {
        evbuffer_add(out, r->listing.ptr, r->listing.len);
        xfer_count(r, r->listing.len);
        r->sent_all = true;
        return;
    }
    read_next(r); /* TYPE A: binary RETR is stream.c's */
}

/* Everything read and handed to the kernel: the transfer's reply. */
static void send_progress(struct ftp_conn *fc)
{
    struct ftp_xfer_run *r = fc->run;
    if (!r->sent_all || r->job || evbuffer_get_length(bufferevent_get_output(r->bev)) > 0)
        return;
    if (r->kind == FTP_XFER_RETR && r->off < r->end)
        return xfer_finish(fc, FTP_XFER_IOERR, "read-error");
    xfer_finish(fc, FTP_XFER_OK, "ok");
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct ftp_conn *fc = arg;
    struct ftp_xfer_run *r = fc->run;
    if (!xfer_sending(r->kind))
        return;
    if (!r->sent_all)
        pump_send(r); /* may find the end with nothing more to add: no later callback */
    send_progress(fc);
}

/* ---- receiving ---- */

void xfer_store_fail(struct ftp_conn *fc, int err)
{
    bool full = err == ENOSPC || err == EDQUOT;
    xfer_finish(fc, full ? FTP_XFER_NOSPACE : FTP_XFER_IOERR, full ? "no-space" : "write-error");
}

void xfer_sync_start(struct ftp_xfer_run *r)
{
    xfer_job_submit(r, xfer_job_new(r, DISK_SYNC));
}

/* Everything the client sent is written: the TYPE A tail, then fsync on the pool (after the
 * rolling flush in flight, if any: an error one fdatasync reports is not reported to the
 * next on the same open file, so the two never race). */
void xfer_store_end(struct ftp_xfer_run *r)
{
    char tail[1];
    size_t m = r->ascii ? ftp_ascii_from_wire_end(tail, &r->ascii_cr) : 0;
    if (m && write_all(r->fd, tail, m) < 0)
        return xfer_store_fail(r->fc, errno);
    data_close(r);
    if (r->flush)
        r->sync_wait = true; /* flush.c starts it */
    else
        xfer_sync_start(r);
}

/* An anonymous upload over anonymous_upload_max is refused (452) and what arrived removed:
 * true when it ended the transfer. */
bool xfer_too_big(struct ftp_xfer_run *r)
{
    if (!r->limit || r->bytes <= r->limit)
        return false;
    struct ftp_conn *fc = r->fc;
    (void)ftp_fs_unlink(fc->root_fd, r->path);
    xfer_finish(fc, FTP_XFER_NOSPACE, "too-large");
    return true;
}

/* Hands what has arrived to the pool, a chunk at a time; at the end of the data, fsync. */
static void write_next(struct ftp_xfer_run *r)
{
    if (r->job)
        return;
    struct evbuffer *in = bufferevent_get_input(r->bev);
    if (evbuffer_get_length(in) == 0) {
        if (r->eof)
            xfer_store_end(r);
        return;
    }
    struct disk_job *j = xfer_job_new(r, DISK_WRITE);
    int n = evbuffer_remove(in, j->buf, CHUNK);
    j->len = n > 0 ? (size_t)n : 0;
    xfer_count(r, j->len);
    if (xfer_too_big(r)) {
        free(j);
        return;
    }
    xfer_job_submit(r, j);
}

static bool write_done(struct ftp_xfer_run *r, struct disk_job *j)
{
    ftp_stream_pipe_back(r, j);
    if (j->err) {
        xfer_store_fail(r->fc, j->err);
        return false;
    }
    r->ascii_cr = j->ascii_cr;
    r->written = j->written;
    r->flushed = j->flushed;
    ftp_flush_maybe(r);
    bool kept = xfer_keep_spare(r, j);
    if (r->raw)
        ftp_stream_write_done(r);
    else
        write_next(r);
    return kept;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct ftp_conn *fc = arg;
    if (xfer_sending(fc->run->kind)) {
        struct evbuffer *in = bufferevent_get_input(bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    write_next(fc->run);
}

/* Back on the worker: the job's result goes to its transfer, if that still runs. */
static void disk_done(void *arg)
{
    struct disk_job *j = arg;
    struct ftp_conn *fc = j->fc;
    struct ftp_xfer_run *r = j->run;
    fc->jobs--;
    if (!r) { /* the transfer ended meanwhile (ABOR, a lost connection): the file is ours */
        close(j->fd);
        xfer_pipe_close(&j->pipe);
        free(j);
        if (fc->orphan && fc->jobs == 0)
            ftp_conn_free(fc); /* the connection went while the job ran (conn.c) */
        return;
    }
    r->job = NULL;
    bool kept = false; /* j is the run's spare now (it may even be in flight again) */
    if (j->op == DISK_READ)
        kept = r->raw ? ftp_stream_read_done(r, j) : read_done(r, j);
    else if (j->op == DISK_WRITE)
        kept = write_done(r, j);
    else if (j->err)
        xfer_store_fail(fc, j->err);
    else
        xfer_finish(fc, FTP_XFER_OK, "ok");
    if (!kept)
        free(j);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct ftp_conn *fc = arg;
    struct ftp_xfer_run *r = fc->run;
    if (what & BEV_EVENT_CONNECTED) {
        /* vsftpd's require_ssl_reuse: a data connection that resumes a session of this
         * server is the client's, not a stranger's; off by default, as clients that open
         * the data connection before a TLS 1.3 ticket arrived cannot resume. */
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        if (fc->set->cfg->require_tls_reuse && ssl && !SSL_session_reused(ssl))
            return xfer_finish(fc, FTP_XFER_TLS_REUSE, "no-tls-reuse");
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        return xfer_finish(fc, FTP_XFER_TIMEOUT, "timeout");
    if ((what & BEV_EVENT_EOF) && !xfer_sending(r->kind)) {
        r->eof = true; /* what is still buffered is written first */
        return write_next(r);
    }
    /* the peer went away before everything was sent, or the connection broke */
    xfer_finish(fc, FTP_XFER_LOST, "connection-lost");
}

/* ---- setup ---- */

static struct bufferevent *data_bev(struct ftp_conn *fc, int fd, bool tls)
{
    struct event_base *base = fc->w->host.base;
    if (!tls)
        return bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    SSL *ssl = SSL_new(fc->w->d->tls);
    if (!ssl)
        return NULL;
    struct bufferevent *b = bufferevent_openssl_socket_new(
        base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!b) {
        SSL_free(ssl);
        return NULL;
    }
    /* A client that closes without close_notify ends its upload as a plain EOF would (as
     * vsftpd's default); the TCP stream itself is complete. */
    bufferevent_openssl_set_allow_dirty_shutdown(b, 1);
    return b;
}

void ftp_xfer_connected(struct ftp_conn *fc, int fd)
{
    struct ftp_xfer_run *r = fc->run;
    if (r->raw)
        return ftp_stream_start(fc, fd);
    r->bev = data_bev(fc, fd, r->tls);
    if (!r->bev) {
        close(fd);
        return xfer_finish(fc, FTP_XFER_NOCONN, "no-connection");
    }
    r->connected = true;
    bufferevent_setcb(r->bev, read_cb, write_cb, event_cb, fc);
    struct timeval tv = {(time_t)fc->set->cfg->data_timeout, 0};
    bufferevent_set_timeouts(r->bev, &tv, xfer_sending(r->kind) ? &tv : NULL);
    /* the next read is asked for while 3/4 of the output is still queued, so the TLS
     * encryption never waits for the disk */
    bufferevent_setwatermark(r->bev, EV_WRITE, OUT_HIGH / 4 * 3, 0);
    /* receiving: while a chunk is written on the pool, at most this much more is read */
    bufferevent_setwatermark(r->bev, EV_READ, 0, 4 * CHUNK);
    /* libevent moves 16 KB per read or write call by default: one sendfile or one TLS
     * record batch of 16 KB per loop turn would cap a transfer far below the link. */
    bufferevent_set_max_single_write(r->bev, OUT_HIGH);
    bufferevent_set_max_single_read(r->bev, CHUNK);
    bufferevent_enable(r->bev, EV_READ | EV_WRITE);
    ftp_session_xfer_open(fc->s, r->size150, r->kind == FTP_XFER_STOU ? r->path : NULL);
    if (xfer_sending(r->kind))
        pump_send(r);
}

/* Opens the file or makes the listing; an FTP_FS_* error, or 0. */
static int prepare(struct ftp_conn *fc, struct ftp_xfer_run *r, const struct ftp_xfer *x)
{
    struct stat sb;
    int rc;
    switch (x->kind) {
    case FTP_XFER_RETR:
        if ((rc = ftp_fs_open(fc->root_fd, x->path, O_RDONLY, 0, &r->fd)) < 0)
            return rc;
        if (fstat(r->fd, &sb) < 0)
            return ftp_fs_result(errno);
        if (!S_ISREG(sb.st_mode))
            return FTP_FS_ISDIR;
        r->end = (uint64_t)sb.st_size;
        r->off = x->offset < r->end ? x->offset : r->end;
        r->size150 = (int64_t)(r->end - r->off);
        (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        return 0;
    case FTP_XFER_STOR:
        /* an anonymous upload makes a new file only, unreadable to the anonymous side */
        if ((rc = ftp_fs_open(fc->root_fd, x->path,
                              x->create_only ? O_WRONLY | O_CREAT | O_EXCL : O_WRONLY | O_CREAT,
                              x->create_only ? 0600 : 0644, &r->fd)) < 0)
            return rc;
        if (fstat(r->fd, &sb) < 0 || !S_ISREG(sb.st_mode))
            return FTP_FS_ISDIR;
        /* REST n + STOR: keep the first n octets, write from there (RFC 3659 §5.5) */
        if (ftruncate(r->fd, (off_t)x->offset) < 0 || lseek(r->fd, (off_t)x->offset, SEEK_SET) < 0)
            return ftp_fs_result(errno);
        return 0;
    case FTP_XFER_APPE:
        if ((rc = ftp_fs_open(fc->root_fd, x->path, O_WRONLY | O_CREAT | O_APPEND, 0644,
                              &r->fd)) < 0)
            return rc;
        return fstat(r->fd, &sb) == 0 && S_ISREG(sb.st_mode) ? 0 : FTP_FS_ISDIR;
    case FTP_XFER_STOU:
        return ftp_fs_create_unique(fc->root_fd, x->path, x->create_only ? 0600 : 0644, &r->fd,
                                    r->path, sizeof r->path);
    case FTP_XFER_LIST:
        return ftp_fs_list(fc->root_fd, x->path, x->shown, FTP_LIST_LONG, x->read_only,
                           x->facts, &r->listing);
    case FTP_XFER_NLST:
        return ftp_fs_list(fc->root_fd, x->path, x->shown, FTP_LIST_NAMES, x->read_only,
                           x->facts, &r->listing);
    case FTP_XFER_MLSD:
        return ftp_fs_list(fc->root_fd, x->path, x->shown, FTP_LIST_MLSX, x->read_only,
                           x->facts, &r->listing);
    }
    return FTP_FS_IO;
}

void ftp_xfer_start(struct ftp_conn *fc, const struct ftp_xfer *x)
{
    ftp_xfer_abort(fc);
    struct ftp_xfer_run *r = xcalloc(1, sizeof *r);
    r->fc = fc;
    r->kind = x->kind;
    r->ascii = x->ascii;
    r->tls = x->tls;
    r->read_only = x->read_only;
    r->limit = x->create_only ? fc->set->cfg->anonymous_upload_max : 0;
    r->fd = -1;
    r->dfd = -1;
    r->pfill = r->pspare = (struct xfer_pipe){-1, -1};
    r->size150 = -1;
    r->raw = !x->ascii && (x->kind == FTP_XFER_RETR || !xfer_sending(x->kind));
    str_init(&r->listing);
    snprintf(r->path, sizeof r->path, "%s", x->path);
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    int rc = prepare(fc, r, x);
    if (rc < 0) {
        xfer_log(r, "refused");
        run_free(r);
        /* still inside the engine's command: its reply follows at once */
        return ftp_session_xfer_done(fc->s, FTP_XFER_FS, rc);
    }
    fc->run = r;
    ftp_show_xfer(fc, verbs[r->kind], r->path);
    ftp_data_connect(fc);
}
