/*
 * smtp service, conn — the SMTP engine (smtp/session.h) as a proto_ops for net/conn.c: makes the
 * session from the listener's [smtp], [submission] or [submissions] config; the calls are forwarded by net/line_proto.h.
 */
#include "smtp/service/service_int.h"

#include "host/host.h"
#include "net/line_proto.h"

#include <stdio.h>

static const struct smtp_io smtp_conn_io = {conn_write, conn_starttls, conn_close_hint};

/* The connection's engine pointer is the session itself. */
#define SMTP_SESSION(eng) ((struct smtp_session *)(eng))
NET_LINE_FORWARDERS(smtp, SMTP_SESSION)

static void *smtp_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct daemon *d = conn_worker(c)->d;
    const struct config_smtp *cfg = l->svc_cfg;
    struct smtp_server_config scfg = {
        .hostname = d->cfg.hostname,
        .submission = cfg->submission,
        .starttls = cfg->starttls && d->tls && !l->implicit_tls, /* 465: TLS already */
        .auth = cfg->auth,
        .max_message_size = cfg->max_message_size,
        .max_recipients = cfg->max_recipients,
        .max_errors = cfg->svc.max_errors,
        .check_sender = cfg->spf != CONFIG_SPF_OFF,
        .reject_bare_line_ends = cfg->reject_bare_line_ends,
    };
    struct session_peer p = {peer, l->addr_text, l->implicit_tls};
    return smtp_session_new(&scfg, &smtp_conn_io, c, smtp_store_ops(), c, &p, id);
}

static void smtp_refuse(void *eng, enum conn_refusal why)
{
    char reply[128];
    snprintf(reply, sizeof reply, "421 4.7.0 Too many connections%s",
             why == CONN_REFUSE_PER_IP ? " from your address" : "");
    smtp_session_refuse(eng, reply);
}

static void smtp_free(void *eng)
{
    smtp_session_free(eng);
}

const struct proto_ops smtp_proto = {
    .name = "smtp",
    .create = smtp_create,
    .refuse = smtp_refuse,
    .free = smtp_free,
    NET_LINE_PROTO_OPS(smtp),
    .nodelay = true, /* a reply's last segment never waits for the client's delayed ACK */
};
