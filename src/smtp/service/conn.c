/*
 * smtp service, conn — the SMTP engine (smtp/session.h) as a proto_ops for net/conn.c: makes the
 * session from the listener's [smtp], [submission] or [submissions] config and forwards the calls.
 */
#include "smtp/service/service_int.h"

#include "host/host.h"

#include <stdio.h>

static const struct smtp_io smtp_conn_io = {conn_write, conn_starttls, conn_close_hint};

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
    struct smtp_peer p = {peer, l->addr_text, l->implicit_tls};
    return smtp_session_new(&scfg, &smtp_conn_io, c, smtp_store_ops(), c, &p, id);
}

static void smtp_refuse(void *eng, enum conn_refusal why)
{
    char reply[128];
    snprintf(reply, sizeof reply, "421 4.7.0 Too many connections%s",
             why == CONN_REFUSE_PER_IP ? " from your address" : "");
    smtp_session_refuse(eng, reply);
}

static void smtp_start(void *eng)
{
    smtp_session_start(eng);
}

static size_t smtp_feed(void *eng, const char *p, size_t n)
{
    return smtp_session_feed(eng, p, n);
}

static bool smtp_busy(const void *eng)
{
    return smtp_session_busy(eng);
}

static bool smtp_closing(const void *eng)
{
    return smtp_session_closing(eng);
}

static void smtp_tls_started(void *eng, const char *version, const char *cipher)
{
    smtp_session_tls_started(eng, version, cipher);
}

static void smtp_timeout(void *eng)
{
    smtp_session_timeout(eng);
}

static void smtp_shutdown(void *eng)
{
    smtp_session_shutdown(eng);
}

static void smtp_free(void *eng)
{
    smtp_session_free(eng);
}

const struct proto_ops smtp_proto = {
    "smtp",       smtp_create, smtp_start,   smtp_refuse,   smtp_feed, smtp_busy,
    smtp_closing, smtp_tls_started, smtp_timeout, smtp_shutdown, smtp_free, NULL,
};
