/* torrent/tracker_udp — the UDP tracker protocol (BEP 15): see tracker_proto.h. */
#include "torrent/tracker_proto.h"

#include <openssl/sha.h>
#include <string.h>

#define UDP_PROTOCOL_ID 0x41727101980ull
enum { ACT_CONNECT = 0, ACT_ANNOUNCE = 1, ACT_SCRAPE = 2, ACT_ERROR = 3 };

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* A keyed hash of the address and the minute: valid for the minute it was given in and the
 * two after (BEP 15: usable for one minute, accepted for two). */
static uint64_t conn_id(const uint8_t secret[32], const struct tracker_addr *a, int64_t minute)
{
    uint8_t in[32 + 8 + 17], h[SHA256_DIGEST_LENGTH];
    memcpy(in, secret, 32);
    for (int i = 0; i < 8; i++)
        in[32 + i] = (uint8_t)((uint64_t)minute >> (8 * i));
    memcpy(in + 40, a->ip, 16);
    in[56] = a->v6;
    SHA256(in, sizeof in, h);
    return get64(h);
}

static bool conn_id_ok(const uint8_t secret[32], const struct tracker_addr *a, int64_t now,
                       uint64_t id)
{
    for (int64_t back = 0; back <= 2; back++)
        if (conn_id(secret, a, now / 60 - back) == id)
            return true;
    return false;
}

static size_t error_reply(uint8_t *out, uint32_t tid, const char *why)
{
    uint8_t *p = put32(put32(out, ACT_ERROR), tid);
    size_t n = strlen(why);
    memcpy(p, why, n);
    return 8 + n;
}

static size_t announce(struct tracker *t, const uint8_t *pkt, size_t n,
                       const struct tracker_addr *addr, int64_t now, uint32_t tid, uint8_t *out)
{
    if (n < 98)
        return error_reply(out, tid, "announce too short");
    struct tracker_announce a = {0};
    memcpy(a.info_hash, pkt + 16, 20);
    memcpy(a.peer_id, pkt + 36, 20);
    a.downloaded = get64(pkt + 56);
    a.left = get64(pkt + 64);
    a.uploaded = get64(pkt + 72);
    uint32_t ev = get32(pkt + 80);
    if (ev > 3)
        return error_reply(out, tid, "invalid event");
    static const enum tracker_event events[] = {TRACKER_NONE, TRACKER_COMPLETED, TRACKER_STARTED,
                                                TRACKER_STOPPED};
    a.event = events[ev];
    int32_t want = (int32_t)get32(pkt + 92);
    a.numwant = want;
    a.port = (uint16_t)(pkt[96] << 8 | pkt[97]);
    a.addr = *addr; /* the IP field is ignored: peers are their source address */
    if (a.port == 0)
        return error_reply(out, tid, "invalid port");
    /* room for the peers in one datagram */
    size_t each = addr->v6 ? 18 : 6, room = (TRACKER_UDP_MAX - 20) / each;
    if (a.numwant < 0 || (size_t)a.numwant > room)
        a.numwant = a.numwant < 0 ? -1 : (int32_t)room;
    static _Thread_local struct tracker_reply r;
    tracker_announce(t, &a, now, &r);
    if (r.failure)
        return error_reply(out, tid, r.failure);
    uint8_t *p = put32(put32(out, ACT_ANNOUNCE), tid);
    p = put32(put32(put32(p, r.interval), r.incomplete), r.complete);
    for (size_t i = 0; i < r.npeers && (size_t)(p - out) + each <= TRACKER_UDP_MAX; i++) {
        const struct tracker_peer_out *o = &r.peers[i];
        if (o->addr.v6 != addr->v6)
            continue; /* BEP 15: the address family of the request */
        memcpy(p, o->addr.ip, each - 2);
        p += each - 2;
        *p++ = (uint8_t)(o->port >> 8);
        *p++ = (uint8_t)o->port;
    }
    return (size_t)(p - out);
}

static size_t scrape(struct tracker *t, const uint8_t *pkt, size_t n,
                     const struct tracker_addr *addr, int64_t now, uint32_t tid, uint8_t *out)
{
    size_t count = (n - 16) / 20;
    if (count == 0 || (n - 16) % 20)
        return error_reply(out, tid, "scrape needs whole info-hashes");
    if (count > TRACKER_MAX_SCRAPE)
        return error_reply(out, tid, "too many info-hashes in one scrape");
    struct tracker_counts c[TRACKER_MAX_SCRAPE];
    const char *why = tracker_scrape(t, addr, (const uint8_t(*)[20])(pkt + 16), count, now, c);
    if (why)
        return error_reply(out, tid, why);
    uint8_t *p = put32(put32(out, ACT_SCRAPE), tid);
    for (size_t i = 0; i < count; i++)
        p = put32(put32(put32(p, c[i].complete), c[i].downloaded), c[i].incomplete);
    return (size_t)(p - out);
}

size_t tracker_udp_process(struct tracker *t, const uint8_t secret[32], const uint8_t *pkt,
                           size_t n, const struct tracker_addr *addr, int64_t now, uint8_t *out)
{
    if (n < 16)
        return 0;
    uint64_t cid = get64(pkt);
    uint32_t action = get32(pkt + 8), tid = get32(pkt + 12);
    if (action == ACT_CONNECT) {
        if (cid != UDP_PROTOCOL_ID)
            return error_reply(out, tid, "not the BitTorrent UDP tracker protocol");
        uint8_t *p = put32(put32(out, ACT_CONNECT), tid);
        uint64_t id = conn_id(secret, addr, now / 60);
        p = put32(put32(p, (uint32_t)(id >> 32)), (uint32_t)id);
        return 16;
    }
    if (action != ACT_ANNOUNCE && action != ACT_SCRAPE)
        return error_reply(out, tid, "unknown action");
    if (!conn_id_ok(secret, addr, now, cid))
        return error_reply(out, tid, "connection id expired or unknown: connect again");
    return action == ACT_ANNOUNCE ? announce(t, pkt, n, addr, now, tid, out)
                                  : scrape(t, pkt, n, addr, now, tid, out);
}
