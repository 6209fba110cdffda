/* torrent/metainfo — see metainfo.h. */
#include "torrent/metainfo.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "torrent/bencode.h"
#include "torrent/metainfo_int.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

int meta_bad(struct reader *r, const char *why)
{
    r->why = why;
    return ERR_PARSE;
}

bool meta_component_ok(struct slice s)
{
    if (s.len == 0 || s.len > 255 || slice_eq(s, ".") || slice_eq(s, ".."))
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (s.p[i] == '/' || s.p[i] == '\0' || s.p[i] == '\\')
            return false;
    return true;
}

int meta_add_file(struct reader *r, long path, struct slice single, int64_t len, bool pad)
{
    struct tor_meta *m = r->m;
    if (len < 0 || (uint64_t)len > (1ull << 50) || m->total + (uint64_t)len > (1ull << 50))
        return meta_bad(r, "bad file length");
    if (m->nfiles >= TOR_MAX_FILES)
        return meta_bad(r, "too many files");
    struct str p = STR_INIT;
    if (path < 0) {
        str_append(&p, single.p, single.len);
    } else {
        const struct benc_doc *d = r->doc;
        if (d->t[path].type != BENC_LIST || d->t[path].count == 0)
            return meta_bad(r, "file path is not a list");
        for (long c = benc_first(d, path); c >= 0 && (size_t)c < d->t[path].next;
             c = (long)d->t[c].next) {
            if (d->t[c].type != BENC_STR || !meta_component_ok(d->t[c].s)) {
                str_clear(&p);
                return meta_bad(r, "unsafe file path");
            }
            if (p.len)
                str_appendc(&p, '/');
            str_append(&p, d->t[c].s.p, d->t[c].s.len);
        }
    }
    m->files = xrealloc(m->files, (m->nfiles + 1) * sizeof *m->files);
    struct tor_file *f = &m->files[m->nfiles++];
    f->path = str_steal(&p);
    f->length = (uint64_t)len;
    f->offset = m->total;
    f->pad = pad;
    memset(f->root, 0, sizeof f->root);
    m->total += (uint64_t)len;
    return 0;
}

/* BEP 47: a file whose "attr" holds 'p' is padding. */
static bool is_pad(const struct benc_doc *d, long f)
{
    struct slice attr;
    return benc_dict_str(d, f, "attr", &attr) && memchr(attr.p, 'p', attr.len) != NULL;
}

static int read_files(struct reader *r, long info)
{
    const struct benc_doc *d = r->doc;
    long files = benc_dict_get(d, info, "files");
    int64_t len;
    if (files < 0) {
        if (!benc_dict_int(d, info, "length", &len))
            return meta_bad(r, "neither length nor files");
        return meta_add_file(r, -1, slice_cstr(r->m->name), len, false);
    }
    if (d->t[files].type != BENC_LIST || d->t[files].count == 0)
        return meta_bad(r, "files is not a list");
    r->m->multi = true;
    for (long f = benc_first(d, files); f >= 0 && (size_t)f < d->t[files].next;
         f = (long)d->t[f].next) {
        long path = benc_dict_get(d, f, "path");
        if (!benc_dict_int(d, f, "length", &len) || path < 0)
            return meta_bad(r, "file without length or path");
        int rc = meta_add_file(r, path, slice_make(NULL, 0), len, is_pad(d, f));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int read_info(struct reader *r, long info)
{
    const struct benc_doc *d = r->doc;
    struct tor_meta *m = r->m;
    struct slice name, pieces;
    int64_t plen, priv;
    if (info < 0 || d->t[info].type != BENC_DICT)
        return meta_bad(r, "no info dictionary");
    if (!benc_dict_str(d, info, "name", &name) || !meta_component_ok(name))
        return meta_bad(r, "missing or unsafe name");
    if (!benc_dict_int(d, info, "piece length", &plen) || plen < 1 || plen > TOR_MAX_PIECE_LEN)
        return meta_bad(r, "bad piece length");
    int64_t version = 1;
    if (benc_dict_get(d, info, "meta version") >= 0 &&
        (!benc_dict_int(d, info, "meta version", &version) || (version != 1 && version != 2)))
        return meta_bad(r, "unknown meta version");
    bool v2_only = version == 2 && benc_dict_get(d, info, "pieces") < 0;
    if (!v2_only && (!benc_dict_str(d, info, "pieces", &pieces) || pieces.len % 20))
        return meta_bad(r, "bad pieces");
    /* BEP 52: a power of two, 16 KiB at least */
    if (version == 2 && (plen < TOR_BLOCK || (plen & (plen - 1)) != 0))
        return meta_bad(r, "bad piece length for v2");
    m->name = slice_dup(name);
    m->piece_len = (uint64_t)plen;
    m->priv = benc_dict_int(d, info, "private", &priv) && priv == 1;
    int rc = v2_only ? meta_read_v2(r, info) : read_files(r, info);
    if (rc == 0 && version == 2 && !v2_only)
        rc = meta_check_tree(r, info);
    if (rc < 0)
        return rc;
    if (!v2_only) {
        uint64_t want = (m->total + m->piece_len - 1) / m->piece_len;
        if (m->total == 0 || want != pieces.len / 20 || want > UINT32_MAX)
            return meta_bad(r, "piece count does not match the length");
        if (m->v2 && want > TOR_MAX_PIECES)
            return meta_bad(r, "too many pieces");
        m->npieces = (uint32_t)want;
        m->pieces = xmalloc(pieces.len);
        memcpy(m->pieces, pieces.p, pieces.len);
        if (m->v2 && (rc = meta_hybrid_layers(r)) < 0)
            return rc;
    }
    const struct benc_tok *t = &d->t[info];
    m->info_len = t->end - t->start;
    m->info = xmalloc(m->info_len);
    return 0;
}

static void add_url(char ***list, size_t *n, struct slice s)
{
    if (s.len == 0 || s.len > 2048 || *n >= TOR_MAX_TRACKERS)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strlen((*list)[i]) == s.len && memcmp((*list)[i], s.p, s.len) == 0)
            return;
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = slice_dup(s);
}

/* Every string of v, or of its lists, depth first (announce-list is a list of tiers). */
static void add_urls(const struct benc_doc *d, long v, char ***list, size_t *n, unsigned depth)
{
    if (v < 0 || depth > 2)
        return;
    if (d->t[v].type == BENC_STR) {
        add_url(list, n, d->t[v].s);
        return;
    }
    if (d->t[v].type != BENC_LIST)
        return;
    for (long c = benc_first(d, v); c >= 0 && (size_t)c < d->t[v].next; c = (long)d->t[c].next)
        add_urls(d, c, list, n, depth + 1);
}

static int parse_doc(const char *p, size_t n, struct benc_doc *doc, const char **why_out)
{
    struct benc_limits lim;
    benc_limits_default(&lim);
    lim.max_tokens = 4 * TOR_MAX_FILES + 4096;
    return benc_parse(p, n, &lim, doc, NULL, why_out);
}

static int finish(struct reader *r, const char *p, long info, int rc, const char **why_out)
{
    if (rc == 0) {
        const struct benc_tok *t = &r->doc->t[info];
        memcpy(r->m->info, p + t->start, r->m->info_len);
        SHA1((const unsigned char *)p + t->start, r->m->info_len, r->m->info_hash);
        if (r->m->v2)
            SHA256((const unsigned char *)p + t->start, r->m->info_len, r->m->info_hash_v2);
        if (r->m->v2_only) /* BEP 52: the v2 hash, truncated, is its name on the wire */
            memcpy(r->m->info_hash, r->m->info_hash_v2, 20);
        return 0;
    }
    tor_meta_clear(r->m);
    if (why_out)
        *why_out = r->why;
    return rc;
}

int tor_meta_parse(const char *p, size_t n, struct tor_meta *m, const char **why_out)
{
    struct benc_doc doc = {0};
    memset(m, 0, sizeof *m);
    int rc = parse_doc(p, n, &doc, why_out);
    if (rc < 0) {
        benc_doc_clear(&doc);
        return rc;
    }
    struct reader r = {.doc = &doc, .top = 0, .m = m};
    long info = benc_dict_get(&doc, 0, "info");
    rc = read_info(&r, info);
    if (rc == 0) {
        long al = benc_dict_get(&doc, 0, "announce-list");
        add_urls(&doc, al, &m->trackers, &m->ntrackers, 0);
        add_urls(&doc, benc_dict_get(&doc, 0, "announce"), &m->trackers, &m->ntrackers, 2);
        add_urls(&doc, benc_dict_get(&doc, 0, "url-list"), &m->webseeds, &m->nwebseeds, 1);
    }
    rc = finish(&r, p, info, rc, why_out);
    benc_doc_clear(&doc);
    return rc;
}

int tor_meta_from_info(const char *p, size_t n, const uint8_t want_hash[20], struct tor_meta *m,
                       const char **why_out)
{
    uint8_t h[20];
    SHA1((const unsigned char *)p, n, h);
    memset(m, 0, sizeof *m);
    if (memcmp(h, want_hash, 20) != 0) {
        if (why_out)
            *why_out = "metadata does not match the info-hash";
        return ERR_PARSE;
    }
    struct benc_doc doc = {0};
    int rc = parse_doc(p, n, &doc, why_out);
    if (rc < 0) {
        benc_doc_clear(&doc);
        return rc;
    }
    struct reader r = {.doc = &doc, .top = -1, .m = m};
    rc = finish(&r, p, 0, read_info(&r, 0), why_out);
    benc_doc_clear(&doc);
    return rc;
}

long tor_meta_layers_wanted(const char *p, size_t n, struct tor_layer_want **out,
                            uint64_t *piece_len)
{
    struct benc_doc doc = {0};
    struct tor_meta m;
    memset(&m, 0, sizeof m);
    *out = NULL;
    const char *why;
    long rc = parse_doc(p, n, &doc, &why);
    struct reader r = {.doc = &doc, .top = -1, .m = &m, .collect = true};
    if (rc == 0)
        rc = read_info(&r, 0) == 0 && m.v2_only ? (long)r.nwants : -1;
    if (rc > 0)
        *out = r.wants;
    else
        free(r.wants);
    *piece_len = m.piece_len;
    tor_meta_clear(&m);
    benc_doc_clear(&doc);
    return rc;
}

static void put_list(struct str *out, const char *key, char *const *l, size_t n, bool tiers)
{
    if (n == 0)
        return;
    benc_put_cstr(out, key);
    benc_open_list(out);
    for (size_t i = 0; i < n; i++) {
        if (tiers)
            benc_open_list(out);
        benc_put_cstr(out, l[i]);
        if (tiers)
            benc_close(out);
    }
    benc_close(out);
}

void tor_meta_build(struct str *out, const char *info, size_t info_len, char *const *trackers,
                    size_t ntrackers, char *const *webseeds, size_t nwebseeds, const char *layers,
                    size_t layers_len)
{
    benc_open_dict(out); /* keys in sorted order (BEP 3) */
    if (ntrackers) {
        benc_put_cstr(out, "announce");
        benc_put_cstr(out, trackers[0]);
    }
    put_list(out, "announce-list", trackers, ntrackers, true);
    benc_put_cstr(out, "info");
    str_append(out, info, info_len);
    if (layers) {
        benc_put_cstr(out, "piece layers");
        str_append(out, layers, layers_len);
    }
    put_list(out, "url-list", webseeds, nwebseeds, false);
    benc_close(out);
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

void tor_meta_clear(struct tor_meta *m)
{
    free(m->name);
    free(m->pieces);
    free(m->layers);
    for (size_t i = 0; i < m->nfiles; i++)
        free(m->files[i].path);
    free(m->files);
    free_list(m->trackers, m->ntrackers);
    free_list(m->webseeds, m->nwebseeds);
    free(m->info);
    memset(m, 0, sizeof *m);
}

bool tor_meta_hash_matches(const struct tor_meta *m, const uint8_t hash[20])
{
    return memcmp(m->info_hash, hash, 20) == 0 || (m->v2 && memcmp(m->info_hash_v2, hash, 20) == 0);
}

uint64_t tor_meta_piece_size(const struct tor_meta *m, uint32_t i)
{
    if (i + 1 < m->npieces)
        return m->piece_len;
    return m->total - (uint64_t)i * m->piece_len;
}

void tor_hash_hex(const uint8_t hash[20], char out[41])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        out[2 * i] = hex[hash[i] >> 4];
        out[2 * i + 1] = hex[hash[i] & 15];
    }
    out[40] = '\0';
}
