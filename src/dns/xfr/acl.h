/*
 * acl — who may transfer or update a zone: a list of address prefixes ("127.0.0.0/8",
 * "::1/128", "192.0.2.7") and TSIG key names ("key:transfer-key"). A request is allowed when
 * its source address lies in one of the prefixes, or when it carries a valid TSIG signature
 * made with one of the keys. An empty list allows nobody.
 *
 * Pure: parsing and matching only (IPv4-mapped IPv6 sources match IPv4 prefixes). The ACL
 * owns its entries (dns_acl_clear frees them).
 */
#ifndef PIGEON_DNS_XFR_ACL_H
#define PIGEON_DNS_XFR_ACL_H

#include "dns/name.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

enum dns_acl_kind { DNS_ACL_V4, DNS_ACL_V6, DNS_ACL_KEY };

struct dns_acl_entry {
    enum dns_acl_kind kind;
    uint8_t addr[16];             /* network byte order; v4 in the first 4 bytes */
    unsigned plen;                /* prefix length */
    uint8_t key[DNS_NAME_MAXLEN]; /* DNS_ACL_KEY: the key name, lower-cased wire form */
};

struct dns_acl {
    struct dns_acl_entry *e;
    size_t n;
};

/*
 * Parses a space- or comma-separated list into acl (which must be zeroed or cleared). NULL or
 * empty text gives an empty list. 0, or ERR_PARSE with the offending word copied into
 * bad (cap bytes) and nothing kept.
 */
int dns_acl_parse(const char *text, struct dns_acl *acl, char *bad, size_t cap);
void dns_acl_clear(struct dns_acl *acl);
/* Parses one address with an optional "/len" into e (kind v4 or v6). 0 or ERR_PARSE. */
int dns_acl_prefix_parse(const char *word, size_t len, struct dns_acl_entry *e);

/* True when sa lies in one of the prefixes, or key (a verified TSIG key name, or NULL) is
 * one of the listed keys. */
bool dns_acl_match(const struct dns_acl *acl, const struct sockaddr *sa, const uint8_t *key);
/* True when sa lies in the prefix e. */
bool dns_acl_entry_match(const struct dns_acl_entry *e, const struct sockaddr *sa);
/* True when the list names at least one key (requests then need TSIG to match by key). */
bool dns_acl_has_keys(const struct dns_acl *acl);

#endif
