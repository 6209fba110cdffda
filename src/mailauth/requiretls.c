/*
 * requiretls — see requiretls.h. A hand-written scan rather than mailauth_msg_split: it runs
 * on every message the SMTP service commits, so it allocates nothing and stops at the end
 * of the header block.
 */
#include "mailauth/requiretls.h"

#include <string.h>
#include <strings.h>

#define FIELD "TLS-Required"

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The end of the field starting at p (its line and every continuation line). */
static size_t field_end(const char *msg, size_t len, size_t p)
{
    for (;;) {
        const char *lf = memchr(msg + p, '\n', len - p);
        if (!lf)
            return len;
        p = (size_t)(lf - msg) + 1;
        if (p >= len || (msg[p] != ' ' && msg[p] != '\t'))
            return p;
    }
}

/* §3: tls-required = "TLS-Required:" [FWS] "No" CRLF (ABNF strings ignore case). */
static bool value_is_no(const char *v, size_t n)
{
    while (n && is_wsp(v[0]))
        v++, n--;
    while (n && is_wsp(v[n - 1]))
        n--;
    return n == 2 && strncasecmp(v, "no", 2) == 0;
}

bool requiretls_header_no(const char *msg, size_t len)
{
    const size_t flen = sizeof FIELD - 1;
    size_t p = 0;
    while (p < len && msg[p] != '\r' && msg[p] != '\n') { /* an empty line ends the header */
        size_t end = field_end(msg, len, p);
        size_t name = p;
        while (name < end && msg[name] != ':' && !is_wsp(msg[name]))
            name++;
        size_t colon = name;
        while (colon < end && (msg[colon] == ' ' || msg[colon] == '\t'))
            colon++;
        if (name - p == flen && strncasecmp(msg + p, FIELD, flen) == 0 && colon < end &&
            msg[colon] == ':' && value_is_no(msg + colon + 1, end - colon - 1))
            return true;
        p = end;
    }
    return false;
}
