/* torrent/webseed: BEP 19 file URLs (a directory URL gets the name; a multi-file torrent's
 * paths follow, percent-encoded); a swarm downloads a whole torrent from a web seed whose
 * "HTTP server" is the original bytes, jobs joining consecutive blocks and splitting at file
 * boundaries; a failed job chokes the web seed (the swarm takes its requests back) and an
 * unchoke lets the download finish. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "torrent/bencode.h"
#include "torrent/metainfo.h"
#include "torrent/swarm.h"
#include "torrent/webseed.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLEN 32768
#define F1 70000
#define F2 130001
#define SIZE (F1 + F2)

static uint8_t *orig;

struct ctx {
    struct tor_webseed *ws;
    struct tor_swarm *s;
    struct tor_peer *p;
    struct tor_meta *m;
    uint8_t *disk;
    bool closed;
    uint32_t pending[64];
    const uint8_t *pending_data[64];
    unsigned npending;
};

static void f_send(void *conn, const void *p, size_t n)
{
    struct ctx *c = conn;
    assert_int_equal(tor_webseed_from_swarm(c->ws, p, n), 0);
}

static void f_close(void *conn, const char *why)
{
    (void)why;
    ((struct ctx *)conn)->closed = true;
}

static size_t f_pending(void *conn)
{
    (void)conn;
    return 0;
}

static int f_read(void *ctx, uint32_t piece, uint32_t begin, uint32_t len, uint8_t *out)
{
    (void)ctx, (void)piece, (void)begin, (void)len, (void)out;
    return -1;
}

static void f_verify(void *vc, uint32_t piece, const uint8_t *data, size_t len)
{
    struct ctx *c = vc;
    (void)len;
    c->pending_data[c->npending] = data;
    c->pending[c->npending++] = piece;
}

static void f_log(void *ctx, uint64_t peer, const char *what)
{
    (void)ctx, (void)peer, (void)what;
}

static const struct tor_swarm_ops ops = {f_send, f_close, f_pending, f_read, f_verify, f_log, NULL,
                                         NULL,   NULL, NULL};

static void make_meta(struct tor_meta *m, bool multi)
{
    struct str t = STR_INIT;
    size_t np = (SIZE + PLEN - 1) / PLEN;
    benc_open_dict(&t);
    benc_put_cstr(&t, "info");
    benc_open_dict(&t);
    if (multi) {
        benc_put_cstr(&t, "files");
        str_appendf(&t, "ld6:lengthi%de4:pathl5:dir 15:a.bineed6:lengthi%de4:pathl3:b&ceee", F1,
                    F2);
    } else {
        benc_put_cstr(&t, "length");
        benc_put_int(&t, SIZE);
    }
    benc_put_cstr(&t, "name");
    benc_put_cstr(&t, "the set");
    benc_put_cstr(&t, "piece length");
    benc_put_int(&t, PLEN);
    benc_put_cstr(&t, "pieces");
    str_appendf(&t, "%zu:", np * 20);
    for (size_t i = 0; i < np; i++) {
        uint8_t h[20];
        SHA1(orig + i * PLEN, i + 1 < np ? PLEN : SIZE - i * PLEN, h);
        str_append(&t, h, 20);
    }
    benc_close(&t);
    benc_close(&t);
    const char *why;
    assert_int_equal(tor_meta_parse(t.ptr, t.len, m, &why), 0);
    str_clear(&t);
}

static void test_urls(void **state)
{
    (void)state;
    struct tor_meta m;
    make_meta(&m, false);
    struct str u = STR_INIT;
    struct tor_webseed *ws = tor_webseed_new(&m, "http://h.example/files/");
    tor_webseed_file_url(ws, 0, &u);
    assert_string_equal(str_cstr(&u), "http://h.example/files/the%20set");
    tor_webseed_free(ws);
    str_reset(&u);
    ws = tor_webseed_new(&m, "http://h.example/exact.bin");
    tor_webseed_file_url(ws, 0, &u);
    assert_string_equal(str_cstr(&u), "http://h.example/exact.bin");
    tor_webseed_free(ws);
    tor_meta_clear(&m);
    make_meta(&m, true);
    str_reset(&u);
    ws = tor_webseed_new(&m, "http://h.example/files");
    tor_webseed_file_url(ws, 1, &u);
    assert_string_equal(str_cstr(&u), "http://h.example/files/the%20set/b%26c");
    str_reset(&u);
    tor_webseed_file_url(ws, 0, &u);
    assert_string_equal(str_cstr(&u), "http://h.example/files/the%20set/dir%201/a.bin");
    tor_webseed_free(ws);
    str_clear(&u);
    tor_meta_clear(&m);
}

static void verify_all(struct ctx *c, uint64_t now)
{
    while (c->npending) {
        uint32_t piece = c->pending[--c->npending];
        const uint8_t *d = c->pending_data[c->npending];
        size_t len = tor_meta_piece_size(c->m, piece);
        uint8_t h[20];
        SHA1(d, len, h);
        bool ok = memcmp(h, c->m->pieces + 20 * piece, 20) == 0;
        if (ok)
            memcpy(c->disk + (size_t)piece * PLEN, d, len);
        tor_swarm_piece_done(c->s, piece, ok, now);
    }
}

/* Runs one job as the HTTP server would; checks its ranges against the files. */
static void serve(struct ctx *c, const struct tor_ws_job *job, unsigned *split, struct str *out)
{
    uint64_t pos = job->start;
    for (size_t i = 0; i < job->nr; i++) {
        const struct tor_file *f = &c->m->files[job->r[i].file];
        assert_int_equal(f->offset + job->r[i].offset, pos);
        assert_true(job->r[i].offset + job->r[i].length <= f->length);
        pos += job->r[i].length;
    }
    assert_int_equal(pos, job->start + job->len);
    *split += job->nr > 1;
    tor_webseed_answer(job, orig + job->start, out);
}

static void test_download_from_web_seed(void **state)
{
    (void)state;
    struct tor_meta m;
    make_meta(&m, true);
    struct ctx c = {.m = &m, .disk = calloc(1, SIZE)};
    struct tor_swarm_limits lim = {.max_peers = 4, .max_active_bytes = 4 * PLEN, .slots = 4};
    uint8_t id[20] = "-PG0001-webseedtest0";
    c.ws = tor_webseed_new(&m, "http://h.example/");
    c.s = tor_swarm_new(&m, NULL, id, &ops, &c, &lim, 3);
    c.p = tor_swarm_peer_new(c.s, &c, "web seed 0", false, 0);
    struct str in = STR_INIT;
    tor_webseed_hello(c.ws, &in);
    unsigned jobs = 0, joined = 0, split = 0;
    bool failed_once = false;
    for (uint64_t now = 1; now < 5000 && !tor_swarm_complete(c.s); now++) {
        if (in.len)
            tor_swarm_peer_feed(c.s, c.p, (uint8_t *)in.ptr, in.len, now);
        str_reset(&in);
        verify_all(&c, now);
        struct tor_ws_job job;
        if (!tor_webseed_next(c.ws, &job)) {
            if (tor_webseed_choked(c.ws))
                tor_webseed_unchoke(c.ws, &in);
            continue;
        }
        jobs++;
        joined += job.nb > 1;
        if (!failed_once && jobs == 3) { /* a failed fetch: choke, everything back */
            failed_once = true;
            tor_webseed_choke(c.ws, &in);
            assert_false(tor_webseed_next(c.ws, &job));
            continue;
        }
        serve(&c, &job, &split, &in);
    }
    assert_false(c.closed);
    assert_true(tor_swarm_complete(c.s));
    assert_memory_equal(c.disk, orig, SIZE);
    assert_true(joined > 0); /* consecutive blocks went out as one range */
    assert_true(split > 0);  /* a job crossed from a.bin into b&c */
    tor_swarm_peer_gone(c.s, c.p);
    tor_swarm_free(c.s);
    tor_webseed_free(c.ws);
    str_clear(&in);
    free(c.disk);
    tor_meta_clear(&m);
}

static int setup(void **state)
{
    (void)state;
    orig = malloc(SIZE);
    for (size_t i = 0; i < SIZE; i++)
        orig[i] = (uint8_t)(i * 131 + i / 1021);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(orig);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_download_from_web_seed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
