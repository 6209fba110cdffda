/*
 * search_parse — SEARCH criteria (RFC 3501 §6.4.4, MODSEQ of RFC 7162, ESEARCH RETURN options
 * of RFC 4731) from the parser's arguments to a tree of keys. Every RFC 3501 key is
 * understood: ALL, ANSWERED, BCC, BEFORE, BODY, CC, DELETED, DRAFT, FLAGGED, FROM, HEADER,
 * KEYWORD, LARGER, NEW, NOT, OLD, ON, OR, RECENT, SEEN, SENTBEFORE, SENTON, SENTSINCE, SINCE,
 * SMALLER, SUBJECT, TEXT, TO, UID, UNANSWERED, UNDELETED, UNDRAFT, UNFLAGGED, UNKEYWORD,
 * UNSEEN, sequence sets ("$", the saved result of RFC 5182, on request) and parenthesised
 * groups. Search strings are converted from the
 * CHARSET to UTF-8 and case-folded once here (msg/utf8.h), so matching only folds the message.
 * Pure, no I/O.
 *
 * Memory: the tree lives in the struct's arena; imap_search_clear frees it (also after an
 * error). Nothing points into the parser's arguments.
 */
#ifndef PIGEON_IMAP_SEARCH_PARSE_H
#define PIGEON_IMAP_SEARCH_PARSE_H

#include "imap/parser.h"
#include "imap/seqset.h"
#include "msg/arena.h"
#include "msg/date.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* System flags as bits (also used by search_match.h). */
enum imap_msg_flag {
    IMAP_MSGF_SEEN = 1 << 0,
    IMAP_MSGF_ANSWERED = 1 << 1,
    IMAP_MSGF_FLAGGED = 1 << 2,
    IMAP_MSGF_DELETED = 1 << 3,
    IMAP_MSGF_DRAFT = 1 << 4,
    IMAP_MSGF_RECENT = 1 << 5,
};

enum imap_search_op {
    IMAP_SK_ALL,
    IMAP_SK_AND,     /* children: every one must match */
    IMAP_SK_OR,      /* children: two keys */
    IMAP_SK_NOT,     /* children: one key */
    IMAP_SK_SEQSET,  /* set: message sequence numbers */
    IMAP_SK_UIDSET,  /* set: UIDs */
    IMAP_SK_FLAG,    /* flag set (want) or clear (!want) */
    IMAP_SK_KEYWORD, /* keyword (str) set (want) or clear */
    IMAP_SK_NEW,     /* RECENT and not SEEN */
    IMAP_SK_OLD,     /* not RECENT */
    IMAP_SK_BEFORE,  /* internal date, day only */
    IMAP_SK_ON,
    IMAP_SK_SINCE,
    IMAP_SK_SENTBEFORE, /* Date: header, day only */
    IMAP_SK_SENTON,
    IMAP_SK_SENTSINCE,
    IMAP_SK_LARGER,  /* RFC822.SIZE > number */
    IMAP_SK_SMALLER, /* RFC822.SIZE < number */
    IMAP_SK_HEADER,  /* field (FROM, TO, CC, BCC, SUBJECT, HEADER x) contains str */
    IMAP_SK_BODY,    /* body text contains str */
    IMAP_SK_TEXT,    /* header or body contains str */
    IMAP_SK_MODSEQ,  /* mod-sequence >= number */
};

struct imap_search_key {
    enum imap_search_op op;
    struct imap_search_key *children; /* AND, OR, NOT */
    struct imap_search_key *next;     /* next sibling */
    bool want;                        /* FLAG, KEYWORD: set (true) or clear */
    unsigned flag;                    /* FLAG: one enum imap_msg_flag */
    const char *field;                /* HEADER: field name */
    const char *str;                  /* HEADER/BODY/TEXT: folded UTF-8; KEYWORD: as sent */
    size_t str_len;
    struct msg_date date;      /* date keys */
    uint64_t number;           /* LARGER, SMALLER, MODSEQ */
    struct imap_seqset set;    /* SEQSET, UIDSET: resolved by imap_search_prepare */
    struct imap_seqrange *raw; /* the set as parsed ("*" unresolved) */
    size_t nraw;
    bool saved; /* UIDSET "$" (RFC 5182): the saved result, filled by imap_search_prepare */
};

enum imap_search_return {
    IMAP_SEARCH_RET_MIN = 1 << 0,
    IMAP_SEARCH_RET_MAX = 1 << 1,
    IMAP_SEARCH_RET_ALL = 1 << 2,
    IMAP_SEARCH_RET_COUNT = 1 << 3,
    IMAP_SEARCH_RET_SAVE = 1 << 4,
    IMAP_SEARCH_RET_PARTIAL = 1 << 5, /* RFC 5267 §4.4: results partial_lo..partial_hi */
    IMAP_SEARCH_RET_UPDATE = 1 << 6,  /* RFC 5267 §4.3: keep the result up to date */
};

struct imap_search {
    struct imap_search_key *root;    /* an AND of the top-level keys */
    bool esearch;                    /* RETURN (...) was given: answer with ESEARCH */
    unsigned ret;                    /* enum imap_search_return; RETURN () means ALL */
    uint32_t partial_lo, partial_hi; /* PARTIAL: 1-based positions, lo <= hi */
    bool uses_modseq;                /* a MODSEQ key: the reply carries (MODSEQ n) (RFC 7162) */
    bool uses_saved;                 /* a "$" key (RFC 5182) */
    const uint32_t *saved;           /* imap_search_set_saved: the saved uids, ascending */
    size_t nsaved;
    struct msg_arena arena;
};

enum imap_search_parse_flags {
    IMAP_SEARCH_ALLOW_RETURN = 1 << 0,  /* ESEARCH (RFC 4731) advertised */
    IMAP_SEARCH_ALLOW_SAVED = 1 << 1,   /* SEARCHRES (RFC 5182): "$" is a sequence set */
    IMAP_SEARCH_BARE_CHARSET = 1 << 2,  /* SORT/THREAD (RFC 5256): a charset, no CHARSET word */
    IMAP_SEARCH_ALLOW_CONTEXT = 1 << 3, /* CONTEXT=SEARCH/SORT (RFC 5267): PARTIAL, UPDATE,
                                           CONTEXT */
};

/*
 * Parses the arguments of SEARCH (everything after the command name; after "UID SEARCH"
 * for the UID form) into out. Returns 0; ERR_PARSE with *err_out (reply BAD); or
 * ERR_NOTFOUND for an unknown CHARSET (reply NO [BADCHARSET (US-ASCII UTF-8)]).
 * Free out with imap_search_clear in every case.
 */
int imap_search_parse(const struct imap_arg *args, size_t nargs, unsigned flags,
                      struct imap_search *out, const char **err_out);

/* The saved search result "$" stands for (uids ascending; kept by pointer until the search is
 * cleared). Call before imap_search_prepare; without it "$" matches nothing. */
void imap_search_set_saved(struct imap_search *s, const uint32_t *uids, size_t n);

/* Resolves every sequence set against the mailbox as it is now: "*" is msn_max for message
 * numbers and uid_max for UIDs. Call before matching (again when the mailbox changed). */
void imap_search_prepare(struct imap_search *s, uint32_t msn_max, uint32_t uid_max);

void imap_search_clear(struct imap_search *s);

#endif
