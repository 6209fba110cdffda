/*
 * ini — reads an INI-style configuration file: `[section]` headers, `key = value` lines,
 * `#` or `;` comments on their own line, blank lines. Values are trimmed; a value may be
 * wrapped in double quotes to keep leading/trailing spaces. Keys may repeat (the callback
 * sees each occurrence). Reads one file; performs no other I/O.
 */
#ifndef PIGEON_CORE_INI_H
#define PIGEON_CORE_INI_H

#include "core/str.h"

/*
 * Called for each key. section is "" before the first header; a header with an argument,
 * "[zone example.com]", arrives as "zone example.com" (one space). A section header alone is
 * reported with key == NULL so that callers can reject unknown sections at their line.
 * Returns 0 to continue or a negative ERR_* with a static reason in *why_out.
 */
typedef int (*ini_cb)(void *ctx, const char *section, const char *key, const char *value,
                      unsigned line, const char **why_out);

/*
 * Parses the file at path. On error returns a negative ERR_* and writes "path:line: reason"
 * (or "path: reason") into err_out.
 */
int ini_parse_file(const char *path, ini_cb cb, void *ctx, struct str *err_out);
/* The same over an in-memory text; `name` is used in messages. Pure. */
int ini_parse_text(const char *name, const char *text, size_t len, ini_cb cb, void *ctx,
                   struct str *err_out);

#endif
