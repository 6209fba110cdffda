/*
 * seqset — IMAP sequence sets (RFC 3501 §9 sequence-set; "$" of RFC 5182 on request):
 * parsing, resolution of "*" against the current largest number, membership, iteration and
 * the compact form used in UIDPLUS responses (RFC 4315). The same code serves message
 * sequence numbers and UIDs. Pure; the ranges are heap memory owned by the set.
 *
 * Life cycle: imap_seqset_init, imap_seqset_parse (raw: "*" kept unresolved, ranges as
 * written), imap_seqset_resolve(max) (every range ordered, sorted, merged; "*" = max), then
 * contains / iterate / format; imap_seqset_clear frees. Sets built with imap_seqset_add need
 * imap_seqset_resolve (any max) before lookups too.
 */
#ifndef PIGEON_IMAP_SEQSET_H
#define PIGEON_IMAP_SEQSET_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In a raw set, 0 stands for "*" (0 is never a valid number, RFC 3501 nz-number). */
#define IMAP_SEQ_STAR 0u

struct imap_seqrange {
    uint32_t lo, hi; /* after resolve: 1 <= lo <= hi */
};

struct imap_seqset {
    struct imap_seqrange *r;
    size_t n, cap;
    bool saved;    /* the set was "$": the caller substitutes the saved search result */
    bool resolved; /* ranges sorted and merged; no "*" left */
};

enum imap_seqset_flags {
    IMAP_SEQSET_ALLOW_SAVED = 1 << 0, /* accept "$" (RFC 5182 SEARCHRES) */
};

void imap_seqset_init(struct imap_seqset *s);
void imap_seqset_clear(struct imap_seqset *s);

/*
 * Parses text[0..len) ("1,3:5,7:*", "*", and "$" with IMAP_SEQSET_ALLOW_SAVED) into s,
 * replacing what it held; the set is raw (see above). Returns 0, or ERR_PARSE with a static
 * reason in *err_out (0, a number above 4294967295, empty elements, junk).
 */
int imap_seqset_parse(const char *text, size_t len, unsigned flags, struct imap_seqset *s,
                      const char **err_out);

/* Adds lo:hi (either order; IMAP_SEQ_STAR allowed) without resolving. */
void imap_seqset_add(struct imap_seqset *s, uint32_t lo, uint32_t hi);

/*
 * Substitutes max for "*", orders each range, sorts and merges. With max 0 (empty mailbox)
 * "*" alone vanishes and "n:*" becomes 1:n (harmless: no such messages). Numbers above max
 * are kept: RFC 3501 §6.4.8 makes "559:*" include the last UID even when 559 is larger, and
 * for message sequence numbers the caller checks imap_seqset_max() <= max (else BAD).
 */
void imap_seqset_resolve(struct imap_seqset *s, uint32_t max);

/* Resolved sets only: binary search. */
bool imap_seqset_contains(const struct imap_seqset *s, uint32_t n);
/* Resolved sets only: how many numbers (saturating), the largest (0 when empty). */
uint64_t imap_seqset_count(const struct imap_seqset *s);
uint32_t imap_seqset_max(const struct imap_seqset *s);

/* Iteration over a resolved set in ascending order: init, then next until it returns false. */
struct imap_seqset_iter {
    const struct imap_seqset *s;
    size_t i;
    uint64_t next;
};
void imap_seqset_iter_init(struct imap_seqset_iter *it, const struct imap_seqset *s);
bool imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *n_out);

/* Appends the compact form ("1,3:5,7") of a resolved set; "" when empty. */
void imap_seqset_format(const struct imap_seqset *s, struct str *out);

#endif
