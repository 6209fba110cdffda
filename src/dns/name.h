/*
 * name — domain names in uncompressed wire form: a sequence of length-prefixed labels ending
 * with the zero-length root label ("\3www\7example\3com\0"), at most 255 bytes, labels at most
 * 63 bytes (RFC 1035 §3.1). Comparison is ASCII case-insensitive (RFC 4343).
 *
 * Every function here except dns_name_check trusts its input to be a valid uncompressed name
 * (as produced by dns_name_from_text, dns_name_check or the wire parser). Compressed names
 * exist only inside packets; wire.h decompresses them. Pure: no I/O, no allocation, no globals.
 */
#ifndef PIGEON_DNS_NAME_H
#define PIGEON_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAXLEN 255 /* RFC 1035 §3.1, wire bytes including the root label */
#define DNS_LABEL_MAXLEN 63 /* RFC 1035 §3.1 */
#define DNS_NAME_MAXLABELS 127
/* Longest presentation form: every byte as \DDD plus dots and the NUL. */
#define DNS_NAME_TEXT_MAX 1024

/* ---- checks and properties ---- */

/* Validates an uncompressed name at p[0..avail): labels <= 63, total <= 255, no compression
 * or extended label types. 0 with *len_out = wire length, or ERR_PARSE. */
int dns_name_check(const uint8_t *p, size_t avail, size_t *len_out);
/* Wire length including the root byte (1 for the root). */
size_t dns_name_len(const uint8_t *name);
/* Number of labels, not counting the root (0 for the root). */
unsigned dns_name_labels(const uint8_t *name);
/* true for "*.<anything>" (RFC 4592 §2.1.1: the asterisk label is the leftmost). */
bool dns_name_is_wild(const uint8_t *name);
/* Pointer into name past its n leftmost labels (n <= dns_name_labels). Borrowed. */
const uint8_t *dns_name_skip(const uint8_t *name, unsigned n);
/* The parent: name without its leftmost label; the root's parent is NULL. Borrowed. */
const uint8_t *dns_name_parent(const uint8_t *name);

/* ---- comparison ---- */

/* Case-insensitive equality. */
bool dns_name_eq(const uint8_t *a, const uint8_t *b);
/* RFC 4034 §6.1 canonical order (labels compared right to left as lower-cased octet strings):
 * < 0, 0 or > 0. */
int dns_name_cmp(const uint8_t *a, const uint8_t *b);
/* true when name equals parent or lies below it (case-insensitive). */
bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent);
/* Case-insensitive FNV-1a hash of the name (the same for names that compare equal). */
uint32_t dns_name_hash(const uint8_t *name);

/* ---- modification ---- */

/* Copies src into dst (room for DNS_NAME_MAXLEN); returns the length. */
size_t dns_name_copy(uint8_t *dst, const uint8_t *src);
/* ASCII lower-casing in place. */
void dns_name_lower(uint8_t *name);
/* out = prefix (a relative name: labels without the root) + suffix. 0 with *len_out, or
 * ERR_RANGE when the result exceeds 255 bytes. prefix_len counts the prefix's label bytes. */
int dns_name_concat(const uint8_t *prefix, size_t prefix_len, const uint8_t *suffix, uint8_t *out,
                    size_t *len_out);

/* ---- presentation form (RFC 1035 §5.1) ---- */

/*
 * Parses text[0..len) with \X and \DDD escapes. "." is the root. A name without a final dot
 * is relative: origin is appended (origin NULL: treated as absolute). "@" is not special
 * here (the zone reader handles it). out needs DNS_NAME_MAXLEN bytes.
 * 0 with *len_out, or ERR_PARSE / ERR_RANGE with a static reason in *err_out.
 */
int dns_name_from_text(const char *text, size_t len, const uint8_t *origin, uint8_t *out,
                       size_t *len_out, const char **err_out);
/* Writes the absolute presentation form with a final dot into out[0..cap), always
 * NUL-terminated (cap > 0). Special and non-printable bytes are escaped (\. \" \DDD ...).
 * Returns the full length (as snprintf: >= cap means it was cut). */
size_t dns_name_to_text(const uint8_t *name, char *out, size_t cap);

#endif
