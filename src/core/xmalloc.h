/*
 * xmalloc — allocation that never returns NULL: on out-of-memory the process logs and aborts.
 * The caller owns every pointer returned and frees it with free().
 */
#ifndef PIGEON_CORE_XMALLOC_H
#define PIGEON_CORE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Copies exactly n bytes and appends a NUL. */
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

#endif
