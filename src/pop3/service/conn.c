/*
 * pop3 service, conn — the POP3 engine (pop3/session.h) as a proto_ops for net/conn.c: makes
 * the session from the listener's [pop3] or [pop3s] config; the calls are forwarded by
 * net/line_proto.h. The
 * engine's ops context is a per-connection struct pop3_store (ops.c).
 */
#include "pop3/service/service_int.h"

#include "host/host.h"
#include "host/login.h"
#include "net/line_proto.h"

#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pop3_conn {
    struct pop3_session *s;
    struct pop3_store *ps;
};

static const struct pop3_io pop3_conn_io = {conn_write, conn_starttls};

#define POP3_SESSION(eng) (((const struct pop3_conn *)(eng))->s)
NET_LINE_FORWARDERS(pop3, POP3_SESSION)
NET_LINE_WRITABLE(pop3, POP3_SESSION)

static void *pop3_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct daemon *d = conn_worker(c)->d;
    const struct config_access *cfg = l->svc_cfg;
    struct pop3_server_config pcfg = {
        .stls = d->tls && !l->implicit_tls,
        .plaintext_ok = host_plaintext_ok(cfg, peer),
        .max_errors = cfg->svc.max_errors,
    };
    struct session_peer p = {peer, l->addr_text, l->implicit_tls};
    struct pop3_conn *pc = xcalloc(1, sizeof *pc);
    pc->ps = pop3_store_new(c);
    pc->s = pop3_session_new(&pcfg, &pop3_conn_io, c, pop3_store_ops(), pc->ps, &p, id);
    return pc;
}

static void pop3_refuse(void *eng, enum conn_refusal why)
{
    struct pop3_conn *pc = eng;
    char reply[128];
    snprintf(reply, sizeof reply, "-ERR [SYS/TEMP] Too many connections%s",
             why == CONN_REFUSE_PER_IP ? " from your address" : "");
    pop3_session_refuse(pc->s, reply);
}

static void pop3_free(void *eng)
{
    struct pop3_conn *pc = eng;
    pop3_session_free(pc->s); /* closes an open message through the ops first */
    pop3_store_free(pc->ps);
    free(pc);
}

const struct proto_ops pop3_proto = {
    .name = "pop3",
    .create = pop3_create,
    .refuse = pop3_refuse,
    .free = pop3_free,
    NET_LINE_PROTO_OPS(pop3),
    .writable = pop3_line_writable,
    .nodelay = true, /* a reply's last segment never waits for the client's delayed ACK */
};
