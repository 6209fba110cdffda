/*
 * torrent/service/peer_dht — the DHT node (torrent/dht.h, BEP 5) of the peer service, when
 * [torrent] dht = yes: a UDP socket on the first IPv4 listen address and the same port as
 * the peers' TCP socket (the port BEP 5 peers expect), read on worker 0 by net/udp_batch like
 * every UDP server of Pigeon, answers sent with sendto. It joins the DHT through the nodes
 * of dht_bootstrap (retried every 30 s while the routing table is nearly empty), and for
 * each torrent that is not private (BEP 27) looks up peers and announces our port: at
 * once, then every 15 minutes, every minute while a download has no peer. Peers found join
 * the torrent's list to dial, as a tracker's would.
 */
#include "torrent/service/peer_int.h"

#include "core/listen.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "net/udp_batch.h"
#include "torrent/dht.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BOOT_RETRY_MS 30000
#define ANNOUNCE_MS (15 * 60 * 1000)
#define STARVING_MS 60000

/* dht_bootstrap = 192.0.2.1:6881 198.51.100.7:6881 (numeric IPv4: no DNS at start-up) */
int peer_dht_parse_boot(const char *v, void *sec, void *field, const char **why)
{
    struct peer_config *c = sec;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *tok = strtok_r(buf, " \t,", &save); tok;
         tok = strtok_r(NULL, " \t,", &save)) {
        struct conf_listen l;
        struct in_addr ip;
        if (conf_parse_listen(tok, &l, why) < 0)
            return -1;
        if (inet_pton(AF_INET, l.host, &ip) != 1 || atoi(l.port) < 1) {
            *why = "dht_bootstrap takes IPv4 address:port pairs";
            return -1;
        }
        if (c->ndht_boot == PEER_DHT_MAX_BOOT) {
            *why = "at most 8 dht_bootstrap nodes";
            return -1;
        }
        struct dht_addr *a = &c->dht_boot[c->ndht_boot++];
        memcpy(a->ip, &ip, 4);
        a->port = (uint16_t)atoi(l.port);
    }
    return 0;
}

/* ---- the engine's outside ---- */

static void d_send(void *vsvc, const struct dht_addr *to, const void *p, size_t n)
{
    struct peer_svc *svc = vsvc;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(to->port)};
    memcpy(&sa.sin_addr, to->ip, 4);
    /* a full socket buffer loses the datagram, as the network could: the engine retries */
    (void)sendto(svc->dht_fd, p, n, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
}

static void d_found(void *vsvc, const uint8_t ih[20], const struct dht_addr *peers, size_t n)
{
    struct peer_svc *svc = vsvc;
    struct tor_item *it = peer_item_find(svc, ih);
    if (!it || it->meta.priv)
        return;
    struct tor_pex_addr a[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (peers[i].port == 0)
            continue;
        memset(&a[k], 0, sizeof a[k]);
        memcpy(a[k].ip, peers[i].ip, 4);
        a[k].family = AF_INET;
        a[k].port = peers[i].port;
        if (++k == 64) {
            peer_found(it, a, k);
            k = 0;
        }
    }
    if (k)
        peer_found(it, a, k);
    log_info("torrent %.8s: the DHT gave %zu peer address(es)", it->hex, n);
}

static void d_log(void *vsvc, const char *what)
{
    log_info("torrent: dht: %s", what);
}

static const struct dht_ops dht_ops = {.send = d_send, .found = d_found, .log = d_log};

static size_t on_datagram(void *vsvc, int fd, const uint8_t *pkt, size_t len,
                          const struct sockaddr *peer, socklen_t peer_len, uint8_t *out, size_t cap)
{
    struct peer_svc *svc = vsvc;
    if (peer->sa_family != AF_INET || peer_len < sizeof(struct sockaddr_in))
        return 0;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;
    struct dht_addr from = {.port = ntohs(sin->sin_port)};
    memcpy(from.ip, &sin->sin_addr, 4);
    if (from.port == 0)
        return 0;
    dht_input(svc->dht, &from, pkt, len, peer_now_ms());
    return 0; /* answers went out through d_send */
}

/* ---- lifecycle ---- */

int peer_dht_open(struct peer_svc *svc)
{
    svc->dht_fd = -1;
    if (!svc->cfg->dht)
        return 0;
    const struct conf_service *s = &svc->cfg->svc;
    for (unsigned i = 0; i < s->n_listen && svc->dht_fd < 0; i++) {
        struct in_addr ip;
        if (inet_pton(AF_INET, s->listen[i].host, &ip) != 1)
            continue;
        struct str err = STR_INIT;
        svc->dht_fd =
            listen_bind(s->listen[i].host, s->listen[i].port, SOCK_DGRAM, "torrent dht", &err);
        if (svc->dht_fd < 0) {
            log_err("%s", str_cstr(&err));
            str_clear(&err);
            return -1;
        }
        log_info("listening on %s/udp (torrent DHT node)", s->listen[i].text);
    }
    if (svc->dht_fd < 0) {
        log_err("torrent: dht = yes needs an IPv4 listen address (BEP 5 is IPv4)");
        return -1;
    }
    uint8_t id[20], secret[20];
    if (RAND_bytes(id, 20) != 1 || RAND_bytes(secret, 20) != 1)
        return -1;
    svc->dht = dht_new(id, secret, &dht_ops, svc, peer_now_ms());
    return 0;
}

void peer_dht_attach(struct peer_svc *svc)
{
    if (svc->dht)
        svc->dht_udp = udp_batch_new(svc->w->host.base, &svc->dht_fd, 1, on_datagram, svc);
}

void peer_dht_detach(struct peer_svc *svc)
{
    udp_batch_free(svc->dht_udp);
    svc->dht_udp = NULL;
}

void peer_dht_close(struct peer_svc *svc)
{
    dht_free(svc->dht);
    svc->dht = NULL;
    if (svc->dht_fd >= 0)
        close(svc->dht_fd);
    svc->dht_fd = -1;
}

/* Each running torrent that may use the DHT, when its time came: a lookup and announce. */
static void lookups(struct peer_svc *svc, uint64_t now)
{
    for (struct tor_item *it = svc->items; it; it = it->next) {
        bool running =
            (it->state == ITEM_ACTIVE && it->swarm) || (it->state == ITEM_METADATA && it->fetch);
        if (!running || it->meta.priv || now < it->dht_next)
            continue;
        if (dht_get_peers(svc->dht, it->meta.info_hash, svc->port, now) < 0)
            return; /* every lookup slot busy: the rest wait for the next second */
        bool starving = it->swarm
                            ? !tor_swarm_complete(it->swarm) && tor_swarm_npeers(it->swarm) == 0
                            : tor_mfetch_npeers(it->fetch) == 0;
        it->dht_next = now + (starving ? STARVING_MS : ANNOUNCE_MS);
    }
}

void peer_dht_house(struct peer_svc *svc, uint64_t now)
{
    if (!svc->dht)
        return;
    dht_tick(svc->dht, now);
    size_t nodes, hashes, peers, running;
    dht_stats(svc->dht, &nodes, &hashes, &peers, &running);
    if (nodes < 2 && svc->cfg->ndht_boot &&
        (svc->dht_boot_at == 0 || now - svc->dht_boot_at >= BOOT_RETRY_MS)) {
        svc->dht_boot_at = now;
        for (unsigned i = 0; i < svc->cfg->ndht_boot; i++)
            dht_bootstrap(svc->dht, &svc->cfg->dht_boot[i], now);
    }
    if (nodes && !svc->dht_joined)
        log_info("torrent: joined the DHT (%zu node(s) known)", nodes);
    svc->dht_joined = nodes > 0;
    if (nodes)
        lookups(svc, now);
}
