/* torrent/ext — see ext.h. */
#include "torrent/ext.h"

#include "core/err.h"
#include "torrent/bencode.h"
#include "torrent/wire.h"

#include <string.h>
#include <sys/socket.h>

static void ext_limits(struct benc_limits *lim)
{
    benc_limits_default(lim);
    lim->max_depth = 4;
    lim->max_tokens = 512;
    lim->max_str = 4096;
}

/* A peer's message id for an extension: 1..255 (0 means it switched it off: BEP 10). */
static uint8_t ext_id_of(const struct benc_doc *d, long m, const char *name)
{
    int64_t v;
    if (m < 0 || !benc_dict_int(d, m, name, &v) || v < 1 || v > 255)
        return 0;
    return (uint8_t)v;
}

int tor_ext_hs_parse(const uint8_t *p, size_t n, struct tor_ext_hs *h)
{
    memset(h, 0, sizeof *h);
    struct benc_limits lim;
    ext_limits(&lim);
    struct benc_doc d = {0};
    const char *why;
    int rc = benc_parse((const char *)p, n, &lim, &d, NULL, &why);
    if (rc == 0 && d.t[0].type != BENC_DICT)
        rc = ERR_PARSE;
    if (rc == 0) {
        long m = benc_dict_get(&d, 0, "m");
        if (m >= 0 && d.t[m].type == BENC_DICT) {
            h->ut_metadata = ext_id_of(&d, m, "ut_metadata");
            h->ut_pex = ext_id_of(&d, m, "ut_pex");
        }
        int64_t v;
        if (benc_dict_int(&d, 0, "metadata_size", &v)) {
            if (v < 0 || v > TOR_MAX_METADATA)
                rc = ERR_PARSE;
            else
                h->metadata_size = v;
        }
        if (benc_dict_int(&d, 0, "p", &v) && v > 0 && v < 65536)
            h->port = (uint16_t)v;
    }
    benc_doc_clear(&d);
    return rc < 0 ? ERR_PARSE : 0;
}

void tor_ext_put_hs(struct str *out, int64_t metadata_size, uint16_t port, bool pex)
{
    struct str d = STR_INIT;
    benc_open_dict(&d); /* keys in sorted order (BEP 3) */
    benc_put_cstr(&d, "m");
    benc_open_dict(&d);
    benc_put_cstr(&d, "ut_metadata");
    benc_put_int(&d, TOR_EXT_UT_METADATA);
    if (pex) {
        benc_put_cstr(&d, "ut_pex");
        benc_put_int(&d, TOR_EXT_UT_PEX);
    }
    benc_close(&d);
    if (metadata_size > 0) {
        benc_put_cstr(&d, "metadata_size");
        benc_put_int(&d, metadata_size);
    }
    if (port) {
        benc_put_cstr(&d, "p");
        benc_put_int(&d, port);
    }
    benc_put_cstr(&d, "reqq");
    benc_put_int(&d, 256);
    benc_put_cstr(&d, "v");
    benc_put_cstr(&d, "Pigeon");
    benc_close(&d);
    tor_wire_put_extended(out, 0, d.ptr, d.len, NULL, 0);
    str_clear(&d);
}

int tor_utm_parse(const uint8_t *p, size_t n, struct tor_utm *m)
{
    memset(m, 0, sizeof *m);
    struct benc_limits lim;
    ext_limits(&lim);
    struct benc_doc d = {0};
    const char *why;
    size_t used = 0;
    int rc = benc_parse((const char *)p, n, &lim, &d, &used, &why);
    int64_t type, piece, total;
    if (rc == 0 && (d.t[0].type != BENC_DICT || !benc_dict_int(&d, 0, "msg_type", &type) ||
                    type < 0 || type > 2 || !benc_dict_int(&d, 0, "piece", &piece) || piece < 0 ||
                    piece >= (int64_t)tor_utm_npieces(TOR_MAX_METADATA)))
        rc = ERR_PARSE;
    if (rc == 0) {
        m->type = (enum tor_utm_type)type;
        m->piece = (uint32_t)piece;
        if (m->type == TOR_UTM_DATA) {
            if (!benc_dict_int(&d, 0, "total_size", &total) || total <= 0 ||
                total > TOR_MAX_METADATA)
                rc = ERR_PARSE;
            m->total_size = total;
            m->data = slice_make((const char *)p + used, n - used);
        } else if (used != n) {
            rc = ERR_PARSE;
        }
    }
    benc_doc_clear(&d);
    return rc < 0 ? ERR_PARSE : 0;
}

void tor_utm_put(struct str *out, uint8_t ext_id, enum tor_utm_type type, uint32_t piece,
                 int64_t total_size, const void *data, size_t n)
{
    struct str d = STR_INIT;
    benc_open_dict(&d);
    benc_put_cstr(&d, "msg_type");
    benc_put_int(&d, type);
    benc_put_cstr(&d, "piece");
    benc_put_int(&d, piece);
    if (type == TOR_UTM_DATA) {
        benc_put_cstr(&d, "total_size");
        benc_put_int(&d, total_size);
    }
    benc_close(&d);
    tor_wire_put_extended(out, ext_id, d.ptr, d.len, data, type == TOR_UTM_DATA ? n : 0);
    str_clear(&d);
}

/* One compact list: entries of alen + 2 bytes. */
static int pex_list(const struct benc_doc *d, const char *key, int family, size_t alen,
                    struct tor_pex_addr *out, size_t max, size_t *n)
{
    struct slice s;
    if (!benc_dict_str(d, 0, key, &s))
        return 0;
    if (s.len % (alen + 2))
        return ERR_PARSE;
    for (size_t i = 0; i < s.len && *n < max; i += alen + 2) {
        const uint8_t *e = (const uint8_t *)s.p + i;
        struct tor_pex_addr *a = &out[(*n)++];
        memset(a, 0, sizeof *a);
        memcpy(a->ip, e, alen);
        a->family = family;
        a->port = (uint16_t)(e[alen] << 8 | e[alen + 1]);
    }
    return 0;
}

int tor_pex_parse(const uint8_t *p, size_t n, struct tor_pex_addr *out, size_t max)
{
    struct benc_limits lim;
    ext_limits(&lim);
    lim.max_str = 64 * 1024; /* a peer may list more than we read */
    struct benc_doc d = {0};
    const char *why;
    size_t count = 0;
    int rc = benc_parse((const char *)p, n, &lim, &d, NULL, &why);
    if (rc == 0 && d.t[0].type != BENC_DICT)
        rc = ERR_PARSE;
    if (rc == 0)
        rc = pex_list(&d, "added", AF_INET, 4, out, max, &count);
    if (rc == 0)
        rc = pex_list(&d, "added6", AF_INET6, 16, out, max, &count);
    benc_doc_clear(&d);
    return rc < 0 ? ERR_PARSE : (int)count;
}

static void put_compact(struct str *d, const char *key, const struct tor_pex_addr *a, size_t n,
                        int family)
{
    struct str v = STR_INIT;
    size_t alen = family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < n; i++) {
        if (a[i].family != family)
            continue;
        str_append(&v, a[i].ip, alen);
        str_appendc(&v, (char)(a[i].port >> 8));
        str_appendc(&v, (char)a[i].port);
    }
    benc_put_cstr(d, key);
    benc_put_str(d, v.ptr ? v.ptr : "", v.len);
    if (strcmp(key, "added") == 0 || strcmp(key, "added6") == 0) {
        /* added.f / added6.f: one flags byte a peer; 0x10 (reachable: we dialled it or it
         * told its listen port) */
        struct str f = STR_INIT;
        for (size_t i = 0; i < v.len / (alen + 2); i++)
            str_appendc(&f, 0x10);
        benc_put_cstr(d, family == AF_INET ? "added.f" : "added6.f");
        benc_put_str(d, f.ptr ? f.ptr : "", f.len);
        str_clear(&f);
    }
    str_clear(&v);
}

void tor_pex_put(struct str *out, uint8_t ext_id, const struct tor_pex_addr *added, size_t nadded,
                 const struct tor_pex_addr *dropped, size_t ndropped)
{
    struct str d = STR_INIT;
    benc_open_dict(&d); /* sorted keys: added, added.f, added6, added6.f, dropped, dropped6 */
    put_compact(&d, "added", added, nadded, AF_INET);
    put_compact(&d, "added6", added, nadded, AF_INET6);
    put_compact(&d, "dropped", dropped, ndropped, AF_INET);
    put_compact(&d, "dropped6", dropped, ndropped, AF_INET6);
    benc_close(&d);
    tor_wire_put_extended(out, ext_id, d.ptr, d.len, NULL, 0);
    str_clear(&d);
}
