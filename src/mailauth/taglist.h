/*
 * taglist — the tag=value lists of DKIM (RFC 6376 §3.2), also used by DMARC (RFC 7489 §6.4)
 * and ARC (RFC 8617 §4.1) records and headers. Pure, no I/O.
 *
 * Hand-written: the grammar is a dozen lines of ABNF, no Debian library exposes it on its own
 * (libopendkim keeps it private), and the DKIM verifier needs the raw byte span of each value
 * (b= is blanked in place before hashing, §3.7), which a generic parser would not give.
 *
 * Memory: the slices point into the caller's input, which must outlive the list.
 */
#ifndef PIGEON_MAILAUTH_TAGLIST_H
#define PIGEON_MAILAUTH_TAGLIST_H

#include "core/str.h"

#include <stddef.h>

#define TAGLIST_MAX 40

struct taglist_tag {
    struct slice name;
    struct slice value; /* without surrounding folding white space; may hold inner FWS */
    size_t raw_start;   /* offset just after '=' */
    size_t raw_end;     /* offset of the ';' that ends the tag, or of the end of the input */
};

struct taglist {
    struct taglist_tag t[TAGLIST_MAX];
    size_t n;
};

/*
 * Parses p[0..len) (a header field's value or a TXT record). Duplicate tags, a tag name that
 * is not ALPHA *(ALPHA / DIGIT / "_"), a character outside VALCHAR in a value, or more than
 * TAGLIST_MAX tags are errors: returns ERR_PARSE with *err_out set; 0 on success.
 */
int taglist_parse(const char *p, size_t len, struct taglist *out, const char **err_out);

/* The tag called name (case-sensitive, as §3.2 says), or NULL. */
const struct taglist_tag *taglist_get(const struct taglist *tl, const char *name);

/* Copies v without any white space (SP, HTAB, CR, LF): what base64 values need (§3.5 b=). */
void taglist_strip_ws(struct slice v, struct str *out);

#endif
