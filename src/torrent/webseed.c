/* torrent/webseed — see webseed.h. */
#include "torrent/webseed.h"

#include "core/xmalloc.h"
#include "torrent/wire.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUE 256

struct tor_webseed {
    const struct tor_meta *m;
    char *url;
    uint8_t peer_id[20];
    struct str in; /* bytes from the swarm not yet a whole message */
    bool seen_handshake, choked;
    struct tor_block q[MAX_QUEUE];
    size_t nq;
};

struct tor_webseed *tor_webseed_new(const struct tor_meta *m, const char *url)
{
    struct tor_webseed *ws = xcalloc(1, sizeof *ws);
    ws->m = m;
    ws->url = xstrdup(url);
    uint8_t h[20];
    SHA1((const unsigned char *)url, strlen(url), h);
    memcpy(ws->peer_id, "-WS0001-", 8); /* distinct per URL */
    memcpy(ws->peer_id + 8, h, 12);
    return ws;
}

void tor_webseed_free(struct tor_webseed *ws)
{
    if (!ws)
        return;
    str_clear(&ws->in);
    free(ws->url);
    free(ws);
}

/* RFC 3986 section 2.3: unreserved characters stay, every other byte is %XX. */
static void put_component(struct str *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            str_appendc(out, (char)c);
        } else {
            str_appendc(out, '%');
            str_appendc(out, hex[c >> 4]);
            str_appendc(out, hex[c & 15]);
        }
    }
}

void tor_webseed_file_url(const struct tor_webseed *ws, size_t file, struct str *out)
{
    size_t ul = strlen(ws->url);
    bool slash = ul && ws->url[ul - 1] == '/';
    str_append(out, ws->url, ul);
    if (!ws->m->multi) {
        if (slash) /* BEP 19: a directory: the file's name follows */
            put_component(out, ws->m->name, strlen(ws->m->name));
        return;
    }
    if (!slash)
        str_appendc(out, '/');
    put_component(out, ws->m->name, strlen(ws->m->name));
    const char *p = ws->m->files[file].path;
    while (*p) {
        size_t n = strcspn(p, "/");
        str_appendc(out, '/');
        put_component(out, p, n);
        p += n + (p[n] == '/');
    }
}

void tor_webseed_hello(const struct tor_webseed *ws, struct str *out)
{
    struct tor_handshake hs;
    memset(&hs, 0, sizeof hs);
    memcpy(hs.info_hash, ws->m->info_hash, 20);
    memcpy(hs.peer_id, ws->peer_id, 20);
    tor_wire_put_handshake(out, &hs);
    size_t nbytes = (ws->m->npieces + 7) / 8;
    uint8_t *bits = xcalloc(nbytes ? nbytes : 1, 1);
    for (uint32_t i = 0; i < ws->m->npieces; i++)
        tor_bit_set(bits, i);
    tor_wire_put_bitfield(out, bits, nbytes);
    free(bits);
    tor_wire_put_simple(out, TOR_MSG_UNCHOKE);
}

static void on_message(struct tor_webseed *ws, const struct tor_msg *m)
{
    if (m->id == TOR_MSG_REQUEST && !ws->choked && ws->nq < MAX_QUEUE &&
        m->index < ws->m->npieces &&
        (uint64_t)m->begin + m->length <= tor_meta_piece_size(ws->m, m->index)) {
        ws->q[ws->nq++] = (struct tor_block){m->index, m->begin, m->length};
    } else if (m->id == TOR_MSG_CANCEL) {
        for (size_t i = 0; i < ws->nq; i++)
            if (ws->q[i].piece == m->index && ws->q[i].begin == m->begin) {
                ws->q[i] = ws->q[--ws->nq];
                break;
            }
    }
}

int tor_webseed_from_swarm(struct tor_webseed *ws, const uint8_t *p, size_t n)
{
    str_append(&ws->in, p, n);
    size_t pos = 0;
    if (!ws->seen_handshake) {
        struct tor_handshake hs;
        int rc = tor_wire_handshake_parse((const uint8_t *)ws->in.ptr, ws->in.len, &hs);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0;
        ws->seen_handshake = true;
        pos = TOR_HANDSHAKE_LEN;
    }
    size_t max = tor_wire_max_msg(ws->m->npieces);
    while (pos < ws->in.len) {
        struct tor_msg m;
        long used =
            tor_wire_msg_parse((const uint8_t *)ws->in.ptr + pos, ws->in.len - pos, max, &m);
        if (used < 0)
            return -1;
        if (used == 0)
            break;
        pos += (size_t)used;
        on_message(ws, &m);
    }
    str_consume(&ws->in, pos);
    return 0;
}

static uint64_t block_start(const struct tor_webseed *ws, const struct tor_block *b)
{
    return (uint64_t)b->piece * ws->m->piece_len + b->begin;
}

/* Splits the job's span of the byte stream where files end. */
static bool map_files(const struct tor_webseed *ws, struct tor_ws_job *job)
{
    uint64_t pos = job->start, end = job->start + job->len;
    for (size_t f = 0; f < ws->m->nfiles && pos < end; f++) {
        const struct tor_file *tf = &ws->m->files[f];
        if (tf->length == 0 || pos >= tf->offset + tf->length)
            continue;
        if (job->nr == TOR_WS_MAX_RANGES)
            return false;
        uint64_t stop = end < tf->offset + tf->length ? end : tf->offset + tf->length;
        job->r[job->nr++] = (struct tor_ws_range){f, pos - tf->offset, stop - pos, tf->pad};
        pos = stop;
    }
    return pos == end;
}

bool tor_webseed_next(struct tor_webseed *ws, struct tor_ws_job *job)
{
    memset(job, 0, sizeof *job);
    if (ws->choked || ws->nq == 0)
        return false;
    job->b[job->nb++] = ws->q[0];
    ws->q[0] = ws->q[--ws->nq];
    job->start = block_start(ws, &job->b[0]);
    job->len = job->b[0].length;
    /* join the queued blocks that follow on directly */
    for (bool more = true; more && job->nb < TOR_WS_MAX_BLOCKS;) {
        more = false;
        for (size_t i = 0; i < ws->nq; i++) {
            if (block_start(ws, &ws->q[i]) != job->start + job->len ||
                job->len + ws->q[i].length > TOR_WS_MAX_JOB)
                continue;
            job->b[job->nb++] = ws->q[i];
            job->len += ws->q[i].length;
            ws->q[i] = ws->q[--ws->nq];
            more = true;
            break;
        }
    }
    if (!map_files(ws, job)) { /* spans too many files: only its first block */
        job->nb = 1;
        job->len = job->b[0].length;
        job->nr = 0;
        if (!map_files(ws, job))
            job->nr = 0; /* not even that: the caller fails the job */
    }
    return true;
}

void tor_webseed_answer(const struct tor_ws_job *job, const uint8_t *data, struct str *out)
{
    size_t off = 0;
    for (size_t i = 0; i < job->nb; i++) {
        const struct tor_block *b = &job->b[i];
        tor_wire_put_piece_head(out, b->piece, b->begin, b->length);
        str_append(out, data + off, b->length);
        off += b->length;
    }
}

void tor_webseed_choke(struct tor_webseed *ws, struct str *out)
{
    ws->choked = true;
    ws->nq = 0;
    tor_wire_put_simple(out, TOR_MSG_CHOKE);
}

void tor_webseed_unchoke(struct tor_webseed *ws, struct str *out)
{
    ws->choked = false;
    tor_wire_put_simple(out, TOR_MSG_UNCHOKE);
}

bool tor_webseed_choked(const struct tor_webseed *ws)
{
    return ws->choked;
}
