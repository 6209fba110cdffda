/*
 * libFuzzer target for http/cookie: the input is a Cookie field value and a urlencoded form
 * (split at the first NUL). The cookie found must lie inside the field; form values decode
 * without NUL; a session made for the decoded user is found with its id, on its site only,
 * until it expires, and is gone after removal. Checks bounds and the login table's rules.
 */
#include "http/cookie.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    size_t clen = nul ? (size_t)(nul - p) : size;
    char *cookie = malloc(clen + 1);
    memcpy(cookie, p, clen);
    cookie[clen] = '\0';
    struct http_request req;
    memset(&req, 0, sizeof req);
    req.headers[0].name = slice_cstr("Cookie");
    req.headers[0].value = slice_make(cookie, clen);
    req.nheaders = 1;
    struct slice v;
    if (http_cookie_get(&req, HTTP_SESSION_COOKIE, &v) && v.len &&
        (v.p < cookie || v.p + v.len > cookie + clen))
        abort();
    const char *form = nul ? nul + 1 : "";
    size_t flen = nul ? size - clen - 1 : 0;
    struct str user = STR_INIT;
    /* The login handler refuses user names of 256 octets or more before they get here. */
    if (http_form_get(form, flen, "username", &user) && user.len < 256) {
        if (memchr(user.ptr, '\0', user.len))
            abort();
        struct http_login_table *t = http_logins_new(4);
        unsigned char rnd[16];
        for (int i = 0; i < 16; i++)
            rnd[i] = (unsigned char)(size + (size_t)i * 7);
        char id[HTTP_SESSION_ID_LEN + 1], who[300];
        http_logins_add(t, rnd, str_cstr(&user), "site", 100, id);
        struct slice sid = slice_make(id, strlen(id));
        if (!http_logins_find(t, sid, "site", 99, who, sizeof who) ||
            strncmp(who, str_cstr(&user), sizeof who - 1) != 0 ||
            http_logins_find(t, sid, "other", 99, who, sizeof who) ||
            (v.p && v.len != HTTP_SESSION_ID_LEN && http_logins_find(t, v, "site", 99, who,
                                                                      sizeof who)))
            abort();
        if (!http_logins_remove(t, sid) || http_logins_find(t, sid, "site", 99, who, sizeof who))
            abort();
        http_logins_add(t, rnd, "x", "site", 100, id);
        if (http_logins_find(t, slice_make(id, strlen(id)), "site", 100, who, sizeof who))
            abort(); /* expired at 100 */
        http_logins_free(t);
    }
    str_clear(&user);
    free(cookie);
    return 0;
}
