/*
 * acl — who may transfer or update a zone: address prefixes ("127.0.0.0/8", "::1/128",
 * "192.0.2.7"; the shared address list of net/acl.h, IPv4-mapped sources included) and TSIG
 * key names ("key:transfer-key"). A request is allowed when its source address lies in one of
 * the prefixes, or when it carries a valid TSIG signature made with one of the keys. An empty
 * list allows nobody.
 *
 * Pure: parsing and matching only. The ACL owns its entries (dns_acl_clear frees them).
 */
#ifndef PIGEON_DNS_XFR_ACL_H
#define PIGEON_DNS_XFR_ACL_H

#include "dns/name.h"
#include "net/acl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct dns_acl {
    struct net_acl addrs;
    uint8_t (*keys)[DNS_NAME_MAXLEN]; /* key names, lower-cased wire form */
    size_t nkeys;
};

/*
 * Parses a space- or comma-separated list into acl (overwritten). NULL or empty text gives an
 * empty list. 0, or ERR_PARSE with the offending word copied into bad (cap bytes) and
 * nothing kept.
 */
int dns_acl_parse(const char *text, struct dns_acl *acl, char *bad, size_t cap);
void dns_acl_clear(struct dns_acl *acl);

/* True when sa lies in one of the prefixes, or key (a verified TSIG key name, or NULL) is
 * one of the listed keys. */
bool dns_acl_match(const struct dns_acl *acl, const struct sockaddr *sa, const uint8_t *key);
/* True when the list names at least one key (requests then need TSIG to match by key). */
bool dns_acl_has_keys(const struct dns_acl *acl);

#endif
