/* http/cookie — see cookie.h. */
#include "http/cookie.h"

#include "core/xmalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 6265 §5.4 "cookie-string": name=value pairs separated by "; ". */
static bool find_in(struct slice v, const char *name, struct slice *out)
{
    size_t nlen = strlen(name), i = 0;
    while (i < v.len) {
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == ';'))
            i++;
        size_t start = i;
        while (i < v.len && v.p[i] != ';')
            i++;
        struct slice pair = slice_make(v.p + start, i - start);
        const char *eq = memchr(pair.p, '=', pair.len);
        if (!eq)
            continue;
        struct slice n = slice_trim(slice_make(pair.p, (size_t)(eq - pair.p)));
        if (n.len == nlen && memcmp(n.p, name, nlen) == 0) {
            struct slice val = slice_trim(slice_make(eq + 1, (size_t)(pair.p + pair.len - eq - 1)));
            if (val.len >= 2 && val.p[0] == '"' && val.p[val.len - 1] == '"')
                val = slice_make(val.p + 1, val.len - 2);
            *out = val;
            return true;
        }
    }
    return false;
}

bool http_cookie_get(const struct http_request *req, const char *name, struct slice *out)
{
    for (unsigned i = 0; i < req->nheaders; i++)
        if (slice_eq_ci(req->headers[i].name, "Cookie") && find_in(req->headers[i].value, name, out))
            return true;
    return false;
}

static bool form_decode(const char *p, size_t n, struct str *out)
{
    str_reset(out);
    str_appends(out, "");
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hex_digit_value(p[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit_value(p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return false; /* raw or %00: no value of ours may hold NUL */
        str_appendc(out, c);
    }
    return true;
}

bool http_form_get(const char *body, size_t len, const char *name, struct str *out)
{
    size_t nlen = strlen(name), i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && body[i] != '&')
            i++;
        const char *eq = memchr(body + start, '=', i - start);
        if (eq && (size_t)(eq - (body + start)) == nlen && memcmp(body + start, name, nlen) == 0)
            return form_decode(eq + 1, (size_t)(body + i - eq - 1), out);
        i++;
    }
    return false;
}

/* ---- the session table ---- */

struct login {
    char id[HTTP_SESSION_ID_LEN + 1];
    char user[256];
    char site[64];
    time_t expires;
    unsigned long long born; /* insertion order: the oldest goes first when full */
};

struct http_login_table {
    pthread_mutex_t lock;
    struct login *e;
    unsigned n, max;
    unsigned long long clock;
};

struct http_login_table *http_logins_new(unsigned max_sessions)
{
    struct http_login_table *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    t->max = max_sessions ? max_sessions : 1;
    return t;
}

void http_logins_free(struct http_login_table *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->e);
    free(t);
}

static void drop(struct http_login_table *t, unsigned i)
{
    t->e[i] = t->e[--t->n];
}

void http_logins_add(struct http_login_table *t, const unsigned char rnd[16], const char *user,
                     const char *site, time_t expires, char id_out[HTTP_SESSION_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        id_out[2 * i] = hex[rnd[i] >> 4];
        id_out[2 * i + 1] = hex[rnd[i] & 15];
    }
    id_out[HTTP_SESSION_ID_LEN] = '\0';
    pthread_mutex_lock(&t->lock);
    if (t->n == t->max) {
        unsigned oldest = 0;
        for (unsigned i = 1; i < t->n; i++)
            if (t->e[i].born < t->e[oldest].born)
                oldest = i;
        drop(t, oldest);
    }
    if (!t->e)
        t->e = xcalloc(t->max, sizeof *t->e);
    struct login *l = &t->e[t->n++];
    memcpy(l->id, id_out, sizeof l->id);
    snprintf(l->user, sizeof l->user, "%s", user);
    snprintf(l->site, sizeof l->site, "%s", site);
    l->expires = expires;
    l->born = ++t->clock;
    pthread_mutex_unlock(&t->lock);
}

/* Constant time in the id's content: a guess learns nothing from the time a miss takes. */
static bool id_eq(const char *stored, struct slice id)
{
    if (id.len != HTTP_SESSION_ID_LEN)
        return false;
    unsigned char d = 0;
    for (size_t i = 0; i < HTTP_SESSION_ID_LEN; i++)
        d |= (unsigned char)(stored[i] ^ id.p[i]);
    return d == 0;
}

bool http_logins_find(struct http_login_table *t, struct slice id, const char *site, time_t now,
                      char *user_out, size_t cap)
{
    bool found = false;
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->n;) {
        if (t->e[i].expires <= now) {
            drop(t, i); /* stale: gone for good */
            continue;
        }
        if (id_eq(t->e[i].id, id) && strcmp(t->e[i].site, site) == 0) {
            snprintf(user_out, cap, "%s", t->e[i].user);
            found = true;
        }
        i++;
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

bool http_logins_remove(struct http_login_table *t, struct slice id)
{
    bool found = false;
    pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < t->n; i++)
        if (id_eq(t->e[i].id, id)) {
            drop(t, i);
            found = true;
            break;
        }
    pthread_mutex_unlock(&t->lock);
    return found;
}

unsigned http_logins_count(struct http_login_table *t)
{
    pthread_mutex_lock(&t->lock);
    unsigned n = t->n;
    pthread_mutex_unlock(&t->lock);
    return n;
}
