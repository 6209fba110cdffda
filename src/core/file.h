/*
 * file — reading a whole (small) file into memory: configuration-like inputs such as the
 * Public Suffix List or a PEM key. Blocks on disk I/O.
 */
#ifndef PIGEON_CORE_FILE_H
#define PIGEON_CORE_FILE_H

#include "core/str.h"

#include <stddef.h>

/*
 * Appends the contents of path to out. 0; ERR_NOTFOUND when it does not exist; ERR_LIMIT when
 * it holds more than max bytes; ERR_IO otherwise (errno tells more).
 */
int file_read_all(const char *path, size_t max, struct str *out);

#endif
