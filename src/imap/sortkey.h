/*
 * sortkey — what SORT (RFC 5256 §3, SORT=DISPLAY of RFC 5957) and THREAD compare: the base
 * subject (RFC 5256 §2.1), the sent date (§2.2), the first address's mailbox, the display
 * name; the sort criteria list and the comparison of two messages by it. Pure: the caller
 * gives decoded header values (UTF-8, RFC 2047 decoded, unfolded) and gets keys back.
 *
 * Strings are compared as the i;ascii-casemap comparator does, after the key is case-mapped
 * once here (ASCII letters upper-cased, as Dovecot orders "_" after letters).
 */
#ifndef PIGEON_IMAP_SORTKEY_H
#define PIGEON_IMAP_SORTKEY_H

#include "core/str.h"
#include "imap/parser.h"
#include "msg/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_sort_key {
    IMAP_SORT_ARRIVAL,
    IMAP_SORT_CC,
    IMAP_SORT_DATE,
    IMAP_SORT_FROM,
    IMAP_SORT_SIZE,
    IMAP_SORT_SUBJECT,
    IMAP_SORT_TO,
    IMAP_SORT_DISPLAYFROM,
    IMAP_SORT_DISPLAYTO,
};

#define IMAP_SORT_MAX_KEYS 16

struct imap_sort_crit {
    enum imap_sort_key key;
    bool reverse;
};

/* Which keys a run computes (from the criteria, or what a THREAD algorithm needs). */
enum imap_sort_want {
    IMAP_WANT_SUBJECT = 1 << 0,
    IMAP_WANT_DATE = 1 << 1,
    IMAP_WANT_FROM = 1 << 2,
    IMAP_WANT_TO = 1 << 3,
    IMAP_WANT_CC = 1 << 4,
    IMAP_WANT_DISPLAYFROM = 1 << 5,
    IMAP_WANT_DISPLAYTO = 1 << 6,
    IMAP_WANT_REFERENCES = 1 << 7, /* Message-ID, References / In-Reply-To */
};

/* One message as SORT and THREAD see it; strings are case-mapped keys ("" when absent). */
struct imap_sort_item {
    uint32_t seq; /* message sequence number: the last tie-breaker */
    uint32_t num; /* what the reply shows: seq or uid */
    uint64_t size;
    uint64_t modseq;
    int64_t arrival, sent; /* Unix time: INTERNALDATE; Date: (else INTERNALDATE) */
    const char *subject;   /* base subject */
    bool reply;            /* the subject had a Re:/Fwd: part removed (THREAD) */
    const char *from, *to, *cc, *dfrom, *dto;
    const char *msgid; /* without <>; NULL: none */
    const char **refs; /* References (or In-Reply-To's first id), oldest first */
    size_t nrefs;
};

/*
 * Parses the sort criteria list "(REVERSE DATE SUBJECT ...)" into out[0..*n_out) (at most
 * IMAP_SORT_MAX_KEYS) and the keys to compute into *want. false with *err_out on bad input.
 */
bool imap_sort_criteria_parse(const struct imap_arg *list, struct imap_sort_crit *out,
                              size_t *n_out, unsigned *want, const char **err_out);

/* The base subject of a decoded Subject value, case-mapped (RFC 5256 §2.1); *reply is set
 * when a reply or forward marker was removed. */
void imap_base_subject(const char *s, size_t n, struct str *out, bool *reply);
/* The key of the first address of a decoded address-list value: its mailbox (local part), or
 * with display its display name, else its addr-spec (RFC 5957 §2.1); case-mapped. */
void imap_sort_address(const char *value, size_t n, bool display, struct str *out);
/* The sent date of a Date value (value NULL or unparsable: internal_date), RFC 5256 §2.2. */
int64_t imap_sent_date(const char *value, size_t n, int64_t internal_date);
/* The message ids "<...>" of a References or In-Reply-To value, without the brackets, in
 * arena; at most max of them (the last ones: the nearest ancestors). Returns the count. */
size_t imap_msgids(const char *value, size_t n, struct msg_arena *a, const char **out, size_t max);

/* Compares by the criteria, then by sequence number (RFC 5256 §3). */
int imap_sort_cmp(const struct imap_sort_item *a, const struct imap_sort_item *b,
                  const struct imap_sort_crit *crit, size_t ncrit);

#endif
