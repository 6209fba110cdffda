/*
 * transport — one DNS query to one server over UDP (falling back to TCP on TC=1, RFC 7766)
 * on a libevent loop. Every UDP query uses a fresh socket (a random source port chosen by the
 * kernel) and a random ID; a response is accepted only from the server's address and port,
 * with the same ID and the same question (RFC 5452). Used by the stub and the resolver.
 */
#ifndef PIGEON_DNS_RESOLVER_TRANSPORT_H
#define PIGEON_DNS_RESOLVER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct dns_query_io;

enum dns_io_status {
    DNS_IO_OK = 0,
    DNS_IO_TIMEOUT,   /* no acceptable answer in time (after the UDP retries) */
    DNS_IO_NETWORK,   /* socket error, connection refused */
};

/* resp is valid only during the callback (NULL unless DNS_IO_OK). */
typedef void (*dns_io_cb)(void *arg, enum dns_io_status st, const uint8_t *resp, size_t len);

struct dns_io_params {
    unsigned timeout_ms;  /* per UDP try, and for the whole TCP exchange */
    unsigned tries;       /* UDP sends before giving up (each with a new port and ID) */
    bool tcp_only;
    bool match_case;      /* 0x20: the reply's question must keep the case we sent */
};

/*
 * Sends query (a complete message; its ID is replaced by a random one each try) to server.
 * Returns a handle for dns_query_io_cancel, or NULL when it failed at once (cb is then called
 * later from the loop anyway, never from inside this call).
 */
struct dns_query_io *dns_query_io_start(struct event_base *base, const struct sockaddr *server,
                                        socklen_t slen, const uint8_t *query, size_t qlen,
                                        const struct dns_io_params *p, dns_io_cb cb, void *arg);
/* Cancels a query: its callback will not be called. */
void dns_query_io_cancel(struct dns_query_io *q);

/*
 * The resolver's way out, as a table: how an upstream query is started and cancelled (the
 * two functions above by default) and the monotonic clock in milliseconds (CLOCK_MONOTONIC).
 * Unit tests put a scripted upstream and a fake clock here (tests/fakes/fake_upstream.h),
 * as Unbound's testcode/fake_event.c replaces its network. start keeps the contract of
 * dns_query_io_start: cb is never called from inside start, and not after cancel.
 */
struct dns_io_ops {
    struct dns_query_io *(*start)(void *ctx, struct event_base *base,
                                  const struct sockaddr *server, socklen_t slen,
                                  const uint8_t *query, size_t qlen,
                                  const struct dns_io_params *p, dns_io_cb cb, void *arg);
    void (*cancel)(void *ctx, struct dns_query_io *q);
    uint64_t (*now_ms)(void *ctx);
    void *ctx;
};

/* The network (dns_query_io_start/cancel) and CLOCK_MONOTONIC. */
extern const struct dns_io_ops dns_io_network;

/* ---- the checks on what comes back, pure (fuzzed by tests/fuzz/fuzz_dns_transport.c) ---- */

/* End of the question section of our own query (one question, uncompressed name): the
 * offset after QTYPE/QCLASS, or len when the query is cut short. */
size_t dns_io_question_end(const uint8_t *query, size_t len);
/* RFC 5452 §9: whether r[0..n) answers query (whose question ends at qsec_end): a response
 * with the same ID and QDCOUNT and the same question, letters compared without case unless
 * match_case (0x20). Reads no octet past r[n) or query[qsec_end). */
bool dns_io_response_matches(const uint8_t *query, size_t qsec_end, bool match_case,
                             const uint8_t *r, size_t n);
/* DNS over TCP from an upstream: in[0..1] is the length prefix of the first message and
 * avail the octets received so far (prefix included). The message's length when it has
 * fully arrived, else -1. */
long dns_io_tcp_message(const uint8_t *in, size_t avail);

#endif
