/*
 * managesieve service, ops — the engine's ops: the password through host_login (the shared
 * check, throttle included), and every script request on the store pool (an SQLite write
 * waits for its fsync there, never on a worker), answered back on the connection's worker.
 */
#include "managesieve/service/service_int.h"

#include "host/host.h"
#include "host/login.h"
#include "net/conn.h"

#include "core/err.h"
#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "store/sieve.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A login in flight: the session and the client's address for the failure line. */
struct auth_job {
    struct managesieve_session *s;
    char peer[64];
};

static void auth_done(void *vj, bool ok, const char *user)
{
    struct auth_job *j = vj;
    uint64_t id = managesieve_session_id(j->s);
    if (ok)
        log_info("managesieve " LOG_ID " login %s", LOG_IDV(id), user);
    else /* the form the shipped fail2ban filter reads (etc/fail2ban/filter.d/pigeon.conf) */
        log_info("managesieve " LOG_ID " auth failed from %s user=%s", LOG_IDV(id), j->peer, user);
    managesieve_session_auth_done(j->s, ok, user);
    free(j);
}

static void auth(void *vc, struct managesieve_session *s, const char *user, const char *pass)
{
    struct auth_job *j = xmalloc(sizeof *j);
    j->s = s;
    snprintf(j->peer, sizeof j->peer, "%s", conn_peer(vc));
    host_login(vc, user, pass, auth_done, j);
}

/* One request, copied for the pool. */
struct job {
    struct conn *conn;
    struct managesieve_session *s;
    struct worker *w;
    enum managesieve_op op;
    char user[256];
    char *name, *name2, *text;
    size_t len;
    /* results */
    int rc;
    char *out; /* GET */
    size_t out_len;
    struct managesieve_script_info *scripts;
    size_t n;
};

static void job_free(struct job *j)
{
    for (size_t i = 0; i < j->n; i++)
        free((char *)j->scripts[i].name);
    free(j->scripts);
    free(j->name);
    free(j->name2);
    free(j->text);
    free(j->out);
    free(j);
}

static void list_cb(void *vj, const char *name, bool active, size_t size)
{
    struct job *j = vj;
    j->scripts = xrealloc(j->scripts, (j->n + 1) * sizeof *j->scripts);
    j->scripts[j->n++] = (struct managesieve_script_info){xstrdup(name), active};
}

/* PUT: a new name only while the user has fewer than MANAGESIEVE_MAX_SCRIPTS. */
static int put(struct store *st, int64_t user, struct job *j)
{
    char *old = NULL;
    size_t old_len;
    int rc = store_sieve_get(st, user, j->name, &old, &old_len);
    free(old);
    if (rc == ERR_NOTFOUND) {
        int64_t count = 0, bytes = 0;
        rc = store_sieve_usage(st, user, &count, &bytes);
        if (rc == 0 && count >= MANAGESIEVE_MAX_SCRIPTS)
            rc = ERR_LIMIT;
    }
    return rc != 0 ? rc : store_sieve_put(st, user, j->name, j->text, j->len);
}

static int run(struct store *st, struct job *j)
{
    int64_t user = 0;
    int rc = store_user_lookup(st, j->user, &user);
    if (rc != 0)
        return rc == ERR_NOTFOUND ? ERR_DB : rc; /* the user went away: a temporary failure */
    switch (j->op) {
    case MANAGESIEVE_LIST: return store_sieve_list(st, user, list_cb, j);
    case MANAGESIEVE_GET: return store_sieve_get(st, user, j->name, &j->out, &j->out_len);
    case MANAGESIEVE_PUT: return put(st, user, j);
    case MANAGESIEVE_ACTIVATE: return store_sieve_activate(st, user, j->name);
    case MANAGESIEVE_DELETE: return store_sieve_delete(st, user, j->name);
    case MANAGESIEVE_RENAME: return store_sieve_rename(st, user, j->name, j->name2);
    }
    return ERR_DB;
}

static void result(void *vj)
{
    struct job *j = vj;
    if (j->rc != 0 && j->rc != ERR_NOTFOUND && j->rc != ERR_EXISTS && j->rc != ERR_BUSY_STATE &&
        j->rc != ERR_LIMIT)
        log_err("managesieve " LOG_ID " %s: store request failed: %s",
                LOG_IDV(managesieve_session_id(j->s)), j->user, err_str(j->rc));
    else if (j->rc == 0 && j->op != MANAGESIEVE_LIST && j->op != MANAGESIEVE_GET)
        log_info("managesieve " LOG_ID " %s: %s %s", LOG_IDV(managesieve_session_id(j->s)),
                 j->user,
                 j->op == MANAGESIEVE_PUT        ? "stored"
                 : j->op == MANAGESIEVE_ACTIVATE ? "activated"
                 : j->op == MANAGESIEVE_DELETE   ? "deleted"
                                                 : "renamed",
                 j->name[0] ? j->name : "(none)");
    struct managesieve_result r = {j->rc, j->out, j->out_len, j->scripts, j->n};
    struct conn *c = j->conn;
    managesieve_session_request_done(j->s, &r);
    job_free(j);
    conn_resume(c);
}

static void work(void *tctx, void *vj)
{
    struct job *j = vj;
    j->rc = tctx ? run(tctx, j) : ERR_DB;
    loop_post_send(j->w->host.post, result, j);
}

static void request(void *vc, struct managesieve_session *s, const struct managesieve_req *r)
{
    struct conn *c = vc;
    struct job *j = xcalloc(1, sizeof *j);
    j->conn = c;
    j->s = s;
    j->w = conn_worker(c);
    j->op = r->op;
    snprintf(j->user, sizeof j->user, "%s", r->user);
    j->name = xstrdup(r->name ? r->name : "");
    j->name2 = r->name2 ? xstrdup(r->name2) : NULL;
    if (r->text) {
        j->text = xmalloc(r->len + 1);
        memcpy(j->text, r->text, r->len);
        j->text[r->len] = '\0';
        j->len = r->len;
    }
    pool_submit(j->w->d->store_pool, work, j);
}

static const struct managesieve_session_ops ops = {auth, request};

const struct managesieve_session_ops *managesieve_store_ops(void)
{
    return &ops;
}
