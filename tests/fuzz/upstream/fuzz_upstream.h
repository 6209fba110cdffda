/*
 * fuzz_upstream — for fuzz targets only: an upstream DNS made of the fuzz input, plugged in
 * as the resolver's and the server stub's struct dns_io_ops (dns_resolver_shared_set_io,
 * dns_stub_set_io), so that the stub, the iterator and SPF see arbitrary responses with no
 * socket.
 *
 * Each query "sent" is answered from the event loop (never inside the call) with the next
 * response of the input: a 2-octet big-endian length L, then L octets giving the flags (2,
 * QR forced on), the answer, authority and additional counts (6) and the records that follow
 * the question. The ID and the question are the query's own, so every response passes the
 * checks the real transport makes (RFC 5452) and the fuzzing reaches the parsing behind them.
 * When the input is used up, queries time out (DNS_IO_TIMEOUT). The clock is a counter that
 * moves one millisecond per query.
 */
#ifndef PIGEON_TESTS_FUZZ_UPSTREAM_H
#define PIGEON_TESTS_FUZZ_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct dns_stub;
struct dns_io_ops;

/* The responses for the next queries (data is borrowed until the run ends). */
void fuzz_upstream_set(const uint8_t *data, size_t size);
/* The dns_io_ops answering from that input. */
const struct dns_io_ops *fuzz_upstream_io(void);
/* A stub that asks "127.0.0.1:53" through fuzz_upstream_io. */
struct dns_stub *fuzz_upstream_stub(struct event_base *base);
/* Turns the loop until *finished: every answer comes at once, so a look-up ends within a
 * bounded number of turns (its limits); the guard only stops one that would not. */
void fuzz_upstream_run(struct event_base *base, const bool *finished);

#endif
