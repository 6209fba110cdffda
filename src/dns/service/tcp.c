/* tcp — DNS over TCP: two-byte length-prefixed messages over a conn. See tcp.h. */
#include "dns/service/tcp.h"

#include "core/str.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct dns_tcp_conn {
    struct conn *c;
    const struct dns_tcp_ops *ops;
    void *st;
    struct str in; /* the start of a message still arriving */
    bool held;      /* an answer is being worked out elsewhere */
    bool streaming; /* ops->more writes the current answer */
    bool closing;
};

void *dns_tcp_new(struct conn *c, const struct dns_tcp_ops *ops, void *st)
{
    struct dns_tcp_conn *m = xcalloc(1, sizeof *m);
    *m = (struct dns_tcp_conn){.c = c, .ops = ops, .st = st, .in = STR_INIT};
    return m;
}

struct conn *dns_tcp_get_conn(const struct dns_tcp_conn *m)
{
    return m->c;
}

void dns_tcp_send(struct dns_tcp_conn *m, const uint8_t *msg, size_t len)
{
    uint8_t one[1024]; /* the usual answer: prefix and message in one write */
    one[0] = (uint8_t)(len >> 8);
    one[1] = (uint8_t)len;
    if (len <= sizeof one - 2) {
        memcpy(one + 2, msg, len);
        conn_write(m->c, (const char *)one, len + 2);
        return;
    }
    conn_write(m->c, (const char *)one, 2);
    conn_write(m->c, (const char *)msg, len);
}

void dns_tcp_hold(struct dns_tcp_conn *m)
{
    m->held = true;
}

void dns_tcp_close(struct dns_tcp_conn *m)
{
    m->closing = true;
}

static bool waiting(const struct dns_tcp_conn *m)
{
    return m->held || m->streaming || m->closing;
}

/* Runs the stream until it waits for the output to drain or ends. */
static void stream_more(struct dns_tcp_conn *m)
{
    if (!m->ops->more(m->st, m))
        m->streaming = false;
}

void dns_tcp_stream(struct dns_tcp_conn *m)
{
    m->streaming = true;
}

/* Answers the complete messages in p[0..n), in order, until one must wait. Returns the bytes
 * used. */
static size_t answer(struct dns_tcp_conn *m, const uint8_t *p, size_t n)
{
    size_t used = 0;
    while (!waiting(m) && n - used >= 2) {
        size_t len = (size_t)p[used] << 8 | p[used + 1];
        if (n - used - 2 < len)
            break;
        bool keep = m->ops->message(m->st, m, p + used + 2, len);
        used += len + 2;
        if (!keep)
            m->closing = true;
        else if (m->streaming)
            stream_more(m);
    }
    return used;
}

/* The messages buffered in m->in. */
static void answer_buffered(struct dns_tcp_conn *m)
{
    str_consume(&m->in, answer(m, (const uint8_t *)m->in.ptr, m->in.len));
}

size_t dns_tcp_feed(void *eng, const char *p, size_t n)
{
    struct dns_tcp_conn *m = eng;
    if (waiting(m))
        return 0;         /* answered in order: the rest waits in the connection's buffer */
    if (m->in.len == 0) { /* the usual case: answer straight from the input, copy nothing */
        size_t used = answer(m, (const uint8_t *)p, n);
        if (waiting(m))
            return used;
        str_append(&m->in, p + used, n - used); /* the start of a message still arriving */
        return n;
    }
    str_append(&m->in, p, n);
    answer_buffered(m);
    return n;
}

void dns_tcp_release(struct dns_tcp_conn *m)
{
    m->held = false;
    answer_buffered(m);
    conn_resume(m->c);
}

void dns_tcp_writable(void *eng)
{
    struct dns_tcp_conn *m = eng;
    if (!m->streaming)
        return;
    stream_more(m);
    if (!m->streaming)
        answer_buffered(m);
}

void dns_tcp_start(void *eng)
{
}

void dns_tcp_refuse(void *eng, enum conn_refusal why)
{
    ((struct dns_tcp_conn *)eng)->closing = true;
}

bool dns_tcp_busy(const void *eng)
{
    return ((const struct dns_tcp_conn *)eng)->held;
}

bool dns_tcp_closing(const void *eng)
{
    return ((const struct dns_tcp_conn *)eng)->closing;
}

void dns_tcp_tls_started(void *eng, const char *version, const char *cipher)
{
}

void dns_tcp_stop(void *eng)
{
    ((struct dns_tcp_conn *)eng)->closing = true;
}

void dns_tcp_free(void *eng)
{
    struct dns_tcp_conn *m = eng;
    m->ops->close(m->st);
    str_clear(&m->in);
    free(m);
}
