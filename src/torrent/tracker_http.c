/* torrent/tracker_http — the HTTP form of the tracker: see tracker_proto.h. */
#include "torrent/tracker_proto.h"

#include "core/err.h"
#include "torrent/bencode.h"
#include "torrent/magnet.h"

#include <arpa/inet.h>
#include <string.h>

#define MAX_QUERY 4096

struct qparam {
    struct slice key;
    char val[256];
    long len;
};

/* The next key=value of q from *pos; false at the end. len < 0: a bad escape or too long. */
static bool next_param(struct slice q, size_t *pos, struct qparam *p)
{
    while (*pos < q.len && q.p[*pos] == '&')
        (*pos)++;
    if (*pos >= q.len)
        return false;
    const char *s = q.p + *pos;
    const char *amp = memchr(s, '&', q.len - *pos);
    size_t n = amp ? (size_t)(amp - s) : q.len - *pos;
    *pos += n;
    const char *eq = memchr(s, '=', n);
    size_t klen = eq ? (size_t)(eq - s) : n;
    p->key = slice_make(s, klen);
    size_t vlen = eq ? n - klen - 1 : 0;
    p->len = vlen > 3 * sizeof p->val ? -1 : 0;
    if (p->len == 0 && vlen) {
        char tmp[3 * sizeof p->val];
        p->len = tor_percent_decode(eq + 1, vlen, tmp);
        if (p->len > (long)sizeof p->val)
            p->len = -1;
        else if (p->len > 0)
            memcpy(p->val, tmp, (size_t)p->len);
    }
    return true;
}

static bool number(const struct qparam *p, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    if (p->len <= 0 || slice_to_u64(slice_make(p->val, (size_t)p->len), max, &v) < 0)
        return false;
    *out = v;
    return true;
}

static const char *one_param(const struct qparam *p, struct tracker_announce *a, bool *compact,
                             unsigned *seen)
{
    uint64_t v;
    struct slice k = p->key;
    if (slice_eq(k, "info_hash") || slice_eq(k, "peer_id")) {
        bool hash = k.len == 9;
        if (p->len != 20)
            return hash ? "invalid info_hash" : "invalid peer_id";
        memcpy(hash ? a->info_hash : a->peer_id, p->val, 20);
        *seen |= hash ? 1 : 2;
    } else if (slice_eq(k, "port")) {
        if (!number(p, 65535, &v) || v == 0)
            return "invalid port";
        a->port = (uint16_t)v;
        *seen |= 4;
    } else if (slice_eq(k, "uploaded") || slice_eq(k, "downloaded") || slice_eq(k, "left")) {
        if (!number(p, UINT64_MAX, &v))
            return "invalid uploaded, downloaded or left";
        *(k.p[0] == 'u' ? &a->uploaded : k.p[0] == 'd' ? &a->downloaded : &a->left) = v;
        *seen |= k.p[0] == 'l' ? 8 : 0;
    } else if (slice_eq(k, "numwant")) {
        if (!number(p, 1000000, &v))
            return "invalid numwant";
        a->numwant = (int32_t)(v > TRACKER_MAX_NUMWANT ? TRACKER_MAX_NUMWANT : v);
    } else if (slice_eq(k, "compact")) {
        *compact = !(p->len == 1 && p->val[0] == '0');
    } else if (slice_eq(k, "event")) {
        struct slice e = slice_make(p->val, p->len > 0 ? (size_t)p->len : 0);
        if (slice_eq(e, "started"))
            a->event = TRACKER_STARTED;
        else if (slice_eq(e, "completed"))
            a->event = TRACKER_COMPLETED;
        else if (slice_eq(e, "stopped"))
            a->event = TRACKER_STOPPED;
        else if (e.len && !slice_eq(e, "empty") && !slice_eq(e, "paused"))
            return "invalid event";
    }
    /* ip, key, trackerid, no_peer_id, supportcrypto ...: ignored (peers are keyed by the
     * source address, never by what they claim) */
    return NULL;
}

const char *tracker_http_parse_announce(struct slice query, struct tracker_announce *a,
                                        bool *compact_out)
{
    memset(a, 0, sizeof *a);
    a->numwant = -1;
    *compact_out = true;
    if (query.len > MAX_QUERY)
        return "query too long";
    struct qparam p;
    size_t pos = 0;
    unsigned seen = 0;
    while (next_param(query, &pos, &p)) {
        if (p.len < 0)
            return "malformed query";
        const char *why = one_param(&p, a, compact_out, &seen);
        if (why)
            return why;
    }
    if (!(seen & 1))
        return "missing info_hash";
    if (!(seen & 2))
        return "missing peer_id";
    if (!(seen & 4))
        return "missing port";
    if (!(seen & 8))
        return "missing left";
    return NULL;
}

void tracker_http_failure(struct str *out, const char *why)
{
    benc_open_dict(out);
    benc_put_cstr(out, "failure reason");
    benc_put_cstr(out, why);
    benc_close(out);
}

static void put_peers(struct str *out, const struct tracker_reply *r, bool compact)
{
    if (!compact) {
        benc_put_cstr(out, "peers");
        benc_open_list(out);
        for (size_t i = 0; i < r->npeers; i++) {
            char text[64];
            const struct tracker_peer_out *p = &r->peers[i];
            if (!inet_ntop(p->addr.v6 ? AF_INET6 : AF_INET, p->addr.ip, text, sizeof text))
                continue;
            benc_open_dict(out);
            benc_put_cstr(out, "ip");
            benc_put_cstr(out, text);
            benc_put_cstr(out, "peer id");
            benc_put_str(out, p->peer_id, 20);
            benc_put_cstr(out, "port");
            benc_put_int(out, p->port);
            benc_close(out);
        }
        benc_close(out);
        return;
    }
    /* BEP 23 (IPv4, 6 bytes each) and BEP 7 (IPv6, 18 bytes each) */
    for (int v6 = 0; v6 < 2; v6++) {
        struct str s = STR_INIT;
        for (size_t i = 0; i < r->npeers; i++) {
            const struct tracker_peer_out *p = &r->peers[i];
            if (p->addr.v6 != v6)
                continue;
            str_append(&s, p->addr.ip, v6 ? 16 : 4);
            char port[2] = {(char)(p->port >> 8), (char)p->port};
            str_append(&s, port, 2);
        }
        if (v6 && s.len == 0)
            continue;
        benc_put_cstr(out, v6 ? "peers6" : "peers");
        benc_put_str(out, s.ptr ? s.ptr : "", s.len);
        str_clear(&s);
    }
}

void tracker_http_announce(struct tracker *t, struct slice query, const struct tracker_addr *addr,
                           int64_t now, struct str *out)
{
    struct tracker_announce a;
    bool compact;
    const char *why = tracker_http_parse_announce(query, &a, &compact);
    if (why)
        return tracker_http_failure(out, why);
    a.addr = *addr;
    static _Thread_local struct tracker_reply r; /* 8 KB: kept off the worker's stack */
    tracker_announce(t, &a, now, &r);
    if (r.failure)
        return tracker_http_failure(out, r.failure);
    /* keys in sorted order (BEP 3 dictionaries) */
    benc_open_dict(out);
    benc_put_cstr(out, "complete");
    benc_put_int(out, r.complete);
    benc_put_cstr(out, "downloaded");
    benc_put_int(out, r.downloaded);
    benc_put_cstr(out, "incomplete");
    benc_put_int(out, r.incomplete);
    benc_put_cstr(out, "interval");
    benc_put_int(out, r.interval);
    benc_put_cstr(out, "min interval");
    benc_put_int(out, r.min_interval);
    put_peers(out, &r, compact);
    benc_close(out);
}

void tracker_http_scrape(struct tracker *t, struct slice query, const struct tracker_addr *addr,
                         int64_t now, struct str *out)
{
    uint8_t hashes[TRACKER_MAX_SCRAPE][20];
    size_t n = 0;
    struct qparam p;
    size_t pos = 0;
    if (query.len > MAX_QUERY * 2)
        return tracker_http_failure(out, "query too long");
    while (next_param(query, &pos, &p)) {
        if (!slice_eq(p.key, "info_hash"))
            continue;
        if (p.len != 20)
            return tracker_http_failure(out, "invalid info_hash");
        if (n == TRACKER_MAX_SCRAPE)
            return tracker_http_failure(out, "too many info_hash in one scrape");
        memcpy(hashes[n++], p.val, 20);
    }
    if (n == 0)
        return tracker_http_failure(out, "full scrape is not offered: name an info_hash");
    struct tracker_counts c[TRACKER_MAX_SCRAPE];
    const char *why = tracker_scrape(t, addr, (const uint8_t(*)[20])hashes, n, now, c);
    if (why)
        return tracker_http_failure(out, why);
    benc_open_dict(out);
    benc_put_cstr(out, "files");
    benc_open_dict(out);
    for (size_t i = 0; i < n; i++) {
        benc_put_str(out, hashes[i], 20);
        benc_open_dict(out);
        benc_put_cstr(out, "complete");
        benc_put_int(out, c[i].complete);
        benc_put_cstr(out, "downloaded");
        benc_put_int(out, c[i].downloaded);
        benc_put_cstr(out, "incomplete");
        benc_put_int(out, c[i].incomplete);
        benc_close(out);
    }
    benc_close(out);
    benc_close(out);
}
