/* torrent/tracker_client — see tracker_client.h. */
#include "torrent/tracker_client.h"

#include "torrent/bencode.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void put_bytes(struct str *out, const char *key, const uint8_t *b, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    str_appendf(out, "%s=", key);
    for (size_t i = 0; i < n; i++) {
        char c = (char)b[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            str_appendc(out, c);
        } else {
            char e[3] = {'%', hex[b[i] >> 4], hex[b[i] & 15]};
            str_append(out, e, 3);
        }
    }
}

void tor_announce_query(const struct tor_announce_req *q, struct str *out)
{
    static const char *const events[] = {"", "completed", "started", "stopped"};
    put_bytes(out, "info_hash", q->info_hash, 20);
    put_bytes(out, "&peer_id", q->peer_id, 20);
    str_appendf(out, "&port=%u&uploaded=%llu&downloaded=%llu&left=%llu&compact=1&numwant=%d",
                q->port, (unsigned long long)q->uploaded, (unsigned long long)q->downloaded,
                (unsigned long long)q->left, q->event == TOR_EV_STOPPED ? 0 : 50);
    if (q->event != TOR_EV_NONE)
        str_appendf(out, "&event=%s", events[q->event]);
}

static void add_peer(struct tor_announce_res *r, int family, const uint8_t *ip, uint16_t port)
{
    if (r->npeers >= TOR_ANNOUNCE_MAX_PEERS || port == 0)
        return;
    struct tor_peer_addr *a = &r->peers[r->npeers++];
    memset(a, 0, sizeof *a);
    a->family = family;
    memcpy(a->ip, ip, family == AF_INET ? 4 : 16);
    a->port = port;
}

static void compact(struct tor_announce_res *r, struct slice s, int family)
{
    size_t each = family == AF_INET ? 6 : 18;
    for (size_t i = 0; i + each <= s.len; i += each) {
        const uint8_t *p = (const uint8_t *)s.p + i;
        add_peer(r, family, p, (uint16_t)(p[each - 2] << 8 | p[each - 1]));
    }
}

static void dict_peers(struct tor_announce_res *r, const struct benc_doc *d, long list)
{
    for (long c = benc_first(d, list); c >= 0 && (size_t)c < d->t[list].next;
         c = (long)d->t[c].next) {
        struct slice ip;
        int64_t port;
        char text[64];
        uint8_t bin[16];
        if (!benc_dict_str(d, c, "ip", &ip) || !benc_dict_int(d, c, "port", &port) ||
            port <= 0 || port > 65535 || ip.len >= sizeof text)
            continue;
        memcpy(text, ip.p, ip.len);
        text[ip.len] = '\0';
        if (inet_pton(AF_INET, text, bin) == 1)
            add_peer(r, AF_INET, bin, (uint16_t)port);
        else if (inet_pton(AF_INET6, text, bin) == 1)
            add_peer(r, AF_INET6, bin, (uint16_t)port);
        /* host names are not looked up: a tracker answers with addresses */
    }
}

void tor_announce_parse_http(const char *body, size_t n, struct tor_announce_res *r)
{
    memset(r, 0, sizeof *r);
    struct benc_doc d = {0};
    struct benc_limits lim;
    benc_limits_default(&lim);
    lim.max_tokens = 4 * TOR_ANNOUNCE_MAX_PEERS + 64;
    const char *why = "bad reply";
    if (benc_parse(body, n, &lim, &d, NULL, &why) < 0 || d.t[0].type != BENC_DICT) {
        snprintf(r->failure, sizeof r->failure, "tracker reply is not bencoded: %s", why);
        benc_doc_clear(&d);
        return;
    }
    struct slice fail, peers;
    int64_t v;
    if (benc_dict_str(&d, 0, "failure reason", &fail)) {
        snprintf(r->failure, sizeof r->failure, "%.*s", (int)(fail.len < 150 ? fail.len : 150),
                 fail.p);
    } else {
        if (benc_dict_int(&d, 0, "interval", &v) && v > 0 && v < 86400 * 7)
            r->interval = (uint32_t)v;
        if (benc_dict_int(&d, 0, "min interval", &v) && v > 0 && v < 86400 * 7)
            r->min_interval = (uint32_t)v;
        long pl = benc_dict_get(&d, 0, "peers");
        if (pl >= 0 && d.t[pl].type == BENC_LIST)
            dict_peers(r, &d, pl);
        else if (benc_dict_str(&d, 0, "peers", &peers))
            compact(r, peers, AF_INET);
        if (benc_dict_str(&d, 0, "peers6", &peers))
            compact(r, peers, AF_INET6);
    }
    benc_doc_clear(&d);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void tor_announce_parse_udp(const uint8_t *p, size_t n, uint32_t tid, int family,
                            struct tor_announce_res *r)
{
    memset(r, 0, sizeof *r);
    if (n >= 8 && get32(p) == 3 && get32(p + 4) == tid) {
        snprintf(r->failure, sizeof r->failure, "%.*s", (int)(n - 8 < 150 ? n - 8 : 150),
                 (const char *)p + 8);
        return;
    }
    if (n < 20 || get32(p) != 1 || get32(p + 4) != tid) {
        snprintf(r->failure, sizeof r->failure, "bad UDP tracker reply");
        return;
    }
    r->interval = get32(p + 8);
    compact(r, slice_make((const char *)p + 20, n - 20), family);
}
