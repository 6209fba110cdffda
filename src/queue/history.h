/*
 * history — the daily record files of the mail reports (DMARC aggregate, TLS-RPT): one text
 * line appended to DATA/KIND/YYYY-MM-DD (the UTC day), with one write() on an O_APPEND
 * descriptor so that lines of concurrent threads never interleave; a day's ".sent" mark.
 * Blocks on small file I/O (no fsync: a report lost in a crash is a report, not mail).
 */
#ifndef PIGEON_QUEUE_HISTORY_H
#define PIGEON_QUEUE_HISTORY_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DD" of the UTC day holding t into out[11]; the day's first second into *begin. */
void history_day(int64_t t, char out[11], int64_t *begin);

/* DATA/KIND/DAY[EXT] into out. */
void history_path(const char *data_dir, const char *kind, const char *day, const char *ext,
                  struct str *out);

/* Appends line[0..len) to kind's file of now's day (the folder made when missing). Errors are
 * logged. */
void history_append(const char *data_dir, const char *kind, int64_t now, const char *line,
                    size_t len);

/* The first second of the UTC day "YYYY-MM-DD". */
int64_t history_day_start(const char *day);

/* Calls fn with every line (with its "\n") of kind's file of day. 0, or ERR_NOTFOUND when
 * there is no such file. */
int history_each(const char *data_dir, const char *kind, const char *day,
                 void (*fn)(void *ctx, const char *line, size_t len), void *ctx);

/* The day's ".sent" mark: written when its reports went; whether it is there. */
void history_mark_sent(const char *data_dir, const char *kind, const char *day);
bool history_was_sent(const char *data_dir, const char *kind, const char *day);

#endif
