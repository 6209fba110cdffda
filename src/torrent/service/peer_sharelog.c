/*
 * torrent/service/peer_sharelog — the seed's share windows (torrent/share.h) in the debug
 * log: the estimate C, what is lent, and for each unchoked peer what reached it, its cap,
 * its requests queued with us, and its TCP flow as the kernel sees it (TCP_INFO: congestion
 * window, round trip, and the microseconds the flow spent limited by the peer's receive
 * window or our send buffer, both counted since the connection opened). Nothing is asked of
 * the kernel unless the log level is debug.
 */
#include "torrent/service/peer_int.h"

#include "core/log.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

static void flow_info(const struct pconn *pc, char *buf, size_t len)
{
    struct tcp_info ti = {0};
    socklen_t n = sizeof ti;
    if (!pc || pc->fd < 0 || getsockopt(pc->fd, IPPROTO_TCP, TCP_INFO, &ti, &n) < 0) {
        snprintf(buf, len, "no tcp_info");
        return;
    }
    snprintf(buf, len,
             "cwnd %u mss %u ssthresh %u rtt %u/%u us unacked %u retrans %u "
             "busy %llu rwnd_limited %llu sndbuf_limited %llu us",
             ti.tcpi_snd_cwnd, ti.tcpi_snd_mss, ti.tcpi_snd_ssthresh, ti.tcpi_rtt, ti.tcpi_rttvar,
             ti.tcpi_unacked, ti.tcpi_total_retrans, (unsigned long long)ti.tcpi_busy_time,
             (unsigned long long)ti.tcpi_rwnd_limited, (unsigned long long)ti.tcpi_sndbuf_limited);
}

void peer_share_log(void *vit, const struct tor_share_log *l)
{
    if (log_get_level() < LOG_DEBUG)
        return;
    struct tor_item *it = vit;
    log_debug("torrent %.8s: share: window %llu ms, C %llu B/s, spare %llu, join cap %llu, "
              "%zu peers, %u slots",
              it->hex, (unsigned long long)l->dt_ms, (unsigned long long)l->capacity,
              (unsigned long long)l->spare, (unsigned long long)l->join_cap, l->n, l->slots);
    for (size_t i = 0; i < l->n; i++) {
        const struct tor_share_log_peer *p = &l->p[i];
        char fi[256];
        flow_info(p->conn, fi, sizeof fi);
        log_debug("torrent %.8s: share: peer %llu sent %llu B/s cap %llu next %llu held %d "
                  "idle %d queued %zu outq %zu %s",
                  it->hex, (unsigned long long)p->id,
                  (unsigned long long)(p->sent * 1000 / (l->dt_ms ? l->dt_ms : 1)),
                  (unsigned long long)p->cap, (unsigned long long)p->next, p->held, p->idle,
                  p->queued, p->unacked, fi);
    }
}
