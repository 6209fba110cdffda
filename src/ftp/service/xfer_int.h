/*
 * ftp service, transfer internals shared by xfer.c (setup, listings, TYPE A, the disk jobs)
 * and stream.c (binary RETR/STOR/APPE/STOU straight on the data socket, plain or TLS).
 *
 * A transfer (struct ftp_xfer_run) belongs to its control connection (ftp_conn.run) and
 * runs on the connection's worker; its file I/O runs on the service's pool as disk jobs,
 * one in flight per transfer, each coming back through the worker's loop_post. A job that
 * outlives its transfer (ABOR, a lost connection) closes the file itself. Nothing here
 * blocks.
 */
#ifndef PIGEON_FTP_SERVICE_XFER_INT_H
#define PIGEON_FTP_SERVICE_XFER_INT_H

#include "ftp/service/service_int.h"

#include "core/str.h"
#include "ftp/path.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct bufferevent;
struct event;
struct ssl_st;

#define XFER_CHUNK ((size_t)256 * 1024)

struct disk_job;
struct flush_job;

/* A pipe an upload is spliced through (socket → pipe on the worker, pipe → file on the
 * pool): its ends, or -1. */
struct xfer_pipe {
    int rd, wr;
};

struct ftp_xfer_run {
    struct ftp_conn *fc;
    enum ftp_xfer_kind kind;
    bool ascii, tls, read_only;
    bool sent_all;   /* sending: everything is queued */
    bool ascii_cr;   /* ascii conversion state (carried through the disk jobs) */
    bool connected;
    bool eof;        /* receiving: the client closed the data connection */
    bool raw;        /* TYPE I RETR/STOR/APPE/STOU: stream.c on dfd and ev, no bufferevent */
    bool paused;     /* raw: ev is off until the disk job in flight returns */
    bool handshaken; /* raw under TLS: the data connection's handshake is done */
    short waiting;   /* raw: what ev waits for (EV_READ or EV_WRITE) */
    int fd;          /* the file, or -1 */
    int dfd;         /* raw: the data socket, or -1 */
    struct event *ev; /* raw: its read or write event (with data_timeout) */
    struct ssl_st *ssl; /* raw under TLS (PROT P): the data connection's TLS, or NULL */
    struct disk_job *fill; /* raw receiving: the next write job's buffer, filling */
    bool splice;           /* plain STOR/STOU: received through pipes, not fill */
    struct xfer_pipe pfill; /* splice: the pipe filling (plen octets in it so far) */
    struct xfer_pipe pspare; /* splice: the other one, while no job drains it */
    size_t plen;
    struct disk_job *out;  /* raw TLS sending: the chunk being encrypted and sent */
    size_t out_pos;        /* ... how much of it is sent */
    struct disk_job *ready; /* raw TLS sending: a chunk read, waiting for out to be sent */
    struct disk_job *spare; /* a job whose result is used up, for the next one: a fresh
                             * 768 KB malloc is a fresh mmap, and every page of it faults */
    uint64_t off;    /* RETR: next file offset to read */
    uint64_t end;    /* RETR: the file's size */
    uint64_t bytes;  /* octets moved on the data connection */
    uint64_t flushed; /* STOR: octets of the file whose writeback has been started */
    uint64_t written; /* STOR: octets written to the file by this transfer */
    uint64_t limit;  /* an anonymous upload's most octets; 0: none */
    int64_t size150; /* what "150" announces (-1: nothing) */
    struct str listing;
    struct bufferevent *bev;
    struct disk_job *job; /* the one disk job in flight, or NULL */
    struct flush_job *flush; /* upload: its rolling fdatasync in flight, or NULL (flush.c) */
    uint64_t flush_at; /* upload: octets written when the last rolling flush started */
    unsigned flushes;  /* upload: rolling flushes done (the log line says how many) */
    bool sync_wait;    /* upload: everything written; the final fsync waits for flush */
    struct timespec t0;
    char path[FTP_PATH_MAX + 16];
};

/* One piece of a transfer's file I/O on the service's pool: a read (RETR under TLS or in
 * TYPE A), a write (STOR, APPE, STOU) or the final fsync. One at a time per transfer; the
 * data connection's buffers fill meanwhile (and stop reading at their watermark). */
enum disk_op { DISK_READ, DISK_WRITE, DISK_SYNC };

struct disk_job {
    struct ftp_conn *fc;
    struct ftp_xfer_run *run; /* NULL once the transfer ended: the job then closes fd */
    enum disk_op op;
    int fd;
    bool ascii, ascii_cr;     /* TYPE A, and the conversion state across chunks */
    uint64_t off;             /* READ: where */
    uint64_t written, flushed; /* WRITE: the run's counts, for the writeback */
    size_t len;               /* WRITE: octets in buf; READ: octets asked for */
    ssize_t got;              /* READ: octets read (0: end, < 0: error) */
    const char *out;          /* READ: what goes on the wire (buf, or its TYPE A copy) */
    size_t out_len;
    int err;                  /* errno of a failed write or fsync */
    struct xfer_pipe pipe;    /* WRITE: len octets to splice from it (not buf); the job
                               * owns it while in flight */
    char buf[3 * XFER_CHUNK]; /* XFER_CHUNK read or received, then TYPE A's conversion: LF
                               * → CRLF may double it */
};

/* xfer.c, for stream.c */
bool xfer_sending(enum ftp_xfer_kind k);
void xfer_count(struct ftp_xfer_run *r, uint64_t n); /* octets moved */
/* Ends the transfer: log line, engine told, the run freed. From an event callback. */
void xfer_finish(struct ftp_conn *fc, enum ftp_xfer_result res, const char *what);
/* A job for r (its spare if it has one); the caller fills it and submits it, or frees it. */
struct disk_job *xfer_job_new(struct ftp_xfer_run *r, enum disk_op op);
void xfer_job_submit(struct ftp_xfer_run *r, struct disk_job *j);
/* j's result is used up: kept as r's spare (true), or the caller frees it (false). */
bool xfer_keep_spare(struct ftp_xfer_run *r, struct disk_job *j);
/* An anonymous upload over its limit: refused and removed; true when that ended it. */
bool xfer_too_big(struct ftp_xfer_run *r);
/* Everything received is written: the data connection closes, then fsync on the pool. */
void xfer_store_end(struct ftp_xfer_run *r);
void xfer_store_fail(struct ftp_conn *fc, int err); /* a failed write or fsync */

/* Starts the final fsync of an upload: then "226" (xfer.c). */
void xfer_sync_start(struct ftp_xfer_run *r);

/* flush.c: an upload made durable as it arrives, a step at a time. */
/* After a write: fdatasync on the pool if upload_flush octets were written since the last
 * one started, and none of the service's is in flight. */
void ftp_flush_maybe(struct ftp_xfer_run *r);
/* The transfer ends: its flush in flight, if any, finishes alone. */
void ftp_flush_detach(struct ftp_xfer_run *r);

/* stream.c: binary transfers straight on the data socket, plain or under TLS. */
/* The data connection of r (raw) is up: the TLS handshake (PROT P), then the bytes. */
void ftp_stream_start(struct ftp_conn *fc, int fd);
/* A disk job of a raw transfer is back (on the worker): true when the run kept it. */
bool ftp_stream_read_done(struct ftp_xfer_run *r, struct disk_job *j);
/* After ftp_stream_pipe_back and the run's counts: the next write, or the end. */
void ftp_stream_write_done(struct ftp_xfer_run *r);
/* Closes r's data socket: under TLS with close_notify first (RFC 4217 §10). */
void ftp_stream_close(struct ftp_xfer_run *r);
/* A write job is back: the pipe it drained (if any) is the run's spare again. */
void ftp_stream_pipe_back(struct ftp_xfer_run *r, struct disk_job *j);
void xfer_pipe_close(struct xfer_pipe *p);

#endif
