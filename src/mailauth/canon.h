/*
 * canon — DKIM canonicalisation (RFC 6376 §3.4) and the split of a message into header fields
 * and body that signing and verification both start from. Pure, no I/O.
 *
 * Memory: struct mailauth_msg points into the caller's message bytes; outputs are appended to
 * caller-owned strs.
 */
#ifndef PIGEON_MAILAUTH_CANON_H
#define PIGEON_MAILAUTH_CANON_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

enum dkim_canon { DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED };

/* At most this many header fields are looked at; a message with more is not signed/verified. */
#define MAILAUTH_MAX_FIELDS 1000

struct mailauth_field {
    const char *p;   /* the whole field: name, ':', value, and its final CRLF (or LF) */
    size_t len;
    size_t name_len; /* bytes of the name (before any white space and the ':') */
};

struct mailauth_msg {
    struct mailauth_field *f; /* top to bottom */
    size_t nf;
    const char *body;         /* after the empty line; len 0 when there is none */
    size_t body_len;
};

/*
 * Splits msg[0..len) (CRLF lines) into fields and body. A field is a line and its
 * continuation lines; a line without ':' before the empty line is refused. Returns 0, or
 * ERR_PARSE / ERR_LIMIT (more than MAILAUTH_MAX_FIELDS). Free with mailauth_msg_clear.
 */
int mailauth_msg_split(const char *msg, size_t len, struct mailauth_msg *out);
void mailauth_msg_clear(struct mailauth_msg *m);

/* True when field f is named name (case-insensitive). */
bool mailauth_field_is(const struct mailauth_field *f, const char *name);
/* The value of f: after the ':', without the final line end (still folded, not trimmed). */
struct slice mailauth_field_value(const struct mailauth_field *f);

/*
 * Appends the canonical form of the field raw[0..len) (name ':' value, with or without the
 * final CRLF) to out, always ending in CRLF (§3.4.1 simple, §3.4.2 relaxed).
 */
void dkim_canon_header(enum dkim_canon c, const char *raw, size_t len, struct str *out);

/*
 * The canonical body (§3.4.3 simple, §3.4.4 relaxed) of body[0..len), handed to emit in
 * pieces as it is made (no copy of the body is built). Returns its length in bytes (what l=
 * counts).
 */
typedef void (*dkim_emit_fn)(void *ctx, const char *p, size_t n);
size_t dkim_canon_body_stream(enum dkim_canon c, const char *body, size_t len,
                              dkim_emit_fn emit, void *ctx);
/* The same, appended to out. */
size_t dkim_canon_body(enum dkim_canon c, const char *body, size_t len, struct str *out);

#endif
