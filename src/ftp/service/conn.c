/*
 * ftp service, conn — the FTP engine (ftp/session.h) as a proto_ops for net/conn.c: makes the
 * session from the listener's section ([ftp]: AUTH TLS offered; [ftps]: TLS from the first
 * byte) and the shared [ftp] settings, and frees its data connection, tree and per-user
 * place with it. A transfer's disk job still on the pool when the connection goes keeps the
 * struct ftp_conn (orphaned) until it returns.
 */
#include "ftp/service/service_int.h"

#include "ftp/service/service.h"

#include "host/host.h"
#include "host/login.h"

#include "core/log.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ftp_io ftp_conn_io = {conn_write, conn_starttls};

const struct config_ftp *ftp_config(const struct config *cfg)
{
    return config_section(cfg, "ftp");
}

static void *ftp_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct worker *w = conn_worker(c);
    struct daemon *d = w->d;
    const struct config_access *acc = l->svc_cfg; /* [ftp] starts with one, [ftps] is one */
    struct ftp_state *st = host_state(d, &ftp_service);
    struct ftp_settings *set = ftp_settings_get(st); /* kept by the session (a reload) */
    const struct config_ftp *fcfg = set->cfg;
    struct ftp_server_config scfg = {
        .tls_available = d->tls && !l->implicit_tls,
        .plaintext_ok = !fcfg->require_tls && host_plaintext_ok(acc, peer),
        .require_prot = fcfg->require_tls,
        .anonymous = fcfg->anonymous_root != NULL,
        .max_errors = acc->svc.max_errors,
        .max_login_failures = fcfg->max_login_failures,
    };
    if (fcfg->anonymous_upload)
        snprintf(scfg.anon_upload, sizeof scfg.anon_upload, "%s", fcfg->anonymous_upload);
    struct ftp_conn *fc = xcalloc(1, sizeof *fc);
    fc->c = c;
    fc->w = w;
    fc->st = st;
    fc->set = set;
    fc->id = id;
    snprintf(fc->peer, sizeof fc->peer, "%s", peer);
    /* where the client reached us: a passive socket binds (and PASV answers) there, also on a
     * wildcard listener */
    if (conn_local_addr(c, fc->local, sizeof fc->local) < 0)
        fc->local[0] = '\0';
    fc->root_fd = fc->pasv_fd = fc->data_fd = -1;
    struct ftp_peer p = {peer, l->addr_text, l->implicit_tls};
    fc->s = ftp_session_new(&scfg, &ftp_conn_io, c, ftp_conn_ops(), fc, &p, id);
    ftp_show_register(fc->st, fc);
    ftp_show_update(fc);
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
    ftp_show_unregister(fc->st, fc);
    ftp_conn_release(fc); /* a transfer's disk job still on the pool is told to close */
    ftp_session_free(fc->s);
    fc->s = NULL;
    fc->c = NULL;
    if (fc->jobs > 0) {
        fc->orphan = true; /* the last job's return frees fc (xfer.c) */
        return;
    }
    ftp_conn_free(fc);
}

void ftp_conn_free(struct ftp_conn *fc)
{
    ftp_settings_put(fc->set);
    free(fc);
}

#define S(eng) (((struct ftp_conn *)(eng))->s)

static void ftp_start(void *eng)
{
    ftp_session_start(S(eng));
}

static size_t ftp_feed(void *eng, const char *p, size_t n)
{
    struct ftp_conn *fc = eng;
    size_t used = ftp_session_feed(fc->s, p, n);
    ftp_show_update(fc);
    return used;
}

static bool ftp_busy(const void *eng)
{
    const struct ftp_conn *fc = eng;
    return ftp_session_busy(fc->s);
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
    struct ftp_conn *fc = eng;
    ftp_session_timeout(fc->s);
    /* RFC 959 leaves the control connection quiet during a transfer: the idle timer passes
     * then, and reading goes on so that ABOR, STAT and QUIT are heard at once. */
    if (!ftp_session_closing(fc->s) && ftp_session_transferring(fc->s)) {
        log_info("ftp " LOG_ID " idle on the control connection during a transfer",
                  LOG_IDV(fc->id));
        conn_keep_reading(fc->c);
    }
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
    .nodelay = true, /* "150" then "226" never wait for the client's delayed ACK (Nagle) */
};
