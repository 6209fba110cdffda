/*
 * stub — the DNS API the mail side uses (DESIGN.md §6): MX hosts in preference order with the
 * RFC 5321 §5.1 fallback to the domain's own address, null MX (RFC 7505), addresses, TXT
 * (for SPF) and PTR. Asynchronous: every call returns at once and its callback runs later
 * on the event loop the stub was made for (never from inside the call itself).
 *
 * A stub is backed either by the in-process recursive resolver (issue 6) or by an external
 * recursive server named in the config ("resolver = 127.0.0.1:53"). Results are owned by the
 * stub and valid only during the callback; copy what you keep.
 */
#ifndef PIGEON_DNS_RESOLVER_STUB_H
#define PIGEON_DNS_RESOLVER_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dns_stub;
struct event_base;

enum dns_stub_status {
    DNS_STUB_OK = 0,       /* answer present */
    DNS_STUB_NXDOMAIN,     /* the name does not exist */
    DNS_STUB_NODATA,       /* the name exists, no record of that type */
    DNS_STUB_TEMPFAIL,     /* timeout, SERVFAIL, no server reachable: try again later */
    DNS_STUB_BADNAME,      /* the name is not a valid domain name */
};

struct dns_stub_mx {
    char host[256];        /* presentation form, no trailing dot */
    uint16_t preference;
};

struct dns_stub_mx_result {
    enum dns_stub_status status;
    bool null_mx;          /* RFC 7505: "MX 0 ." — the domain accepts no mail */
    bool implicit;         /* no MX: hosts[0] is the domain itself (RFC 5321 §5.1) */
    bool ad;               /* the answer came with AD set: the resolver validated it */
    const struct dns_stub_mx *hosts; /* sorted by preference; equal preferences shuffled */
    size_t n;
};

struct dns_stub_addr_result {
    enum dns_stub_status status;
    const struct sockaddr_storage *addrs; /* port 0; AF_INET and/or AF_INET6 */
    size_t n;
};

struct dns_stub_txt_result {
    enum dns_stub_status status;
    const char *const *txt; /* each record's strings concatenated (RFC 7208 §3.3), NUL-terminated */
    const size_t *len;
    size_t n;
};

/* Any type's records, as they are on the wire (dns_stub_rr). */
struct dns_stub_rdata {
    const uint8_t *data;
    uint16_t len;
};

struct dns_stub_rr_result {
    enum dns_stub_status status;
    bool ad; /* the answer came with AD set (RFC 4035 §3.2.3: the resolver validated it) */
    const struct dns_stub_rdata *rr;
    size_t n;
};

typedef void (*dns_stub_rr_cb)(void *arg, const struct dns_stub_rr_result *r);
typedef void (*dns_stub_mx_cb)(void *arg, const struct dns_stub_mx_result *r);
typedef void (*dns_stub_addr_cb)(void *arg, const struct dns_stub_addr_result *r);
typedef void (*dns_stub_txt_cb)(void *arg, const struct dns_stub_txt_result *r);

enum dns_stub_family { DNS_STUB_INET = 1, DNS_STUB_INET6 = 2, DNS_STUB_ANY = 3 };

/*
 * A stub that asks one external recursive server (e.g. 127.0.0.1:53, or Pigeon's own
 * resolver listener). Lives on base; free it on base's thread after its queries are done or
 * abandoned (callbacks of queries still in flight are then never called).
 */
struct dns_stub *dns_stub_new_server(struct event_base *base, const struct sockaddr *server,
                                     socklen_t slen);
/* Replaces the way a server stub reaches its server (the network by default): tests and fuzz
 * targets answer its queries themselves. Before the first look-up. */
struct dns_io_ops;
void dns_stub_set_io(struct dns_stub *s, const struct dns_io_ops *io);
/*
 * A stub backed by the in-process resolver res (borrowed: it must outlive the stub, on the
 * same loop base). Questions inside the server's own zones are answered from them.
 */
struct dns_resolver;
struct dns_stub *dns_stub_new_internal(struct event_base *base, struct dns_resolver *res);
void dns_stub_free(struct dns_stub *s);

void dns_stub_mx(struct dns_stub *s, const char *domain, dns_stub_mx_cb cb, void *arg);
void dns_stub_addr(struct dns_stub *s, const char *name, enum dns_stub_family fam,
                   dns_stub_addr_cb cb, void *arg);
void dns_stub_txt(struct dns_stub *s, const char *name, dns_stub_txt_cb cb, void *arg);
/* PTR of an address: the names are given as a TXT-shaped result (one name per entry). */
/* The records of type at name (after CNAMEs), asking with AD=1 so that a validating
 * resolver says whether it validated them (RFC 6840 §5.7): TLSA for DANE, SRV, anything the
 * three calls above do not cover. */
void dns_stub_rr(struct dns_stub *s, const char *name, uint16_t type, dns_stub_rr_cb cb,
                 void *arg);
void dns_stub_ptr(struct dns_stub *s, const struct sockaddr *sa, dns_stub_txt_cb cb, void *arg);

#endif
