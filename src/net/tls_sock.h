/*
 * tls_sock — server-side TLS run by OpenSSL directly on a non-blocking socket, for net/conn.c's
 * direct mode (proto_ops.direct_tls). libevent's OpenSSL filter costs a second bufferevent
 * with its own buffers and callbacks, and its socket reader asks the kernel how much is
 * waiting (ioctl FIONREAD) before every read. Here records are read from the socket with
 * read-ahead (one read per readable event for a small request), and written into an evbuffer
 * of ciphertext ("the wire") that the caller hands to the socket in one writev per loop turn.
 *
 * No events, no timers, no logging: the caller watches the socket, and says what failed
 * (OpenSSL's error queue). A tls_sock owns its SSL; the socket stays the caller's.
 */
#ifndef PIGEON_NET_TLS_SOCK_H
#define PIGEON_NET_TLS_SOCK_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct evbuffer;
struct tls_sock;

/* Results of tls_sock_read (octets added when > 0). */
enum { TLS_SOCK_WAIT = 0, TLS_SOCK_CLOSED = -1, TLS_SOCK_FAILED = -2 };

/* A server session on socket fd from ctx. NULL: no memory (OpenSSL's error queue says). */
struct tls_sock *tls_sock_new(SSL_CTX *ctx, int fd);
void tls_sock_free(struct tls_sock *t);
SSL *tls_sock_ssl(const struct tls_sock *t);

/* Ciphertext made and not yet written to the socket (the caller drains it). */
struct evbuffer *tls_sock_wire(const struct tls_sock *t);

/* Moves the handshake on with what the socket has: 1 done, 0 more input needed, < 0 failed.
 * Its records are in the wire. */
int tls_sock_handshake(struct tls_sock *t);

/* Decrypts what the socket has into in: > 0 octets added, TLS_SOCK_WAIT nothing yet,
 * TLS_SOCK_CLOSED the peer closed (EOF or close_notify), TLS_SOCK_FAILED a TLS error. It
 * stops after TLS_SOCK_READ_CAP octets (1 MiB; tls_sock_set_read_cap) even when the socket
 * has more; otherwise it leaves nothing read ahead in OpenSSL's buffers. */
int tls_sock_read(struct tls_sock *t, struct evbuffer *in);
/* Whether records already read from the socket wait inside OpenSSL (tls_sock_read stopped at
 * its cap): then call tls_sock_read again without waiting for the socket to be readable — it
 * may never be again. */
bool tls_sock_pending(const struct tls_sock *t);
#define TLS_SOCK_READ_CAP (1 << 20)
/* Another cap for one tls_sock_read (tests). */
void tls_sock_set_read_cap(struct tls_sock *t, size_t cap);

/* Encrypts up to max octets of plain (drained as it goes) into the wire; small pieces are
 * gathered into full records. 0, or < 0 on a TLS error. */
int tls_sock_encrypt(struct tls_sock *t, struct evbuffer *plain, size_t max);

/* The session is idle: OpenSSL's record buffers (some 34 KB, kept while it is busy rather
 * than allocated and freed per record) go until the next record. */
void tls_sock_trim(struct tls_sock *t);

/* Puts a close_notify alert in the wire (RFC 8446 §6.1). */
void tls_sock_close_notify(struct tls_sock *t);

#endif
