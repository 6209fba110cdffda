/*
 * search_match — evaluation of a parsed SEARCH tree (imap/search_parse.h) against one
 * message described by a struct: flags, sizes, dates and callbacks that return decoded header
 * and body text (filled from msg/mime.h mime_text_* or from a cache). Substring matches are
 * case-insensitive on UTF-8 (msg/utf8.h folding). Pure: the only effects are the callbacks.
 */
#ifndef PIGEON_IMAP_SEARCH_MATCH_H
#define PIGEON_IMAP_SEARCH_MATCH_H

#include "core/str.h"
#include "imap/search_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_search_msg {
    uint32_t seq, uid;
    unsigned flags;              /* enum imap_msg_flag */
    const char *const *keywords; /* keyword names set on the message */
    size_t nkeywords;
    uint64_t size;         /* RFC822.SIZE */
    int64_t internal_date; /* Unix time */
    int internal_tz_min;   /* zone the internal date is judged in (BEFORE/ON/SINCE) */
    uint64_t modseq;

    void *ctx;
    /* Appends the decoded values (UTF-8, RFC 2047 decoded, unfolded) of every field named
     * name, one per line; name NULL: the whole header as "Name: value" lines. Returns the
     * number of fields (0: none). mime_text_header fits. */
    size_t (*header)(void *ctx, const char *name, struct str *out);
    /* Appends the decoded body text (mime_text_body fits). */
    void (*body)(void *ctx, struct str *out);
};

/*
 * True when message m matches s (prepared with imap_search_prepare). The callbacks are called
 * only for keys that need them, at most once each for the body and the whole header; the
 * cheap keys of an AND are evaluated first. May take the time of folding the message text.
 */
bool imap_search_match(const struct imap_search *s, const struct imap_search_msg *m);

#endif
