/* torrent/magnet — see magnet.h. */
#include "torrent/magnet.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "torrent/metainfo.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAGNET_MAX 8192

long tor_percent_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 >= n)
            return -1;
        int hi = hex_digit_value(s[i + 1]), lo = hex_digit_value(s[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        out[o++] = (char)(hi << 4 | lo);
        i += 2;
    }
    return (long)o;
}

static int base32_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

static bool parse_btih(struct slice v, uint8_t out[20])
{
    if (v.len == 40) {
        for (int i = 0; i < 20; i++) {
            int hi = hex_digit_value(v.p[2 * i]), lo = hex_digit_value(v.p[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return false;
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        return true;
    }
    if (v.len != 32)
        return false;
    uint64_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < 32; i++) {
        int d = base32_value(v.p[i]);
        if (d < 0)
            return false;
        acc = acc << 5 | (uint64_t)d;
        bits += 5;
        if (bits >= 8) {
            out[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return o == 20;
}

/* BEP 52: a multihash, 0x12 0x20 (SHA-256, 32 bytes) then the digest, in 68 hex digits. */
static bool parse_btmh(struct slice v, uint8_t out[32])
{
    if (v.len != 68 || !slice_starts_ci(v, "1220"))
        return false;
    for (int i = 0; i < 32; i++) {
        int hi = hex_digit_value(v.p[4 + 2 * i]), lo = hex_digit_value(v.p[5 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static void push(char ***list, size_t *n, const char *v, size_t len)
{
    if (*n >= TOR_MAX_TRACKERS || len == 0)
        return;
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = slice_dup(slice_make(v, len));
}

static int param(struct tor_magnet *m, struct slice key, const char *val, size_t vlen,
                 bool *have_hash, const char **why)
{
    struct slice v = slice_make(val, vlen);
    if (slice_eq(key, "xt") && slice_starts_ci(v, "urn:btmh:")) {
        if (!parse_btmh(slice_make(val + 9, vlen - 9), m->info_hash_v2)) {
            *why = "bad btmh hash";
            return ERR_PARSE;
        }
        m->v2 = true;
    } else if (slice_eq(key, "xt")) {
        if (!slice_starts_ci(v, "urn:btih:"))
            return 0; /* another kind of hash: not ours */
        if (!parse_btih(slice_make(val + 9, vlen - 9), m->info_hash)) {
            *why = "bad btih hash";
            return ERR_PARSE;
        }
        *have_hash = true;
    } else if (slice_eq(key, "dn") && !m->name) {
        m->name = slice_dup(v);
    } else if (slice_eq(key, "tr")) {
        push(&m->trackers, &m->ntrackers, val, vlen);
    } else if (slice_eq(key, "ws")) {
        push(&m->webseeds, &m->nwebseeds, val, vlen);
    }
    return 0;
}

int tor_magnet_parse(const char *uri, size_t n, struct tor_magnet *m, const char **why_out)
{
    memset(m, 0, sizeof *m);
    const char *why = "not a magnet link";
    if (n > MAGNET_MAX) {
        *why_out = "magnet link too long";
        return ERR_LIMIT;
    }
    if (n < 8 || strncmp(uri, "magnet:?", 8) != 0) {
        *why_out = why;
        return ERR_PARSE;
    }
    char *buf = xmalloc(n + 1);
    bool have = false;
    int rc = 0;
    for (size_t i = 8; i < n && rc == 0;) {
        const char *amp = memchr(uri + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - uri) : n;
        const char *eq = memchr(uri + i, '=', end - i);
        if (eq) {
            struct slice key = slice_make(uri + i, (size_t)(eq - uri) - i);
            long len = tor_percent_decode(eq + 1, (size_t)(uri + end - eq - 1), buf);
            if (len < 0) {
                why = "bad percent escape";
                rc = ERR_PARSE;
            } else if (memchr(buf, '\0', (size_t)len)) {
                why = "NUL in a value";
                rc = ERR_PARSE;
            } else {
                rc = param(m, key, buf, (size_t)len, &have, &why);
            }
        }
        i = end + 1;
    }
    free(buf);
    m->v2_only = rc == 0 && !have && m->v2;
    if (m->v2_only) /* BEP 52: the v2 hash, truncated, names it on the wire */
        memcpy(m->info_hash, m->info_hash_v2, 20);
    if (rc == 0 && !have && !m->v2) {
        why = "no urn:btih: or urn:btmh: hash";
        rc = ERR_PARSE;
    }
    if (rc < 0) {
        tor_magnet_clear(m);
        *why_out = why;
    }
    return rc;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

void tor_magnet_clear(struct tor_magnet *m)
{
    free(m->name);
    free_list(m->trackers, m->ntrackers);
    free_list(m->webseeds, m->nwebseeds);
    memset(m, 0, sizeof *m);
}
