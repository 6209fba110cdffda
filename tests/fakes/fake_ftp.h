/*
 * fake_ftp — a scripted stand-in for the service glue around one FTP session engine: output
 * is captured in a string, "bob"/"hungry" are the only credentials (canonical
 * bob@hamburger.edu), the file tree is a small in-memory table, passive listeners announce
 * 127.0.0.1 (or ::1) port 50000, and transfers complete at once (150 then 226) unless the
 * test holds them. Anonymous logins are allowed, with the upload directory /incoming. Used by the FTP session unit tests and the session fuzz target.
 */
#ifndef PIGEON_TESTS_FAKE_FTP_H
#define PIGEON_TESTS_FAKE_FTP_H

#include "core/str.h"
#include "ftp/session.h"

#define FAKE_FTP_MAX_FILES 32

struct fake_ftp_file {
    char path[1024];
    bool dir;
    uint64_t size;
    int64_t mtime; /* 0: the default, 1700000000 */
};

struct fake_ftp {
    struct ftp_session *s;
    struct str out;
    struct fake_ftp_file files[FAKE_FTP_MAX_FILES];
    size_t nfiles;
    bool hold;             /* keep auth and transfers pending until fake_ftp_complete */
    bool pending_auth, pending_auth_ok, pending_xfer;
    bool passive_fail;     /* ops->passive fails */
    bool xfer_fail_conn;   /* transfers end with 425 */
    bool tls_requested;
    bool anonymous_login;  /* the last auth was anonymous */
    unsigned aborts;
    struct ftp_hostport active; /* the last PORT/EPRT target */
    bool have_active;
    struct ftp_xfer last;  /* the last transfer asked for (path copied below) */
    char last_path[1024];
    unsigned xfers;
};

/* tls: implicit TLS; plaintext_ok: USER/PASS allowed before TLS; peer: "127.0.0.1" or "::1". */
void fake_ftp_init(struct fake_ftp *f, bool tls, bool plaintext_ok, const char *peer);
void fake_ftp_free(struct fake_ftp *f);
/* Feeds p (starting TLS when asked); returns octets consumed. */
size_t fake_ftp_feed(struct fake_ftp *f, const char *p, size_t n);
size_t fake_ftp_feeds(struct fake_ftp *f, const char *cstr);
/* Completes a held login and a held transfer (150 + 226). */
void fake_ftp_complete(struct fake_ftp *f);
/* Looks a path up in the tree (NULL when absent). */
struct fake_ftp_file *fake_ftp_find(struct fake_ftp *f, const char *path);

#endif
