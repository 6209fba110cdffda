/*
 * ftp service, conn — the FTP engine (ftp/session.h) as a proto_ops for net/conn.c: makes the
 * session from the listener's section ([ftp]: AUTH TLS offered; [ftps]: TLS from the first
 * byte) and the shared [ftp] settings, and frees its data connection, tree and per-user
 * place with it. The connection stays while a stored file's fsync is on the pool (busy).
 */
#include "ftp/service/service_int.h"

#include "ftp/service/service.h"

#include "host/host.h"
#include "host/login.h"

#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ftp_io ftp_conn_io = {conn_write, conn_starttls};

const struct config_ftp *ftp_config(const struct config *cfg)
{
    return config_section(cfg, "ftp");
}

/* The host part of a listener's "127.0.0.1:21" / "[::1]:21". */
static void listener_host(const char *text, char *out, size_t cap)
{
    const char *p = text;
    size_t n = strlen(text);
    const char *colon = strrchr(text, ':');
    if (colon)
        n = (size_t)(colon - text);
    if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
        p++;
        n -= 2;
    }
    snprintf(out, cap, "%.*s", (int)n, p);
}

static void *ftp_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct worker *w = conn_worker(c);
    struct daemon *d = w->d;
    const struct config_access *acc = l->svc_cfg; /* [ftp] starts with one, [ftps] is one */
    const struct config_ftp *fcfg = ftp_config(&d->cfg);
    struct ftp_server_config scfg = {
        .tls_available = d->tls && !l->implicit_tls,
        .plaintext_ok = !fcfg->require_tls && host_plaintext_ok(acc, peer),
        .require_prot = fcfg->require_tls,
        .anonymous = fcfg->anonymous_root != NULL,
        .max_errors = acc->svc.max_errors,
        .max_login_failures = fcfg->max_login_failures,
    };
    struct ftp_conn *fc = xcalloc(1, sizeof *fc);
    fc->c = c;
    fc->w = w;
    fc->st = host_state(d, &ftp_service);
    fc->id = id;
    snprintf(fc->peer, sizeof fc->peer, "%s", peer);
    listener_host(l->addr_text, fc->local, sizeof fc->local);
    fc->root_fd = fc->pasv_fd = fc->data_fd = -1;
    struct ftp_peer p = {peer, l->addr_text, l->implicit_tls};
    fc->s = ftp_session_new(&scfg, &ftp_conn_io, c, ftp_conn_ops(), fc, &p, id);
    /* "150" then "226" would wait for the client's delayed ACK of the first (Nagle). */
    conn_set_nodelay(c);
    return fc;
}

static void ftp_refuse(void *eng, enum conn_refusal why)
{
    struct ftp_conn *fc = eng;
    ftp_session_refuse(fc->s, why == CONN_REFUSE_PER_IP
                                  ? "421 Too many connections from your address."
                                  : "421 Too many connections; try again later.");
}

static void ftp_free(void *eng)
{
    struct ftp_conn *fc = eng;
    ftp_conn_release(fc);
    ftp_session_free(fc->s);
    free(fc);
}

#define S(eng) (((struct ftp_conn *)(eng))->s)

static void ftp_start(void *eng)
{
    ftp_session_start(S(eng));
}

static size_t ftp_feed(void *eng, const char *p, size_t n)
{
    return ftp_session_feed(S(eng), p, n);
}

static bool ftp_busy(const void *eng)
{
    const struct ftp_conn *fc = eng;
    return ftp_session_busy(fc->s) || fc->jobs > 0;
}

static bool ftp_closing(const void *eng)
{
    return ftp_session_closing(S(eng));
}

static void ftp_tls_started(void *eng, const char *version, const char *cipher)
{
    ftp_session_tls_started(S(eng), version, cipher);
}

static void ftp_timeout(void *eng)
{
    ftp_session_timeout(S(eng));
}

static void ftp_shutdown(void *eng)
{
    ftp_session_shutdown(S(eng));
}

const struct proto_ops ftp_proto = {
    .name = "ftp",
    .create = ftp_create,
    .start = ftp_start,
    .refuse = ftp_refuse,
    .feed = ftp_feed,
    .busy = ftp_busy,
    .closing = ftp_closing,
    .tls_started = ftp_tls_started,
    .timeout = ftp_timeout,
    .shutdown = ftp_shutdown,
    .free = ftp_free,
};
