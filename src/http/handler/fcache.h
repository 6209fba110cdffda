/*
 * http/handler/fcache — an open-file cache for the file handler, one per worker loop (as
 * nginx's open_file_cache, h2o's filecache): a bounded table of regular files found beneath a
 * site's root by path, each kept open with its stat and, when small, its whole content, so a
 * hot file costs no openat2, fstat or pread per request.
 *
 * Never stale: each entry's inode is watched with inotify (added before the file is stat'ed
 * and read, so no change after that is missed) for writes, truncation, attribute and link
 * count changes (a file replaced by rename or deleted), moves and deletion; a look-up first
 * drains the inotify queue (one non-blocking read) and drops what changed — once per input
 * read (http_fcache_input), else at every look-up. A path whose
 * directories were renamed or re-pointed keeps its inode, so each entry is also checked again
 * by path (openat2 + fstat) once it is older than the revalidation time.
 *
 * Not thread-safe: one cache per loop. Performs file-system I/O (openat2, fstat, pread,
 * inotify) on the caller's thread; files are local.
 */
#ifndef PIGEON_HTTP_HANDLER_FCACHE_H
#define PIGEON_HTTP_HANDLER_FCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct http_fcache;

/* An opened file, from the cache or not. */
struct http_file_ref {
    int fd;           /* open O_RDONLY */
    bool borrowed;    /* fd (and data) are the cache's, valid until its next call: dup to keep */
    const char *data; /* the whole content (st.st_size octets) when cached, else NULL */
    const char *etag; /* cached: its entity tag (http_etag) and Last-Modified text, made once */
    const char *last_modified;
    struct stat st;
};

/* A cache of at most max_entries files, each checked again by path after valid_ms; NULL when
 * inotify is unavailable (then files are opened per request). */
struct http_fcache *http_fcache_new(unsigned max_entries, unsigned valid_ms);
void http_fcache_free(struct http_fcache *fc);

/*
 * Opens rel beneath root_fd (openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; "" is the root
 * itself) and stats it. A regular file comes from the cache (borrowed) or goes into it; a
 * directory or anything else is opened for the caller (not borrowed). fc may be NULL (no
 * cache). Returns 0, or -errno (the file handler's 404/403/414 reasons).
 */
int http_fcache_open(struct http_fcache *fc, int root_fd, const char *rel,
                     struct http_file_ref *out);
/*
 * Requests have been read (call it after the read, before they are answered; fc may be NULL):
 * the next look-up drains the inotify queue, those after it until the next call do not. Exact:
 * a change that the drain misses came after the read, so after those requests were sent, and
 * answering them as the files were is answering them at once. (HTTP/2: one read brings ten
 * requests, one system call instead of ten.) A cache never told of input drains at every
 * look-up.
 */
void http_fcache_input(struct http_fcache *fc);
/* A descriptor of the file that the caller owns (dup of a borrowed one); -1 on failure. */
int http_file_ref_take_fd(struct http_file_ref *f);
/* Closes the file if it is the caller's; the ref is empty afterwards. */
void http_file_ref_clear(struct http_file_ref *f);

#endif
