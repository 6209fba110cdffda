/*
 * handler/file — a site's document root as an origin server: GET/HEAD/OPTIONS, directory
 * index (or a listing when enabled), precompressed .br/.gz variants, validators, conditional
 * requests, ranges (single and multipart/byteranges), Cache-Control per path prefix.
 *
 * Every file is opened beneath the root with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * so neither "..", nor a symlink pointing out, nor /proc magic links can leave it; the path
 * was already cleaned (http_path_clean). Files are opened and stat'ed per request: a file
 * changed on disk is served changed at once. The body is a file segment: the transport sends
 * it with sendfile (plain) or reads it (TLS, HTTP/2). Decisions come from http/static.h.
 * Blocking I/O here is open/fstat/readdir of local files on the worker.
 */
#include "http/coding.h"
#include "http/encode.h"
#include "http/handler.h"
#include "http/handler/fcache.h"
#include "http/site.h"
#include "http/static.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LISTING_MAX 2000 /* entries shown by an autoindex page */
#define SEQUENTIAL_FROM (1 << 20) /* files this large get sequential read-ahead */

static int open_beneath(int root, const char *rel, int flags)
{
    struct open_how how = {0};
    how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* a FIFO never blocks */
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root, rel[0] ? rel : ".", &how, sizeof how);
}

static void allow_header(struct http_response *r, const struct http_exchange *x)
{
    bool up = x->site->upload && x->req->path.len >= strlen(x->site->upload) &&
              memcmp(x->req->path.p, x->site->upload, strlen(x->site->upload)) == 0;
    http_response_header(r, "Allow", up ? "GET, HEAD, OPTIONS, PUT, DELETE" : "GET, HEAD, OPTIONS");
}

static void cache_header(struct http_response *r, const struct http_exchange *x)
{
    for (unsigned i = 0; i < x->site->ncache; i++) {
        const struct http_cache_rule *c = &x->site->cache[i];
        size_t n = strlen(c->prefix);
        if (x->req->path.len >= n && memcmp(x->req->path.p, c->prefix, n) == 0) {
            http_response_header(r, "Cache-Control", "max-age=%u", c->max_age);
            return;
        }
    }
}

/* A directory named without its trailing slash: relative links need it (301). */
static void redirect_slash(struct http_exchange *x)
{
    struct http_response r;
    http_response_init(&r, 301);
    const struct http_request *q = x->req;
    http_response_header(&r, "Location", "%.*s/%s%.*s", (int)q->path.len, q->path.p,
                         q->query.len ? "?" : "", (int)q->query.len, q->query.p);
    http_exchange_respond(x, &r);
}

static void listing(struct http_exchange *x, int dirfd)
{
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return http_exchange_error(x, 403, "This directory cannot be read.");
    }
    struct str page = STR_INIT;
    str_appends(&page, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    http_html_escape(&page, x->req->path.p, x->req->path.len);
    str_appends(&page, "</title></head>\n<body><h1>Index of ");
    http_html_escape(&page, x->req->path.p, x->req->path.len);
    str_appends(&page, "</h1>\n<ul>\n");
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < LISTING_MAX;) {
        if (e->d_name[0] == '.')
            continue; /* hidden, and never served anyway */
        bool dir = e->d_type == DT_DIR;
        str_appends(&page, "<li><a href=\"");
        for (const unsigned char *c = (const unsigned char *)e->d_name; *c; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-._~", *c))
                str_appendc(&page, (char)*c);
            else
                str_appendf(&page, "%%%02X", *c);
        }
        str_appends(&page, dir ? "/\">" : "\">");
        http_html_escape(&page, e->d_name, strlen(e->d_name));
        str_appends(&page, dir ? "/</a></li>\n" : "</a></li>\n");
        n++;
    }
    closedir(d);
    str_appends(&page, "</ul>\n</body></html>\n");
    struct http_response r;
    http_response_init(&r, 200);
    http_response_header(&r, "Content-Type", "text/html; charset=utf-8");
    http_response_body(&r, page.ptr, page.len);
    str_clear(&page);
    http_exchange_respond(x, &r);
}

/* The precompressed variant to send instead of rel (fd), if the client accepts it. */
static int pick_variant(const struct http_exchange *x, const char *rel, const char **enc_out,
                        bool *has_variant)
{
    static const struct {
        const char *coding, *suffix;
    } variants[] = {{"br", ".br"}, {"gzip", ".gz"}};
    const struct slice *ae = http_request_header(x->req, "Accept-Encoding");
    *has_variant = false;
    /* Without Accept-Encoding the identity file is the only choice: no look-up, and no Vary
     * (a cache keeping this response may give it to anyone). */
    for (size_t i = 0; ae && i < sizeof variants / sizeof variants[0]; i++) {
        char name[4096];
        if ((size_t)snprintf(name, sizeof name, "%s%s", rel, variants[i].suffix) >= sizeof name)
            return -1;
        int fd = open_beneath(x->site->root_fd, name, O_RDONLY);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            continue;
        }
        *has_variant = true;
        /* "br;q=0" is not honoured as a refusal: q-values other than absent are rare for
         * these two codings and a refusal would only cost bandwidth, never correctness. */
        if (ae && http_list_has(*ae, variants[i].coding)) {
            *enc_out = variants[i].coding;
            return fd;
        }
        close(fd);
    }
    return -1;
}

/* last_modified: the open-file cache's text of mtime, or NULL (formatted here). */
static void add_validators(struct http_response *r, const char *etag, time_t mtime,
                           const char *last_modified)
{
    char date[30];
    if (!last_modified) {
        http_date_format(mtime, date);
        last_modified = date;
    }
    http_response_field(r, "ETag", etag);
    http_response_field(r, "Last-Modified", last_modified);
}

/* 206 for the ranges asked (one part, or multipart/byteranges). */
static void partial(struct http_response *r, const struct http_range *rg, int n, uint64_t size,
                    const char *type, uint64_t id)
{
    r->status = 206;
    if (n == 1) {
        http_response_field(r, "Content-Type", type);
        http_response_header(r, "Content-Range", "bytes %llu-%llu/%llu",
                             (unsigned long long)rg[0].first, (unsigned long long)rg[0].last,
                             (unsigned long long)size);
        http_response_file(r, rg[0].first, rg[0].last - rg[0].first + 1);
        return;
    }
    char boundary[40];
    snprintf(boundary, sizeof boundary, "pigeon%016llx", (unsigned long long)id);
    http_response_header(r, "Content-Type", "multipart/byteranges; boundary=%s", boundary);
    struct str part = STR_INIT;
    for (int i = 0; i < n; i++) {
        str_reset(&part);
        str_appendf(&part, "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                    i ? "\r\n" : "", boundary, type, (unsigned long long)rg[i].first,
                    (unsigned long long)rg[i].last, (unsigned long long)size);
        http_response_body(r, part.ptr, part.len);
        http_response_file(r, rg[i].first, rg[i].last - rg[i].first + 1);
    }
    str_reset(&part);
    str_appendf(&part, "\r\n--%s--\r\n", boundary);
    http_response_body(r, part.ptr, part.len);
    str_clear(&part);
}

static void range_416(struct http_response *r, uint64_t size)
{
    int keep = r->fd;
    r->fd = -1;
    http_response_error(r, 416, "The requested range lies outside the file.");
    r->fd = keep;
    http_response_header(r, "Content-Range", "bytes */%llu", (unsigned long long)size);
}

/*
 * The coding to compress a whole file with on the fly (identity: none). Compressible types
 * from compress_min_size up are encoded when the client accepts gzip or br; anything is when
 * it refuses identity. *varies_out is set when the answer depends on Accept-Encoding.
 */
static enum http_coding fly_coding(const struct http_exchange *x, const char *type,
                                   uint64_t size, bool *varies_out)
{
    if (!x->site->compress)
        return HTTP_CODING_IDENTITY;
    bool worth = http_coding_compressible(type) && size >= x->site->compress_min;
    bool refused;
    enum http_coding c =
        http_coding_choose(http_request_header(x->req, "Accept-Encoding"), true, &refused);
    if (worth || refused)
        *varies_out = true;
    return worth || refused ? c : HTTP_CODING_IDENTITY;
}

/* The body: ranges asked for (206, or 416), the file encoded on the fly, or the file (from the
 * open-file cache's memory when it holds it whole). false: no descriptor could be had. */
static bool fill_body(struct http_exchange *x, struct http_response *r, struct http_file_ref *f,
                      const struct http_range *rg, int n, enum http_coding fly, const char *type,
                      uint64_t size)
{
    if (fly == HTTP_CODING_IDENTITY)
        http_response_field(r, "Accept-Ranges", "bytes");
    if (n < 0) {
        range_416(r, size);
        return true;
    }
    if (n == 0 && fly == HTTP_CODING_IDENTITY && f->data) {
        http_response_field(r, "Content-Type", type);
        http_response_body(r, f->data, size);
        return true;
    }
    if ((r->fd = http_file_ref_take_fd(f)) < 0)
        return false;
    if (n > 0) {
        partial(r, rg, n, size, type, x->id);
        return true;
    }
    http_response_field(r, "Content-Type", type);
    if (fly != HTTP_CODING_IDENTITY) {
        /* Ranges of an encoding made per request are not offered (no Accept-Ranges). */
        http_response_header(r, "Content-Encoding", "%s", http_coding_name(fly));
        http_encode_file(r, fly, size);
        return true;
    }
    http_response_file(r, 0, size);
    /* A large file is read from start to end: a larger read-ahead window (the descriptor's
     * duplicates that the transport sends from share it). */
    if (size >= SEQUENTIAL_FROM && x->req->method == HTTP_GET)
        posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return true;
}

/* The regular file f (rel beneath the root) as the response; f is cleared. */
static void serve_file(struct http_exchange *x, struct http_file_ref *f, const char *rel)
{
    const char *enc = NULL;
    bool has_variant;
    int vfd = pick_variant(x, rel, &enc, &has_variant);
    struct stat vst;
    if (vfd >= 0 && fstat(vfd, &vst) == 0) {
        http_file_ref_clear(f);
        *f = (struct http_file_ref){.fd = vfd, .st = vst};
    } else if (vfd >= 0) {
        close(vfd);
    }
    const struct stat *st = &f->st;
    const char *type = http_mime_type(x->site->mime, rel);
    struct http_file_meta meta = {(uint64_t)st->st_size, st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                                  (uint64_t)st->st_ino};
    char etag[64];
    if (f->etag)
        memcpy(etag, f->etag, sizeof etag);
    else
        http_etag(&meta, etag);
    /* Ranges are of the identity (or precompressed) file: decided on its tag, before any
     * on-the-fly coding, which a Range request never gets. */
    const struct slice *range = http_request_header(x->req, "Range");
    struct http_range rg[HTTP_MAX_RANGES];
    int n = 0;
    if (range && x->req->method == HTTP_GET && http_if_range(x->req, etag, st->st_mtim.tv_sec))
        n = http_range_parse(*range, meta.size, rg);
    bool varies = has_variant;
    enum http_coding fly = enc ? HTTP_CODING_IDENTITY : fly_coding(x, type, meta.size, &varies);
    if (n != 0)
        fly = HTTP_CODING_IDENTITY;
    http_coding_etag(etag, fly);
    struct http_response r;
    http_response_init(&r, 200);
    str_reserve(&r.fields, 256); /* one allocation for the usual fields */
    r.fd = -1; /* a descriptor is taken only for a body read from the file */
    add_validators(&r, etag, st->st_mtim.tv_sec, f->last_modified);
    cache_header(&r, x);
    if (varies)
        http_response_field(&r, "Vary", "Accept-Encoding");
    if (enc)
        http_response_field(&r, "Content-Encoding", enc);
    enum http_cond c = http_conditional(x->req, etag, st->st_mtim.tv_sec);
    if (c != HTTP_COND_PASS) {
        http_file_ref_clear(f);
        r.status = c == HTTP_COND_NOT_MODIFIED ? 304 : 412;
        return http_exchange_respond(x, &r);
    }
    bool ok = fill_body(x, &r, f, rg, n, fly, type, meta.size);
    http_file_ref_clear(f);
    if (!ok) {
        http_response_clear(&r);
        return http_exchange_error(x, 503, "Too many open files; try again.");
    }
    http_exchange_respond(x, &r);
}

/* The index file of directory rel, or a listing, or 403. */
static void serve_dir(struct http_exchange *x, int dirfd, const char *rel)
{
    char name[4096];
    if ((size_t)snprintf(name, sizeof name, "%s%s%s", rel, rel[0] ? "/" : "", x->site->index) >=
        sizeof name) {
        close(dirfd);
        return http_exchange_error(x, 414, "The path is too long.");
    }
    struct http_file_ref f;
    if (http_fcache_open(x->files, x->site->root_fd, name, &f) == 0) {
        if (S_ISREG(f.st.st_mode)) {
            close(dirfd);
            return serve_file(x, &f, name);
        }
        http_file_ref_clear(&f);
    }
    if (x->site->autoindex)
        return listing(x, dirfd);
    close(dirfd);
    http_exchange_error(x, 403, "This directory has no index page.");
}

static int errno_status(int e)
{
    return e == ENOENT || e == ENOTDIR ? 404 : e == ENAMETOOLONG ? 414 : e == EMFILE ? 503 : 403;
}

bool http_file_handle(struct http_exchange *x)
{
    const struct http_request *q = x->req;
    if (x->site->root_fd < 0)
        return false;
    if (q->method == HTTP_OPTIONS) {
        struct http_response r;
        http_response_init(&r, 204);
        allow_header(&r, x);
        http_exchange_respond(x, &r);
        return true;
    }
    if (q->method != HTTP_GET && q->method != HTTP_HEAD) {
        struct http_response r;
        http_response_init(&r, 405);
        http_response_error(&r, 405, "This method is not allowed here.");
        allow_header(&r, x);
        http_exchange_respond(x, &r);
        return true;
    }
    struct str rel = STR_INIT;
    bool dir;
    int rc = http_path_clean(q->path, &rel, &dir);
    if (rc < 0) {
        str_clear(&rel);
        http_exchange_error(x, -rc, rc == -400 ? "The path is not acceptable." : "Not found.");
        return true;
    }
    struct http_file_ref f;
    int e = -http_fcache_open(x->files, x->site->root_fd, str_cstr(&rel), &f);
    if (e > 0) {
        str_clear(&rel);
        http_exchange_error(x, errno_status(e), e == EXDEV ? "The path leaves the site."
                                                           : "No such file.");
        return true;
    }
    if (S_ISDIR(f.st.st_mode)) {
        if (!dir) {
            http_file_ref_clear(&f);
            redirect_slash(x);
        } else {
            serve_dir(x, http_file_ref_take_fd(&f), str_cstr(&rel));
        }
    } else if (!S_ISREG(f.st.st_mode)) {
        http_file_ref_clear(&f);
        http_exchange_error(x, 403, "Only regular files are served.");
    } else if (dir) { /* "/page.html/" names no file: a file takes no path after it */
        http_file_ref_clear(&f);
        http_exchange_error(x, 404, "No such file.");
    } else {
        serve_file(x, &f, str_cstr(&rel));
    }
    str_clear(&rel);
    return true;
}
