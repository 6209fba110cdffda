/*
 * idna — internationalised domain names (IDNA 2008, RFC 5891, through libidn2): a domain as
 * typed or received (U-labels such as "bücher.example", or A-labels "xn--bcher-kva.example")
 * to the one ASCII form Pigeon stores, compares and puts in DNS queries: lower-case A-labels.
 * Pure (libidn2 holds no state); thread-safe.
 */
#ifndef PIGEON_CORE_IDNA_H
#define PIGEON_CORE_IDNA_H

#include <stddef.h>

/* Writes the lower-case ASCII form of domain into out (cap bytes). A name already in ASCII
 * is only lower-cased (A-labels in it are checked by libidn2 too). 0, or ERR_PARSE with a
 * static reason in *why (a label IDNA 2008 disallows, bad UTF-8), ERR_RANGE if too long. */
int idna_to_ascii(const char *domain, char *out, size_t cap, const char **why);

/* "local@domain" with its domain in ASCII form (the local part is kept: RFC 6531 lets it be
 * UTF-8). Same return convention; an address without '@' is copied unchanged. */
int idna_address_to_ascii(const char *addr, char *out, size_t cap, const char **why);

#endif
