/*
 * str — a growable byte string that is always NUL-terminated, and slice, a read-only view.
 *
 * struct str owns its bytes (free with str_clear). struct slice borrows them and never frees.
 * Lengths always come from the data, not from strlen, so strings may hold NUL bytes.
 * Performs no I/O.
 */
#ifndef PIGEON_CORE_STR_H
#define PIGEON_CORE_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct str {
    char *ptr;  /* NUL-terminated once anything is appended; NULL when empty and unallocated */
    size_t len;
    size_t cap;
};

struct slice {
    const char *p;
    size_t len;
};

#define STR_INIT {NULL, 0, 0}

void str_init(struct str *s);
void str_clear(struct str *s);           /* frees the bytes, back to empty */
void str_reset(struct str *s);           /* length 0, keeps the allocation */
void str_reserve(struct str *s, size_t extra);
void str_append(struct str *s, const void *data, size_t len);
void str_appends(struct str *s, const char *cstr);
void str_appendc(struct str *s, char c);
void str_appendf(struct str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void str_vappendf(struct str *s, const char *fmt, va_list ap);
/* Removes the first n bytes. */
void str_consume(struct str *s, size_t n);
/* Returns the bytes (never NULL: "" when empty). The str keeps ownership. */
const char *str_cstr(const struct str *s);
/* Hands the allocation to the caller (free()); s becomes empty. Never NULL. */
char *str_steal(struct str *s);

static inline struct slice slice_make(const char *p, size_t len)
{
    struct slice sl = {p, len};
    return sl;
}
struct slice slice_cstr(const char *s);
bool slice_eq(struct slice a, const char *cstr);
bool slice_eq_ci(struct slice a, const char *cstr);      /* ASCII case-insensitive */
bool slice_starts_ci(struct slice a, const char *prefix); /* ASCII case-insensitive */
struct slice slice_trim(struct slice a);                 /* strips spaces and tabs at both ends */
/* Parses a decimal unsigned integer filling the whole slice; 0 or ERR_PARSE/ERR_RANGE. */
int slice_to_u64(struct slice a, unsigned long long max, unsigned long long *out);
/* Malloc'd NUL-terminated copy. */
char *slice_dup(struct slice a);

/*
 * Formats one protocol line into buf[0..cap) and ends it with CRLF, cutting the text (never
 * the CRLF) when it is too long. Returns the length written (no NUL counted); cap >= 3.
 */
size_t line_vformat(char *buf, size_t cap, const char *fmt, va_list ap);

/* ASCII lower-casing in place. */
void ascii_lower(char *s, size_t len);
bool ascii_eq_ci(const char *a, const char *b);
/* The value of one hexadecimal digit (either case), or -1. */
int hex_digit_value(char c);

#endif
