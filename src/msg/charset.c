/* charset — see charset.h. */
#include "msg/charset.h"

#include "core/err.h"
#include "msg/utf8.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

enum cs_kind { CS_ASCII, CS_UTF8, CS_LATIN1, CS_ICONV, CS_BAD };

static bool cs_is(const char *cs, size_t n, const char *name)
{
    return slice_eq_ci(slice_make(cs, n), name);
}

/* A charset name goes to iconv only if it looks like one (no paths, no "//" suffixes). */
static bool cs_name_ok(const char *cs, size_t n)
{
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = cs[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

static enum cs_kind cs_classify(const char *cs, size_t n)
{
    if (n == 0 || cs_is(cs, n, "us-ascii") || cs_is(cs, n, "ascii") ||
        cs_is(cs, n, "ansi_x3.4-1968"))
        return CS_ASCII;
    if (cs_is(cs, n, "utf-8") || cs_is(cs, n, "utf8"))
        return CS_UTF8;
    if (cs_is(cs, n, "iso-8859-1") || cs_is(cs, n, "latin1") || cs_is(cs, n, "iso8859-1") ||
        cs_is(cs, n, "iso_8859-1"))
        return CS_LATIN1;
    return cs_name_ok(cs, n) ? CS_ICONV : CS_BAD;
}

void charset_utf8_sanitize(const char *in, size_t n, struct str *out)
{
    size_t i = 0;
    str_reserve(out, n);
    str_append(out, "", 0); /* keeps the string terminated even if nothing follows */
    while (i < n) {
        size_t start = i;
        int32_t cp = utf8_next(in, n, &i);
        if (cp < 0)
            utf8_append(out, 0xFFFD);
        else
            str_append(out, in + start, i - start);
    }
}

static void latin1_to_utf8(const char *in, size_t n, struct str *out)
{
    str_reserve(out, n);
    str_append(out, "", 0); /* keeps the string terminated even if nothing follows */
    for (size_t i = 0; i < n; i++)
        utf8_append(out, (unsigned char)in[i]);
}

static iconv_t cs_iconv_open(const char *cs, size_t n)
{
    char name[48];
    memcpy(name, cs, n);
    name[n] = '\0';
    return iconv_open("UTF-8", name);
}

/* Converts with cd, replacing each byte iconv refuses with U+FFFD. */
static void iconv_run(iconv_t cd, const char *in, size_t n, struct str *out)
{
    char *ip = (char *)in;
    size_t il = n;
    while (il > 0) {
        char buf[1024];
        char *op = buf;
        size_t ol = sizeof buf;
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        str_append(out, buf, (size_t)(op - buf));
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG)
            continue;
        /* EILSEQ or EINVAL (truncated at the end): skip one byte. */
        utf8_append(out, 0xFFFD);
        ip++;
        il--;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    char buf[64];
    char *op = buf;
    size_t ol = sizeof buf;
    iconv(cd, NULL, NULL, &op, &ol); /* flush any shift state */
    str_append(out, buf, (size_t)(op - buf));
}

int charset_to_utf8(const char *cs, size_t cs_len, const char *in, size_t n, struct str *out)
{
    switch (cs_classify(cs, cs_len)) {
    case CS_ASCII:
        if (utf8_valid(in, n))
            str_append(out, in, n);
        else
            latin1_to_utf8(in, n, out);
        return 0;
    case CS_UTF8:
        charset_utf8_sanitize(in, n, out);
        return 0;
    case CS_LATIN1:
        latin1_to_utf8(in, n, out);
        return 0;
    case CS_ICONV: {
        iconv_t cd = cs_iconv_open(cs, cs_len);
        if (cd == (iconv_t)-1)
            break;
        iconv_run(cd, in, n, out);
        iconv_close(cd);
        return 0;
    }
    case CS_BAD:
        break;
    }
    charset_utf8_sanitize(in, n, out);
    return ERR_NOTFOUND;
}

bool charset_is_known(const char *cs, size_t cs_len)
{
    enum cs_kind k = cs_classify(cs, cs_len);
    if (k == CS_BAD)
        return false;
    if (k != CS_ICONV)
        return true;
    iconv_t cd = cs_iconv_open(cs, cs_len);
    if (cd == (iconv_t)-1)
        return false;
    iconv_close(cd);
    return true;
}
