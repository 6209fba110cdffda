/*
 * Unit tests for src/dns/service/tcp.c, the one DNS-over-TCP framing (RFC 1035 §4.2.2,
 * RFC 7766) of the name server and the resolver, on a fake connection: conn_write and
 * conn_resume are defined here (link-time fakes), and a small driver plays net/conn.c —
 * it feeds what arrived, keeps what the framing did not take, and feeds it again when the
 * framing resumes the connection.
 *
 * Covered: a length prefix split from its message, input split at every offset and byte by
 * byte, pipelined queries answered in order, the largest message (65,535 octets) and an
 * empty one, a hold (an answer worked out elsewhere) with later queries waiting behind it,
 * a streamed answer, and the prefix written in front of each answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/str.h"
#include "dns/service/tcp.h"

#include <stdlib.h>
#include <string.h>

/* ---- the fake connection ---- */

struct conn {
    struct str out;  /* everything the framing wrote */
    struct str pend; /* input the framing has not taken yet */
    unsigned resumed;
};

void conn_write(void *vc, const char *p, size_t n)
{
    str_append(&((struct conn *)vc)->out, p, n);
}

void conn_resume(struct conn *c)
{
    c->resumed++;
}

/* ---- the service side: records every message, can hold, stream or refuse ---- */

#define MAX_MSGS 64

struct svc {
    struct dns_tcp_conn *m;
    struct str msgs[MAX_MSGS];
    size_t nmsgs;
    bool hold_first;     /* hold on the first message */
    bool refuse_empty;   /* an empty message closes the connection */
    unsigned stream_left; /* bursts still to write for a streamed answer */
    bool stream_first;
    bool closed;
};

static bool svc_message(void *vs, struct dns_tcp_conn *m, const uint8_t *msg, size_t len)
{
    struct svc *s = vs;
    assert_true(s->nmsgs < MAX_MSGS);
    str_init(&s->msgs[s->nmsgs]);
    str_append(&s->msgs[s->nmsgs], (const char *)msg, len);
    s->nmsgs++;
    s->m = m;
    if (len == 0 && s->refuse_empty)
        return false;
    if (s->nmsgs == 1 && s->hold_first) {
        dns_tcp_hold(m);
        return true;
    }
    if (s->nmsgs == 1 && s->stream_first) {
        dns_tcp_stream(m);
        return true;
    }
    dns_tcp_send(m, msg, len); /* echo */
    return true;
}

static bool svc_more(void *vs, struct dns_tcp_conn *m)
{
    struct svc *s = vs;
    dns_tcp_send(m, (const uint8_t *)"burst", 5);
    return --s->stream_left > 0;
}

static void svc_close(void *vs)
{
    ((struct svc *)vs)->closed = true;
}

static const struct dns_tcp_ops svc_ops = {svc_message, svc_more, svc_close};

struct rig {
    struct conn c;
    struct svc s;
    void *eng;
};

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof *r);
    str_init(&r->c.out);
    str_init(&r->c.pend);
    r->eng = dns_tcp_new(&r->c, &svc_ops, &r->s);
}

static void rig_free(struct rig *r)
{
    dns_tcp_free(r->eng);
    assert_true(r->s.closed);
    for (size_t i = 0; i < r->s.nmsgs; i++)
        str_clear(&r->s.msgs[i]);
    str_clear(&r->c.out);
    str_clear(&r->c.pend);
}

/* As net/conn.c: input arrives, the framing takes what it can, the rest waits. */
static void rig_pump(struct rig *r)
{
    if (r->c.pend.len == 0 || dns_tcp_closing(r->eng))
        return;
    size_t used = dns_tcp_feed(r->eng, r->c.pend.ptr, r->c.pend.len);
    assert_true(used <= r->c.pend.len);
    str_consume(&r->c.pend, used);
}

static void rig_arrive(struct rig *r, const uint8_t *p, size_t n)
{
    str_append(&r->c.pend, (const char *)p, n);
    rig_pump(r);
}

/* p[0..n) framed: two length octets, then the message. Returns the framed length. */
static size_t frame(uint8_t *out, const uint8_t *p, size_t n)
{
    out[0] = (uint8_t)(n >> 8);
    out[1] = (uint8_t)n;
    memcpy(out + 2, p, n);
    return n + 2;
}

static void assert_msg(const struct svc *s, size_t i, const void *p, size_t n)
{
    assert_true(i < s->nmsgs);
    assert_int_equal(s->msgs[i].len, n);
    assert_memory_equal(s->msgs[i].ptr, p, n);
}

/* Three queries back to back (pipelined, RFC 7766 §6.2.1.1). */
static size_t three_queries(uint8_t *buf)
{
    size_t n = 0;
    n += frame(buf + n, (const uint8_t *)"first query", 11);
    n += frame(buf + n, (const uint8_t *)"2", 1);
    n += frame(buf + n, (const uint8_t *)"the third, a little longer", 26);
    return n;
}

static void assert_three(const struct rig *r)
{
    assert_int_equal(r->s.nmsgs, 3);
    assert_msg(&r->s, 0, "first query", 11);
    assert_msg(&r->s, 1, "2", 1);
    assert_msg(&r->s, 2, "the third, a little longer", 26);
    /* answered in order, each with its own prefix */
    uint8_t want[64];
    assert_int_equal(r->c.out.len, three_queries(want));
    assert_memory_equal(r->c.out.ptr, want, r->c.out.len);
}

static void test_partial_prefix(void **state)
{
    struct rig r;
    rig_init(&r);
    uint8_t buf[32];
    size_t n = frame(buf, (const uint8_t *)"abc", 3);
    rig_arrive(&r, buf, 1); /* half a length prefix */
    assert_int_equal(r.s.nmsgs, 0);
    rig_arrive(&r, buf + 1, 1); /* the prefix, no message yet */
    assert_int_equal(r.s.nmsgs, 0);
    rig_arrive(&r, buf + 2, 2);
    assert_int_equal(r.s.nmsgs, 0);
    rig_arrive(&r, buf + 4, n - 4);
    assert_int_equal(r.s.nmsgs, 1);
    assert_msg(&r.s, 0, "abc", 3);
    assert_false(dns_tcp_closing(r.eng));
    rig_free(&r);
}

static void test_split_everywhere(void **state)
{
    uint8_t buf[64];
    size_t n = three_queries(buf);
    for (size_t cut = 0; cut <= n; cut++) {
        struct rig r;
        rig_init(&r);
        rig_arrive(&r, buf, cut);
        rig_arrive(&r, buf + cut, n - cut);
        assert_three(&r);
        assert_int_equal(r.c.pend.len, 0);
        rig_free(&r);
    }
    for (size_t a = 0; a <= n; a++) { /* three pieces: every pair of cuts */
        for (size_t b = a; b <= n; b++) {
            struct rig r;
            rig_init(&r);
            rig_arrive(&r, buf, a);
            rig_arrive(&r, buf + a, b - a);
            rig_arrive(&r, buf + b, n - b);
            assert_three(&r);
            rig_free(&r);
        }
    }
    struct rig r; /* byte by byte */
    rig_init(&r);
    for (size_t i = 0; i < n; i++)
        rig_arrive(&r, buf + i, 1);
    assert_three(&r);
    rig_free(&r);
}

/* The largest length a prefix can give, delivered in pieces, then a query right after it. */
static void test_largest_message(void **state)
{
    size_t big = 65535;
    uint8_t *buf = malloc(big + 2 + 16);
    uint8_t *msg = malloc(big);
    for (size_t i = 0; i < big; i++)
        msg[i] = (uint8_t)(i * 7);
    size_t n = frame(buf, msg, big);
    n += frame(buf + n, (const uint8_t *)"next", 4);
    struct rig r;
    rig_init(&r);
    for (size_t off = 0; off < n; off += 1000)
        rig_arrive(&r, buf + off, n - off < 1000 ? n - off : 1000);
    assert_int_equal(r.s.nmsgs, 2);
    assert_msg(&r.s, 0, msg, big);
    assert_msg(&r.s, 1, "next", 4);
    /* the echo: prefix ff ff, then the whole message (written in two parts) */
    assert_int_equal(r.c.out.len, big + 2 + 6);
    assert_int_equal((uint8_t)r.c.out.ptr[0], 0xff);
    assert_int_equal((uint8_t)r.c.out.ptr[1], 0xff);
    assert_memory_equal(r.c.out.ptr + 2, msg, big);
    rig_free(&r);
    free(buf);
    free(msg);
}

/* A zero-length message reaches the service; refused, the connection closes and nothing
 * after it is read. */
static void test_empty_message_closes(void **state)
{
    struct rig r;
    rig_init(&r);
    r.s.refuse_empty = true;
    uint8_t buf[32];
    size_t n = frame(buf, (const uint8_t *)"", 0);
    n += frame(buf + n, (const uint8_t *)"after", 5);
    rig_arrive(&r, buf, n);
    assert_int_equal(r.s.nmsgs, 1);
    assert_int_equal(r.s.msgs[0].len, 0);
    assert_true(dns_tcp_closing(r.eng));
    assert_int_equal(r.c.out.len, 0);
    rig_free(&r);
}

/* Pipelined queries behind one whose answer comes later: none is read before it is answered,
 * then they are answered in order. */
static void test_hold_keeps_order(void **state)
{
    uint8_t buf[64];
    size_t n = three_queries(buf);
    for (size_t cut = 0; cut <= n; cut++) {
        struct rig r;
        rig_init(&r);
        r.s.hold_first = true;
        rig_arrive(&r, buf, cut);
        rig_arrive(&r, buf + cut, n - cut);
        assert_int_equal(r.s.nmsgs, 1);
        assert_true(dns_tcp_busy(r.eng));
        assert_int_equal(r.c.out.len, 0);
        dns_tcp_send(r.s.m, (const uint8_t *)"first query", 11); /* the late answer */
        dns_tcp_release(r.s.m);
        assert_false(dns_tcp_busy(r.eng));
        assert_int_equal(r.c.resumed, 1);
        rig_pump(&r); /* the connection feeds what waited */
        assert_three(&r);
        rig_free(&r);
    }
}

/* A streamed answer (a zone transfer) goes out in bursts as the output drains; the next
 * query waits until the stream ends. */
static void test_stream_then_next(void **state)
{
    uint8_t buf[64];
    size_t n = frame(buf, (const uint8_t *)"axfr", 4);
    n += frame(buf + n, (const uint8_t *)"soa", 3);
    struct rig r;
    rig_init(&r);
    r.s.stream_first = true;
    r.s.stream_left = 3;
    rig_arrive(&r, buf, n);
    assert_int_equal(r.s.nmsgs, 1);
    assert_int_equal(r.c.out.len, 7); /* the first burst */
    dns_tcp_writable(r.eng);
    assert_int_equal(r.s.nmsgs, 1);
    dns_tcp_writable(r.eng); /* the last burst: the stream ends */
    rig_pump(&r);
    assert_int_equal(r.s.nmsgs, 2);
    assert_msg(&r.s, 1, "soa", 3);
    assert_int_equal(r.c.out.len, 3 * 7 + 5);
    assert_memory_equal(r.c.out.ptr + 21, "\0\3soa", 5);
    rig_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_prefix),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_largest_message),
        cmocka_unit_test(test_empty_message_closes),
        cmocka_unit_test(test_hold_keeps_order),
        cmocka_unit_test(test_stream_then_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
