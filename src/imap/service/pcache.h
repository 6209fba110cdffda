/*
 * pcache — a worker's memory copy of the parse cache (store/imap.h's parse_cache rows:
 * ENVELOPE, BODYSTRUCTURE, BODY, decoded header text), keyed by message file. Message files
 * are immutable, so an entry never goes stale; it only ages out (least recently used first)
 * when the copy holds more than its byte budget. A SEARCH of a header or a FETCH ENVELOPE
 * that finds every entry here needs no SQLite read at all: concurrent sessions on the same
 * messages (every recipient of a delivery shares its file) no longer meet in SQLite's
 * allocator and page reads.
 *
 * One per worker, used on that worker's thread only: no locks.
 */
#ifndef PIGEON_IMAP_SERVICE_PCACHE_H
#define PIGEON_IMAP_SERVICE_PCACHE_H

#include "imap/session.h"

#include <stdbool.h>
#include <stddef.h>

struct imap_pcache;

/* max_bytes: the budget for the strings held (0: a default of 64 MiB). */
struct imap_pcache *imap_pcache_new(size_t max_bytes);
void imap_pcache_free(struct imap_pcache *c);

/* Copies (malloc'd, for the engine to free) the fields wanted (enum imap_cache_field) of blob
 * into out; true when every wanted field was there (out untouched otherwise). */
bool imap_pcache_get(struct imap_pcache *c, const char *blob, unsigned fields,
                     struct imap_cache_entry *out);
/* Remembers e's non-NULL fields for blob (copied). */
void imap_pcache_put(struct imap_pcache *c, const char *blob, const struct imap_cache_entry *e);

#endif
