/* tls_sock — see tls_sock.h: server TLS by OpenSSL on the socket, its records into an evbuffer. */
#include "net/tls_sock.h"

#include "core/xmalloc.h"

#include <event2/buffer.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define TLS_RECORD 16384      /* plaintext of one full record (RFC 8446 §5.1) */
#define TLS_CHUNK (64 * 1024) /* plaintext handed to one SSL_write at most */

struct tls_sock {
    SSL *ssl;
    struct evbuffer *wire;
    size_t read_cap; /* octets decrypted by one tls_sock_read at most */
    bool capped;     /* the last tls_sock_read stopped at read_cap, records still inside */
};

/* ---- the write side: a BIO that appends to an evbuffer ---- */

static BIO_METHOD *wire_method;
static pthread_once_t wire_once = PTHREAD_ONCE_INIT;

static int wire_write(BIO *b, const char *p, int n)
{
    BIO_clear_retry_flags(b);
    return evbuffer_add(BIO_get_data(b), p, (size_t)n) == 0 ? n : -1;
}

static long wire_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH; /* the caller writes the wire out after each call */
}

static int wire_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void wire_method_make(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pigeon wire");
    if (m && BIO_meth_set_write(m, wire_write) && BIO_meth_set_ctrl(m, wire_ctrl) &&
        BIO_meth_set_create(m, wire_create))
        wire_method = m;
    else
        BIO_meth_free(m);
}

/* ---- sessions ---- */

struct tls_sock *tls_sock_new(SSL_CTX *ctx, int fd)
{
    pthread_once(&wire_once, wire_method_make);
    SSL *ssl = wire_method ? SSL_new(ctx) : NULL;
    BIO *rb = ssl ? BIO_new_socket(fd, BIO_NOCLOSE) : NULL;
    BIO *wb = rb ? BIO_new(wire_method) : NULL;
    struct evbuffer *wire = wb ? evbuffer_new() : NULL;
    if (!wire) {
        BIO_free(wb);
        BIO_free(rb);
        SSL_free(ssl);
        return NULL;
    }
    BIO_set_data(wb, wire);
    SSL_set_bio(ssl, rb, wb); /* the SSL owns both BIOs */
    SSL_set_accept_state(ssl);
    /* A small request is one read: OpenSSL takes what the socket has, not a record header
     * and then its body. */
    SSL_set_read_ahead(ssl, 1);
    /* The context gives record buffers back after every record (for idle connections'
     * memory); a busy one keeps them, and conn.c trims it when it rests (tls_sock_trim). */
    SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    struct tls_sock *t = xmalloc(sizeof *t);
    t->ssl = ssl;
    t->wire = wire;
    t->read_cap = TLS_SOCK_READ_CAP;
    t->capped = false;
    return t;
}

void tls_sock_free(struct tls_sock *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    evbuffer_free(t->wire);
    free(t);
}

SSL *tls_sock_ssl(const struct tls_sock *t)
{
    return t->ssl;
}

struct evbuffer *tls_sock_wire(const struct tls_sock *t)
{
    return t->wire;
}

/* SSL_get_error reads this thread's error queue, which other connections' TLS may have
 * left something in: it is emptied before each operation (looked at first: clearing an
 * empty queue still walks all its slots, twice per request). */
static void clear_errors(void)
{
    if (ERR_peek_error())
        ERR_clear_error();
}

int tls_sock_handshake(struct tls_sock *t)
{
    clear_errors();
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1)
        return 1;
    int e = SSL_get_error(t->ssl, rc);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Only a read stopped by its cap: SSL_has_pending is also true for a record of which only a
 * part has arrived, and then the socket's readiness says when the rest is there. */
bool tls_sock_pending(const struct tls_sock *t)
{
    return t->capped;
}

void tls_sock_set_read_cap(struct tls_sock *t, size_t cap)
{
    t->read_cap = cap;
}

int tls_sock_read(struct tls_sock *t, struct evbuffer *in)
{
    size_t added = 0;
    t->capped = false;
    clear_errors();
    do {
        /* Decrypted on the stack, then added: a record's room reserved in the input buffer
         * would be a 16 KiB allocation per request (an emptied evbuffer keeps no chain). */
        char buf[TLS_RECORD];
        size_t got = 0;
        int ok = SSL_read_ex(t->ssl, buf, sizeof buf, &got);
        if (ok && evbuffer_add(in, buf, got) != 0)
            return TLS_SOCK_FAILED;
        if (!ok) {
            int e = SSL_get_error(t->ssl, 0);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                break;
            if (added)
                break; /* the error again on the next call, after this input is used */
            if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
                return TLS_SOCK_CLOSED;
            /* OpenSSL 3 calls an EOF without close_notify an error ("unexpected eof"). */
            unsigned long err = ERR_peek_error();
            if (ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                ERR_clear_error();
                return TLS_SOCK_CLOSED;
            }
            return TLS_SOCK_FAILED;
        }
        added += got;
        /* Records read ahead are decrypted now: nothing may wait inside OpenSSL unseen
         * (past the cap, tls_sock_pending says so). */
    } while (SSL_has_pending(t->ssl) && added < t->read_cap);
    /* Stopped at the cap with bytes still buffered: whole records may wait there (a partial
     * one makes the next read ask the socket, which is then fine). */
    t->capped = added >= t->read_cap && SSL_has_pending(t->ssl);
    return (int)added;
}

int tls_sock_encrypt(struct tls_sock *t, struct evbuffer *plain, size_t max)
{
    size_t done = 0;
    clear_errors();
    while (done < max) {
        size_t left = evbuffer_get_length(plain);
        if (left == 0)
            break;
        struct evbuffer_iovec v;
        if (evbuffer_peek(plain, -1, NULL, &v, 1) < 1)
            break;
        size_t n = v.iov_len;
        if (n < TLS_RECORD && n < left) { /* a response head and its body: one record */
            n = left < TLS_RECORD ? left : TLS_RECORD;
            v.iov_base = evbuffer_pullup(plain, (ev_ssize_t)n);
            if (!v.iov_base)
                return -1;
        }
        if (n > TLS_CHUNK)
            n = TLS_CHUNK;
        if (n > max - done)
            n = max - done;
        size_t w = 0;
        if (!SSL_write_ex(t->ssl, v.iov_base, n, &w) || w == 0)
            return -1; /* the wire never refuses: only a TLS error stops a write */
        evbuffer_drain(plain, w);
        done += w;
    }
    return 0;
}

void tls_sock_trim(struct tls_sock *t)
{
    SSL_free_buffers(t->ssl); /* refused (harmlessly) while a record is half read */
}

void tls_sock_close_notify(struct tls_sock *t)
{
    if (SSL_shutdown(t->ssl) < 0)
        ERR_clear_error();
}
