/* http/encode — see encode.h: gzip and brotli as streaming encoders over a file range. */
#include "http/encode.h"

#include "core/xmalloc.h"

#include <brotli/encode.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define GZIP_LEVEL 6      /* zlib's default: most of the gain for a fraction of level 9's time */
#define BROTLI_QUALITY 5  /* smaller than gzip -6 at about its speed; 11 is for precompression */
#define BROTLI_WINDOW 19  /* 512 KiB window instead of 4 MiB: bounded memory per response */
#define READ_CHUNK (64 * 1024)

struct http_encoder {
    enum http_coding coding;
    z_stream z;
    BrotliEncoderState *br;
};

struct http_encoder *http_encoder_new(enum http_coding c)
{
    struct http_encoder *e = xcalloc(1, sizeof *e);
    e->coding = c;
    if (c == HTTP_CODING_BR) {
        e->br = BrotliEncoderCreateInstance(NULL, NULL, NULL);
        if (!e->br)
            abort(); /* it fails only when it cannot allocate, as xmalloc aborts */
        BrotliEncoderSetParameter(e->br, BROTLI_PARAM_QUALITY, BROTLI_QUALITY);
        BrotliEncoderSetParameter(e->br, BROTLI_PARAM_LGWIN, BROTLI_WINDOW);
    } else if (deflateInit2(&e->z, GZIP_LEVEL, Z_DEFLATED, 15 + 16 /* gzip wrapper */, 8,
                            Z_DEFAULT_STRATEGY) != Z_OK) {
        abort(); /* deflateInit2 fails only when it cannot allocate, as xmalloc aborts */
    }
    return e;
}

void http_encoder_free(struct http_encoder *e)
{
    if (!e)
        return;
    if (e->br)
        BrotliEncoderDestroyInstance(e->br);
    else
        deflateEnd(&e->z);
    free(e);
}

static int run_gzip(struct http_encoder *e, const void *in, size_t n, bool finish,
                    struct str *out)
{
    e->z.next_in = (Bytef *)in;
    e->z.avail_in = (uInt)n;
    for (;;) {
        str_reserve(out, 16384);
        e->z.next_out = (Bytef *)out->ptr + out->len;
        e->z.avail_out = (uInt)(out->cap - out->len - 1);
        size_t room = e->z.avail_out;
        int rc = deflate(&e->z, finish ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR)
            return -1;
        out->len += room - e->z.avail_out;
        out->ptr[out->len] = '\0';
        if (finish ? rc == Z_STREAM_END : e->z.avail_in == 0 && e->z.avail_out != 0)
            return 0;
    }
}

static int run_br(struct http_encoder *e, const void *in, size_t n, bool finish,
                  struct str *out)
{
    const uint8_t *next_in = in;
    size_t avail_in = n;
    BrotliEncoderOperation op = finish ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS;
    for (;;) {
        str_reserve(out, 16384);
        uint8_t *next_out = (uint8_t *)out->ptr + out->len;
        size_t avail_out = out->cap - out->len - 1, room = avail_out;
        if (!BrotliEncoderCompressStream(e->br, op, &avail_in, &next_in, &avail_out, &next_out,
                                         NULL))
            return -1;
        out->len += room - avail_out;
        out->ptr[out->len] = '\0';
        bool more = BrotliEncoderHasMoreOutput(e->br);
        if (finish ? BrotliEncoderIsFinished(e->br) : avail_in == 0 && !more)
            return 0;
    }
}

int http_encoder_run(struct http_encoder *e, const void *in, size_t n, bool finish,
                     struct str *out)
{
    return e->br ? run_br(e, in, n, finish, out) : run_gzip(e, in, n, finish, out);
}

/* ---- a file range, encoded, as a body source ---- */

struct file_source {
    int fd;
    uint64_t off, end;
    struct http_encoder *enc;
    struct str out;  /* encoded octets not handed out yet, from pos */
    size_t pos;
    bool finished;
};

/* Reads and encodes the next piece of the file into src->out. 0, or -1. */
static int refill(struct file_source *src)
{
    char buf[READ_CHUNK];
    uint64_t left = src->end - src->off;
    size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
    ssize_t got = 0;
    if (want) {
        got = pread(src->fd, buf, want, (off_t)src->off);
        if (got <= 0)
            return -1; /* the file shrank under us: the body cannot be completed */
        src->off += (uint64_t)got;
    }
    str_reset(&src->out);
    src->pos = 0;
    src->finished = src->off == src->end;
    return http_encoder_run(src->enc, buf, (size_t)got, src->finished, &src->out);
}

static ssize_t file_source_read(void *arg, char *buf, size_t cap)
{
    struct file_source *src = arg;
    while (src->pos == src->out.len) {
        if (src->finished)
            return 0;
        if (refill(src) < 0)
            return -1;
    }
    size_t n = src->out.len - src->pos < cap ? src->out.len - src->pos : cap;
    memcpy(buf, src->out.ptr + src->pos, n);
    src->pos += n;
    return (ssize_t)n;
}

static void file_source_free(void *arg)
{
    struct file_source *src = arg;
    close(src->fd);
    http_encoder_free(src->enc);
    str_clear(&src->out);
    free(src);
}

void http_encode_file(struct http_response *r, enum http_coding c, uint64_t len)
{
    struct file_source *src = xcalloc(1, sizeof *src);
    src->fd = r->fd;
    r->fd = -1;
    src->end = len;
    src->enc = http_encoder_new(c);
    http_response_stream(r, (struct http_body_source){file_source_read, file_source_free, src});
}
