/*
 * fetch_att — the attribute list of FETCH (RFC 3501 §6.4.5, CONDSTORE's MODSEQ of RFC 7162,
 * BINARY[.PEEK] and BINARY.SIZE of RFC 3516) as a struct: macros ALL/FAST/FULL expanded,
 * BODY[section]<partial> and BODY.PEEK parsed into msg/mime.h sections ready for
 * mime_section_resolve. Pure, no I/O.
 *
 * Memory: the struct owns the bodies array and an arena holding the header-field names and the
 * response item names; imap_fetch_atts_clear frees it. Nothing points into the parser's
 * arguments, so the result outlives the command's parse tree.
 */
#ifndef PIGEON_IMAP_FETCH_ATT_H
#define PIGEON_IMAP_FETCH_ATT_H

#include "imap/parser.h"
#include "msg/arena.h"
#include "msg/mime.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_fetch_flag {
    IMAP_FETCH_FLAGS = 1 << 0,
    IMAP_FETCH_INTERNALDATE = 1 << 1,
    IMAP_FETCH_RFC822_SIZE = 1 << 2,
    IMAP_FETCH_ENVELOPE = 1 << 3,
    IMAP_FETCH_BODY = 1 << 4, /* BODY without a section: the structure, no extensions */
    IMAP_FETCH_BODYSTRUCTURE = 1 << 5,
    IMAP_FETCH_UID = 1 << 6,
    IMAP_FETCH_RFC822 = 1 << 7,        /* like BODY[], answered as "RFC822" */
    IMAP_FETCH_RFC822_HEADER = 1 << 8, /* like BODY.PEEK[HEADER], answered as "RFC822.HEADER" */
    IMAP_FETCH_RFC822_TEXT = 1 << 9,   /* like BODY[TEXT], answered as "RFC822.TEXT" */
    IMAP_FETCH_MODSEQ = 1 << 10,       /* RFC 7162 */
};

enum imap_fetch_body_kind {
    IMAP_FB_BODY,        /* BODY[section]: the bytes as stored */
    IMAP_FB_BINARY,      /* BINARY[part]: content transfer encoding removed (RFC 3516) */
    IMAP_FB_BINARY_SIZE, /* BINARY.SIZE[part]: the size of that */
};

struct imap_fetch_body {
    enum imap_fetch_body_kind kind;
    struct mime_section section; /* field names in the atts' arena */
    bool peek;                   /* BODY.PEEK / BINARY.PEEK: does not set \Seen */
    bool partial;                /* <start.count> given */
    uint32_t start, count;
    const char *name; /* response item: "BODY[1.HEADER.FIELDS (From)]", plus "<start>" */
};

struct imap_fetch_atts {
    unsigned flags;                 /* enum imap_fetch_flag */
    struct imap_fetch_body *bodies; /* heap array, in request order */
    size_t nbodies, bodies_cap;
    bool sets_seen; /* RFC822, RFC822.TEXT or a BODY[...] without PEEK (RFC 3501 §6.4.5) */
    struct msg_arena arena;
};

/*
 * Parses the fetch-att argument of FETCH (one atom, or a list of atoms) into out, which the
 * caller then frees with imap_fetch_atts_clear (also after an error). UID is not added here:
 * UID FETCH callers set IMAP_FETCH_UID themselves (RFC 3501 §6.4.8). Returns 0, or ERR_PARSE
 * with a static reason in *err_out (for BAD).
 */
int imap_fetch_atts_parse(const struct imap_arg *arg, struct imap_fetch_atts *out,
                          const char **err_out);
void imap_fetch_atts_clear(struct imap_fetch_atts *a);

/*
 * Parses a section spec, the text between "[" and "]" ("1.2.HEADER.FIELDS (A B)", "TEXT",
 * ""), into *out; field names are copied into arena. Appends the normalised spec (keywords in
 * upper case) to norm when not NULL. Returns 0 or ERR_PARSE with *err_out.
 */
int imap_section_parse(const char *s, size_t n, struct msg_arena *arena, struct mime_section *out,
                       struct str *norm, const char **err_out);

#endif
