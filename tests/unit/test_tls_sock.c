/* net/tls_sock: server TLS on a socket, driven by an OpenSSL client over a socket pair —
 * the handshake, requests read ahead in one go, answers gathered into full records,
 * close_notify both ways, an EOF without it, and a peer that does not speak TLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/str.h"
#include "core/tls.h"
#include "net/tls_sock.h"

#include <event2/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

struct pair {
    SSL_CTX *sctx, *cctx;
    int s, k; /* the server's and the client's ends */
    struct tls_sock *t;
    SSL *client;
    struct evbuffer *in; /* what the server decrypted */
};

static char dir[] = "/tmp/test_tls_sock.XXXXXX";
static SSL_CTX *server_ctx;

static int group_setup(void **state)
{
    if (!mkdtemp(dir))
        return -1;
    struct str err = STR_INIT;
    char cert[256], key[256];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    if (tls_selfsigned_ensure(dir, "localhost", &err) != 0 ||
        !(server_ctx = tls_server_ctx_new(cert, key, &err))) {
        fprintf(stderr, "%s\n", err.ptr ? err.ptr : "tls set-up failed");
        return -1;
    }
    str_clear(&err);
    return 0;
}

static int group_teardown(void **state)
{
    SSL_CTX_free(server_ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void pair_open(struct pair *p)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    p->s = sv[0];
    p->k = sv[1];
    p->t = tls_sock_new(server_ctx, p->s);
    assert_non_null(p->t);
    p->cctx = SSL_CTX_new(TLS_client_method());
    p->client = SSL_new(p->cctx);
    SSL_set_fd(p->client, p->k);
    SSL_set_connect_state(p->client);
    p->in = evbuffer_new();
}

static void pair_close(struct pair *p)
{
    tls_sock_free(p->t);
    SSL_free(p->client);
    SSL_CTX_free(p->cctx);
    evbuffer_free(p->in);
    close(p->s);
    if (p->k >= 0)
        close(p->k);
}

/* The server's wire onto its socket (the pair's buffer is far larger than these tests). */
static void send_wire(struct pair *p)
{
    struct evbuffer *w = tls_sock_wire(p->t);
    while (evbuffer_get_length(w))
        assert_true(evbuffer_write(w, p->s) > 0);
}

static void handshake(struct pair *p)
{
    int server = 0, client = 0;
    for (int i = 0; i < 20 && (server != 1 || client != 1); i++) {
        if (client != 1)
            client = SSL_do_handshake(p->client);
        if (server != 1)
            server = tls_sock_handshake(p->t);
        assert_true(server >= 0);
        send_wire(p);
    }
    assert_int_equal(server, 1);
    assert_int_equal(client, 1);
}

/* What the client reads until the socket is empty. */
static size_t client_read(struct pair *p, char *buf, size_t cap)
{
    size_t got = 0, n;
    while (got < cap && SSL_read_ex(p->client, buf + got, cap - got, &n))
        got += n;
    return got;
}

static void test_requests_read_ahead(void **state)
{
    struct pair p;
    pair_open(&p);
    handshake(&p);
    /* The session tickets came with the handshake's end; nothing is there for the server. */
    assert_int_equal(tls_sock_read(p.t, p.in), TLS_SOCK_WAIT);
    /* Three records in the socket at once: one call takes them all. */
    static const char *const part[] = {"GET / HTTP/1.1\r\n", "Host: localhost\r\n", "\r\n"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(SSL_write(p.client, part[i], (int)strlen(part[i])), strlen(part[i]));
    const char want[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_int_equal(tls_sock_read(p.t, p.in), sizeof want - 1);
    assert_int_equal(evbuffer_get_length(p.in), sizeof want - 1);
    assert_memory_equal(evbuffer_pullup(p.in, -1), want, sizeof want - 1);
    assert_int_equal(tls_sock_read(p.t, p.in), TLS_SOCK_WAIT);
    /* A request larger than a record: all of it. */
    static char big[40000];
    memset(big, 'x', sizeof big);
    assert_int_equal(SSL_write(p.client, big, sizeof big), sizeof big);
    evbuffer_drain(p.in, evbuffer_get_length(p.in));
    int total = 0, n;
    while ((n = tls_sock_read(p.t, p.in)) > 0)
        total += n;
    assert_int_equal(n, TLS_SOCK_WAIT);
    assert_int_equal(total, sizeof big);
    pair_close(&p);
}

/* One call stops at its cap; the records it read ahead past it stay in OpenSSL while the
 * socket is empty, and only tls_sock_pending says so: the caller must call again without
 * waiting for the socket (which would never become readable: an upload stalled). */
static void test_read_cap_leaves_pending(void **state)
{
    struct pair p;
    pair_open(&p);
    handshake(&p);
    char rec[1000];
    memset(rec, 'y', sizeof rec);
    /* Fifteen small records, all in the socket at once and read from it in one go (they
     * fit OpenSSL's read-ahead buffer); the cap stops decrypting after five. */
    for (int i = 0; i < 15; i++)
        assert_int_equal(SSL_write(p.client, rec, sizeof rec), sizeof rec);
    tls_sock_set_read_cap(p.t, 5000);
    int n = tls_sock_read(p.t, p.in);
    assert_int_equal(n, 5000);
    struct pollfd pf = {.fd = p.s, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 0), 0); /* the socket has nothing more */
    assert_true(tls_sock_pending(p.t));   /* but OpenSSL has */
    int total = n;
    while (tls_sock_pending(p.t)) {
        n = tls_sock_read(p.t, p.in);
        assert_true(n > 0);
        total += n;
    }
    assert_int_equal(total, 15000);
    assert_int_equal(tls_sock_read(p.t, p.in), TLS_SOCK_WAIT);
    pair_close(&p);
}

/* Half a record in the socket: OpenSSL holds it (SSL_has_pending is true) but nothing can be
 * decrypted until the rest comes; tls_sock_pending must say no, or conn.c re-activates rd_ev
 * every loop turn (a busy loop until the rest arrives). */
static void test_partial_record_not_pending(void **state)
{
    struct pair p;
    pair_open(&p);
    handshake(&p);
    char rec[2000];
    memset(rec, 'z', sizeof rec);
    BIO *mem = BIO_new(BIO_s_mem());
    BIO *sockb = SSL_get_wbio(p.client);
    BIO_up_ref(sockb);
    SSL_set0_wbio(p.client, mem); /* the record into memory, to send it in two halves */
    assert_int_equal(SSL_write(p.client, rec, sizeof rec), sizeof rec);
    char *data;
    long len = BIO_get_mem_data(mem, &data);
    assert_int_equal(write(p.k, data, (size_t)len / 2), len / 2);
    assert_int_equal(tls_sock_read(p.t, p.in), TLS_SOCK_WAIT);
    assert_false(tls_sock_pending(p.t));
    assert_int_equal(write(p.k, data + len / 2, (size_t)(len - len / 2)), len - len / 2);
    assert_int_equal(tls_sock_read(p.t, p.in), sizeof rec);
    assert_false(tls_sock_pending(p.t));
    SSL_set0_wbio(p.client, sockb);
    pair_close(&p);
}

static void test_answers_gathered_into_full_records(void **state)
{
    struct pair p;
    pair_open(&p);
    handshake(&p);
    struct evbuffer *plain = evbuffer_new();
    static char body[40000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 26);
    const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 45000\r\n\r\n";
    evbuffer_add(plain, head, sizeof head - 1);
    evbuffer_add(plain, body, 5000 - (sizeof head - 1)); /* a second small piece */
    evbuffer_add(plain, body, sizeof body);
    size_t n = evbuffer_get_length(plain);
    assert_int_equal(n, 45000);
    /* max stops it part way: 20000 octets now, the rest on the next call. */
    assert_int_equal(tls_sock_encrypt(p.t, plain, 20000), 0);
    assert_int_equal(evbuffer_get_length(plain), 25000);
    assert_int_equal(tls_sock_encrypt(p.t, plain, 1 << 20), 0);
    assert_int_equal(evbuffer_get_length(plain), 0);
    /* Full records: 16384 + 3616 (the max), then 16384 + 8616. TLS 1.3 adds a 5-octet header,
     * a content type and a 16-octet tag to each; a record per piece would be 6. */
    assert_int_equal(evbuffer_get_length(tls_sock_wire(p.t)), 45000 + 4 * 22);
    send_wire(&p);
    static char got[45000];
    assert_int_equal(client_read(&p, got, sizeof got), sizeof got);
    assert_memory_equal(got, head, sizeof head - 1);
    assert_memory_equal(got + 5000, body, sizeof body);
    evbuffer_free(plain);
    pair_close(&p);
}

static void test_close_notify_both_ways(void **state)
{
    struct pair p;
    pair_open(&p);
    handshake(&p);
    tls_sock_close_notify(p.t);
    send_wire(&p);
    char c;
    assert_int_equal(SSL_read(p.client, &c, 1), 0);
    assert_int_equal(SSL_get_error(p.client, 0), SSL_ERROR_ZERO_RETURN);
    SSL_shutdown(p.client);
    assert_int_equal(tls_sock_read(p.t, p.in), TLS_SOCK_CLOSED);
    pair_close(&p);
}

static void test_eof_without_close_notify(void **state)
{
    struct pair p;
    pair_open(&p);
    handshake(&p);
    assert_int_equal(SSL_write(p.client, "GET", 3), 3);
    close(p.k);
    p.k = -1;
    /* What came before the end is read first; then the end. */
    assert_int_equal(tls_sock_read(p.t, p.in), 3);
    assert_int_equal(tls_sock_read(p.t, p.in), TLS_SOCK_CLOSED);
    pair_close(&p);
}

static void test_not_tls(void **state)
{
    struct pair p;
    pair_open(&p);
    const char get[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_int_equal(write(p.k, get, sizeof get - 1), sizeof get - 1);
    assert_true(tls_sock_handshake(p.t) < 0);
    ERR_clear_error();
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_read_ahead),
        cmocka_unit_test(test_read_cap_leaves_pending),
        cmocka_unit_test(test_partial_record_not_pending),
        cmocka_unit_test(test_answers_gathered_into_full_records),
        cmocka_unit_test(test_close_notify_both_ways),
        cmocka_unit_test(test_eof_without_close_notify),
        cmocka_unit_test(test_not_tls),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
