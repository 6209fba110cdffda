/*
 * xfr — transfers out on a TCP connection: the engine (dns/server) decided the transfer
 * and made its message stream; this writes it in bursts of XFR_BURST bytes, the next burst
 * when the connection's output has drained. See service_int.h.
 */
#include "core/log.h"
#include "dns/server/service/service_int.h"
#include "dns/service/tcp.h"

#define XFR_BURST (256 * 1024) /* bytes written before waiting for the socket to drain */

void dns_xfr_start(struct dns_tcp *t, struct dns_server_xfr *x, struct dns_zcfg *cfg)
{
    t->xfr = x;
    t->xfr_cfg = dns_zcfg_ref(cfg); /* its TSIG key lives there, also across a reload */
    dns_tcp_stream(t->m); /* the first burst at once, the next ones as the output drains */
}

void dns_xfr_abort(struct dns_tcp *t)
{
    dns_server_xfr_free(t->xfr);
    t->xfr = NULL;
    dns_zcfg_unref(t->xfr_cfg);
    t->xfr_cfg = NULL;
}

bool dns_xfr_pump(struct dns_tcp *t)
{
    struct dns_server_xfr *x = t->xfr;
    uint8_t *buf = t->dw->tcp_out;
    uint64_t now = dns_now_sec();
    size_t burst = 0, len;
    while (burst < XFR_BURST && (len = dns_server_xfr_next(x, now, buf, DNS_MSG_MAX)) > 0) {
        dns_tcp_send(t->m, buf, len);
        burst += len;
    }
    bool failed = dns_server_xfr_failed(x);
    if (!failed && !dns_xfrout_done(&x->out))
        return true;
    if (failed) {
        log_warn("dns: transfer to %s failed after %u messages", t->peer_text, x->out.nmsg);
        dns_tcp_close(t->m);
    } else {
        log_info("dns: transfer to %s done: %zu records in %u messages", t->peer_text,
                 x->out.nrecords, x->out.nmsg);
    }
    dns_xfr_abort(t);
    return false;
}
