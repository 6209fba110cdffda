/* rfc2047 — see rfc2047.h. */
#include "msg/rfc2047.h"

#include "msg/charset.h"
#include "msg/cte.h"
#include "msg/qp.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct ew {
    const char *cs; /* charset name, without any "*lang" */
    size_t cs_len;
    char enc; /* 'B' or 'Q' */
    const char *text;
    size_t text_len;
    size_t len; /* whole word, "=?" to "?=" */
};

/* Parses an encoded-word at in[i] ("=?" already seen); false if there is none. */
static bool ew_parse(const char *in, size_t n, size_t i, struct ew *w)
{
    size_t p = i + 2;
    size_t cs = p;
    while (p < n && in[p] != '?' && in[p] != ' ' && in[p] != '\t' && p - cs < 64)
        p++;
    if (p + 3 >= n || in[p] != '?' || p == cs)
        return false;
    w->cs = in + cs;
    w->cs_len = p - cs;
    const char *star = memchr(w->cs, '*', w->cs_len);
    if (star)
        w->cs_len = (size_t)(star - w->cs);
    char e = in[p + 1];
    if ((e != 'B' && e != 'b' && e != 'Q' && e != 'q') || in[p + 2] != '?')
        return false;
    w->enc = (e == 'b' || e == 'B') ? 'B' : 'Q';
    size_t t = p + 3;
    size_t q = t;
    /* The text has no blanks (§5) and ends at "?=". */
    while (q + 1 < n && !(in[q] == '?' && in[q + 1] == '=')) {
        if (in[q] == ' ' || in[q] == '\t' || in[q] == '\r' || in[q] == '\n')
            return false;
        q++;
    }
    if (q + 1 >= n)
        return false;
    w->text = in + t;
    w->text_len = q - t;
    w->len = q + 2 - i;
    return true;
}

struct ew_pending {
    struct str bytes;
    const char *cs;
    size_t cs_len;
};

static void pending_flush(struct ew_pending *pd, struct str *out)
{
    if (pd->bytes.len > 0)
        (void)charset_to_utf8(pd->cs, pd->cs_len, pd->bytes.ptr, pd->bytes.len, out);
    str_reset(&pd->bytes);
    pd->cs = NULL;
    pd->cs_len = 0;
}

/* Plain text between words: UTF-8 if well-formed, else Latin-1 (charset_to_utf8 on ""). */
static void plain_append(const char *p, size_t len, struct str *out)
{
    if (len)
        (void)charset_to_utf8("", 0, p, len, out);
}

static bool only_blanks(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

void rfc2047_decode(const char *in, size_t n, struct str *out)
{
    struct ew_pending pd = {STR_INIT, NULL, 0};
    size_t plain = 0; /* start of text not yet written */
    bool after_word = false;
    size_t i = 0;
    while (i + 1 < n) {
        struct ew w;
        if (!(in[i] == '=' && in[i + 1] == '?') || !ew_parse(in, n, i, &w) ||
            !charset_is_known(w.cs, w.cs_len)) {
            i++;
            continue;
        }
        bool gap_blank = after_word && only_blanks(in + plain, i - plain);
        bool same_cs = pd.cs && pd.cs_len == w.cs_len && strncasecmp(pd.cs, w.cs, w.cs_len) == 0;
        if (!gap_blank || !same_cs)
            pending_flush(&pd, out);
        if (!gap_blank)
            plain_append(in + plain, i - plain, out);
        pd.cs = w.cs;
        pd.cs_len = w.cs_len;
        if (w.enc == 'B')
            cte_base64_decode(w.text, w.text_len, &pd.bytes);
        else
            qp_decode(w.text, w.text_len, true, &pd.bytes);
        i += w.len;
        plain = i;
        after_word = true;
    }
    pending_flush(&pd, out);
    plain_append(in + plain, n - plain, out);
    str_clear(&pd.bytes);
}
