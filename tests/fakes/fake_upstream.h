/*
 * fake_upstream — a scripted DNS upstream for the resolver, in place of the network: as
 * Unbound's testcode/fake_event.c runs .rpl scenarios, every query the iterator sends is
 * matched against a script of (server, question) -> reply, and the reply (or a timeout) is
 * delivered from the event loop, never from inside the call that sent the query. Plugs in
 * through struct dns_io_ops (dns/resolver/transport.h) with a struct fake_clock: a timeout
 * moves the clock by the query's timeout, a reply by FAKE_UPSTREAM_RTT_MS.
 *
 * Every query is recorded, so a test can count what reached each server. A query that no
 * script entry matches is answered with a timeout and counted in `unscripted`.
 */
#ifndef PIGEON_TESTS_FAKE_UPSTREAM_H
#define PIGEON_TESTS_FAKE_UPSTREAM_H

#include "dns/resolver/transport.h"
#include "fakes/fake_clock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

#define FAKE_UPSTREAM_RTT_MS 10

enum fake_reply_kind {
    FAKE_REPLY = 0, /* a DNS reply built from the entry */
    FAKE_TIMEOUT,   /* no reply: the transport's timeout */
    FAKE_GARBAGE,   /* bytes that are not a DNS message */
};

/* One line of the script. Sections are master-file text with absolute names and explicit
 * TTLs, records separated by newlines ("" or NULL: empty). */
struct fake_dns_entry {
    const char *server; /* IPv4 address asked (port 53) */
    const char *qname;  /* the question as sent ("www.example."), any case; "*": any name */
    uint16_t qtype;     /* 0: any type */
    enum fake_reply_kind kind;
    unsigned rcode;
    bool aa;
    const char *answer, *authority, *additional;
    unsigned times; /* used at most this many times, then skipped (0: no limit) */
};

/* What the fake saw: one entry per query, in order. */
struct fake_dns_query {
    char server[64];
    char qname[256]; /* presentation form, lower case, with the final dot */
    uint16_t qtype;
};

struct fake_upstream;

/* The script is borrowed (keep it alive); the first matching entry answers. */
struct fake_upstream *fake_upstream_new(struct event_base *base, struct fake_clock *clock,
                                        const struct fake_dns_entry *script, size_t n);
/* Queries to server (IPv4) are answered by Pigeon's authoritative engine from zs (borrowed;
 * signed zones give DNSSEC answers to DO queries), before the script is looked at. Up to
 * FAKE_UPSTREAM_MAX_SERVED servers. */
#define FAKE_UPSTREAM_MAX_SERVED 8
struct dns_zoneset;
void fake_upstream_serve(struct fake_upstream *f, const char *server, const struct dns_zoneset *zs);
/* Pending replies are dropped (their callbacks never run). */
void fake_upstream_free(struct fake_upstream *f);
/* The ops for dns_resolver_shared_set_io (valid while f lives). */
const struct dns_io_ops *fake_upstream_ops(struct fake_upstream *f);
/* Queries seen that match server (NULL: any), qname (NULL: any; case-insensitive) and
 * qtype (0: any). */
unsigned fake_upstream_count(const struct fake_upstream *f, const char *server, const char *qname,
                             uint16_t qtype);
/* Queries that matched no entry. */
unsigned fake_upstream_unscripted(const struct fake_upstream *f);
/* Replies not yet delivered. */
unsigned fake_upstream_pending(const struct fake_upstream *f);
/* The log of queries. */
const struct fake_dns_query *fake_upstream_log(const struct fake_upstream *f, size_t *n_out);

#endif
