/*
 * pop3 service, conn — the POP3 engine (pop3/session.h) as a proto_ops for net/conn.c: makes
 * the session from the listener's [pop3] or [pop3s] config and forwards the calls. The
 * engine's ops context is a per-connection struct pop3_store (ops.c).
 */
#include "pop3/service/service_int.h"

#include "host/host.h"

#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pop3_conn {
    struct pop3_session *s;
    struct pop3_store *ps;
};

static const struct pop3_io pop3_conn_io = {conn_write, conn_starttls};

/* Loopback: 127.0.0.0/8 or ::1 (conn.c writes IPv4-mapped addresses as plain IPv4). */
static bool peer_is_loopback(const char *peer)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, peer, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, peer, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static void *pop3_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct daemon *d = conn_worker(c)->d;
    const struct config_access *cfg = l->svc_cfg;
    bool plaintext = cfg->plaintext_auth == PLAINTEXT_AUTH_YES ||
                     (cfg->plaintext_auth == PLAINTEXT_AUTH_LOOPBACK && peer_is_loopback(peer));
    struct pop3_server_config pcfg = {
        .stls = d->tls && !l->implicit_tls,
        .plaintext_ok = plaintext,
        .max_errors = cfg->svc.max_errors,
    };
    struct pop3_peer p = {peer, l->addr_text, l->implicit_tls};
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

static void pop3_start(void *eng)
{
    pop3_session_start(((struct pop3_conn *)eng)->s);
}

static size_t pop3_feed(void *eng, const char *p, size_t n)
{
    return pop3_session_feed(((struct pop3_conn *)eng)->s, p, n);
}

static bool pop3_busy(const void *eng)
{
    return pop3_session_busy(((const struct pop3_conn *)eng)->s);
}

static bool pop3_closing(const void *eng)
{
    return pop3_session_closing(((const struct pop3_conn *)eng)->s);
}

static void pop3_tls_started(void *eng, const char *version, const char *cipher)
{
    pop3_session_tls_started(((struct pop3_conn *)eng)->s, version, cipher);
}

static void pop3_timeout(void *eng)
{
    pop3_session_timeout(((struct pop3_conn *)eng)->s);
}

static void pop3_shutdown(void *eng)
{
    pop3_session_shutdown(((struct pop3_conn *)eng)->s);
}

static void pop3_free(void *eng)
{
    struct pop3_conn *pc = eng;
    pop3_session_free(pc->s); /* closes an open message through the ops first */
    pop3_store_free(pc->ps);
    free(pc);
}

static void pop3_writable(void *eng)
{
    pop3_session_writable(((struct pop3_conn *)eng)->s);
}

const struct proto_ops pop3_proto = {
    .name = "pop3",
    .create = pop3_create,
    .start = pop3_start,
    .refuse = pop3_refuse,
    .feed = pop3_feed,
    .busy = pop3_busy,
    .closing = pop3_closing,
    .tls_started = pop3_tls_started,
    .timeout = pop3_timeout,
    .shutdown = pop3_shutdown,
    .free = pop3_free,
    .writable = pop3_writable,
};
