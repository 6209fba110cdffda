/*
 * histline — the tab-separated lines of the report history files (DMARC aggregate, TLS-RPT):
 * a text field written with control characters replaced, fields read back with their size
 * limits, and the end mark "\t." that makes a line torn by a crash unreadable rather than
 * misread. Pure, no I/O.
 */
#ifndef PIGEON_MAILAUTH_HISTLINE_H
#define PIGEON_MAILAUTH_HISTLINE_H

#include "core/str.h"

#include <stddef.h>

/* Appends "\t" and v, with bytes below 0x20 and DEL (tab, CR, LF included) as '?'. */
void histline_field(struct str *out, const char *v);
/* Appends the end mark and the line end. */
void histline_end(struct str *out);

/* The next field of line[*pos..len) into out[0..cap) (a longer one is an error), moving *pos
 * past its tab. 0 or ERR_PARSE. */
int histline_take(const char *line, size_t len, size_t *pos, char *out, size_t cap);
/* The next field as a decimal number in 0..max. 0 or ERR_PARSE. */
int histline_take_num(const char *line, size_t len, size_t *pos, long long max, long long *v);
/* 0 when the end mark is next and ends the line; ERR_PARSE otherwise. */
int histline_take_end(const char *line, size_t len, size_t *pos);

#endif
