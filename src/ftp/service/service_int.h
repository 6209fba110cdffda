/*
 * ftp service internals, shared by service.c (config, lifecycle), conn.c (the control
 * connection), ops.c (login and file operations), fs.c (the tree beneath a root, through
 * openat2), data.c (passive listeners, active connects) and xfer.c (moving the bytes).
 *
 * One `struct ftp_conn` per control connection: it is the engine's ops context and owns the
 * session's tree (a directory descriptor), its passive listener and its transfer. Everything
 * runs on the connection's worker, but a transfer's file reads and writes and the fsync of
 * a stored file, which go to the service's pool and come back through the worker's
 * loop_post.
 */
#ifndef PIGEON_FTP_SERVICE_SERVICE_INT_H
#define PIGEON_FTP_SERVICE_SERVICE_INT_H

#include "conf/config.h"
#include "ftp/session.h"
#include "net/conn.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct event;
struct host_confgen;
struct pool;
struct str;
struct worker;
struct ftp_xfer_run;

/* [ftp]: the FTP service, and the settings [ftps] shares. */
struct config_ftp {
    struct config_access acc;  /* listen, limits, plaintext_auth, max_connections_per_user */
    char *root;                /* users' trees: ROOT/LOGIN */
    char *anonymous_root;      /* NULL: no anonymous login */
    char *anonymous_upload;    /* the anonymous tree's drop box, "/incoming"; NULL: none */
    uint64_t anonymous_upload_max; /* octets one anonymous upload may have */
    unsigned pasv_min, pasv_max; /* passive port range; 0-0: any port the kernel picks */
    char *pasv_address;        /* IPv4 address PASV announces; NULL: the listener's */
    bool require_tls;          /* logins and transfers only under TLS (PROT P) */
    bool require_tls_reuse;    /* PROT P data connections must resume a TLS session */
    unsigned data_timeout;     /* seconds a data connection may stall */
    unsigned max_login_failures;
    uint64_t upload_flush;     /* an upload is fdatasynced every this many octets as it
                                * arrives (flush.c); 0: only before its "226" */
};

/* The settings a session starts with and keeps: [ftp] of one configuration generation and
 * the trees it names, opened. A reload makes new ones; the old ones go with their last
 * session (reference counted). */
struct ftp_settings {
    atomic_uint refs;
    struct host_confgen *gen;  /* keeps cfg alive (NULL: the start configuration) */
    const struct config_ftp *cfg;
    int root_fd;               /* cfg->root, O_PATH */
    int anon_fd;               /* cfg->anonymous_root, or -1 */
};

struct ftp_state {
    struct ftp_settings *cur;  /* what new sessions take (under lock); a reload replaces it */
    struct pool *pool;         /* file I/O of transfers, fsync of stored files */
    atomic_bool flushing;      /* an upload's rolling fdatasync is on the pool (flush.c) */
    pthread_mutex_t lock;      /* cur, sessions, and every session's show */
    struct ftp_conn *sessions; /* every worker's, for `pigeon ftp sessions` */
};

/* What `pigeon ftp sessions` shows of a session (control.c): written on its worker under
 * ftp_state.lock, read on the main thread. */
struct ftp_show {
    int64_t since;             /* connected, Unix seconds */
    char user[128];            /* "" before login */
    char cwd[256];
    char xfer[8];              /* "RETR", "STOR" ...; "" when no transfer runs */
    char path[256];
    int64_t xfer_since;
    atomic_uint_fast64_t bytes; /* octets moved by the transfer so far */
};

struct ftp_conn {
    struct ftp_conn *prev, *next; /* ftp_state.sessions, under its lock */
    struct ftp_show show;
    struct conn *c;
    struct ftp_session *s;
    struct worker *w;
    struct ftp_state *st;
    struct ftp_settings *set;  /* what the session started with (a reference) */
    uint64_t id;
    char peer[64];
    char local[64];            /* our end of the control connection: passive sockets bind here */
    int root_fd;               /* the session's tree after login, else -1 */
    bool read_only;
    char user_key[300];        /* connlimit key of the per-user count; "" when none */
    /* data setup */
    int pasv_fd;               /* passive listener, or -1 */
    struct event *pasv_ev;
    int data_fd;               /* a data connection accepted before its transfer, or -1 */
    struct ftp_hostport active;
    bool have_active;
    struct ftp_xfer_run *run;  /* the transfer in progress */
    unsigned jobs;             /* disk jobs on the pool (xfer.c) */
    bool orphan;               /* the connection is gone; the last job frees this */
    bool in_engine;            /* inside an engine call: results are not followed by
                                * conn_resume (the engine's own caller continues) */
};

/* service.c: the current settings, one more reference; and dropping one. */
struct ftp_settings *ftp_settings_get(struct ftp_state *st);
void ftp_settings_put(struct ftp_settings *set);

/* conn.c */
extern const struct proto_ops ftp_proto;
const struct config_ftp *ftp_config(const struct config *cfg);
void ftp_conn_free(struct ftp_conn *fc); /* the struct itself, once nothing uses it */

/* control.c: `pigeon ftp sessions` */
void ftp_show_register(struct ftp_state *st, struct ftp_conn *fc);
void ftp_show_unregister(struct ftp_state *st, struct ftp_conn *fc);
void ftp_show_update(struct ftp_conn *fc); /* the user and directory, if they changed */
void ftp_show_xfer(struct ftp_conn *fc, const char *verb, const char *path); /* NULL: ended */
int ftp_control(struct daemon *d, void *state, const char *line, struct str *answer);

/* ops.c */
const struct ftp_session_ops *ftp_conn_ops(void);
void ftp_conn_release(struct ftp_conn *fc); /* drops data setup, transfer, tree, user count */

/* fs.c: paths are the engine's absolute virtual paths; results are enum ftp_fs_result. */
int ftp_fs_result(int err); /* an errno as FTP_FS_* */
int ftp_fs_open(int root, const char *vpath, int flags, unsigned mode, int *fd_out);
int ftp_fs_stat(int root, const char *vpath, struct ftp_stat *out);
void ftp_fs_stat_of(const void *statbuf, struct ftp_stat *out); /* from a struct stat */
int ftp_fs_mkdir(int root, const char *vpath);
int ftp_fs_rmdir(int root, const char *vpath);
int ftp_fs_unlink(int root, const char *vpath);
int ftp_fs_rename(int root, const char *from, const char *to);
/* MFMT: the modification time of vpath (not following a last symlink); atime kept. */
int ftp_fs_set_mtime(int root, const char *vpath, int64_t mtime);
/* Appends the listing of vpath (a directory's entries, or the one file) to out; shown: the
 * argument as the client wrote it ("" for none), NLST's names start with it. LIST/NLST of
 * a name that does not exist with *, ? or [ in its last component: the entries it matches. */
int ftp_fs_list(int root, const char *vpath, const char *shown, enum ftp_list_fmt fmt,
                bool read_only, unsigned facts, struct str *out);
/* STOU: creates a new file "vpath", else "vpath.1" ... (O_EXCL); its path in name_out. */
int ftp_fs_create_unique(int root, const char *vpath, unsigned mode, int *fd_out, char *name_out,
                         size_t cap);

/* data.c: the data connection of the next transfer */
int ftp_data_passive(struct ftp_conn *fc, bool extended, struct ftp_hostport *out);
void ftp_data_active(struct ftp_conn *fc, const struct ftp_hostport *to);
/* Closes the passive listener and a connection accepted early. */
void ftp_data_reset(struct ftp_conn *fc);
/* Gets the data socket for the transfer in fc->run: now, once accepted, or once connected;
 * calls ftp_xfer_connected or ftp_xfer_fail(NOCONN). */
void ftp_data_connect(struct ftp_conn *fc);

/* xfer.c: the transfer itself */
void ftp_xfer_start(struct ftp_conn *fc, const struct ftp_xfer *x);
void ftp_xfer_connected(struct ftp_conn *fc, int fd);
void ftp_xfer_fail(struct ftp_conn *fc, enum ftp_xfer_result r);
void ftp_xfer_abort(struct ftp_conn *fc);
uint64_t ftp_xfer_bytes(const struct ftp_conn *fc);

#endif
