/*
 * tcp — DNS over TCP (RFC 1035 §4.2.2, RFC 7766): messages each preceded by their length in
 * two bytes. The one framing for both DNS services (the name server, src/dns/server/service,
 * and the resolver, src/dns/resolver/service): a service supplies a struct dns_tcp_ops and
 * gets whole messages; conn.c below does the socket, limits and timers.
 *
 * Messages on one connection are answered in order. While the service holds the connection
 * (an answer being worked out elsewhere: dns_tcp_hold ... dns_tcp_release) or streams a long
 * answer (dns_tcp_stream; the next burst when the output has drained), later messages wait
 * in the socket buffer (back-pressure reaches the client). A message with nothing to answer
 * closes the connection (RFC 7766 §6.2.4 allows it).

 * Only the framing: what a message means is the service's business.
 */
#ifndef PIGEON_DNS_SERVICE_TCP_H
#define PIGEON_DNS_SERVICE_TCP_H

#include "net/conn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_tcp_conn;

struct dns_tcp_ops {
    /* One message msg[0..len) (valid during the call). Answer with dns_tcp_send, or start
     * an asynchronous answer (dns_tcp_hold) or a stream (dns_tcp_stream). Returns false when
     * there is nothing to answer: the connection closes. */
    bool (*message)(void *st, struct dns_tcp_conn *m, const uint8_t *msg, size_t len);
    /* Streaming (optional): the output drained; write the next burst. Returns true while
     * more is to come. */
    bool (*more)(void *st, struct dns_tcp_conn *m);
    /* The connection is going away (nothing is held): stop a stream, free st. */
    void (*close)(void *st);
};

/* For the service's proto_ops create(): a message connection on c with the service's
 * per-connection state st (handed back to every ops call). */
void *dns_tcp_new(struct conn *c, const struct dns_tcp_ops *ops, void *st);

/* Writes one message (the length prefix in front). */
void dns_tcp_send(struct dns_tcp_conn *m, const uint8_t *msg, size_t len);
/* The answer to the current message comes later: no more messages until dns_tcp_release. */
void dns_tcp_hold(struct dns_tcp_conn *m);
/* Ends a hold (after its answer was sent, on the connection's thread): later messages are
 * read, and a connection whose peer left meanwhile is freed. */
void dns_tcp_release(struct dns_tcp_conn *m);
/* The current message's answer is a stream: ops->more is called now and whenever the output
 * has drained, until it returns false. */
void dns_tcp_stream(struct dns_tcp_conn *m);
/* Asks for the connection to close once what was written is flushed. */
void dns_tcp_close(struct dns_tcp_conn *m);
struct conn *dns_tcp_get_conn(const struct dns_tcp_conn *m);

/* The proto_ops of a message service: `{ "dns", my_create, DNS_TCP_PROTO_OPS }`, where
 * my_create returns dns_tcp_new(...). */
void dns_tcp_start(void *eng);
void dns_tcp_refuse(void *eng, enum conn_refusal why);
size_t dns_tcp_feed(void *eng, const char *p, size_t n);
bool dns_tcp_busy(const void *eng);
bool dns_tcp_closing(const void *eng);
void dns_tcp_tls_started(void *eng, const char *version, const char *cipher);
void dns_tcp_stop(void *eng);
void dns_tcp_free(void *eng);
void dns_tcp_writable(void *eng);
#define DNS_TCP_PROTO_OPS                                                                          \
    dns_tcp_start, dns_tcp_refuse, dns_tcp_feed, dns_tcp_busy, dns_tcp_closing,                    \
        dns_tcp_tls_started, dns_tcp_stop, dns_tcp_stop, dns_tcp_free, dns_tcp_writable,           \
        false /* direct_tls: DNS over TLS keeps libevent's filter */,                              \
        true /* nodelay: an answer never waits for a delayed ACK */, NULL /* parking */

#endif
