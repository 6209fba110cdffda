/* login — see login.h: the shared password check on the auth pool, with the throttle. */
#include "host/login.h"

#include "host/confgen.h"

#include "host/host.h"

#include "auth/login.h"
#include "auth/password.h"
#include "auth/throttle.h"
#include "core/err.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "net/acl.h"
#include "store/store.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct login_job {
    struct conn *conn;
    host_login_cb cb;
    void *arg;
    char user[256];
    char pass[256];
    bool ok;
    struct event *delay;
};

static void login_finish(struct login_job *j)
{
    struct conn *c = j->conn;
    if (j->delay)
        event_free(j->delay);
    j->cb(j->arg, j->ok, j->user);
    explicit_bzero(j, sizeof *j);
    free(j);
    conn_resume(c);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Back on the worker: count the result and answer (the throttle's delay came before the hash). */
static void login_result(void *vj)
{
    struct login_job *j = vj;
    struct worker *w = conn_worker(j->conn);
    const char *peer = conn_peer(j->conn);
    if (j->ok) {
        throttle_success(w->d->throttle, peer, j->user);
        conn_logged_in(j->conn); /* the login timeout and the pre-login cap no longer apply */
    } else {
        throttle_failure(w->d->throttle, peer, j->user, now_ms());
    }
    login_finish(j);
}

static void login_work(void *tctx, void *vj)
{
    struct login_job *j = vj;
    struct store *st = tctx;
    struct worker *w = conn_worker(j->conn);
    char *hash = NULL;
    int rc = st && j->user[0] ? store_user_get_hash(st, j->user, &hash) : ERR_NOTFOUND;
    /* Verify against a dummy hash for unknown users so timing does not reveal them. */
    j->ok = password_verify(j->pass, hash ? hash : w->d->dummy_hash) == 0 && rc == 0;
    free(hash);
    explicit_bzero(j->pass, sizeof j->pass);
    loop_post_send(w->host.post, login_result, j);
}

/* The throttle's delay is over: hash now. */
static void on_delay(evutil_socket_t fd, short what, void *vj)
{
    struct login_job *j = vj;
    event_free(j->delay);
    j->delay = NULL;
    pool_submit(conn_worker(j->conn)->d->auth_pool, login_work, j);
}

void host_login(struct conn *c, const char *user, const char *pass, host_login_cb cb, void *arg)
{
    struct worker *w = conn_worker(c);
    struct login_job *j = xcalloc(1, sizeof *j);
    j->conn = c;
    j->cb = cb;
    j->arg = arg;
    if (login_canonical(user, host_config(w)->primary_domain, j->user, sizeof j->user) < 0)
        j->user[0] = '\0';
    snprintf(j->pass, sizeof j->pass, "%s", pass);
    /* Wait before hashing, not before answering: a guess costs its delay however many
     * connections carry guesses at once. */
    unsigned ms = throttle_begin(w->d->throttle, conn_peer(c), j->user, now_ms());
    if (ms == 0)
        return pool_submit(w->d->auth_pool, login_work, j);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    j->delay = evtimer_new(w->host.base, on_delay, j);
    evtimer_add(j->delay, &tv);
}

bool host_plaintext_ok(const struct config_access *cfg, const char *peer)
{
    return cfg->plaintext_auth == PLAINTEXT_AUTH_YES ||
           (cfg->plaintext_auth == PLAINTEXT_AUTH_LOOPBACK && net_addr_is_loopback(peer));
}
