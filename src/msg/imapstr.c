/* imapstr — see imapstr.h. */
#include "msg/imapstr.h"

#include <string.h>
#include <strings.h>

#define IMAPSTR_QUOTED_MAX 4000 /* long values go as literals: no line-length surprises */

bool imapstr_quotable(const char *s, size_t n)
{
    if (n > IMAPSTR_QUOTED_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0 || c == '\r' || c == '\n' || c >= 0x80)
            return false;
    }
    return true;
}

void imapstr_write(struct str *out, const char *s, size_t n)
{
    if (imapstr_quotable(s, n)) {
        str_reserve(out, n + 2);
        str_appendc(out, '"');
        size_t run = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] != '"' && s[i] != '\\')
                continue;
            str_append(out, s + run, i - run);
            str_appendc(out, '\\');
            run = i;
        }
        str_append(out, s + run, n - run);
        str_appendc(out, '"');
        return;
    }
    str_appendf(out, "{%zu}\r\n", n);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\0')
            continue;
        str_append(out, s + run, i - run);
        str_appendc(out, '?');
        run = i + 1;
    }
    str_append(out, s + run, n - run);
}

void imapstr_write_nstring(struct str *out, const char *s)
{
    if (!s)
        str_append(out, "NIL", 3);
    else
        imapstr_write(out, s, strlen(s));
}

static bool imapstr_astring_char(unsigned char c)
{
    /* ATOM-CHAR or "]" (RFC 3501 §9 ASTRING-CHAR). */
    return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\", c);
}

void imapstr_write_astring(struct str *out, const char *s, size_t n)
{
    bool atom = n > 0 && !(n == 3 && strncasecmp(s, "NIL", 3) == 0);
    for (size_t i = 0; atom && i < n; i++)
        atom = imapstr_astring_char((unsigned char)s[i]);
    if (atom)
        str_append(out, s, n);
    else
        imapstr_write(out, s, n);
}
