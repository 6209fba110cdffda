/*
 * acl — who may use a service, by source address: a list of prefixes ("127.0.0.0/8",
 * "::1/128", "192.0.2.7"). IPv4-mapped IPv6 sources (::ffff:a.b.c.d, what a dual-stack socket
 * reports for an IPv4 client) match IPv4 prefixes. Words that are not prefixes may be taken
 * by the caller's parser (the name server's "key:NAME" entries).
 *
 * Pure: parsing and matching only; no I/O, no globals. The list owns its entries
 * (net_acl_clear frees them).
 */
#ifndef PIGEON_NET_ACL_H
#define PIGEON_NET_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct net_prefix {
    bool v6;
    uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
    unsigned plen;
};

struct net_acl {
    struct net_prefix *p;
    size_t n;
};

/* Parses one address with an optional "/len" (word[0..len), not NUL-terminated). 0 or
 * ERR_PARSE. */
int net_prefix_parse(const char *word, size_t len, struct net_prefix *p);
/* True when sa (AF_INET or AF_INET6; NULL: false) lies in p. */
bool net_prefix_match(const struct net_prefix *p, const struct sockaddr *sa);

/* Takes a word that is not an address; 0 when it is one of the caller's, else ERR_PARSE. */
typedef int (*net_acl_word_fn)(void *ctx, const char *word, size_t len);

/*
 * Parses a space- or comma-separated list into acl (overwritten). NULL or empty text gives an
 * empty list. Words that do not parse as prefixes go to other (NULL: none accepted). 0, or
 * ERR_PARSE with the offending word copied into bad (cap bytes) and nothing kept.
 */
int net_acl_parse(const char *text, struct net_acl *acl, net_acl_word_fn other, void *ctx,
                  char *bad, size_t cap);
void net_acl_clear(struct net_acl *acl);
/* True when sa lies in one of the prefixes. */
bool net_acl_match(const struct net_acl *acl, const struct sockaddr *sa);
/* The same for an address in text form ("192.0.2.1", "::1"); false when it does not parse. */
bool net_acl_match_text(const struct net_acl *acl, const char *addr);
/* Whether an address in text form is loopback: 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. */
bool net_addr_is_loopback(const char *addr);

#endif
