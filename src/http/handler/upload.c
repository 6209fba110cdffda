/*
 * handler/upload — PUT and DELETE in a site's upload area (the `upload` path prefix) for
 * authenticated Pigeon users; GET there stays public (handler/file.c).
 *
 * Credentials: HTTP Basic (RFC 7617) checked against Pigeon's users on the auth pool, over
 * TLS, or in clear text only as the site's plaintext_auth allows (loopback by default), as
 * IMAP does. A PUT is durable before the answer: the body goes to a temporary file beside
 * the target as it arrives (streamed: the credentials are checked and the file opened before
 * the body is asked for, so a body of any size up to max_upload_size never sits in memory),
 * then the file is fsynced, renamed over the target, and the directory fsynced; missing
 * parent directories are created (and fsynced into their parents). 201 Created for a new
 * file, 204 No Content for a replaced one. DELETE unlinks and fsyncs the directory (204).
 * Opening and the fsync/rename run on a blocking-work thread; the writes of a streamed body
 * (to the page cache) on the event loop as the pieces arrive. Every path is
 * resolved beneath the document root with openat2(RESOLVE_BENEATH).
 */
#include "http/handler.h"
#include "http/site.h"
#include "http/static.h"

#include "core/xmalloc.h"
#include "msg/base64.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CRED_MAX 512

struct upload_job {
    int root_fd;
    bool put;
    char *rel;              /* cleaned path below the root */
    const char *body;       /* a body read whole: the request's, alive until the answer */
    size_t len;
    unsigned rnd;           /* temporary file name */
    int status;             /* result */
    /* A PUT between opening its temporary file and renaming it: */
    int dir, fd;            /* the target's directory, the temporary file */
    char tmp[32];
    const char *base;       /* the target's name in dir (points into rel) */
    bool exists;
    uint64_t got, max;      /* a streamed body: octets written, the site's max_upload */
};

static int open_dir_beneath(int root, const char *rel)
{
    struct open_how how = {0};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root, rel[0] ? rel : ".", &how, sizeof how);
}

/* Opens the directory of rel one level at a time beneath the root, creating missing levels
 * (each new one fsynced into its parent) when asked; *base_out points at the last name. */
static int parent_dir(struct upload_job *j, bool create, const char **base_out)
{
    char *slash = strrchr(j->rel, '/');
    *base_out = slash ? slash + 1 : j->rel;
    int fd = open_dir_beneath(j->root_fd, "");
    if (!slash || fd < 0)
        return fd;
    *slash = '\0';
    for (char *name = j->rel; name && fd >= 0;) {
        char *next = strchr(name, '/');
        if (next)
            *next = '\0';
        if (create && mkdirat(fd, name, 0755) == 0)
            fsync(fd);
        int sub = open_dir_beneath(fd, name);
        int saved = errno;
        close(fd);
        fd = sub;
        errno = saved;
        if (next)
            *next = '/';
        name = next ? next + 1 : NULL;
    }
    *slash = '/';
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int errno_status(int e)
{
    return e == ENOSPC || e == EDQUOT ? 507 : e == ENOENT ? 404 : e == EISDIR ? 409 : 500;
}

/* Removes the temporary file and closes what the job holds. */
static void put_discard(struct upload_job *j)
{
    if (j->fd >= 0) {
        close(j->fd);
        unlinkat(j->dir, j->tmp, 0);
    }
    if (j->dir >= 0)
        close(j->dir);
    j->fd = j->dir = -1;
}

/* The target's directory (made if missing) and a new temporary file beside the target. */
static void put_open(struct upload_job *j)
{
    j->dir = parent_dir(j, true, &j->base);
    if (j->dir < 0) {
        j->status = errno == ENOTDIR || errno == EXDEV ? 409 : errno_status(errno);
        return;
    }
    struct stat st;
    j->exists = fstatat(j->dir, j->base, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (j->exists && !S_ISREG(st.st_mode)) {
        j->status = 409; /* a directory or a link is never replaced */
        return put_discard(j);
    }
    snprintf(j->tmp, sizeof j->tmp, ".pigeon-put-%08x", j->rnd);
    j->fd = openat(j->dir, j->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (j->fd < 0) {
        j->status = errno_status(errno);
        return put_discard(j);
    }
    j->status = 0;
}

/* Durable before the answer: file fsynced, renamed over the target, directory fsynced. */
static void put_commit(struct upload_job *j)
{
    if (fsync(j->fd) < 0 || renameat(j->dir, j->tmp, j->dir, j->base) < 0) {
        j->status = errno_status(errno);
        return put_discard(j);
    }
    close(j->fd);
    j->fd = -1;
    j->status = fsync(j->dir) < 0 ? 500 : j->exists ? 204 : 201;
    close(j->dir);
    j->dir = -1;
}

static void put_work(struct upload_job *j)
{
    put_open(j);
    if (j->status)
        return;
    if (write_all(j->fd, j->body, j->len) < 0) {
        j->status = errno_status(errno);
        return put_discard(j);
    }
    put_commit(j);
}

static void delete_work(struct upload_job *j)
{
    const char *base;
    int dir = parent_dir(j, false, &base);
    if (dir < 0) {
        j->status = errno == ENOENT || errno == ENOTDIR ? 404 : 403;
        return;
    }
    if (unlinkat(dir, base, 0) < 0)
        j->status = errno == ENOENT ? 404 : errno == EISDIR ? 409 : 403;
    else
        j->status = fsync(dir) < 0 ? 500 : 204;
    close(dir);
}

static void job_work(void *arg)
{
    struct upload_job *j = arg;
    if (j->put)
        put_work(j);
    else
        delete_work(j);
}

static void job_free(struct upload_job *j)
{
    put_discard(j);
    free(j->rel);
    free(j);
}

static void answer(struct http_exchange *x, int status)
{
    if (status != 201 && status != 204)
        return http_exchange_error(x, status, status == 404 ? "No such file."
                                              : status == 409 ? "A directory is in the way."
                                              : status == 507 ? "The disk is full."
                                              : status == 413
                                                  ? "The file is larger than this site accepts."
                                                  : "The file could not be written.");
    struct http_response r;
    http_response_init(&r, status);
    if (status == 201) {
        http_response_header(&r, "Location", "%.*s", (int)x->req->path.len, x->req->path.p);
        http_response_header(&r, "Content-Type", "text/plain; charset=utf-8");
        http_response_body(&r, "Created.\n", 9);
    }
    http_exchange_respond(x, &r);
}

static void job_done(struct http_exchange *x, void *arg)
{
    struct upload_job *j = arg;
    int status = j->status;
    job_free(j);
    answer(x, status);
}

/* ---- a streamed body: written to the temporary file as it arrives ---- */

static void body_data(struct http_exchange *x, const char *p, size_t n)
{
    struct upload_job *j = x->handler_state;
    j->got += n;
    int status = j->got > j->max ? 413 : write_all(j->fd, p, n) < 0 ? errno_status(errno) : 0;
    if (status) { /* the rest is not read; the connection closes after the answer */
        job_free(j);
        answer(x, status);
    }
}

static void open_work(void *arg)
{
    put_open(arg);
}

static void commit_work(void *arg)
{
    put_commit(arg);
}

static void body_end(struct http_exchange *x)
{
    x->host->blocking(x, commit_work, job_done, x->handler_state);
}

static void body_abort(struct http_exchange *x)
{
    job_free(x->handler_state);
}

static const struct http_body_sink body_sink = {body_data, body_end, body_abort};

/* The temporary file is open: ask for the body. */
static void opened(struct http_exchange *x, void *arg)
{
    struct upload_job *j = arg;
    if (j->status) {
        int status = j->status;
        job_free(j);
        return answer(x, status);
    }
    x->handler_state = j;
    http_exchange_read_body(x, &body_sink);
}

static void auth_done(struct http_exchange *x, bool ok, const char *user)
{
    if (!ok) {
        struct http_response r;
        http_response_init(&r, 401);
        http_response_error(&r, 401, "Wrong user name or password.");
        http_response_header(&r, "WWW-Authenticate", "Basic realm=\"%s\", charset=\"UTF-8\"",
                             x->site->name);
        return http_exchange_respond(x, &r);
    }
    struct upload_job *j = xcalloc(1, sizeof *j);
    j->root_fd = x->site->root_fd;
    j->put = x->req->method == HTTP_PUT;
    struct str rel = STR_INIT;
    bool dir;
    http_path_clean(x->req->path, &rel, &dir); /* checked before the password */
    j->rel = str_steal(&rel);
    j->body = x->req->body;
    j->len = x->req->body_len;
    j->dir = j->fd = -1;
    j->max = x->site->max_upload;
    x->host->random(&j->rnd, sizeof j->rnd);
    if (j->put && x->req->body_streamed) /* open first; the body then goes straight to disk */
        x->host->blocking(x, open_work, opened, j);
    else
        x->host->blocking(x, job_work, job_done, j);
}

/* "Basic base64(user:pass)" → user, pass. */
static bool basic_credentials(const struct http_request *q, char *user, char *pass)
{
    const struct slice *a = http_request_header(q, "Authorization");
    if (!a || !slice_starts_ci(*a, "Basic ") || a->len - 6 > CRED_MAX)
        return false;
    struct slice b = slice_trim(slice_make(a->p + 6, a->len - 6));
    unsigned char dec[CRED_MAX];
    size_t n;
    if (base64_decode(b.p, b.len, dec, &n) != 0 || n >= CRED_MAX || memchr(dec, '\0', n))
        return false;
    const unsigned char *colon = memchr(dec, ':', n);
    if (!colon || colon == dec || colon == dec + n - 1)
        return false;
    size_t ul = (size_t)(colon - dec);
    memcpy(user, dec, ul);
    user[ul] = '\0';
    memcpy(pass, colon + 1, n - ul - 1);
    pass[n - ul - 1] = '\0';
    explicit_bzero(dec, sizeof dec);
    return true;
}

static bool in_area(const struct http_exchange *x)
{
    size_t n = strlen(x->site->upload);
    return x->req->path.len >= n && memcmp(x->req->path.p, x->site->upload, n) == 0;
}

bool http_upload_handle(struct http_exchange *x)
{
    const struct http_request *q = x->req;
    if (!x->site->upload || x->site->root_fd < 0 || (q->method != HTTP_PUT && q->method != HTTP_DELETE))
        return false;
    if (!in_area(x))
        return false; /* the file handler answers 405 with Allow */
    struct str rel = STR_INIT;
    bool dir;
    int rc = http_path_clean(q->path, &rel, &dir);
    str_clear(&rel);
    if (rc < 0 || dir) {
        http_exchange_error(x, rc == -404 ? 404 : 400, "This path cannot be written.");
        return true;
    }
    uint64_t declared = q->body_streamed ? q->content_length : q->body_len;
    if (q->method == HTTP_PUT && declared > x->site->max_upload) {
        http_exchange_error(x, 413, "The file is larger than this site accepts.");
        return true;
    }
    if (!http_plaintext_ok(x)) {
        http_exchange_error(x, 403, "Uploads need HTTPS from this address.");
        return true;
    }
    char user[CRED_MAX], pass[CRED_MAX];
    if (!basic_credentials(q, user, pass)) {
        auth_done(x, false, NULL);
        return true;
    }
    x->host->auth(x, user, pass, auth_done);
    explicit_bzero(pass, sizeof pass);
    return true;
}
