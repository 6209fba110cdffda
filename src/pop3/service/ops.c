/*
 * pop3 service, ops — see service_int.h. The maildrop is the user's INBOX, the one IMAP shows:
 * a message deleted over POP3 is expunged for IMAP too, and one IMAP expunged is not in the
 * next POP3 listing.
 *
 * Locking (RFC 1939 §4 "exclusive-access lock"): one POP3 session per maildrop, across
 * every worker, through the daemon's connlimit table (key "pop3-maildrop|user", at most 1).
 * IMAP does not take the lock: it sees POP3's removals as ordinary expunges.
 *
 * Threads: listing the maildrop (an SQLite read) and the UPDATE state's expunge (an SQLite
 * write with its fsync) run on the daemon's store pool (host_store_pool: each thread owns a
 * store handle). Message files are read on the worker in 64 KB chunks as the
 * client drains its output (blob files are immutable; see store/mailbox.h).
 */
#include "pop3/service/service_int.h"

#include "host/host.h"
#include "host/login.h"

#include "core/connlimit.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "store/mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pop3_store {
    struct conn *conn;
    char lock_key[300]; /* "" when not locked */
    int64_t mailbox_id;
    char **paths; /* blob file of each message, in listing order */
    size_t npaths;
    int fd; /* the message being read, or -1 */
};

struct pop3_store *pop3_store_new(struct conn *c)
{
    struct pop3_store *ps = xcalloc(1, sizeof *ps);
    ps->conn = c;
    ps->fd = -1;
    return ps;
}

static void paths_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static void maildrop_close(void *vps)
{
    struct pop3_store *ps = vps;
    if (ps->lock_key[0])
        connlimit_release(conn_worker(ps->conn)->d->connlimit, ps->lock_key);
    ps->lock_key[0] = '\0';
    paths_free(ps->paths, ps->npaths);
    ps->paths = NULL;
    ps->npaths = 0;
}

static void msg_close(void *vps)
{
    struct pop3_store *ps = vps;
    if (ps->fd >= 0)
        close(ps->fd);
    ps->fd = -1;
}

void pop3_store_free(struct pop3_store *ps)
{
    if (!ps)
        return;
    msg_close(ps);
    maildrop_close(ps);
    free(ps);
}

/* ---- authentication ---- */

static void auth_done(void *sess, bool ok, const char *user)
{
    pop3_session_auth_done(sess, ok, user);
}

static void auth(void *vps, struct pop3_session *s, const char *user, const char *pass)
{
    struct pop3_store *ps = vps;
    host_login(ps->conn, user, pass, auth_done, s);
}

/* ---- opening the maildrop (on the pool) ---- */

struct open_job {
    struct pop3_store *ps; /* touched on the worker only */
    struct pop3_session *s;
    struct worker *w;
    char user[256];
    int rc;
    struct store_mailbox mb;
    struct pop3_msg *msgs;
    char **paths;
    size_t n, cap;
};

static void open_list_cb(void *vj, const struct store_mailbox_msg *m)
{
    struct open_job *j = vj;
    if (j->n == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 64;
        j->msgs = xrealloc(j->msgs, j->cap * sizeof *j->msgs);
        j->paths = xrealloc(j->paths, j->cap * sizeof *j->paths);
    }
    j->msgs[j->n] = (struct pop3_msg){(uint64_t)m->uid, (uint64_t)m->size};
    j->paths[j->n] = xstrdup(m->blob_path);
    j->n++;
}

static void open_result(void *vj)
{
    struct open_job *j = vj;
    struct pop3_store *ps = j->ps;
    enum pop3_maildrop_result r = POP3_MAILDROP_OK;
    if (j->rc != 0) {
        log_err("pop3 " LOG_ID " cannot open the maildrop of %s: %s",
                LOG_IDV(pop3_session_id(j->s)), j->user, err_str(j->rc));
        r = POP3_MAILDROP_TEMPFAIL;
        connlimit_release(j->w->d->connlimit, ps->lock_key);
        ps->lock_key[0] = '\0';
        paths_free(j->paths, j->n);
    } else {
        ps->mailbox_id = j->mb.id;
        ps->paths = j->paths;
        ps->npaths = j->n;
    }
    pop3_session_maildrop_done(j->s, r, (uint64_t)j->mb.uidvalidity, j->msgs, j->n);
    free(j->msgs);
    free(j);
    conn_resume(ps->conn);
}

static void open_work(void *tctx, void *vj)
{
    struct open_job *j = vj;
    struct store *st = tctx;
    j->rc = st ? store_mailbox_open(st, j->user, "INBOX", &j->mb, open_list_cb, j) : ERR_DB;
    loop_post_send(j->w->host.post, open_result, j);
}

static void maildrop_open(void *vps, struct pop3_session *s, const char *user)
{
    struct pop3_store *ps = vps;
    struct worker *w = conn_worker(ps->conn);
    char key[sizeof ps->lock_key];
    snprintf(key, sizeof key, "pop3-maildrop|%s", user);
    if (!connlimit_acquire(w->d->connlimit, key, 1))
        return pop3_session_maildrop_done(s, POP3_MAILDROP_IN_USE, 0, NULL, 0);
    memcpy(ps->lock_key, key, sizeof key);
    struct open_job *j = xcalloc(1, sizeof *j);
    j->ps = ps;
    j->s = s;
    j->w = w;
    snprintf(j->user, sizeof j->user, "%s", user);
    pool_submit(w->d->store_pool, open_work, j);
}

/* ---- reading messages (on the worker, in chunks) ---- */

static int msg_open(void *vps, size_t index)
{
    struct pop3_store *ps = vps;
    msg_close(ps);
    if (index >= ps->npaths)
        return ERR_NOTFOUND;
    ps->fd = open(ps->paths[index], O_RDONLY | O_CLOEXEC);
    if (ps->fd < 0) {
        log_warn("pop3: open %s: %s", ps->paths[index], strerror(errno));
        return ERR_IO;
    }
    (void)posix_fadvise(ps->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return 0;
}

static ssize_t msg_read(void *vps, char *buf, size_t cap)
{
    struct pop3_store *ps = vps;
    ssize_t n;
    do
        n = read(ps->fd, buf, cap);
    while (n < 0 && errno == EINTR);
    return n;
}

/* ---- the UPDATE state (on the pool) ---- */

struct update_job {
    struct pop3_store *ps;
    struct pop3_session *s;
    struct worker *w;
    int64_t mailbox_id;
    int64_t *uids;
    size_t n;
    size_t removed;
    int rc;
};

static void update_result(void *vj)
{
    struct update_job *j = vj;
    struct conn *c = j->ps->conn;
    if (j->rc == 0) /* IMAP sessions with this mailbox selected see the expunges */
        host_mailbox_changed(j->w, NULL, 0, j->mailbox_id, 0);
    pop3_session_update_done(j->s, j->rc);
    free(j->uids);
    free(j);
    conn_resume(c);
}

static void update_work(void *tctx, void *vj)
{
    struct update_job *j = vj;
    struct store *st = tctx;
    j->rc = st ? store_mailbox_expunge(st, j->mailbox_id, j->uids, j->n, &j->removed) : ERR_DB;
    loop_post_send(j->w->host.post, update_result, j);
}

static void update(void *vps, struct pop3_session *s, const uint64_t *uids, size_t n)
{
    struct pop3_store *ps = vps;
    struct worker *w = conn_worker(ps->conn);
    struct update_job *j = xcalloc(1, sizeof *j);
    j->ps = ps;
    j->s = s;
    j->w = w;
    j->mailbox_id = ps->mailbox_id;
    j->uids = xcalloc(n, sizeof *j->uids);
    for (size_t i = 0; i < n; i++)
        j->uids[i] = (int64_t)uids[i];
    j->n = n;
    pool_submit(w->d->store_pool, update_work, j);
}

static const struct pop3_session_ops pop3_ops = {
    auth, maildrop_open, msg_open, msg_read, msg_close, update, maildrop_close,
};

const struct pop3_session_ops *pop3_store_ops(void)
{
    return &pop3_ops;
}
