/*
 * hints — the root hints: the name servers of the root zone and their addresses, read from a
 * master file in the form of IANA's named.root (". NS X." plus "X. A/AAAA addr" lines), or
 * taken from the built-in copy of that file. The resolver starts every walk down the tree
 * from these servers when its cache holds no closer delegation.
 *
 * The reader is pure apart from dns_hints_load reading the file. The struct owns its memory.
 */
#ifndef PIGEON_DNS_RESOLVER_HINTS_H
#define PIGEON_DNS_RESOLVER_HINTS_H

#include "core/str.h"
#include "dns/name.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_HINTS_MAX_ADDRS 4

struct dns_hints_server {
    uint8_t name[DNS_NAME_MAXLEN];
    struct sockaddr_storage addr[DNS_HINTS_MAX_ADDRS]; /* port 53 */
    socklen_t addrlen[DNS_HINTS_MAX_ADDRS];
    unsigned naddr;
};

struct dns_hints {
    struct dns_hints_server *servers;
    unsigned n;
};

/*
 * Parses hints text[0..len) (fname for messages). Records other than the root's NS and the
 * A/AAAA of those NS names are ignored; an NS without any address is dropped. Returns 0, or
 * ERR_PARSE with "file:line: reason" (or "no root server with an address") in err.
 * *out must be zeroed or cleared; it owns the result.
 */
int dns_hints_parse(const char *text, size_t len, const char *fname, struct dns_hints *out,
                    struct str *err);
/* Reads the file at path (blocks), then as dns_hints_parse. */
int dns_hints_load(const char *path, struct dns_hints *out, struct str *err);
/* The built-in hints (the real root servers, as in etc/root.hints). */
void dns_hints_builtin(struct dns_hints *out);
void dns_hints_clear(struct dns_hints *h);

#endif
