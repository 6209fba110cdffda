/*
 * managesieve service, conn — the ManageSieve engine as a proto_ops for net/conn.c: the
 * session is made from the listener's [managesieve] config; the calls are forwarded by
 * net/line_proto.h. The engine's ops context is the connection.
 */
#include "managesieve/service/service_int.h"

#include "host/host.h"
#include "host/login.h"
#include "net/line_proto.h"
#include "sieve/sieve.h"

#include "core/xmalloc.h"

#include <stdlib.h>

static const struct managesieve_io managesieve_conn_io = {conn_write, conn_starttls};

#define MANAGESIEVE_SESSION(eng) ((struct managesieve_session *)(eng))
NET_LINE_FORWARDERS(managesieve, MANAGESIEVE_SESSION)

static void *managesieve_create(struct conn *c, const struct listener *l, uint64_t id,
                                const char *peer)
{
    struct daemon *d = conn_worker(c)->d;
    const struct config_access *cfg = l->svc_cfg;
    struct sieve_limits lim;
    sieve_limits_default(&lim);
    struct managesieve_server_config mcfg = {
        .starttls = d->tls != NULL && !l->implicit_tls,
        .plaintext_ok = host_plaintext_ok(cfg, peer),
        .max_errors = cfg->svc.max_errors,
        .max_script_size = lim.max_script_size,
        .max_scripts = MANAGESIEVE_MAX_SCRIPTS,
        .max_redirects = lim.max_redirects,
    };
    struct managesieve_peer p = {peer, l->implicit_tls};
    return managesieve_session_new(&mcfg, &managesieve_conn_io, c, managesieve_store_ops(), c, &p,
                                   id);
}

static void managesieve_refuse(void *eng, enum conn_refusal why)
{
    managesieve_session_refuse(eng, why == CONN_REFUSE_PER_IP
                                        ? "Too many connections from your address"
                                        : "Too many connections");
}

static void managesieve_free(void *eng)
{
    managesieve_session_free(eng);
}

const struct proto_ops managesieve_proto = {
    .name = "managesieve",
    .create = managesieve_create,
    .refuse = managesieve_refuse,
    .free = managesieve_free,
    NET_LINE_PROTO_OPS(managesieve),
    .nodelay = true, /* a reply's last segment never waits for the client's delayed ACK */
};
