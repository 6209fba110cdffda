/*
 * mime — the structure of a stored message (RFC 5322 header, RFC 2045/2046 MIME), computed by
 * one pure function over its bytes, and what IMAP builds on it:
 *   - mime_parse: the tree of parts, with byte offsets of each part's header and body
 *     (for BODY[section]), line counts and the parsed Content-* fields;
 *   - mime_header_*: field iteration, lookup and unfolding (RFC 5322 §2.2);
 *   - mime_envelope_write / mime_bodystructure_write: the IMAP ENVELOPE, BODY and
 *     BODYSTRUCTURE strings exactly as RFC 3501 §7.4.2 defines them (mime_envelope.c,
 *     mime_bodystructure.c);
 *   - mime_section_*: the bytes of BODY[section] (RFC 3501 §6.4.5) (mime_section.c);
 *   - mime_text_*: decoded text for SEARCH (mime_text.c).
 *
 * Input: the message as stored, CRLF line ends expected, bare LF tolerated everywhere (sizes
 * and offsets are then of the bytes as they are). Nothing is ever refused: a broken message
 * gets the structure a tolerant reader would see (RFC 2045 §5.2: an unusable Content-Type is
 * text/plain; charset=us-ascii).
 *
 * Encoded-words (RFC 2047) are never decoded here: RFC 3501 wants the header strings of
 * ENVELOPE and BODYSTRUCTURE as they appear in the message. msg/rfc2047.h decodes for SEARCH.
 * RFC 2231 parameters are decoded in the tree (continuations joined, charset converted to
 * UTF-8); see mime_bodystructure_write for how they are sent.
 *
 * Memory: mime_parse returns a tree the caller owns and frees with one mime_tree_free; every
 * part and string in it lives in the tree's arena. The tree points into the message bytes,
 * which the caller keeps alive and unchanged while the tree is used. No I/O, no globals.
 */
#ifndef PIGEON_MSG_MIME_H
#define PIGEON_MSG_MIME_H

#include "core/str.h"
#include "msg/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- header fields (mime_header.c) -------------------------------------------------- */

struct mime_field {
    struct slice name; /* field name as written, blanks before the colon removed */
    struct slice raw;  /* value after the colon up to the field's last line break, folds kept */
    size_t off;        /* offset of the field in the header block */
    size_t len;        /* bytes of the whole field including its last line break */
};

/*
 * Iterates the fields of the header block hdr[0..len) (which may include the empty line and
 * anything after it: iteration stops at the empty line). *pos starts at 0. Returns 1 with *f
 * filled, 0 at the end. Lines that are not fields (no colon, a leading continuation) are
 * skipped. f's slices point into hdr.
 */
int mime_header_next(const char *hdr, size_t len, size_t *pos, struct mime_field *f);
/* The first field named name (case-insensitive); false when absent. */
bool mime_header_find(const char *hdr, size_t len, const char *name, struct mime_field *f);
/*
 * Appends the unfolded value raw[0..n) to out (RFC 5322 §2.2.3: a line break followed by a
 * blank is removed, the blank kept), without leading and trailing blanks; NUL bytes and bare
 * line breaks are dropped.
 */
void mime_header_unfold(const char *raw, size_t n, struct str *out);

/* ---- the tree (mime_parse.c, mime_fields.c) ------------------------------------------ */

enum mime_kind {
    MIME_KIND_BASIC,     /* any leaf that is not text */
    MIME_KIND_TEXT,      /* text/ *: BODYSTRUCTURE carries its line count */
    MIME_KIND_MULTIPART, /* children hold the parts */
    MIME_KIND_MESSAGE    /* message/rfc822: `message` holds the encapsulated message */
};

struct mime_param {
    const char *name;  /* attribute without RFC 2231 "*" / "*N*" suffixes, case as written */
    const char *value; /* unquoted; UTF-8 when ext */
    bool ext;          /* came in the RFC 2231 charset form ("name*=utf-8''...") */
};

struct mime_part {
    struct mime_part *parent;    /* NULL for the root and for an encapsulated message */
    struct mime_part *children;  /* first child (multipart) */
    struct mime_part *next;      /* next sibling */
    struct mime_part *message;   /* MIME_KIND_MESSAGE: root part of the encapsulated message */
    struct mime_part *container; /* for an encapsulated message root: its message/rfc822 part */
    unsigned nchildren;
    unsigned depth; /* 0 for the root; +1 per multipart or message level */
    enum mime_kind kind;

    /* Offsets in the whole message. The header block includes its terminating empty line
     * (when there is one); the body follows it directly. For multipart children the line
     * break before the next boundary belongs to the boundary (RFC 2046 §5.1.1). */
    size_t hdr_off, hdr_len;
    size_t body_off, body_len;
    size_t body_lines; /* line ends in the body (a last line without one is not counted) */

    /* Content-Type: never NULL. Absent or unusable: "TEXT" "PLAIN" with a CHARSET
     * "US-ASCII" parameter (RFC 2045 §5.2), or "MESSAGE" "RFC822" in a multipart/digest
     * (RFC 2046 §5.1.5). Otherwise as written. */
    const char *type, *subtype;
    struct mime_param *params;
    size_t nparams;
    bool type_defaulted;

    /* Other Content-* fields, unfolded and trimmed as written; NULL when absent. */
    const char *encoding;    /* Content-Transfer-Encoding token */
    const char *id;          /* Content-ID */
    const char *description; /* Content-Description (encoded-words kept) */
    const char *md5;         /* Content-MD5 */
    const char *location;    /* Content-Location (RFC 2557) */
    const char *disposition; /* Content-Disposition type (RFC 2183) */
    struct mime_param *disp_params;
    size_t ndisp_params;
    const char **languages; /* Content-Language tags (RFC 3282) */
    size_t nlanguages;
};

struct mime_limits {
    unsigned max_depth; /* multipart/message nesting; deeper containers become leaves */
    size_t max_parts;   /* parts in the whole tree; beyond it containers become leaves */
};
#define MIME_DEFAULT_MAX_DEPTH 64
#define MIME_DEFAULT_MAX_PARTS 10000

struct mime_tree {
    const char *msg; /* the message given to mime_parse (not owned) */
    size_t len;
    struct mime_part *root; /* the whole message: header and body */
    size_t nparts;
    bool truncated; /* a limit was hit: some containers were left unparsed */
    struct msg_arena arena;
};

/*
 * Parses msg[0..len) (lim NULL: the defaults). Never fails; the result is owned by the caller
 * (mime_tree_free) and points into msg. Iterative over the bytes: no recursion deeper than the
 * nesting limit. Does not block beyond the CPU time of one pass over the message.
 */
struct mime_tree *mime_parse(const char *msg, size_t len, const struct mime_limits *lim);
void mime_tree_free(struct mime_tree *t);

/* The parameter named name (case-insensitive) of a list, or NULL. */
const struct mime_param *mime_param_find(const struct mime_param *params, size_t n,
                                         const char *name);
/* True when the part's type/subtype equal these (case-insensitive; subtype NULL: any). */
bool mime_part_is(const struct mime_part *p, const char *type, const char *subtype);

/* ---- IMAP ENVELOPE, BODY, BODYSTRUCTURE (mime_envelope.c, mime_bodystructure.c) ---------- */

/*
 * Appends the ENVELOPE of the header block hdr[0..len) to out (RFC 3501 §7.4.2):
 * (date subject from sender reply-to to cc bcc in-reply-to message-id). Strings are the
 * unfolded raw values (quoted, or literals when they hold 8-bit bytes, quotes are kept
 * escaped); absent or empty fields are NIL; Sender and Reply-To default to From. Address
 * lists follow RFC 3501: (name adl mailbox host), group syntax as (NIL NIL "group" NIL) ...
 * (NIL NIL NIL NIL). A missing domain is ".MISSING-HOST-NAME." and a missing local part
 * "MISSING_MAILBOX" (the UW-IMAP convention other servers share).
 */
void mime_envelope_write(const char *hdr, size_t len, struct str *out);

/*
 * Appends the addresses of one address-list field value (unfolded) to out, parsed as
 * ENVELOPE parses them, one per line as "name <mailbox@host>" (name and "@host" left out
 * when absent; groups give their member addresses). SEARCH FROM/TO/CC/BCC match this form
 * besides the raw text, so "user@domain" finds "<user (comment)@ (comment) domain>".
 */
void mime_address_list_text(const char *value, size_t len, struct str *out);

/*
 * The first entry of an address-list value as ENVELOPE parses it: its display name, mailbox
 * and host (empty when absent; ".MISSING-HOST-NAME." for an address without a domain), or
 * for a group its name in mailbox with *group set (RFC 5256 sorts a group by its name).
 * False when the list is empty.
 */
bool mime_address_first(const char *value, size_t len, struct str *name, struct str *mailbox,
                        struct str *host, bool *group);

enum mime_bs_flags {
    MIME_BS_EXTENSIONS = 1 << 0, /* BODYSTRUCTURE (with extension data) instead of BODY */
    MIME_BS_UTF8 = 1 << 1,       /* client accepts UTF-8 (RFC 6855 UTF8=ACCEPT / IMAP4rev2) */
};

/*
 * Appends the BODY (flags 0) or BODYSTRUCTURE (MIME_BS_EXTENSIONS) of part p of tree t to out
 * (p NULL: the whole message). Extension data is always written in full (MD5, disposition,
 * language, location; for multiparts parameters, disposition, language, location). RFC 2231
 * parameters: an ASCII value is sent under its plain name; a non-ASCII one is sent decoded in UTF-8
 * with MIME_BS_UTF8, otherwise re-encoded as "name*" "utf-8''%XX..." so that no information is lost
 * and IMAP4rev1 clients get only 7-bit strings. A multipart in which no part was found is written
 * as one empty TEXT/PLAIN part (the grammar needs one).
 */
void mime_bodystructure_write(const struct mime_tree *t, const struct mime_part *p, unsigned flags,
                              struct str *out);

/* ---- BODY[section] (mime_section.c) ------------------------------------------------- */

#define MIME_SECTION_MAX_PARTS 32

enum mime_section_kind {
    MIME_SECTION_BODY,              /* "" or part numbers alone: the whole (sub)part */
    MIME_SECTION_HEADER,            /* HEADER */
    MIME_SECTION_HEADER_FIELDS,     /* HEADER.FIELDS (list) */
    MIME_SECTION_HEADER_FIELDS_NOT, /* HEADER.FIELDS.NOT (list) */
    MIME_SECTION_TEXT,              /* TEXT */
    MIME_SECTION_MIME,              /* MIME (only after a part number) */
};

struct mime_section {
    uint32_t part[MIME_SECTION_MAX_PARTS]; /* "1.2.3" gives {1, 2, 3}; every number >= 1 */
    unsigned nparts;
    enum mime_section_kind kind;
    const char *const *fields; /* HEADER.FIELDS[.NOT] names (borrowed, NUL-terminated) */
    size_t nfields;
};

/* What BODY[section] sends: either a range of the message or synthesized bytes. */
struct mime_range {
    size_t off, len; /* in the message, or in data when synth */
    bool synth;      /* the bytes are in data (HEADER.FIELDS[.NOT]) */
    struct str data; /* owned by the range: mime_range_clear */
};

/*
 * Resolves section s against tree t (RFC 3501 §6.4.5): part numbers descend multiparts;
 * part 1 of a non-multipart is its body; a number after a message/rfc822 part descends into
 * the encapsulated message's body; HEADER, TEXT and HEADER.FIELDS[.NOT] apply to the message
 * (top level or the message/rfc822 part the numbers lead to), MIME to the part's own MIME
 * header. BODY[n] of a message/rfc822 part is the whole encapsulated message.
 * HEADER.FIELDS[.NOT] selects whole fields (folding kept, bare LF made CRLF) and ends with an
 * empty line. Returns 0 with *out set (clear it with mime_range_clear), or ERR_NOTFOUND for a
 * part that does not exist or a HEADER/TEXT of a part that is not a message (callers
 * answer with an empty string, as Dovecot and Cyrus do).
 */
int mime_section_resolve(const struct mime_tree *t, const struct mime_section *s,
                         struct mime_range *out);
/* The part that the part numbers of s name (RFC 3501 §6.4.5, as mime_section_resolve walks
 * them), or NULL when there are none or they name nothing (BINARY of RFC 3516 decodes it). */
const struct mime_part *mime_section_part(const struct mime_tree *t, const struct mime_section *s);
/* Cuts r down to the partial fetch <start.count> (RFC 3501 §6.4.5): bytes from start, at most
 * count of them (count UINT32_MAX: no limit); a start past the end gives an empty range. */
void mime_range_partial(struct mime_range *r, uint32_t start, uint32_t count);
/* Pointer and length of the bytes r designates in msg. */
struct slice mime_range_bytes(const struct mime_range *r, const char *msg);
void mime_range_clear(struct mime_range *r);

/* ---- decoded text for SEARCH (mime_text.c) ------------------------------------------- */

/*
 * Appends, decoded to UTF-8 (RFC 2047, unfolded), the values of every field named name in the
 * header block hdr[0..len), one per line. name NULL: every field as "Name: value" lines (for
 * SEARCH TEXT). Returns the number of fields found (0: none; SEARCH HEADER x "" needs that).
 */
size_t mime_text_header(const char *hdr, size_t len, const char *name, struct str *out);
/*
 * Appends the decoded text of the message body for SEARCH BODY: every text/ * part with its
 * transfer encoding removed and its charset converted to UTF-8; an encapsulated message adds
 * its decoded header and its text parts. Other parts are skipped. Stops once out holds
 * max_bytes (0: no limit) so a huge message cannot blow the memory of a search.
 */
void mime_text_body(const struct mime_tree *t, struct str *out, size_t max_bytes);

#endif
