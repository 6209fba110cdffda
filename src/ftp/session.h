/*
 * session — the FTP server's control connection as a state machine: RFC 959 (login, the
 * working directory, TYPE/MODE/STRU, PASV/PORT, transfers, file commands, ABOR, REST, STAT,
 * HELP), RFC 2389 FEAT/OPTS, RFC 2428 EPSV/EPRT, RFC 3659 SIZE/MDTM/MLST/MLSD/REST STREAM,
 * MFMT (draft-somers-ftp-mfxx), RFC 2640 UTF8, RFC 2228 + 4217 AUTH TLS/PBSZ/PROT (CCC refused).
 *
 * The engine turns command lines into replies. It performs no I/O: it writes through
 * `struct ftp_io` and reaches logins, the user's file tree and data connections through
 * `struct ftp_session_ops`, filled by the service glue (ftp/service/). Paths given to the ops
 * are absolute virtual paths inside the session's tree ("/", "/docs/a.txt", never with "." or
 * ".."); the glue opens them beneath the tree's root. The login and transfers are
 * asynchronous: the engine waits for ftp_session_auth_done, and for a transfer
 * ftp_session_xfer_open (data connection up: "150") then ftp_session_xfer_done ("226" or an
 * error). While a transfer runs, ABOR, STAT, NOOP and QUIT are answered at once; any other
 * command waits (its input is not consumed) until the transfer ends.
 *
 * Memory: the session copies what it keeps; ops get borrowed pointers valid during the call.
 */
#ifndef PIGEON_FTP_SESSION_H
#define PIGEON_FTP_SESSION_H

#include "core/str.h"
#include "ftp/cmd.h"
#include "ftp/list.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ftp_session;

struct ftp_server_config {
    bool tls_available;   /* AUTH TLS offered (a TLS context exists, not already implicit) */
    bool plaintext_ok;    /* USER/PASS allowed before TLS (config + peer address) */
    bool require_prot;    /* transfers need PROT P once on TLS (require_tls) */
    bool anonymous;       /* USER anonymous / ftp accepted (read-only tree) */
    /* The anonymous tree's upload directory, an absolute virtual path ("/incoming"), or ""
     * (the default): anonymous sessions may store new files there (STOR, STOU; no APPE,
     * REST or overwrite) and read, list or stat nothing in it (a drop box, as vsftpd's
     * anon_upload_enable with chown_uploads). */
    char anon_upload[256];
    unsigned max_errors;  /* bad commands before 421 */
    unsigned max_login_failures; /* wrong passwords before 421 */
};

/* Who is on the other end; strings are copied by ftp_session_new. */
struct ftp_peer {
    const char *addr;     /* the control connection's client address text: "127.0.0.1" */
    const char *listener; /* "127.0.0.1:2121", for logs */
    bool tls;             /* implicit TLS from the first byte (FTPS on 990) */
};

enum ftp_auth_result {
    FTP_AUTH_OK = 0,
    FTP_AUTH_FAIL,     /* 530 Login incorrect */
    FTP_AUTH_LIMIT,    /* too many sessions of this user: 421 and close */
    FTP_AUTH_NOHOME,   /* the tree cannot be opened: 530 */
};

/* What the ops' file operations answer (0 = done). */
enum ftp_fs_result {
    FTP_FS_OK = 0,
    FTP_FS_NOENT = -1,
    FTP_FS_EXIST = -2,
    FTP_FS_PERM = -3,
    FTP_FS_NOTDIR = -4,
    FTP_FS_ISDIR = -5,
    FTP_FS_NOTEMPTY = -6,
    FTP_FS_NOSPACE = -7,
    FTP_FS_IO = -8,
    FTP_FS_BADNAME = -9,
};

enum ftp_xfer_kind {
    FTP_XFER_RETR,
    FTP_XFER_STOR,
    FTP_XFER_APPE,
    FTP_XFER_STOU,
    FTP_XFER_LIST,
    FTP_XFER_NLST,
    FTP_XFER_MLSD,
};

/* A transfer the glue is asked to run. */
struct ftp_xfer {
    enum ftp_xfer_kind kind;
    const char *path;   /* the file, the directory listed, or (STOU) the directory and
                         * base name to make unique */
    uint64_t offset;    /* REST: where RETR starts, or where STOR writes (file cut there) */
    bool ascii;         /* TYPE A: LF on disk, CRLF on the wire */
    bool tls;           /* PROT P: the data connection is TLS (the server's side) */
    bool read_only;     /* anonymous tree: no writes */
    bool create_only;   /* an anonymous upload: a new file (never one that exists), which
                         * the anonymous side cannot read back */
    unsigned facts;     /* MLSD: the FACT_* bits selected with OPTS MLST */
    const char *shown;  /* LIST/NLST: the argument as the client wrote it (ls options
                         * skipped), "" for none: NLST names the entries of "sub" (or
                         * "sub/PATTERN") "sub/NAME", as every Unix server */
};

/* How a transfer ended (ftp_session_xfer_done). */
enum ftp_xfer_result {
    FTP_XFER_OK = 0,      /* 226 */
    FTP_XFER_NOCONN,      /* 425: the data connection could not be opened */
    FTP_XFER_LOST,        /* 426: the data connection broke */
    FTP_XFER_IOERR,       /* 451 (after 150) */
    FTP_XFER_NOSPACE,     /* 452 */
    FTP_XFER_TIMEOUT,     /* 421 data timeout, and close */
    FTP_XFER_TLS_REUSE,   /* 522: the data connection's TLS did not resume a session */
    FTP_XFER_FS,          /* before 150: the file operation failed; fs says how */
};

struct ftp_io {
    void (*write)(void *io, const char *p, size_t n);
    /* "234" has been written: start TLS now; input stays paused until tls_started. */
    void (*starttls)(void *io);
};

struct ftp_session_ops {
    /* Checks a login (anonymous: user is "anonymous", pass the e-mail text); must later call
     * ftp_session_auth_done. */
    void (*auth)(void *ctx, struct ftp_session *s, const char *user, const char *pass,
                 bool anonymous);
    /* File operations on the logged-in tree; may block briefly (metadata). */
    int (*stat)(void *ctx, const char *path, struct ftp_stat *out);
    int (*mkdir)(void *ctx, const char *path);
    int (*rmdir)(void *ctx, const char *path);
    int (*unlink)(void *ctx, const char *path);
    int (*rename)(void *ctx, const char *from, const char *to);
    /* A listing of path (a directory, or one file) in fmt, appended to out (STAT path). */
    int (*list)(void *ctx, const char *path, enum ftp_list_fmt fmt, struct str *out);
    /* Opens a passive listener; out: what to announce. extended: EPSV (any family). 0 or < 0
     * (425). Replaces a previous passive listener or PORT target. */
    int (*passive)(void *ctx, bool extended, struct ftp_hostport *out);
    /* PORT/EPRT: connect to `to` at the next transfer (already checked against the peer). */
    void (*active)(void *ctx, const struct ftp_hostport *to);
    /* Runs a transfer over the data connection set up by passive/active; must later call
     * ftp_session_xfer_open then ftp_session_xfer_done, or only ftp_session_xfer_done. */
    void (*xfer)(void *ctx, struct ftp_session *s, const struct ftp_xfer *x);
    /* Drops the transfer in progress (ABOR, shutdown) and any passive listener; no callback
     * for it follows. Also drops a data setup with no transfer. */
    void (*abort)(void *ctx);
    /* Octets moved so far by the transfer in progress (STAT during a transfer). */
    uint64_t (*xfer_bytes)(void *ctx);
    /* MFMT: sets the modification time of path (seconds since the epoch, UTC). */
    int (*set_mtime)(void *ctx, const char *path, int64_t mtime);
};

/* Creates a session; nothing is written until ftp_session_start. */
struct ftp_session *ftp_session_new(const struct ftp_server_config *cfg, const struct ftp_io *io,
                                    void *io_arg, const struct ftp_session_ops *ops,
                                    void *ops_ctx, const struct ftp_peer *peer, uint64_t id);
/* Never inside one of its own calls. */
void ftp_session_free(struct ftp_session *s);
uint64_t ftp_session_id(const struct ftp_session *s);
/* The logged-in user ("" before login; "anonymous"). */
const char *ftp_session_user(const struct ftp_session *s);
/* The working directory, a virtual path ("/" before login). */
const char *ftp_session_cwd(const struct ftp_session *s);

/* "220 Pigeon FTP server ready." */
void ftp_session_start(struct ftp_session *s);
/* Refuses the connection: writes reply (a 421 line without CRLF) and closes. */
void ftp_session_refuse(struct ftp_session *s, const char *reply);

/* Feeds input; returns the octets consumed (fewer when it waits: login, TLS, a command held
 * during a transfer, closing). The caller feeds the rest again later. */
size_t ftp_session_feed(struct ftp_session *s, const char *p, size_t n);
bool ftp_session_busy(const struct ftp_session *s);     /* an auth call outstanding */
bool ftp_session_closing(const struct ftp_session *s);  /* flush, then free */
bool ftp_session_transferring(const struct ftp_session *s);

void ftp_session_tls_started(struct ftp_session *s, const char *version, const char *cipher);
/* ok → 230; canonical_user is the account name; read_only: an anonymous tree. */
void ftp_session_auth_done(struct ftp_session *s, enum ftp_auth_result r,
                           const char *canonical_user, bool read_only);
/* The data connection is up: writes "150 ...". size: the octets to send (RETR), or -1.
 * name: the file STOU made (RFC 1123 §4.1.2.9: "150 FILE: name"), else NULL. */
void ftp_session_xfer_open(struct ftp_session *s, int64_t size, const char *name);
/* The transfer ended; fs: with FTP_XFER_FS, the enum ftp_fs_result. */
void ftp_session_xfer_done(struct ftp_session *s, enum ftp_xfer_result r, int fs);

/* Idle timeout or session time exceeded: 421 and close (ignored during a transfer, which has
 * its own data timeout). */
void ftp_session_timeout(struct ftp_session *s);
/* Server shutdown: 421 and close at once, the transfer in progress aborted. */
void ftp_session_shutdown(struct ftp_session *s);

#endif
