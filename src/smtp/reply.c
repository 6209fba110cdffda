#include "smtp/reply.h"

#include <string.h>

void smtp_reply_init(struct smtp_reply *r)
{
    memset(r, 0, sizeof *r);
}

void smtp_reply_clear(struct smtp_reply *r)
{
    str_clear(&r->text);
    str_clear(&r->lines);
    str_clear(&r->partial);
    memset(r, 0, sizeof *r);
}

void smtp_reply_reset(struct smtp_reply *r)
{
    r->code = 0;
    r->enh[0] = '\0';
    r->nlines = 0;
    str_reset(&r->text);
    str_reset(&r->lines);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 3463: class "." subject "." detail, e.g. 5.1.1 — only after a 2xx/4xx/5xx code. */
static size_t enhanced_code(const char *t, size_t n, int code, char *out, size_t cap)
{
    size_t i = 0, dots = 0;
    if (n < 5 || t[0] != '0' + code / 100 || t[1] != '.')
        return 0;
    while (i < n && (is_digit(t[i]) || t[i] == '.')) {
        dots += t[i] == '.';
        i++;
    }
    if (dots != 2 || t[i - 1] == '.' || i >= cap || (i < n && t[i] != ' '))
        return 0;
    memcpy(out, t, i);
    out[i] = '\0';
    return i < n ? i + 1 : i;
}

/* One complete line (CRLF removed). Returns 1 if it was the last line, 0 if more follow,
 * -1 if it is not a reply line. */
static int reply_line(struct smtp_reply *r, const char *l, size_t n)
{
    if (n < 3 || !is_digit(l[0]) || !is_digit(l[1]) || !is_digit(l[2]) || l[0] < '2' ||
        l[0] > '5' || (n > 3 && l[3] != ' ' && l[3] != '-'))
        return -1;
    int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
    if (r->nlines > 0 && code != r->code)
        return -1;
    r->code = code;
    str_append(&r->lines, l, n);
    str_append(&r->lines, "\r\n", 2);
    const char *t = n > 4 ? l + 4 : "";
    size_t tn = n > 4 ? n - 4 : 0;
    if (r->nlines == 0)
        enhanced_code(t, tn, code, r->enh, sizeof r->enh);
    if (r->nlines++ > 0)
        str_appendc(&r->text, '\n');
    str_append(&r->text, t, tn);
    if (r->nlines > SMTP_REPLY_LINES_MAX)
        return -1;
    return n == 3 || l[3] == ' ';
}

int smtp_reply_feed(struct smtp_reply *r, const char *p, size_t n, size_t *used_out)
{
    size_t used = 0;
    while (used < n) {
        const char *lf = memchr(p + used, '\n', n - used);
        size_t seg = lf ? (size_t)(lf - (p + used)) : n - used;
        if (r->partial.len + seg <= SMTP_REPLY_LINE_MAX)
            str_append(&r->partial, p + used, seg);
        used += seg + (lf ? 1 : 0);
        if (!lf)
            break;
        size_t len = r->partial.len;
        if (len && r->partial.ptr[len - 1] == '\r')
            len--;
        int rc = reply_line(r, str_cstr(&r->partial), len);
        str_reset(&r->partial);
        if (rc != 0) {
            *used_out = used;
            return rc;
        }
    }
    *used_out = used;
    return 0;
}

bool smtp_reply_has_keyword(const struct smtp_reply *r, const char *keyword)
{
    size_t k = strlen(keyword);
    const char *t = str_cstr(&r->text);
    while (*t) {
        if (strncasecmp(t, keyword, k) == 0 && (t[k] == '\0' || t[k] == ' ' || t[k] == '\n'))
            return true;
        const char *nl = strchr(t, '\n');
        if (!nl)
            break;
        t = nl + 1;
    }
    return false;
}
