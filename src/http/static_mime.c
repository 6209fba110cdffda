/* http/static — media types from a mime.types table. */
#include "http/static.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <strings.h>
#include <string.h>

struct mime_entry {
    char *ext;
    char *type;
};

struct http_mime {
    struct mime_entry *e;
    size_t n, cap;
};

/* Used when /etc/mime.types lacks them (or is missing): a site must still work. */
static const char *const defaults[][2] = {
    {"html", "text/html"},       {"htm", "text/html"},
    {"css", "text/css"},         {"js", "text/javascript"},
    {"json", "application/json"}, {"txt", "text/plain"},
    {"png", "image/png"},        {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},      {"gif", "image/gif"},
    {"svg", "image/svg+xml"},    {"ico", "image/vnd.microsoft.icon"},
    {"webp", "image/webp"},      {"pdf", "application/pdf"},
    {"xml", "application/xml"},  {"wasm", "application/wasm"},
};

static void put(struct http_mime *m, const char *ext, size_t elen, const char *type, size_t tlen)
{
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->e[i].ext) == elen && strncasecmp(m->e[i].ext, ext, elen) == 0) {
            free(m->e[i].type); /* the later line wins, as in the file itself */
            m->e[i].type = slice_dup(slice_make(type, tlen));
            return;
        }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->e = xrealloc(m->e, m->cap * sizeof *m->e);
    }
    m->e[m->n].ext = slice_dup(slice_make(ext, elen));
    ascii_lower(m->e[m->n].ext, elen);
    m->e[m->n].type = slice_dup(slice_make(type, tlen));
    m->n++;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void parse_line(struct http_mime *m, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_space(p[i]))
        i++;
    if (i == n || p[i] == '#')
        return;
    size_t ts = i;
    while (i < n && !is_space(p[i]))
        i++;
    size_t tlen = i - ts;
    if (!memchr(p + ts, '/', tlen))
        return;
    while (i < n) {
        while (i < n && is_space(p[i]))
            i++;
        size_t es = i;
        while (i < n && !is_space(p[i]))
            i++;
        if (i > es && i - es < 32)
            put(m, p + es, i - es, p + ts, tlen);
    }
}

static int by_ext(const void *a, const void *b)
{
    return strcmp(((const struct mime_entry *)a)->ext, ((const struct mime_entry *)b)->ext);
}

struct http_mime *http_mime_new(const char *text, size_t len)
{
    struct http_mime *m = xcalloc(1, sizeof *m);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        put(m, defaults[i][0], strlen(defaults[i][0]), defaults[i][1], strlen(defaults[i][1]));
    size_t start = 0;
    for (size_t i = 0; text && i <= len; i++) {
        if (i == len || text[i] == '\n') {
            parse_line(m, text + start, i - start);
            start = i + 1;
        }
    }
    /* mime.types calls JavaScript application/javascript; RFC 9239 says text/javascript. */
    put(m, "js", 2, "text/javascript", 15);
    qsort(m->e, m->n, sizeof *m->e, by_ext); /* looked up with bsearch on every request */
    return m;
}

void http_mime_free(struct http_mime *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].ext);
        free(m->e[i].type);
    }
    free(m->e);
    free(m);
}

const char *http_mime_type(const struct http_mime *m, const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    char ext[32];
    size_t n = dot ? strlen(dot + 1) : 0;
    if (n == 0 || n >= sizeof ext)
        return "application/octet-stream";
    memcpy(ext, dot + 1, n + 1);
    ascii_lower(ext, n);
    struct mime_entry key = {ext, NULL};
    const struct mime_entry *e = bsearch(&key, m->e, m->n, sizeof *m->e, by_ext);
    return e ? e->type : "application/octet-stream";
}
