/* deflate — see deflate.h. */
#include "net/deflate.h"

#include "core/xmalloc.h"

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdlib.h>
#include <zlib.h>

#define CHUNK (16 * 1024)           /* output produced per step */
#define INFLATE_LIMIT (1024 * 1024) /* inflated input waiting for the reader, at most */

struct zpair {
    z_stream in, out;
};

static void zpair_free(void *v)
{
    struct zpair *z = v;
    inflateEnd(&z->in);
    deflateEnd(&z->out);
    free(z);
}

/* Runs src through z into dst: all of src when deflating (then a sync flush), while dst is
 * under limit when inflating. Drains what was consumed. */
static enum bufferevent_filter_result run(z_stream *z, bool deflating, struct evbuffer *src,
                                          struct evbuffer *dst, size_t limit)
{
    size_t n = evbuffer_get_length(src);
    if (n == 0)
        return BEV_NEED_MORE;
    unsigned char *in = evbuffer_pullup(src, (ev_ssize_t)n);
    if (!in)
        return BEV_ERROR;
    z->next_in = in;
    z->avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    uInt given = z->avail_in;
    enum bufferevent_filter_result res = BEV_OK;
    for (;;) {
        if (!deflating && evbuffer_get_length(dst) >= limit)
            break;
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(dst, CHUNK, &v, 1) < 1) {
            res = BEV_ERROR;
            break;
        }
        z->next_out = v.iov_base;
        z->avail_out = (uInt)(v.iov_len > CHUNK ? CHUNK : v.iov_len);
        uInt room = z->avail_out;
        int rc = deflating ? deflate(z, Z_SYNC_FLUSH) : inflate(z, Z_SYNC_FLUSH);
        v.iov_len = room - z->avail_out;
        evbuffer_commit_space(dst, &v, 1);
        if (rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR)) {
            res = BEV_ERROR; /* a corrupt stream, or one that ended: the connection is done */
            break;
        }
        /* done when the input is used up and the last step left output room */
        if (z->avail_in == 0 && z->avail_out > 0)
            break;
        if (rc == Z_BUF_ERROR && z->avail_out > 0)
            break;
    }
    evbuffer_drain(src, given - z->avail_in);
    return res;
}

static enum bufferevent_filter_result in_filter(struct evbuffer *src, struct evbuffer *dst,
                                                ev_ssize_t dst_limit,
                                                enum bufferevent_flush_mode mode, void *ctx)
{
    struct zpair *z = ctx;
    size_t limit =
        dst_limit > 0 && (size_t)dst_limit < INFLATE_LIMIT ? (size_t)dst_limit : INFLATE_LIMIT;
    return run(&z->in, false, src, dst, limit);
}

static enum bufferevent_filter_result out_filter(struct evbuffer *src, struct evbuffer *dst,
                                                 ev_ssize_t dst_limit,
                                                 enum bufferevent_flush_mode mode, void *ctx)
{
    struct zpair *z = ctx;
    return run(&z->out, true, src, dst, 0);
}

struct bufferevent *net_deflate_filter(struct bufferevent *under)
{
    struct zpair *z = xcalloc(1, sizeof *z);
    if (inflateInit2(&z->in, -15) != Z_OK) {
        free(z);
        return NULL;
    }
    if (deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        inflateEnd(&z->in);
        free(z);
        return NULL;
    }
    struct bufferevent *b =
        bufferevent_filter_new(under, in_filter, out_filter,
                               BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, zpair_free, z);
    if (!b)
        zpair_free(z);
    return b;
}
