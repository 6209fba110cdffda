/* torrent/krpc — see krpc.h. */
#include "torrent/krpc.h"

#include "core/err.h"
#include "torrent/bencode.h"

#include <string.h>

static int fail(const char **why_out, int code, const char *why)
{
    *why_out = why;
    return code;
}

static bool id20(const struct benc_doc *d, long dict, const char *key, uint8_t out[20])
{
    struct slice s;
    if (!benc_dict_str(d, dict, key, &s) || s.len != 20)
        return false;
    memcpy(out, s.p, 20);
    return true;
}

static void get_addr(const uint8_t *p, struct dht_addr *a)
{
    memcpy(a->ip, p, 4);
    a->port = (uint16_t)(p[4] << 8 | p[5]);
}

static enum krpc_method method_of(struct slice q)
{
    static const char *const names[] = {"ping", "find_node", "get_peers", "announce_peer"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (q.len == strlen(names[i]) && memcmp(q.p, names[i], q.len) == 0)
            return (enum krpc_method)i;
    return KRPC_UNKNOWN;
}

/* The arguments of a query ("a"). Which ones the method needs is the caller's check. */
static int parse_args(const struct benc_doc *d, long a, struct krpc_msg *m, const char **why)
{
    struct slice s;
    m->has_id = id20(d, a, "id", m->id);
    m->has_target = id20(d, a, "target", m->target);
    m->has_info_hash = id20(d, a, "info_hash", m->info_hash);
    int64_t v;
    if (benc_dict_int(d, a, "port", &v)) {
        if (v < 1 || v > 65535)
            return fail(why, ERR_RANGE, "port out of range");
        m->has_port = true;
        m->port = (uint16_t)v;
    }
    m->implied_port = benc_dict_int(d, a, "implied_port", &v) && v != 0;
    if (benc_dict_str(d, a, "token", &s)) {
        if (s.len == 0 || s.len > KRPC_MAX_TOKEN)
            return fail(why, ERR_LIMIT, "token of a bad length");
        memcpy(m->token, s.p, s.len);
        m->toklen = s.len;
    }
    return 0;
}

/* A response's values ("r"): nodes, values, token. */
static int parse_reply(const struct benc_doc *d, long r, struct krpc_msg *m, const char **why)
{
    if (!id20(d, r, "id", m->id))
        return fail(why, ERR_PARSE, "response without a 20-byte id");
    m->has_id = true;
    struct slice s;
    if (benc_dict_str(d, r, "nodes", &s)) {
        if (s.len % 26)
            return fail(why, ERR_PARSE, "compact nodes of a bad length");
        for (size_t i = 0; i < s.len / 26 && m->nnodes < KRPC_MAX_NODES; i++) {
            const uint8_t *p = (const uint8_t *)s.p + i * 26;
            memcpy(m->nodes[m->nnodes].id, p, 20);
            get_addr(p + 20, &m->nodes[m->nnodes++].addr);
        }
    }
    if (benc_dict_str(d, r, "token", &s)) {
        if (s.len == 0 || s.len > KRPC_MAX_TOKEN)
            return fail(why, ERR_LIMIT, "token of a bad length");
        memcpy(m->token, s.p, s.len);
        m->toklen = s.len;
    }
    long vals = benc_dict_get(d, r, "values");
    if (vals >= 0) {
        if (d->t[vals].type != BENC_LIST)
            return fail(why, ERR_PARSE, "values is not a list");
        for (long i = benc_first(d, vals); i >= 0 && (size_t)i < d->t[vals].next;
             i = (long)d->t[i].next) {
            if (d->t[i].type != BENC_STR || d->t[i].s.len != 6)
                return fail(why, ERR_PARSE, "a value that is not a compact IPv4 peer");
            if (m->nvalues < KRPC_MAX_VALUES)
                get_addr((const uint8_t *)d->t[i].s.p, &m->values[m->nvalues++]);
        }
    }
    return 0;
}

static int parse_error(const struct benc_doc *d, long e, struct krpc_msg *m, const char **why)
{
    long code = benc_first(d, e);
    if (d->t[e].type != BENC_LIST || code < 0 || d->t[code].type != BENC_INT)
        return fail(why, ERR_PARSE, "error without a code");
    m->ecode = d->t[code].i;
    long msg = (long)d->t[code].next;
    if ((size_t)msg < d->t[e].next && d->t[msg].type == BENC_STR) {
        size_t n = d->t[msg].s.len < sizeof m->emsg - 1 ? d->t[msg].s.len : sizeof m->emsg - 1;
        memcpy(m->emsg, d->t[msg].s.p, n);
        m->emsg[n] = 0;
    }
    return 0;
}

static int parse_doc(const struct benc_doc *d, struct krpc_msg *m, const char **why)
{
    if (d->t[0].type != BENC_DICT)
        return fail(why, ERR_PARSE, "not a dictionary");
    struct slice s;
    if (!benc_dict_str(d, 0, "t", &s))
        return fail(why, ERR_PARSE, "no transaction id");
    if (s.len > KRPC_MAX_TID)
        return fail(why, ERR_LIMIT, "transaction id too long");
    memcpy(m->tid, s.p, s.len);
    m->tidlen = s.len;
    if (!benc_dict_str(d, 0, "y", &s) || s.len != 1)
        return fail(why, ERR_PARSE, "no message type");
    int64_t ro;
    m->read_only = benc_dict_int(d, 0, "ro", &ro) && ro == 1;
    m->typed = true;
    if (s.p[0] == 'q') {
        m->type = KRPC_QUERY;
        struct slice q;
        long a = benc_dict_get(d, 0, "a");
        if (!benc_dict_str(d, 0, "q", &q) || a < 0 || d->t[a].type != BENC_DICT)
            return fail(why, ERR_PARSE, "query without a method or arguments");
        m->method = method_of(q);
        return parse_args(d, a, m, why);
    }
    if (s.p[0] == 'r') {
        m->type = KRPC_RESPONSE;
        long r = benc_dict_get(d, 0, "r");
        if (r < 0 || d->t[r].type != BENC_DICT)
            return fail(why, ERR_PARSE, "response without values");
        return parse_reply(d, r, m, why);
    }
    if (s.p[0] == 'e') {
        m->type = KRPC_ERROR;
        long e = benc_dict_get(d, 0, "e");
        if (e < 0)
            return fail(why, ERR_PARSE, "error without a body");
        return parse_error(d, e, m, why);
    }
    m->typed = false;
    return fail(why, ERR_PARSE, "unknown message type");
}

int krpc_parse(const uint8_t *p, size_t n, struct krpc_msg *m, const char **why_out)
{
    memset(m, 0, sizeof *m);
    if (n > KRPC_MAX_DATAGRAM)
        return fail(why_out, ERR_LIMIT, "datagram too large");
    /* dict > a/r/e > values: three levels; one spare for extensions we ignore */
    struct benc_limits lim = {.max_depth = 4, .max_tokens = 512, .max_str = KRPC_MAX_DATAGRAM};
    struct benc_doc doc = {0};
    const char *why = NULL;
    int rc = benc_parse((const char *)p, n, &lim, &doc, NULL, &why);
    if (rc < 0) {
        *why_out = why ? why : "not bencoded";
        benc_doc_clear(&doc);
        return rc;
    }
    rc = parse_doc(&doc, m, why_out);
    benc_doc_clear(&doc);
    return rc;
}

/* ---- writers ---- */

static void put_key(struct str *out, const char *k)
{
    benc_put_cstr(out, k);
}

static void put_tail(struct str *out, const uint8_t *tid, size_t tidlen, const char *y)
{
    put_key(out, "t");
    benc_put_str(out, tid, tidlen);
    put_key(out, "y");
    benc_put_cstr(out, y);
    benc_close(out);
}

static void open_query(struct str *out, const uint8_t id[20])
{
    benc_open_dict(out);
    put_key(out, "a");
    benc_open_dict(out);
    put_key(out, "id");
    benc_put_str(out, id, 20);
}

static void close_query(struct str *out, const char *method, const uint8_t *tid, size_t tidlen)
{
    benc_close(out); /* a */
    put_key(out, "q");
    benc_put_cstr(out, method);
    put_tail(out, tid, tidlen, "q");
}

void krpc_put_ping(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20])
{
    open_query(out, id);
    close_query(out, "ping", tid, tidlen);
}

void krpc_put_find_node(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20],
                        const uint8_t target[20])
{
    open_query(out, id);
    put_key(out, "target");
    benc_put_str(out, target, 20);
    close_query(out, "find_node", tid, tidlen);
}

void krpc_put_get_peers(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20],
                        const uint8_t info_hash[20])
{
    open_query(out, id);
    put_key(out, "info_hash");
    benc_put_str(out, info_hash, 20);
    close_query(out, "get_peers", tid, tidlen);
}

void krpc_put_announce(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20],
                       const uint8_t info_hash[20], uint16_t port, const uint8_t *token,
                       size_t toklen)
{
    open_query(out, id);
    put_key(out, "info_hash");
    benc_put_str(out, info_hash, 20);
    put_key(out, "port");
    benc_put_int(out, port);
    put_key(out, "token");
    benc_put_str(out, token, toklen);
    close_query(out, "announce_peer", tid, tidlen);
}

static void put_compact(uint8_t *p, const struct dht_addr *a)
{
    memcpy(p, a->ip, 4);
    p[4] = (uint8_t)(a->port >> 8);
    p[5] = (uint8_t)a->port;
}

void krpc_put_reply(struct str *out, const uint8_t *tid, size_t tidlen, const uint8_t id[20],
                    const struct krpc_reply *r)
{
    benc_open_dict(out);
    put_key(out, "r");
    benc_open_dict(out);
    put_key(out, "id");
    benc_put_str(out, id, 20);
    if (r && r->nnodes) {
        uint8_t buf[KRPC_MAX_NODES * 26];
        size_t n = r->nnodes < KRPC_MAX_NODES ? r->nnodes : KRPC_MAX_NODES;
        for (size_t i = 0; i < n; i++) {
            memcpy(buf + i * 26, r->nodes[i].id, 20);
            put_compact(buf + i * 26 + 20, &r->nodes[i].addr);
        }
        put_key(out, "nodes");
        benc_put_str(out, buf, n * 26);
    }
    if (r && r->toklen) {
        put_key(out, "token");
        benc_put_str(out, r->token, r->toklen);
    }
    if (r && r->nvalues) {
        put_key(out, "values");
        benc_open_list(out);
        for (size_t i = 0; i < r->nvalues; i++) {
            uint8_t c[6];
            put_compact(c, &r->values[i]);
            benc_put_str(out, c, 6);
        }
        benc_close(out);
    }
    benc_close(out); /* r */
    put_tail(out, tid, tidlen, "r");
}

void krpc_put_error(struct str *out, const uint8_t *tid, size_t tidlen, int code, const char *msg)
{
    benc_open_dict(out);
    put_key(out, "e");
    benc_open_list(out);
    benc_put_int(out, code);
    benc_put_cstr(out, msg);
    benc_close(out);
    put_tail(out, tid, tidlen, "e");
}
