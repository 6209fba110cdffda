/*
 * flags — message flags between the wire (flag lists of STORE and APPEND, FLAGS responses)
 * and the store's canonical text (store/imap.h: system flags in a fixed order, then keywords
 * as first written; keywords compare case-insensitively). \Recent is a session property
 * (RFC 3501 §2.3.2): never parsed into the text, only written from the RECENT bit.
 */
#include "imap/session_int.h"

#include "core/xmalloc.h"

#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    unsigned bit;
} system_flags[] = {
    {"\\Answered", IMAP_MSGF_ANSWERED}, {"\\Flagged", IMAP_MSGF_FLAGGED},
    {"\\Deleted", IMAP_MSGF_DELETED},   {"\\Seen", IMAP_MSGF_SEEN},
    {"\\Draft", IMAP_MSGF_DRAFT},
};
#define N_SYSTEM (sizeof system_flags / sizeof system_flags[0])

static unsigned system_bit(const char *p, size_t n)
{
    for (size_t i = 0; i < N_SYSTEM; i++)
        if (strlen(system_flags[i].name) == n && strncasecmp(system_flags[i].name, p, n) == 0)
            return system_flags[i].bit;
    return 0;
}

bool imap_keyword_in(const char *keywords, const char *kw, size_t len)
{
    for (const char *p = keywords ? keywords : ""; *p;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == len && strncasecmp(p, kw, len) == 0)
            return true;
        p += n;
        while (*p == ' ')
            p++;
    }
    return false;
}

unsigned imap_flags_from_text(const char *text, char **keywords_out)
{
    unsigned bits = 0;
    struct str kw = STR_INIT;
    for (const char *p = text ? text : ""; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        size_t n = (size_t)(e - p);
        if (n && *p == '\\') {
            bits |= system_bit(p, n);
        } else if (n) {
            if (kw.len)
                str_appendc(&kw, ' ');
            str_append(&kw, p, n);
        }
        p = e;
    }
    *keywords_out = kw.len ? str_steal(&kw) : NULL;
    str_clear(&kw);
    return bits;
}

void imap_flags_write(struct str *out, unsigned bits, const char *keywords)
{
    size_t mark = out->len;
    str_appendc(out, '(');
    for (size_t i = 0; i < N_SYSTEM; i++) {
        if (!(bits & system_flags[i].bit))
            continue;
        if (out->len > mark + 1)
            str_appendc(out, ' ');
        str_appends(out, system_flags[i].name);
    }
    if (bits & IMAP_MSGF_RECENT) {
        if (out->len > mark + 1)
            str_appendc(out, ' ');
        str_appends(out, "\\Recent");
    }
    if (keywords && *keywords) {
        if (out->len > mark + 1)
            str_appendc(out, ' ');
        str_appends(out, keywords);
    }
    str_appendc(out, ')');
}

/* RFC 3501 §9 flag-keyword = atom: no atom-specials (the parser lets '%', '*', ']' and '\'
 * through in atoms for other uses). */
static bool keyword_ok(const char *p, size_t n)
{
    if (n == 0 || n > 200)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
            return false;
    }
    return true;
}

/* Adds one flag atom to bits / kw. */
static bool flag_add(const struct imap_arg *a, unsigned *bits, struct str *kw, const char **err)
{
    /* RFC 3501 §9: a flag is an atom, and "NIL" is an atom like any other in a flag list
     * (the parser tags it IMAP_ARG_NIL for nstring use; its text is still "NIL"). */
    if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL) {
        *err = "Flags must be atoms";
        return false;
    }
    if (a->str[0] == '\\') {
        if (ascii_eq_ci(a->str, "\\Recent"))
            return true; /* RFC 3501 §2.3.2: not settable; ignored */
        unsigned b = system_bit(a->str, a->len);
        if (!b) {
            *err = "Invalid system flag";
            return false;
        }
        *bits |= b;
        return true;
    }
    if (!keyword_ok(a->str, a->len)) {
        *err = "Invalid keyword";
        return false;
    }
    if (!imap_keyword_in(str_cstr(kw), a->str, a->len)) {
        if (kw->len)
            str_appendc(kw, ' ');
        str_append(kw, a->str, a->len);
    }
    return true;
}

bool imap_flags_parse_args(const struct imap_arg *args, size_t n, struct str *canon,
                           const char **err_out)
{
    if (n == 1 && args[0].type == IMAP_ARG_LIST) {
        n = args[0].count;
        args = args[0].list;
    }
    unsigned bits = 0;
    struct str kw = STR_INIT;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = flag_add(&args[i], &bits, &kw, err_out);
    str_reset(canon);
    if (ok) {
        for (size_t i = 0; i < N_SYSTEM; i++) {
            if (!(bits & system_flags[i].bit))
                continue;
            if (canon->len)
                str_appendc(canon, ' ');
            str_appends(canon, system_flags[i].name);
        }
        if (kw.len) {
            if (canon->len)
                str_appendc(canon, ' ');
            str_append(canon, kw.ptr, kw.len);
        }
        str_cstr(canon);
    }
    str_clear(&kw);
    return ok;
}
