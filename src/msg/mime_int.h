/*
 * mime_int — declarations shared by the mime_*.c files only (not a public header).
 */
#ifndef PIGEON_MSG_MIME_INT_H
#define PIGEON_MSG_MIME_INT_H

#include "msg/mime.h"

/* Fills p's Content-* fields from its header block (mime_fields.c). digest_child: the part's
 * default type is message/rfc822 (RFC 2046 §5.1.5). */
void mime_fields_parse(struct mime_tree *t, struct mime_part *p, bool digest_child);

/* Structured-field lexer of RFC 2045 §5.1 / RFC 5322 §3.2 (mime_fields.c). */
struct mime_lex {
    const char *p;
    size_t n;
    size_t i;
};
/* Skips blanks, line breaks and nested comments. */
void mime_lex_cfws(struct mime_lex *l);
/* An RFC 2045 token (8-bit bytes tolerated); false when none is at the cursor. */
bool mime_lex_token(struct mime_lex *l, struct slice *out);
/* A quoted-string at the cursor (the opening quote must be there); its content, unescaped,
 * is appended to out. An unterminated string runs to the end. */
bool mime_lex_quoted(struct mime_lex *l, struct str *out);

#endif
