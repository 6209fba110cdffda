/*
 * ftp service, stream — binary transfers (TYPE I RETR, STOR, APPE, STOU) straight on the
 * data socket, plain or under TLS (PROT P), with no bufferevent in between.
 *
 *   plain RETR: sendfile from the file to the socket, as much as the socket takes per
 *   wake-up (up to 16 MB, then the worker's other connections get their turn);
 *   RETR under TLS: the file is read on the service's pool, 768 KB per job, one chunk
 *   read ahead of the one being sent; SSL_write encrypts straight from the job's buffer
 *   (no copy into an output buffer) into a 256 KB write buffer in front of the socket, so
 *   one write(2) carries some sixteen TLS records instead of one;
 *   receiving, plain or TLS: read straight into the buffer of the next disk job (768 KB),
 *   which goes to the pool once it holds 256 KB (or the data has ended) and no other job
 *   of the transfer is in flight: one write(2) of at least 256 KB per job. While a job
 *   writes the next buffer fills, and reading stops when that is full (the TCP window then
 *   holds the client back). Under TLS OpenSSL reads ahead up to 256 KB per read(2): many
 *   records per system call rather than two (header, then body) per 16 KB record.
 *
 * Under TLS the server is the TLS server of the data connection (RFC 4217 §7): the
 * handshake runs on the same event, switching between readable and writable as OpenSSL
 * asks, and the data connection ends with close_notify. A client that closes an upload
 * without close_notify ends it as a plain EOF would (as vsftpd's default; the TCP stream
 * itself is complete). The data socket's event carries data_timeout: a stall that long
 * ends the session with 421 (xfer.c).
 */
#include "ftp/service/xfer_int.h"

#include "core/log.h"
#include "host/host.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEND_SLICE ((size_t)16 * 1024 * 1024) /* plain RETR: most sent per wake-up */
#define TLS_SLICE ((size_t)4 * 1024 * 1024)   /* RETR under TLS: most encrypted per wake-up */
#define TLS_BUF ((long)256 * 1024)            /* TLS write buffer, and the read-ahead per read(2) */
#define PIPE_CAP (1024 * 1024)                /* each of a spliced upload's two pipes */

static void stream_cb(evutil_socket_t fd, short what, void *arg);

static struct timeval data_timeout(const struct ftp_xfer_run *r)
{
    return (struct timeval){(time_t)r->fc->set->cfg->data_timeout, 0};
}

/* The event waits for `what` (EV_READ or EV_WRITE) from now on, and runs again. */
static void wait_for(struct ftp_xfer_run *r, short what)
{
    if (r->waiting == what && !r->paused)
        return;
    event_del(r->ev);
    event_assign(r->ev, r->fc->w->host.base, r->dfd, what | EV_PERSIST, stream_cb, r->fc);
    r->waiting = what;
    r->paused = false;
    struct timeval tv = data_timeout(r);
    event_add(r->ev, &tv);
}

/* Nothing to do until the disk job in flight returns: the event is off meanwhile. */
static void pause_for_disk(struct ftp_xfer_run *r)
{
    event_del(r->ev);
    r->paused = true;
}

/* The disk job returned: the event runs again now (under TLS, OpenSSL may hold what it
 * read ahead, which no readable socket would announce). */
static void resume(struct ftp_xfer_run *r)
{
    if (!r->paused)
        return;
    r->paused = false;
    struct timeval tv = data_timeout(r);
    event_add(r->ev, &tv);
    event_active(r->ev, r->waiting, 0);
}

/* The thread's OpenSSL error queue is shared by every TLS connection of the worker, and
 * SSL_get_error reads it first: an error left there turns another connection's mere "would
 * block" into a failure. So it is emptied before every SSL call here, and after a failure
 * its first entry is logged and the rest dropped. */
static void tls_drop_errors(struct ftp_xfer_run *r)
{
    unsigned long e = ERR_get_error();
    if (e) {
        char buf[200];
        ERR_error_string_n(e, buf, sizeof buf);
        log_info("ftp " LOG_ID " data connection tls error: %s", LOG_IDV(r->fc->id), buf);
    }
    ERR_clear_error();
}

/* After an SSL call returned rc <= 0: 0 when it waits for the socket (the event now waits
 * for what OpenSSL needs), 1 at the peer's close_notify or its plain EOF, -1 on an error. */
static int tls_wait(struct ftp_xfer_run *r, int rc)
{
    switch (SSL_get_error(r->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        wait_for(r, EV_READ);
        return 0;
    case SSL_ERROR_WANT_WRITE:
        wait_for(r, EV_WRITE);
        return 0;
    case SSL_ERROR_ZERO_RETURN: /* with SSL_OP_IGNORE_UNEXPECTED_EOF also a bare EOF */
        ERR_clear_error();
        return 1;
    default:
        tls_drop_errors(r);
        return -1;
    }
}

/* Writes out the TLS write buffer: 1 when empty, 0 when the socket is full (the event
 * waits for room), -1 on an error. */
static int tls_flush(struct ftp_xfer_run *r)
{
    BIO *w = SSL_get_wbio(r->ssl);
    ERR_clear_error();
    if (BIO_flush(w) > 0)
        return 1;
    if (!BIO_should_retry(w)) {
        tls_drop_errors(r);
        return -1;
    }
    wait_for(r, EV_WRITE);
    return 0;
}

/* ---- sending ---- */

static void plain_send(struct ftp_xfer_run *r)
{
    struct ftp_conn *fc = r->fc;
    size_t budget = SEND_SLICE;
    while (r->off < r->end && budget > 0) {
        uint64_t left = r->end - r->off;
        off_t at = (off_t)r->off;
        ssize_t n = sendfile(r->dfd, r->fd, &at, left < budget ? (size_t)left : budget);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno != EIO)
            return xfer_finish(fc, FTP_XFER_LOST, "connection-lost");
        if (n <= 0) /* a read error, or the file shrank under us */
            return xfer_finish(fc, FTP_XFER_IOERR, "read-error");
        r->off += (uint64_t)n;
        budget -= (size_t)n;
        xfer_count(r, (uint64_t)n);
    }
    if (r->off >= r->end)
        xfer_finish(fc, FTP_XFER_OK, "ok");
}

/* RETR under TLS: the next chunk is read on the pool, unless one is read already or the
 * file is all read. */
static void read_next(struct ftp_xfer_run *r)
{
    if (r->job || r->ready || r->sent_all)
        return;
    struct disk_job *j = xfer_job_new(r, DISK_READ);
    j->len = sizeof j->buf;
    xfer_job_submit(r, j);
}

/* The chunk read ahead becomes the one sent, and the next is asked for. */
static bool take_ready(struct ftp_xfer_run *r)
{
    if (!r->ready)
        return false;
    r->out = r->ready;
    r->out_pos = 0;
    r->ready = NULL;
    read_next(r);
    return true;
}

bool ftp_stream_read_done(struct ftp_xfer_run *r, struct disk_job *j)
{
    bool kept = true;
    if (j->got <= 0) {
        r->sent_all = true; /* a read error or a shrunk file ends it short: tls_send */
        if (j->got < 0 || r->off < r->end)
            r->end = r->off + 1;
        kept = xfer_keep_spare(r, j);
    } else {
        r->off += (uint64_t)j->got;
        r->sent_all = r->off >= r->end;
        r->ready = j;
    }
    if (!r->out)
        take_ready(r);
    resume(r);
    return kept;
}

/* Everything read is sent: the buffer written out, then the reply. */
static void send_end(struct ftp_xfer_run *r)
{
    int f = tls_flush(r);
    if (f == 0)
        return;
    if (f < 0)
        return xfer_finish(r->fc, FTP_XFER_LOST, "connection-lost");
    if (r->off < r->end)
        return xfer_finish(r->fc, FTP_XFER_IOERR, "read-error");
    xfer_finish(r->fc, FTP_XFER_OK, "ok");
}

static void tls_send(struct ftp_xfer_run *r)
{
    size_t budget = TLS_SLICE;
    while (r->out || take_ready(r)) {
        struct disk_job *o = r->out;
        size_t left = o->out_len - r->out_pos;
        ERR_clear_error();
        int n = SSL_write(r->ssl, o->out + r->out_pos, left > INT_MAX ? INT_MAX : (int)left);
        if (n <= 0) {
            int w = tls_wait(r, n);
            if (w != 0)
                xfer_finish(r->fc, FTP_XFER_LOST, "connection-lost");
            return;
        }
        r->out_pos += (size_t)n;
        xfer_count(r, (uint64_t)n);
        if (r->out_pos == o->out_len) {
            r->out = NULL;
            if (!xfer_keep_spare(r, o))
                free(o);
            read_next(r);
        }
        if (budget <= (size_t)n)
            return; /* the rest on the loop's next turn: the socket is still writable */
        budget -= (size_t)n;
    }
    if (r->sent_all && !r->job)
        return send_end(r);
    /* waiting for the disk: what is buffered goes out first */
    int f = tls_flush(r);
    if (f < 0)
        return xfer_finish(r->fc, FTP_XFER_LOST, "connection-lost");
    if (f > 0)
        pause_for_disk(r);
}

/* ---- receiving ---- */

void xfer_pipe_close(struct xfer_pipe *p)
{
    if (p->rd >= 0)
        close(p->rd);
    if (p->wr >= 0)
        close(p->wr);
    p->rd = p->wr = -1;
}

/* A pipe of PIPE_CAP: false when none can be had (the user's pipe quota: the transfer
 * then reads into buffers instead). */
static bool pipe_new(struct xfer_pipe *p)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return false;
    p->rd = fds[0];
    p->wr = fds[1];
    if (fcntl(p->wr, F_SETPIPE_SZ, PIPE_CAP) < PIPE_CAP) {
        xfer_pipe_close(p);
        return false;
    }
    return true;
}

void ftp_stream_pipe_back(struct ftp_xfer_run *r, struct disk_job *j)
{
    if (j->pipe.rd < 0)
        return;
    if (j->err || r->pspare.rd >= 0) /* a failed splice may have left octets in it */
        xfer_pipe_close(&j->pipe);
    else
        r->pspare = j->pipe;
    j->pipe = (struct xfer_pipe){-1, -1};
}

/* Octets received and not yet handed to the pool. */
static size_t pending(const struct ftp_xfer_run *r)
{
    return r->splice ? r->plen : r->fill ? r->fill->len : 0;
}

/* What has been received goes to the pool as one write job. */
static void submit_write(struct ftp_xfer_run *r)
{
    struct disk_job *j;
    if (r->splice) {
        j = xfer_job_new(r, DISK_WRITE);
        j->pipe = r->pfill;
        j->len = r->plen;
        r->pfill = r->pspare; /* the job has given it back: only one is in flight */
        r->pspare = (struct xfer_pipe){-1, -1};
        r->plen = 0;
    } else {
        j = r->fill;
        r->fill = NULL;
        j->fd = r->fd;
        j->written = r->written;
        j->flushed = r->flushed;
    }
    xfer_job_submit(r, j);
}

/* What has been received goes to the pool when it is XFER_CHUNK or more, or the data has
 * ended, and no job is in flight; at the end of the data and of the writes, fsync
 * (xfer.c). Reading, stopped while both buffers (pipes) were full, goes on. */
static void store_next(struct ftp_xfer_run *r)
{
    if (r->job)
        return;
    size_t n = pending(r);
    if (n > 0 && (n >= XFER_CHUNK || r->eof))
        submit_write(r);
    else if (r->eof)
        return xfer_store_end(r);
    if (!r->eof)
        resume(r);
}

void ftp_stream_write_done(struct ftp_xfer_run *r)
{
    store_next(r);
}

/* The end of the data: what is still pending is written first. */
static void receive_eof(struct ftp_xfer_run *r)
{
    r->eof = true;
    event_del(r->ev);
    store_next(r);
}

/* Plain STOR/STOU: socket → pipe, no copy; the pool splices the pipe into the file. */
static void receive_splice(struct ftp_xfer_run *r)
{
    for (;;) {
        ssize_t n =
            splice(r->dfd, NULL, r->pfill.wr, NULL, PIPE_CAP, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            r->plen += (size_t)n;
            xfer_count(r, (uint64_t)n);
            if (xfer_too_big(r))
                return;
            if (r->plen >= XFER_CHUNK && !r->job)
                submit_write(r);
            continue;
        }
        if (n == 0)
            return receive_eof(r);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return xfer_finish(r->fc, FTP_XFER_LOST, "connection-lost");
        /* no more from the socket for now, or the pipe is full (its slots hold socket
         * buffers, not a fixed number of octets): the socket's queue says which */
        int queued = 0;
        if (ioctl(r->dfd, FIONREAD, &queued) < 0 || queued == 0)
            return store_next(r);
        if (r->job)
            return pause_for_disk(r); /* the pipe is full and so is the other */
        submit_write(r);
    }
}

/* Reads into p: octets read, 0 at the end of the data, -1 when the socket has no more for
 * now (the event waits), -2 on an error. */
static ssize_t recv_some(struct ftp_xfer_run *r, char *p, size_t cap)
{
    if (r->ssl) {
        ERR_clear_error();
        int n = SSL_read(r->ssl, p, cap > INT_MAX ? INT_MAX : (int)cap);
        if (n > 0)
            return n;
        int w = tls_wait(r, n);
        return w == 0 ? -1 : w > 0 ? 0 : -2;
    }
    for (;;) {
        ssize_t n = read(r->dfd, p, cap);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
    }
}

static void receive(struct ftp_xfer_run *r)
{
    if (r->splice)
        return receive_splice(r);
    for (;;) {
        if (!r->fill)
            r->fill = xfer_job_new(r, DISK_WRITE);
        struct disk_job *j = r->fill;
        if (j->len == sizeof j->buf) /* both buffers full: wait for the disk */
            return pause_for_disk(r);
        ssize_t n = recv_some(r, j->buf + j->len, sizeof j->buf - j->len);
        if (n == -1)
            return;
        if (n == -2)
            return xfer_finish(r->fc, FTP_XFER_LOST, "connection-lost");
        if (n == 0)
            return receive_eof(r);
        j->len += (size_t)n;
        xfer_count(r, (uint64_t)n);
        if (xfer_too_big(r))
            return;
        if (j->len >= XFER_CHUNK && !r->job)
            store_next(r);
    }
}

/* ---- the connection ---- */

/* The handshake of the data connection: true once done (and the session reuse checked
 * where required), false while it waits or when it ended the transfer. */
static bool handshake(struct ftp_xfer_run *r)
{
    struct ftp_conn *fc = r->fc;
    ERR_clear_error();
    int rc = SSL_do_handshake(r->ssl);
    if (rc != 1) {
        if (tls_wait(r, rc) != 0)
            xfer_finish(fc, FTP_XFER_LOST, "connection-lost");
        return false;
    }
    r->handshaken = true;
    /* vsftpd's require_ssl_reuse: a data connection that resumes a session of this server
     * is the client's, not a stranger's; off by default, as clients that open the data
     * connection before a TLS 1.3 ticket arrived cannot resume. */
    if (fc->set->cfg->require_tls_reuse && !SSL_session_reused(r->ssl)) {
        xfer_finish(fc, FTP_XFER_TLS_REUSE, "no-tls-reuse");
        return false;
    }
    wait_for(r, xfer_sending(r->kind) ? EV_WRITE : EV_READ);
    return true;
}

static void stream_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ftp_conn *fc = arg;
    struct ftp_xfer_run *r = fc->run;
    if (what & EV_TIMEOUT)
        return xfer_finish(fc, FTP_XFER_TIMEOUT, "timeout");
    if (r->ssl && !r->handshaken && !handshake(r))
        return;
    if (!xfer_sending(r->kind))
        return receive(r);
    if (r->ssl)
        return tls_send(r);
    plain_send(r);
}

/* The data connection's TLS: reads ahead TLS_BUF at a time, writes through a TLS_BUF
 * buffer, keeps its buffers for the transfer (the context releases them when idle). */
static SSL *data_tls(struct ftp_conn *fc, int fd)
{
    SSL *ssl = SSL_new(fc->w->d->tls);
    BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
    BIO *wbuf = BIO_new(BIO_f_buffer());
    if (!ssl || !sock || !wbuf || BIO_set_write_buffer_size(wbuf, TLS_BUF) <= 0 ||
        BIO_up_ref(sock) != 1) {
        SSL_free(ssl);
        BIO_free(sock);
        BIO_free(wbuf);
        ERR_clear_error();
        return NULL;
    }
    BIO_push(wbuf, sock);
    SSL_set_bio(ssl, sock, wbuf); /* ssl owns both: sock once itself, once through wbuf */
    SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_set_read_ahead(ssl, 1);
    SSL_set_default_read_buffer_len(ssl, (size_t)TLS_BUF);
    SSL_set_accept_state(ssl);
    return ssl;
}

void ftp_stream_start(struct ftp_conn *fc, int fd)
{
    struct ftp_xfer_run *r = fc->run;
    bool out = xfer_sending(r->kind);
    r->dfd = fd;
    r->waiting = out ? EV_WRITE : EV_READ;
    /* APPE: splice(2) refuses a file opened O_APPEND */
    if (!out && !r->tls && r->kind != FTP_XFER_APPE && pipe_new(&r->pfill)) {
        r->splice = pipe_new(&r->pspare);
        if (!r->splice)
            xfer_pipe_close(&r->pfill);
    }
    if (r->tls) {
        r->ssl = data_tls(fc, fd);
        if (!r->ssl)
            return xfer_finish(fc, FTP_XFER_NOCONN, "no-connection");
        r->waiting = EV_READ; /* the client's hello comes first */
        r->sent_all = r->off >= r->end;
    }
    r->connected = true;
    r->ev = event_new(fc->w->host.base, fd, r->waiting | EV_PERSIST, stream_cb, fc);
    struct timeval tv = data_timeout(r);
    event_add(r->ev, &tv);
    ftp_session_xfer_open(fc->s, r->size150, r->kind == FTP_XFER_STOU ? r->path : NULL);
    if (r->tls && out)
        read_next(r); /* the first chunk is read during the handshake */
}

void ftp_stream_close(struct ftp_xfer_run *r)
{
    if (r->ev)
        event_free(r->ev);
    r->ev = NULL;
    if (r->ssl) {
        if (r->handshaken) {
            ERR_clear_error();
            SSL_shutdown(r->ssl); /* close_notify; the write buffer is flushed with it */
        }
        ERR_clear_error(); /* whatever the shutdown or the transfer's end left */
        SSL_free(r->ssl);
        r->ssl = NULL;
    }
    if (r->dfd < 0)
        return;
    /* unread input at close would make the kernel reset the connection, and the client
     * lose the end of what was sent */
    char sink[512];
    while (recv(r->dfd, sink, sizeof sink, MSG_DONTWAIT) > 0)
        ;
    close(r->dfd);
    r->dfd = -1;
}
