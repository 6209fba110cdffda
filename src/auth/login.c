/*
 * login — canonical login names. Only ASCII letters are lower-cased; UTF-8 octets pass
 * through unchanged (no Unicode case folding here).
 */
#include "auth/login.h"

#include "core/err.h"

#include <string.h>

int login_canonical(const char *login, const char *primary_domain, char *out, size_t cap)
{
    size_t n = strlen(login);
    const char *at = memchr(login, '@', n);
    if (cap > 0)
        out[0] = '\0';
    if (n == 0 || at == login || (at && (at[1] == '\0' || strchr(at + 1, '@'))))
        return ERR_PARSE;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)login[i];
        if (c <= ' ' || c == 127)
            return ERR_PARSE;
    }
    size_t dlen = (!at && primary_domain) ? strlen(primary_domain) : 0;
    size_t total = n + (dlen ? 1 + dlen : 0);
    if (total + 1 > cap)
        return ERR_RANGE;
    memcpy(out, login, n);
    if (dlen) {
        out[n] = '@';
        memcpy(out + n + 1, primary_domain, dlen);
    }
    out[total] = '\0';
    for (size_t i = 0; i < total; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
    return 0;
}
