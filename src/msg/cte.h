/*
 * cte — Content-Transfer-Encoding (RFC 2045 §6): names and lenient decoding of a part's body
 * for SEARCH. Strict base64 lives in msg/base64.h; this is the reader's tolerant variant
 * (line breaks, garbage and missing padding are skipped). Pure functions, no I/O.
 */
#ifndef PIGEON_MSG_CTE_H
#define PIGEON_MSG_CTE_H

#include "core/str.h"

#include <stddef.h>

enum cte { CTE_7BIT, CTE_8BIT, CTE_BINARY, CTE_QP, CTE_BASE64, CTE_UNKNOWN };

/* The encoding named by name[0..n) (case-insensitive, surrounding blanks ignored); an absent
 * field (n 0) is 7BIT (RFC 2045 §6.1), an unrecognised one CTE_UNKNOWN. */
enum cte cte_from_name(const char *name, size_t n);

/* Appends the base64-decoded bytes of in[0..n): characters outside the alphabet are skipped,
 * decoding stops at the first "=", and a trailing partial quantum gives what bits it can. */
void cte_base64_decode(const char *in, size_t n, struct str *out);

/* Appends the decoded body in[0..n): base64 and quoted-printable are decoded, everything else
 * (identity and unknown encodings) is copied unchanged. */
void cte_decode(enum cte enc, const char *in, size_t n, struct str *out);

#endif
