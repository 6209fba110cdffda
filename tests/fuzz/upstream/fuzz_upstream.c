/* fuzz_upstream — see fuzz_upstream.h. Globals: a fuzz target is one thread, one run at a time. */
#include "fuzz/upstream/fuzz_upstream.h"

#include "core/xmalloc.h"
#include "dns/resolver/stub.h"
#include "dns/resolver/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *in;
static size_t in_left;
static unsigned answered;

/* One query in flight (handed out as an opaque struct dns_query_io *). */
struct fuzz_query {
    struct event *ev;
    uint8_t query[512];
    size_t qlen;
    dns_io_cb cb;
    void *arg;
};

void fuzz_upstream_set(const uint8_t *data, size_t size)
{
    in = data;
    in_left = size;
    answered = 0;
}

static uint64_t io_now_ms(void *ctx)
{
    return answered;
}

/* End of the question of a well-formed query (ours), or 0. */
static size_t question_end(const uint8_t *q, size_t len)
{
    size_t i = 12;
    while (i < len && q[i] != 0)
        i += 1u + q[i];
    return i + 5 <= len ? i + 5 : 0;
}

/* Builds the next response into out; returns its length, or 0 when the input is used up. */
static size_t next_response(const uint8_t *query, size_t qlen, uint8_t *out, size_t cap)
{
    size_t qend = question_end(query, qlen);
    if (in_left < 2 || qend == 0)
        return 0;
    size_t l = (size_t)in[0] << 8 | in[1];
    in += 2;
    in_left -= 2;
    if (l > in_left)
        l = in_left;
    const uint8_t *chunk = in;
    in += l;
    in_left -= l;
    uint8_t hdr[8] = {0x80, 0, 0, 0, 0, 0, 0, 0}; /* flags, an, ns, ar */
    memcpy(hdr, chunk, l < 8 ? l : 8);
    hdr[0] |= 0x80; /* QR */
    size_t rest = l > 8 ? l - 8 : 0;
    if (qend + rest > cap)
        rest = cap - qend;
    memcpy(out, query, 2); /* ID */
    memcpy(out + 2, hdr, 2);
    out[4] = 0;
    out[5] = 1; /* QDCOUNT */
    memcpy(out + 6, hdr + 2, 6);
    memcpy(out + 12, query + 12, qend - 12);
    memcpy(out + qend, chunk + 8, rest);
    return qend + rest;
}

static void fire(evutil_socket_t fd, short what, void *vq)
{
    struct fuzz_query *q = vq;
    uint8_t resp[65535];
    size_t n = next_response(q->query, q->qlen, resp, sizeof resp);
    dns_io_cb cb = q->cb;
    void *arg = q->arg;
    event_free(q->ev);
    free(q);
    answered++;
    if (n)
        cb(arg, DNS_IO_OK, resp, n);
    else
        cb(arg, DNS_IO_TIMEOUT, NULL, 0);
}

static struct dns_query_io *io_start(void *ctx, struct event_base *base,
                                     const struct sockaddr *server, socklen_t slen,
                                     const uint8_t *query, size_t qlen,
                                     const struct dns_io_params *p, dns_io_cb cb, void *arg)
{
    struct fuzz_query *q = xcalloc(1, sizeof *q);
    q->qlen = qlen < sizeof q->query ? qlen : sizeof q->query;
    memcpy(q->query, query, q->qlen);
    q->query[0] = (uint8_t)(answered * 7);
    q->query[1] = (uint8_t)(answered * 13);
    q->cb = cb;
    q->arg = arg;
    q->ev = evtimer_new(base, fire, q);
    struct timeval now = {0, 0};
    evtimer_add(q->ev, &now);
    return (struct dns_query_io *)q;
}

static void io_cancel(void *ctx, struct dns_query_io *vq)
{
    struct fuzz_query *q = (struct fuzz_query *)vq;
    if (!q)
        return;
    event_free(q->ev);
    free(q);
}

static const struct dns_io_ops ops = {io_start, io_cancel, io_now_ms, NULL};

const struct dns_io_ops *fuzz_upstream_io(void)
{
    return &ops;
}

struct dns_stub *fuzz_upstream_stub(struct event_base *base)
{
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    struct dns_stub *s = dns_stub_new_server(base, (struct sockaddr *)&server, sizeof server);
    dns_stub_set_io(s, &ops);
    return s;
}

void fuzz_upstream_run(struct event_base *base, const bool *finished)
{
    for (int turn = 0; !*finished && turn < 100000; turn++)
        if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
            break;
}
