/*
 * handler/upload — PUT and DELETE in a site's upload area (the `upload` path prefix) for
 * authenticated Pigeon users; GET there stays public (handler/file.c).
 *
 * Credentials: HTTP Basic (RFC 7617) checked against Pigeon's users on the auth pool, over
 * TLS, or in clear text only as the site's plaintext_auth allows (loopback by default), as
 * IMAP does. A PUT is durable before the answer: the body goes to a temporary file beside
 * the target, which is fsynced, renamed over the target, and the directory fsynced; missing
 * parent directories are created (and fsynced into their parents). 201 Created for a new
 * file, 204 No Content for a replaced one. DELETE unlinks and fsyncs the directory (204).
 * The file work runs on a blocking-work thread, never on the event loop. Every path is
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
    const char *body;       /* the request's body, alive until the answer */
    size_t len;
    unsigned rnd;           /* temporary file name */
    int status;             /* result */
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

static void put_work(struct upload_job *j)
{
    const char *base;
    int dir = parent_dir(j, true, &base);
    if (dir < 0) {
        j->status = errno == ENOTDIR || errno == EXDEV ? 409 : errno_status(errno);
        return;
    }
    struct stat st;
    bool exists = fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        close(dir);
        j->status = 409; /* a directory or a link is never replaced */
        return;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".pigeon-put-%08x", j->rnd);
    int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, j->body, j->len) < 0 || fsync(fd) < 0) {
        j->status = errno_status(errno);
        if (fd >= 0) {
            close(fd);
            unlinkat(dir, tmp, 0);
        }
        close(dir);
        return;
    }
    close(fd);
    if (renameat(dir, tmp, dir, base) < 0 || fsync(dir) < 0) {
        j->status = errno_status(errno);
        unlinkat(dir, tmp, 0);
    } else {
        j->status = exists ? 204 : 201;
    }
    close(dir);
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

static void job_done(struct http_exchange *x, void *arg)
{
    struct upload_job *j = arg;
    int status = j->status;
    free(j->rel);
    free(j);
    if (status != 201 && status != 204)
        return http_exchange_error(x, status, status == 404 ? "No such file."
                                              : status == 409 ? "A directory is in the way."
                                              : status == 507 ? "The disk is full."
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
    x->host->random(&j->rnd, sizeof j->rnd);
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
    if (q->method == HTTP_PUT && q->body_len > x->site->max_upload) {
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
