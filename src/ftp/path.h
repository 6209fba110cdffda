/*
 * path — the virtual file tree a session sees: every path a client names is turned into an
 * absolute path inside its own root ("/" is the root; ".." at the root stays there), so no
 * name can climb out of the tree by text alone. The service glue then opens it beneath the
 * root directory with openat2(RESOLVE_BENEATH), which also stops symbolic links that point
 * out. Pure functions: no I/O, no allocation.
 */
#ifndef PIGEON_FTP_PATH_H
#define PIGEON_FTP_PATH_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest virtual path, NUL included. */
#define FTP_PATH_MAX 1024

/*
 * Resolves arg against cwd (an absolute virtual path) into out[cap]: "/", or "/a/b" without
 * "." or ".." components, repeated or trailing slashes. 0, or < 0 when the result would not
 * fit (or arg holds a NUL).
 */
int ftp_path_resolve(const char *cwd, struct slice arg, char *out, size_t cap);

/* The path relative to the root for *at() calls: "a/b", or "." for "/". Points into vpath. */
const char *ftp_path_rel(const char *vpath);

/* The last component of an absolute virtual path ("" for "/"). Points into vpath. */
const char *ftp_path_base(const char *vpath);

/* Whether the absolute virtual path vpath is dir itself or beneath it (dir absolute, not
 * "/", no trailing slash). */
bool ftp_path_within(const char *vpath, const char *dir);
/* Whether vpath's directory is dir ("/a/b" is in "/a"). */
bool ftp_path_in_dir(const char *vpath, const char *dir);

#endif
