#include "msg/mailfile.h"

#include "core/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { F_ANSWERED = 1, F_FLAGGED = 2, F_DELETED = 4, F_SEEN = 8, F_DRAFT = 16 };
static const char *const sys_names[] = {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
                                        "\\Draft"};

/* A flag set being built: system bits and keywords (space-separated, no duplicates). */
struct flagset {
    unsigned bits;
    struct str kw;
};

static void flagset_keyword(struct flagset *f, const char *k, size_t n)
{
    if (n == 0)
        return;
    const char *p = f->kw.ptr ? f->kw.ptr : "";
    for (const char *s = p; *s;) { /* case-insensitive duplicate check */
        size_t m = strcspn(s, " ");
        if (m == n && strncasecmp(s, k, n) == 0)
            return;
        s += m + (s[m] == ' ');
    }
    if (f->kw.len)
        str_append(&f->kw, " ", 1);
    str_append(&f->kw, k, n);
}

static void flagset_emit(struct flagset *f, struct str *out)
{
    size_t start = out->len;
    for (int i = 0; i < 5; i++)
        if (f->bits & (1u << i))
            str_appendf(out, "%s%s", out->len > start ? " " : "", sys_names[i]);
    if (f->kw.len)
        str_appendf(out, "%s%s", out->len > start ? " " : "", f->kw.ptr);
    str_clear(&f->kw);
}

/* Splits canonical text into a flagset. */
static void flagset_parse(const char *flags, struct flagset *f)
{
    for (const char *s = flags ? flags : ""; *s;) {
        size_t n = strcspn(s, " ");
        bool sys = false;
        for (int i = 0; i < 5 && n; i++)
            if (strlen(sys_names[i]) == n && strncasecmp(s, sys_names[i], n) == 0) {
                f->bits |= 1u << i;
                sys = true;
            }
        if (!sys && n && s[0] != '\\')
            flagset_keyword(f, s, n);
        s += n + (s[n] == ' ');
    }
}

void mailfile_maildir_flags_parse(const char *info, const struct mailfile_keywords *kw,
                                  struct str *out)
{
    struct flagset f = {0, STR_INIT};
    for (const char *c = info; *c; c++) {
        switch (*c) {
        case 'D': f.bits |= F_DRAFT; break;
        case 'F': f.bits |= F_FLAGGED; break;
        case 'P': flagset_keyword(&f, "$Forwarded", 10); break;
        case 'R': f.bits |= F_ANSWERED; break;
        case 'S': f.bits |= F_SEEN; break;
        case 'T': f.bits |= F_DELETED; break;
        default:
            if (*c >= 'a' && *c <= 'z' && kw && kw->name[*c - 'a'])
                flagset_keyword(&f, kw->name[*c - 'a'], strlen(kw->name[*c - 'a']));
        }
    }
    flagset_emit(&f, out);
}

void mailfile_maildir_flags_format(const char *flags, struct mailfile_keywords *kw,
                                   struct str *out)
{
    struct flagset f = {0, STR_INIT};
    flagset_parse(flags, &f);
    char letters[64];
    size_t n = 0;
    bool used[MAILFILE_KEYWORDS] = {false};
    for (const char *s = f.kw.ptr ? f.kw.ptr : ""; *s;) {
        size_t m = strcspn(s, " ");
        if (m == 10 && strncasecmp(s, "$Forwarded", 10) == 0) {
            letters[n++] = 'P';
        } else {
            int slot = -1, free_slot = -1;
            for (int i = 0; i < MAILFILE_KEYWORDS && slot < 0; i++) {
                if (kw->name[i] && strlen(kw->name[i]) == m && !strncasecmp(kw->name[i], s, m))
                    slot = i;
                if (!kw->name[i] && free_slot < 0)
                    free_slot = i;
            }
            if (slot < 0 && free_slot >= 0) {
                kw->name[free_slot] = strndup(s, m);
                slot = kw->name[free_slot] ? free_slot : -1;
            }
            if (slot >= 0 && !used[slot]) {
                used[slot] = true;
                letters[n++] = (char)('a' + slot);
            }
        }
        s += m + (s[m] == ' ');
    }
    static const struct { unsigned bit; char c; } sys[] = {
        {F_DRAFT, 'D'}, {F_FLAGGED, 'F'}, {F_ANSWERED, 'R'}, {F_SEEN, 'S'}, {F_DELETED, 'T'}};
    for (size_t i = 0; i < 5; i++)
        if (f.bits & sys[i].bit)
            letters[n++] = sys[i].c;
    /* Maildir asks for the letters in ASCII order: upper case first, then a-z. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && letters[j - 1] > letters[j]; j--) {
            char t = letters[j];
            letters[j] = letters[j - 1];
            letters[j - 1] = t;
        }
    str_append(out, letters, n);
    str_clear(&f.kw);
}

void mailfile_crlf(const char *in, size_t n, struct str *out)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '\n')
            continue;
        size_t end = i > start && in[i - 1] == '\r' ? i - 1 : i;
        str_append(out, in + start, end - start);
        str_append(out, "\r\n", 2);
        start = i + 1;
    }
    if (start < n) { /* a last line without its newline */
        str_append(out, in + start, n - start);
        str_append(out, "\r\n", 2);
    }
}

/* "From sender Wed Dec  2 10:00:00 2026" -> unix seconds (UTC), 0 when unreadable. */
static int64_t from_line_date(const char *line, size_t n)
{
    char buf[256];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *p = buf + 5;
    p += strcspn(p, " ");            /* the sender */
    p += strspn(p, " ");
    struct tm tm = {0};
    if (!strptime(p, "%a %b %d %H:%M:%S %Y", &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

static bool header_is(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n > k && line[k] == ':' && strncasecmp(line, name, k) == 0;
}

/* The value of a header line "Name: value" (leading blanks skipped). */
static const char *header_value(const char *line, size_t n, size_t *vlen)
{
    const char *v = memchr(line, ':', n) + 1;
    while (v < line + n && (*v == ' ' || *v == '\t'))
        v++;
    *vlen = (size_t)(line + n - v);
    return v;
}

/* mbox-only header fields: read into flags, never kept in the message. */
static bool mbox_header(const char *line, size_t n, struct flagset *f)
{
    size_t vl;
    if (header_is(line, n, "Status")) {
        const char *v = header_value(line, n, &vl);
        if (memchr(v, 'R', vl))
            f->bits |= F_SEEN;
        return true;
    }
    if (header_is(line, n, "X-Status")) {
        const char *v = header_value(line, n, &vl);
        static const struct { char c; unsigned bit; } xs[] = {
            {'A', F_ANSWERED}, {'F', F_FLAGGED}, {'T', F_DRAFT}, {'D', F_DELETED}};
        for (size_t i = 0; i < 4; i++)
            if (memchr(v, xs[i].c, vl))
                f->bits |= xs[i].bit;
        return true;
    }
    if (header_is(line, n, "X-Keywords")) {
        const char *v = header_value(line, n, &vl);
        for (size_t i = 0; i < vl;) {
            size_t m = strcspn(v + i, " ,\t");
            m = m > vl - i ? vl - i : m;
            flagset_keyword(f, v + i, m);
            i += m + 1;
        }
        return true;
    }
    return header_is(line, n, "X-UID") || header_is(line, n, "X-IMAP") ||
           header_is(line, n, "X-IMAPbase") || header_is(line, n, "Content-Length");
}

/* Where a Content-Length body ends, when the length is trustworthy: it lands on the end of
 * buf or on the next "From " line (after an optional blank line). 0 when not. */
static size_t content_end(const char *buf, size_t len, size_t body, unsigned long long cl)
{
    if (cl > len - body)
        return 0;
    size_t e = body + (size_t)cl;
    if (e == len)
        return e;
    size_t f = e + (buf[e] == '\n');
    if (len - f >= 5 && memcmp(buf + f, "From ", 5) == 0)
        return f;
    if (f == len)
        return f;
    return 0;
}

int mailfile_mbox_next(const char *buf, size_t len, size_t *pos, struct mailfile_mbox_msg *out)
{
    size_t p = *pos;
    if (p >= len)
        return 0;
    if (len - p < 5 || memcmp(buf + p, "From ", 5) != 0)
        return ERR_PARSE;
    str_reset(&out->data);
    str_reset(&out->flags);
    const char *nl = memchr(buf + p, '\n', len - p);
    size_t first_end = nl ? (size_t)(nl - buf) : len;
    out->date = from_line_date(buf + p, first_end - p);
    p = nl ? first_end + 1 : len;
    struct flagset f = {0, STR_INIT};
    struct str lf = STR_INIT; /* the message with LF lines, before CRLF */
    bool skipping = false, has_cl = false;
    unsigned long long cl = 0;
    /* The header: mbox's own fields are read and dropped. */
    while (p < len) {
        nl = memchr(buf + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - buf) : len, n = e - p;
        const char *line = buf + p;
        size_t ln = n && line[n - 1] == '\r' ? n - 1 : n;
        if (n >= 5 && memcmp(line, "From ", 5) == 0)
            break; /* a message that is all header */
        p = nl ? e + 1 : len;
        if (ln == 0) {
            str_append(&lf, "\n", 1);
            break;
        }
        if ((line[0] == ' ' || line[0] == '\t') && skipping)
            continue; /* continuation of a dropped field */
        if (header_is(line, ln, "Content-Length")) {
            size_t vl;
            const char *v = header_value(line, ln, &vl);
            char num[24];
            snprintf(num, sizeof num, "%.*s", (int)(vl < 23 ? vl : 23), v);
            char *endp;
            cl = strtoull(num, &endp, 10);
            has_cl = endp != num;
        }
        if ((skipping = mbox_header(line, ln, &f)))
            continue;
        str_append(&lf, line, ln);
        str_append(&lf, "\n", 1);
    }
    /* The body: by Content-Length when it fits (Dovecot writes it and does not quote "From "
     * lines then), else up to the next "From " line, with mboxrd unquoting. */
    size_t ce = has_cl ? content_end(buf, len, p, cl) : 0;
    if (ce) {
        str_append(&lf, buf + p, (size_t)cl);
        p = ce;
    } else {
        while (p < len) {
            nl = memchr(buf + p, '\n', len - p);
            size_t e = nl ? (size_t)(nl - buf) : len, n = e - p;
            const char *line = buf + p;
            if (n >= 5 && memcmp(line, "From ", 5) == 0)
                break; /* the next message */
            size_t ln = n && line[n - 1] == '\r' ? n - 1 : n, k = 0;
            while (k < ln && line[k] == '>')
                k++;
            if (k > 0 && ln - k >= 5 && memcmp(line + k, "From ", 5) == 0)
                line++, ln--; /* one level of ">From " quoting */
            str_append(&lf, line, ln);
            str_append(&lf, "\n", 1);
            p = nl ? e + 1 : len;
        }
        /* The blank line a writer puts before the next "From " is not the message's. */
        if (lf.len >= 2 && lf.ptr[lf.len - 1] == '\n' && lf.ptr[lf.len - 2] == '\n')
            lf.len--;
    }
    mailfile_crlf(lf.ptr ? lf.ptr : "", lf.len, &out->data);
    str_clear(&lf);
    flagset_emit(&f, &out->flags);
    *pos = p;
    return 1;
}

void mailfile_mbox_append(struct str *out, const char *sender, int64_t date, const char *flags,
                          const char *data, size_t n)
{
    time_t t = (time_t)date;
    struct tm tm;
    char when[64] = "Thu Jan  1 00:00:00 1970";
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
    str_appendf(out, "From %s %s\n", sender && *sender ? sender : "MAILER-DAEMON", when);
    struct flagset f = {0, STR_INIT};
    flagset_parse(flags, &f);
    bool in_header = true;
    for (size_t p = 0; p < n;) {
        const char *nl = memchr(data + p, '\n', n - p);
        size_t e = nl ? (size_t)(nl - data) : n;
        size_t ln = e - p;
        if (ln && data[e - 1] == '\r')
            ln--;
        const char *line = data + p;
        if (in_header && ln == 0) {
            in_header = false;
            str_appendf(out, "Status: %s\n", f.bits & F_SEEN ? "RO" : "O");
            if (f.bits & (F_ANSWERED | F_FLAGGED | F_DRAFT | F_DELETED))
                str_appendf(out, "X-Status: %s%s%s%s\n", f.bits & F_ANSWERED ? "A" : "",
                            f.bits & F_FLAGGED ? "F" : "", f.bits & F_DRAFT ? "T" : "",
                            f.bits & F_DELETED ? "D" : "");
            if (f.kw.len)
                str_appendf(out, "X-Keywords: %s\n", f.kw.ptr);
        }
        struct flagset ignored = {0, STR_INIT};
        bool drop = in_header && mbox_header(line, ln, &ignored);
        str_clear(&ignored.kw);
        size_t k = 0;
        while (!in_header && k < ln && line[k] == '>')
            k++;
        if (!in_header && ln - k >= 5 && memcmp(line + k, "From ", 5) == 0)
            str_append(out, ">", 1);
        if (!drop) {
            str_append(out, line, ln);
            str_append(out, "\n", 1);
        }
        p = nl ? e + 1 : n;
    }
    str_append(out, "\n", 1);
    str_clear(&f.kw);
}
