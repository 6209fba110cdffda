/* mailbox_name — see mailbox_name.h. */
#include "imap/mailbox_name.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "imap/mutf7.h"
#include "msg/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int mbn_fail(const char **err_out, const char *why)
{
    *err_out = why;
    return ERR_PARSE;
}

/* One level name[s..e): non-empty, not "." or "..", not too long. */
static int mbn_check_level(const char *name, size_t s, size_t e, const char **err_out)
{
    size_t len = e - s;
    if (len == 0)
        return mbn_fail(err_out, "Empty hierarchy level in mailbox name");
    if ((len == 1 && name[s] == '.') || (len == 2 && name[s] == '.' && name[s + 1] == '.'))
        return mbn_fail(err_out, "Mailbox name level \".\" or \"..\" not allowed");
    if (len > IMAP_MAILBOX_MAX_COMPONENT)
        return mbn_fail(err_out, "Mailbox name level too long");
    return 0;
}

int imap_mailbox_name_check(const char *name, size_t n, const char **err_out)
{
    if (n == 0)
        return mbn_fail(err_out, "Empty mailbox name");
    if (n > IMAP_MAILBOX_MAX_LEN)
        return mbn_fail(err_out, "Mailbox name too long");
    if (!utf8_valid(name, n))
        return mbn_fail(err_out, "Mailbox name is not valid UTF-8");
    size_t start = 0;
    unsigned depth = 1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)name[i] : IMAP_MAILBOX_DELIM;
        if (c < 0x20 || c == 0x7f)
            return mbn_fail(err_out, "Control character in mailbox name");
        if (c == '%' || c == '*')
            return mbn_fail(err_out, "Wildcard in mailbox name");
        if (c != IMAP_MAILBOX_DELIM)
            continue;
        int r = mbn_check_level(name, start, i, err_out);
        if (r < 0)
            return r;
        if (i < n && ++depth > IMAP_MAILBOX_MAX_DEPTH)
            return mbn_fail(err_out, "Mailbox hierarchy too deep");
        start = i + 1;
    }
    return 0;
}

static bool mbn_inbox_prefix(const char *s, size_t n)
{
    return n >= 5 && strncasecmp(s, "INBOX", 5) == 0 && (n == 5 || s[5] == IMAP_MAILBOX_DELIM);
}

void imap_mailbox_name_normalize(struct str *name)
{
    if (name->ptr && mbn_inbox_prefix(name->ptr, name->len))
        memcpy(name->ptr, "INBOX", 5);
}

int imap_mailbox_name_from_wire(const char *in, size_t n, bool utf8_mode, struct str *out,
                                const char **err_out)
{
    struct str tmp = STR_INIT;
    if (utf8_mode)
        str_append(&tmp, in, n);
    else if (imap_mutf7_to_utf8(in, n, &tmp) < 0) {
        str_clear(&tmp);
        return mbn_fail(err_out, "Mailbox name is not valid modified UTF-7");
    }
    imap_mailbox_name_normalize(&tmp);
    int r = imap_mailbox_name_check(str_cstr(&tmp), tmp.len, err_out);
    if (r == 0)
        str_append(out, str_cstr(&tmp), tmp.len);
    str_clear(&tmp);
    return r;
}

void imap_mailbox_name_to_wire(const char *name, size_t n, bool utf8_mode, struct str *out)
{
    if (utf8_mode || imap_utf8_to_mutf7(name, n, out) < 0)
        str_append(out, name, n); /* stored names are valid UTF-8; this is a fallback */
}

bool imap_mailbox_match(const char *pattern, size_t plen, const char *name, size_t nlen)
{
    /* Upper-case a leading INBOX level of both sides so that it matches in any case. */
    char pfx_p[5], pfx_n[5];
    bool ip = mbn_inbox_prefix(pattern, plen), in = mbn_inbox_prefix(name, nlen);
    memcpy(pfx_p, ip ? "INBOX" : pattern, ip ? 5 : 0);
    memcpy(pfx_n, in ? "INBOX" : name, in ? 5 : 0);
    /* cur[j]: pattern[0..i) matches name[0..j). */
    bool *cur = xcalloc(nlen + 1, sizeof *cur), *nxt = xcalloc(nlen + 1, sizeof *nxt);
    cur[0] = true;
    for (size_t i = 0; i < plen; i++) {
        char pc = (ip && i < 5) ? pfx_p[i] : pattern[i];
        memset(nxt, 0, nlen + 1);
        if (pc == '*' || pc == '%') {
            bool run = false; /* some k <= j with cur[k] and name[k..j) allowed */
            for (size_t j = 0; j <= nlen; j++) {
                if (pc == '%' && j > 0 && name[j - 1] == IMAP_MAILBOX_DELIM)
                    run = false;
                run = run || cur[j];
                nxt[j] = run;
            }
        } else {
            for (size_t j = 0; j < nlen; j++) {
                char nc = (in && j < 5) ? pfx_n[j] : name[j];
                nxt[j + 1] = cur[j] && nc == pc;
            }
        }
        bool *t = cur;
        cur = nxt;
        nxt = t;
    }
    bool r = cur[nlen];
    free(cur);
    free(nxt);
    return r;
}
