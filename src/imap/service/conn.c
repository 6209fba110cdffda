/*
 * imap service, conn — the IMAP engine (imap/session.h) as a proto_ops for net/conn.c, and
 * the per-worker registry of IMAP sessions that mailbox-change notices are delivered through
 * (imap_notify, registered with host_on_mailbox_changed by service.c).
 */
#include "imap/service/service_int.h"

#include "imap/service/service.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "host/login.h"
#include "net/line_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct imap_conn {
    struct imap_conn *prev, *next; /* the worker's list (struct imap_worker_state) */
    struct conn *conn;
    struct worker *w;
    struct imap_session *s;
    struct imap_store *is;
};

static const struct imap_io imap_conn_io = {conn_write, conn_starttls, conn_compress};

#define IMAP_SESSION(eng) (((const struct imap_conn *)(eng))->s)
NET_LINE_FORWARDERS(imap, IMAP_SESSION)
NET_LINE_WRITABLE(imap, IMAP_SESSION)

static void *imap_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct worker *w = conn_worker(c);
    const struct config_access *cfg = l->svc_cfg;
    struct imap_server_config icfg = {
        .starttls = w->d->tls && !l->implicit_tls,
        .plaintext_ok = host_plaintext_ok(cfg, peer),
        .max_errors = cfg->svc.max_errors,
        .max_literal = cfg->max_literal_size,
    };
    struct session_peer p = {peer, l->addr_text, l->implicit_tls};
    struct imap_conn *ic = xcalloc(1, sizeof *ic);
    ic->conn = c;
    ic->w = w;
    ic->is = imap_store_new(c, id, cfg->max_connections_per_user);
    ic->s = imap_session_new(&icfg, &imap_conn_io, c, imap_store_ops(), ic->is, &p, id);
    imap_store_set_session(ic->is, ic->s);
    struct imap_worker_state *ws = host_worker_state(w, &imap_service);
    ic->next = ws->sessions;
    if (ic->next)
        ic->next->prev = ic;
    ws->sessions = ic;
    return ic;
}

static void imap_refuse(void *eng, enum conn_refusal why)
{
    struct imap_conn *ic = eng;
    imap_session_refuse(ic->s, why == CONN_REFUSE_PER_IP ? "Too many connections from your address"
                                                         : "Too many connections");
}

static void imap_free(void *eng)
{
    struct imap_conn *ic = eng;
    if (ic->prev)
        ic->prev->next = ic->next;
    else
        ((struct imap_worker_state *)host_worker_state(ic->w, &imap_service))->sessions = ic->next;
    if (ic->next)
        ic->next->prev = ic->prev;
    imap_session_free(ic->s);
    imap_store_free(ic->is);
    free(ic);
}

const struct proto_ops imap_proto = {
    .name = "imap",
    .create = imap_create,
    .refuse = imap_refuse,
    .free = imap_free,
    NET_LINE_PROTO_OPS(imap),
    .writable = imap_line_writable,
    .nodelay = true, /* a reply's last segment never waits for the client's delayed ACK */
};

/* ---- notices ---- */

static bool notice_matches(const struct host_change *nt, const struct imap_conn *ic)
{
    if (imap_store_origin(ic->is) == nt->origin)
        return false;
    int64_t selected = imap_store_selected(ic->is);
    if (nt->mailbox_id && nt->mailbox_id != selected && !imap_store_watch_all(ic->is))
        return false;
    if (nt->n == 0)
        return nt->mailbox_id != 0;
    int64_t uid = imap_store_user_id(ic->is);
    for (size_t i = 0; uid && i < nt->n; i++)
        if (nt->users[i] == uid)
            return true;
    return false;
}

void imap_notify(void *ctx, struct worker *w, const struct host_change *ch)
{
    struct imap_worker_state *ws = host_worker_state(w, &imap_service);
    for (struct imap_conn *ic = ws ? ws->sessions : NULL, *next; ic; ic = next) {
        next = ic->next;
        if (!notice_matches(ch, ic))
            continue;
        imap_session_notify(ic->s);
        conn_resume(ic->conn); /* may free ic (a session that closed), never next */
    }
}
