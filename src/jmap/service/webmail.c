/*
 * jmap service — the webmail's files at /mail/ (www/mail/ in the source tree, `[jmap]
 * webmail`): plain HTML, CSS and JavaScript read beneath the configured directory with
 * openat2(RESOLVE_BENEATH), sent with a strict Content-Security-Policy (scripts and styles
 * of this origin only, images from here, data: and blob:, frames only from here and
 * about:srcdoc, no plug-ins, not framed by others). The application logs in through the
 * site's /login and speaks JMAP from the browser.
 */
#include "jmap/service/service_int.h"

#include "core/str.h"
#include "http/handler.h"
#include "http/response.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WEBMAIL_MAX_FILE (4u << 20)

static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data: blob:; connect-src 'self'; frame-src 'self' "
                          "blob: data:; form-action 'self'; base-uri 'none'; "
                          "frame-ancestors 'none'";

static const char *type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".ico", "image/x-icon"},
                 {".json", "application/json"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

void jmap_webmail_serve(struct jmap_service *svc, struct http_exchange *x)
{
    const struct http_request *q = x->req;
    char rel[256];
    size_t n = q->path.len >= 6 ? q->path.len - 6 : 0; /* after "/mail/" */
    if (q->path.len < 6) { /* "/mail" */
        struct http_response r;
        http_response_init(&r, 308);
        http_response_header(&r, "Location", "/mail/");
        http_exchange_respond(x, &r);
        return;
    }
    if (n >= sizeof rel)
        return http_exchange_error(x, 404, "No such file.");
    memcpy(rel, q->path.p + 6, n);
    rel[n] = '\0';
    if (n == 0 || rel[n - 1] == '/')
        strcpy(rel + n, n + 10 < sizeof rel ? "index.html" : "");
    /* Only plain names: letters, digits, '-', '_', '.', '/' and no "..". */
    if (strspn(rel, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./") !=
            strlen(rel) ||
        strstr(rel, "..") || rel[0] == '/' || !type_of(rel))
        return http_exchange_error(x, 404, "No such file.");
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK, /* a FIFO never blocks */
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, svc->webmail_fd, rel, &how, sizeof how);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > WEBMAIL_MAX_FILE) {
        if (fd >= 0)
            close(fd);
        return http_exchange_error(x, 404, "No such file.");
    }
    struct http_response r;
    http_response_init(&r, 200);
    http_response_header(&r, "Content-Type", "%s", type_of(rel));
    http_response_header(&r, "Content-Security-Policy", "%s", csp);
    http_response_header(&r, "X-Content-Type-Options", "nosniff");
    http_response_header(&r, "Referrer-Policy", "no-referrer");
    http_response_header(&r, "Cache-Control", "no-cache");
    r.fd = fd;
    http_response_file(&r, 0, (uint64_t)st.st_size);
    http_exchange_respond(x, &r);
}
