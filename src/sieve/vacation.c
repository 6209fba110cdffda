/*
 * sieve vacation — the vacation action (RFC 5230): whether to answer at all (§4.5 and RFC
 * 3834 §2: never to <>, to automatic mail, to mailing lists, to the user itself, nor when the
 * user is not named in the recipient fields), the handle that identifies one vacation text
 * (§4.2), and the reply itself (§5). Whether this sender was already answered within :days is
 * the caller's memory (struct sieve_action.handle, .address, .days).
 */
#include "sieve/sieve_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/base64.h"
#include "msg/header.h"
#include "msg/mime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAYS_DEFAULT 7
#define DAYS_MAX 30

/* RFC 5230 §4.5 / RFC 3834 §2: senders that are programs, not people. */
static bool sender_is_automatic(const char *from)
{
    const char *at = strrchr(from, '@');
    size_t n = at ? (size_t)(at - from) : strlen(from);
    static const char *const names[] = {"mailer-daemon", "listserv", "majordomo", "postmaster",
                                        "noreply", "no-reply", NULL};
    for (const char *const *p = names; *p; p++)
        if (strlen(*p) == n && strncasecmp(from, *p, n) == 0)
            return true;
    return (n > 6 && strncasecmp(from, "owner-", 6) == 0) ||
           (n > 8 && strncasecmp(from + n - 8, "-request", 8) == 0);
}

/* Auto-Submitted other than "no", Precedence bulk/list/junk, or a List-Id. */
static const char *message_is_automatic(const char *hdr, size_t len)
{
    struct mime_field f;
    struct str v = STR_INIT;
    const char *why = NULL;
    if (mime_header_find(hdr, len, "Auto-Submitted", &f)) {
        mime_header_unfold(f.raw.p, f.raw.len, &v);
        if (strncasecmp(str_cstr(&v), "no", 2) != 0 || isalnum((unsigned char)str_cstr(&v)[2]))
            why = "the message is Auto-Submitted";
    }
    str_reset(&v);
    if (!why && mime_header_find(hdr, len, "Precedence", &f)) {
        mime_header_unfold(f.raw.p, f.raw.len, &v);
        const char *p = str_cstr(&v);
        if (!strcasecmp(p, "bulk") || !strcasecmp(p, "list") || !strcasecmp(p, "junk"))
            why = "the message has Precedence: bulk, list or junk";
    }
    if (!why && (mime_header_find(hdr, len, "List-Id", &f) ||
                 mime_header_find(hdr, len, "List-Unsubscribe", &f)))
        why = "the message comes from a mailing list";
    str_clear(&v);
    return why;
}

/* a equal to b, or to b without its "+detail" (case-insensitive). */
static bool addr_eq(const char *a, size_t an, const char *b, char delim)
{
    if (strlen(b) == an && strncasecmp(a, b, an) == 0)
        return true;
    const char *at = strrchr(b, '@');
    const char *sep = delim && at ? memchr(b, delim, (size_t)(at - b)) : NULL;
    if (!sep)
        return false;
    size_t ln = (size_t)(sep - b), dn = strlen(at);
    return an == ln + dn && strncasecmp(a, b, ln) == 0 && strncasecmp(a + ln, at, dn) == 0;
}

static bool is_user(const struct sieve_env *e, const struct sieve_arg *extra, const char *a,
                    size_t an)
{
    if (addr_eq(a, an, e->env_to, e->delimiter))
        return true;
    for (size_t i = 0; i < e->n_user_addresses; i++)
        if (addr_eq(a, an, e->user_addresses[i], e->delimiter))
            return true;
    for (size_t i = 0; extra && i < extra->nstrs; i++)
        if (addr_eq(a, an, extra->strs[i], e->delimiter))
            return true;
    return false;
}

/* RFC 5230 §4.5: one of the user's addresses in To, Cc, Bcc or their Resent- forms. */
static bool user_is_recipient(const struct sieve_env *e, const struct sieve_arg *extra)
{
    static const char *const fields[] = {"to", "cc", "bcc", "resent-to", "resent-cc",
                                         "resent-bcc", NULL};
    size_t len = msg_header_end(e->msg, e->len), pos = 0;
    struct mime_field f;
    struct str v = STR_INIT, lines = STR_INIT;
    bool found = false;
    while (!found && mime_header_next(e->msg, len, &pos, &f) > 0) {
        bool wanted = false;
        for (const char *const *n = fields; *n; n++)
            wanted |= slice_eq_ci(f.name, *n);
        if (!wanted)
            continue;
        str_reset(&v);
        str_reset(&lines);
        mime_header_unfold(f.raw.p, f.raw.len, &v);
        mime_address_list_text(str_cstr(&v), v.len, &lines);
        for (const char *p = str_cstr(&lines); !found && *p;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            const char *lt = memrchr(p, '<', n), *gt = memrchr(p, '>', n);
            if (lt && gt && gt > lt)
                found = is_user(e, extra, lt + 1, (size_t)(gt - lt - 1));
            else
                found = is_user(e, extra, p, n);
            p += nl ? n + 1 : n;
        }
    }
    str_clear(&v);
    str_clear(&lines);
    return found;
}

static void note(struct sieve_run *r, unsigned line, const char *why)
{
    str_appendf(&r->res->log, "line %u: vacation not sent: %s\n", line, why);
}

/* FNV-1a over the parts that make one vacation text different from another. */
static char *default_handle(const char *subject, const char *from, const char *reason, bool mime)
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[] = {subject, "\x01", from, "\x01", reason, mime ? "\x01m" : "\x01t"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
    char buf[24];
    snprintf(buf, sizeof buf, "h%016llx", (unsigned long long)h);
    return xstrdup(buf);
}

static char *opt_string(struct sieve_run *r, const struct sieve_node *c, const char *tag)
{
    const struct sieve_arg *t = sieve_tag(c, tag);
    struct str scratch = STR_INIT;
    char *v = t ? xstrdup(sieve_expand(r, t[1].strs[0], &scratch)) : NULL;
    str_clear(&scratch);
    return v;
}

void sieve_vacation_cmd(struct sieve_run *r, const struct sieve_node *c)
{
    const struct sieve_env *e = r->env;
    for (size_t i = 0; i < r->res->n; i++)
        if (r->res->v[i].kind == SIEVE_ACT_VACATION) {
            sieve_fail(r, ERR_BUSY_STATE, c->line, "a second vacation");
            return;
        }
    size_t hl = msg_header_end(e->msg, e->len);
    const char *why = !e->env_from[0]                  ? "the sender is <>"
                      : sender_is_automatic(e->env_from) ? "the sender is a program"
                      : is_user(e, NULL, e->env_from, strlen(e->env_from))
                          ? "the sender is the user"
                          : message_is_automatic(e->msg, hl);
    const struct sieve_arg *extra = sieve_tag(c, "addresses");
    if (!why && !user_is_recipient(e, extra ? &extra[1] : NULL))
        why = "the user is not in To, Cc or Bcc";
    if (why) {
        note(r, c->line, why);
        return;
    }
    struct sieve_action *a = sieve_action_new(r, SIEVE_ACT_VACATION, c->line);
    if (!a)
        return;
    struct str scratch = STR_INIT;
    a->address = xstrdup(e->env_from);
    a->body = xstrdup(sieve_expand(r, sieve_pos(c, 0)->strs[0], &scratch));
    a->mime = sieve_tag(c, "mime") != NULL;
    a->subject = opt_string(r, c, "subject");
    a->from = opt_string(r, c, "from");
    a->handle = opt_string(r, c, "handle");
    if (!a->handle) /* §4.2: from the arguments as written, before defaults are filled in */
        a->handle = default_handle(a->subject ? a->subject : "", a->from ? a->from : "",
                                   a->body, a->mime);
    const struct sieve_arg *d = sieve_tag(c, "days"), *sec = sieve_tag(c, "seconds");
    uint64_t days = d ? d[1].num : DAYS_DEFAULT;
    a->days = days < 1 ? 1 : days > DAYS_MAX ? DAYS_MAX : (unsigned)days;
    a->period = (uint64_t)a->days * 86400;
    if (sec) { /* RFC 6131 §2: 0 answers every message; no longer than :days allows */
        a->period = sec[1].num < (uint64_t)DAYS_MAX * 86400 ? sec[1].num : DAYS_MAX * 86400ull;
        a->days = (unsigned)(a->period / 86400);
    }
    if (!a->subject) {
        struct str s = STR_INIT;
        str_appends(&s, "Auto: ");
        if (mime_text_header(e->msg, hl, "subject", &s) == 0)
            str_appends(&s, "(no subject)");
        while (s.len && (s.ptr[s.len - 1] == '\n'))
            s.ptr[--s.len] = '\0';
        char *nl;
        while ((nl = strchr(s.ptr, '\n'))) /* several Subject fields: the first */
            *nl = '\0', s.len = (size_t)(nl - s.ptr);
        a->subject = str_steal(&s);
    }
    if (!a->from)
        a->from = xstrdup(e->n_user_addresses ? e->user_addresses[0] : e->env_to);
    str_clear(&scratch);
}

/* ---- the reply ---- */

static bool ascii_only(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || *s == '\r' || *s == '\n')
            return false;
    return true;
}

static bool has_8bit(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

/* A header value: as is when ASCII, else one RFC 2047 B-encoded word per 45 octets. */
static void header_text(struct str *out, const char *s)
{
    if (ascii_only(s)) {
        str_appends(out, s);
        return;
    }
    size_t n = strlen(s);
    for (size_t off = 0; off < n;) {
        size_t k = n - off < 45 ? n - off : 45;
        while (off + k < n && ((unsigned char)s[off + k] & 0xC0) == 0x80)
            k--; /* never split a UTF-8 sequence between words */
        char enc[64];
        size_t el = base64_encode(s + off, k, enc);
        str_appendf(out, "%s=?UTF-8?B?%.*s?=", off ? "\r\n " : "", (int)el, enc);
        off += k;
    }
}

/* Appends text with every line end made CRLF, ending with one. */
static void crlf_text(struct str *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\r')
            continue;
        if (*s == '\n')
            str_append(out, "\r\n", 2);
        else
            str_appendc(out, *s);
    }
    if (out->len < 2 || memcmp(out->ptr + out->len - 2, "\r\n", 2) != 0)
        str_append(out, "\r\n", 2);
}

void sieve_vacation_build(const struct sieve_action *a, const struct sieve_env *e,
                          const char *date, const char *msgid, struct str *out)
{
    size_t hl = msg_header_end(e->msg, e->len);
    struct mime_field f;
    struct str orig_id = STR_INIT, refs = STR_INIT;
    if (mime_header_find(e->msg, hl, "Message-ID", &f))
        mime_header_unfold(f.raw.p, f.raw.len, &orig_id);
    if (mime_header_find(e->msg, hl, "References", &f))
        mime_header_unfold(f.raw.p, f.raw.len, &refs);
    str_appendf(out, "From: <%s>\r\nTo: <%s>\r\nSubject: ", a->from, a->address);
    header_text(out, a->subject);
    str_appendf(out, "\r\nDate: %s\r\nMessage-ID: %s\r\n", date, msgid);
    if (orig_id.len && orig_id.len < 998 && ascii_only(str_cstr(&orig_id))) {
        str_appendf(out, "In-Reply-To: %s\r\nReferences: ", str_cstr(&orig_id));
        if (refs.len && refs.len < 900 && ascii_only(str_cstr(&refs)))
            str_appendf(out, "%s ", str_cstr(&refs));
        str_appendf(out, "%s\r\n", str_cstr(&orig_id));
    }
    str_appends(out, "Auto-Submitted: auto-replied (vacation)\r\nMIME-Version: 1.0\r\n");
    if (a->mime) {
        crlf_text(out, a->body); /* the reason is a MIME entity: its own header and body */
    } else {
        str_appendf(out, "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: %s\r\n\r\n",
                    has_8bit(a->body) ? "8bit" : "7bit");
        crlf_text(out, a->body);
    }
    str_clear(&orig_id);
    str_clear(&refs);
}
