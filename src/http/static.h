/*
 * http/static — the pure decisions of serving a file as an origin server: the request path
 * made safe, entity tags, conditional requests (RFC 9110 §13), byte ranges (RFC 9110 §14)
 * and the media type from a mime.types table. The file handler (handler/file.c) does the
 * I/O and asks these functions what to answer. No I/O, no clock, no globals.
 */
#ifndef PIGEON_HTTP_STATIC_H
#define PIGEON_HTTP_STATIC_H

#include "http/request.h"

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * Percent-decodes path and turns it into a relative path below a document root: no leading
 * '/', no empty or "." segments. Refuses (returns -400) malformed %-escapes, NUL, ".." in
 * any spelling (".." or "%2e%2e"), and (returns -404) segments starting with '.' other than
 * ".well-known". *dir_out tells whether the path ended with '/'. out is "" for the root.
 */
int http_path_clean(struct slice path, struct str *out, bool *dir_out);

/* What a file's validators are made of. */
struct http_file_meta {
    uint64_t size;
    time_t mtime;
    long mtime_ns;
    uint64_t ino;
};

/* A strong entity tag "ino-size-mtime" (with the quotes) into out (at most 64 octets). */
void http_etag(const struct http_file_meta *m, char out[64]);

enum http_cond { HTTP_COND_PASS, HTTP_COND_NOT_MODIFIED, HTTP_COND_FAILED };

/* RFC 9110 §13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since in that
 * order. NOT_MODIFIED is 304 (GET/HEAD), FAILED is 412. */
enum http_cond http_conditional(const struct http_request *req, const char *etag,
                                time_t last_modified);

/* RFC 9110 §13.1.5: whether a Range is to be honoured given If-Range (true when absent). */
bool http_if_range(const struct http_request *req, const char *etag, time_t last_modified);

#define HTTP_MAX_RANGES 16

struct http_range {
    uint64_t first, last; /* inclusive */
};

/*
 * Resolves a Range field against a representation of size octets. Returns the number of
 * ranges (1..HTTP_MAX_RANGES) to send as 206, 0 to ignore the field and send 200 (not a
 * bytes range, malformed, more ranges than allowed, or size 0), or -416 when none is
 * satisfiable.
 */
int http_range_parse(struct slice field, uint64_t size, struct http_range *out);

/* A mime.types table: extension → media type. */
struct http_mime;
/* Parses text in the format of /etc/mime.types ("type ext ext ...", '#' comments) on top of
 * built-in defaults for the common web types. */
struct http_mime *http_mime_new(const char *text, size_t len);
void http_mime_free(struct http_mime *m);
/* The type for a file name (by its last extension, case-insensitive);
 * "application/octet-stream" when unknown. Never NULL; owned by m. */
const char *http_mime_type(const struct http_mime *m, const char *name);

#endif
