/*
 * mime_envelope — the IMAP ENVELOPE (RFC 3501 §7.4.2) of a header block, with a tolerant
 * RFC 5322 §3.4 address-list parser (obsolete routes, groups, comments as names).
 * See mime.h. Encoded-words are left as they are (RFC 3501 wants raw header strings).
 */
#include "msg/imapstr.h"
#include "msg/mime_int.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define ENV_MISSING_HOST ".MISSING-HOST-NAME."
#define ENV_MISSING_MAILBOX "MISSING_MAILBOX"
#define ENV_MAX_ADDRS 10000

struct env_addr {
    char *name, *adl, *mailbox, *host; /* NULL: NIL; all NULL but mailbox: group start */
    bool group_end;
};

struct env_list {
    struct env_addr *v;
    size_t n, cap;
    struct msg_arena *a;
};

struct env_lex {
    const char *p;
    size_t n, i;
    struct str comment; /* text of the last comment skipped */
};

static void env_cfws(struct env_lex *l)
{
    while (l->i < l->n) {
        char c = l->p[l->i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            l->i++;
            continue;
        }
        if (c != '(')
            return;
        /* A comment: remember its text for a name-less address. */
        str_reset(&l->comment);
        int depth = 0;
        size_t s = l->i + 1;
        while (l->i < l->n) {
            c = l->p[l->i++];
            if (c == '\\' && l->i < l->n)
                l->i++;
            else if (c == '(')
                depth++;
            else if (c == ')' && --depth == 0)
                break;
        }
        size_t e = (depth == 0) ? l->i - 1 : l->i;
        str_append(&l->comment, l->p + s, e > s ? e - s : 0);
    }
}

static bool env_is_atext(char c)
{
    return (unsigned char)c > 0x20 && c != 0x7f && !strchr("()<>[]:;@\\,\"", c);
}

/* One word: an atom (dots allowed: obs-phrase, dot-atom) or a quoted-string. Appends its text
 * (unescaped) to out; *quoted tells which. False when the cursor is not at a word. */
static bool env_word(struct env_lex *l, struct str *out, bool *quoted)
{
    *quoted = false;
    if (l->i < l->n && l->p[l->i] == '"') {
        struct mime_lex ml = {l->p, l->n, l->i};
        mime_lex_quoted(&ml, out);
        l->i = ml.i;
        *quoted = true;
        return true;
    }
    size_t s = l->i;
    while (l->i < l->n && env_is_atext(l->p[l->i]))
        l->i++;
    str_append(out, l->p + s, l->i - s);
    return l->i > s;
}

/* A domain: dot-atoms and domain literals, CFWS between pieces removed. */
static void env_domain(struct env_lex *l, struct str *out)
{
    for (;;) {
        env_cfws(l);
        if (l->i >= l->n)
            return;
        char c = l->p[l->i];
        if (c == '[') {
            size_t s = l->i;
            while (l->i < l->n && l->p[l->i] != ']')
                l->i++;
            if (l->i < l->n)
                l->i++;
            str_append(out, l->p + s, l->i - s);
        } else if (env_is_atext(c)) {
            bool q;
            env_word(l, out, &q);
        } else {
            return;
        }
    }
}

static char *env_dup(struct msg_arena *a, const struct str *s)
{
    return msg_arena_strndup(a, str_cstr(s), s->len);
}

static struct env_addr *env_push(struct env_list *lst)
{
    if (lst->n == lst->cap) {
        lst->cap = lst->cap ? lst->cap * 2 : 8;
        lst->v = xrealloc(lst->v, lst->cap * sizeof *lst->v);
    }
    struct env_addr *e = &lst->v[lst->n++];
    memset(e, 0, sizeof *e);
    return e;
}

/* True when s is a dot-atom (then it needs no quotes as a local part). */
static bool env_dot_atom(const struct str *s)
{
    if (s->len == 0 || s->ptr[0] == '.' || s->ptr[s->len - 1] == '.')
        return false;
    for (size_t i = 0; i < s->len; i++)
        if (!env_is_atext(s->ptr[i]) || (s->ptr[i] == '.' && s->ptr[i + 1] == '.'))
            return false;
    return true;
}

/* addr-spec at the cursor after a local part in `local`; fills mailbox and host. */
static void env_addr_spec_finish(struct env_lex *l, struct env_list *lst, struct env_addr *e,
                                 struct str *local, bool local_quoted)
{
    struct str dom = STR_INIT;
    if (local_quoted && !env_dot_atom(local)) {
        struct str q = STR_INIT;
        str_appendc(&q, '"');
        for (size_t i = 0; i < local->len; i++) {
            if (local->ptr[i] == '"' || local->ptr[i] == '\\')
                str_appendc(&q, '\\');
            str_appendc(&q, local->ptr[i]);
        }
        str_appendc(&q, '"');
        e->mailbox = env_dup(lst->a, &q);
        str_clear(&q);
    } else {
        e->mailbox = local->len ? env_dup(lst->a, local) : ENV_MISSING_MAILBOX;
    }
    env_cfws(l);
    if (l->i < l->n && l->p[l->i] == '@') {
        l->i++;
        env_domain(l, &dom);
    }
    e->host = dom.len ? env_dup(lst->a, &dom) : ENV_MISSING_HOST;
    str_clear(&dom);
}

/* The local part: words and dots up to "@" (or the end of the address). */
static void env_local_part(struct env_lex *l, struct str *local, bool *quoted)
{
    *quoted = false;
    for (;;) {
        env_cfws(l);
        bool q;
        if (l->i >= l->n || !env_word(l, local, &q))
            return;
        *quoted |= q;
    }
}

/* "<" [route ":"] addr-spec ">" with the cursor on "<". */
static void env_angle(struct env_lex *l, struct env_list *lst, struct env_addr *e)
{
    l->i++;
    env_cfws(l);
    if (l->i < l->n && l->p[l->i] == '@') { /* obs-route: "@a,@b:" */
        size_t s = l->i;
        while (l->i < l->n && l->p[l->i] != ':' && l->p[l->i] != '>')
            l->i++;
        struct str r = STR_INIT;
        for (size_t k = s; k < l->i; k++)
            if (l->p[k] != ' ' && l->p[k] != '\t' && l->p[k] != '\r' && l->p[k] != '\n')
                str_appendc(&r, l->p[k]);
        e->adl = env_dup(lst->a, &r);
        str_clear(&r);
        if (l->i < l->n && l->p[l->i] == ':')
            l->i++;
    }
    struct str local = STR_INIT;
    bool quoted;
    env_local_part(l, &local, &quoted);
    if (local.len == 0 && l->i < l->n && l->p[l->i] == '>') {
        e->mailbox = msg_arena_strndup(lst->a, "", 0); /* "<>": the null address */
        e->host = msg_arena_strndup(lst->a, "", 0);
    } else {
        env_addr_spec_finish(l, lst, e, &local, quoted);
    }
    str_clear(&local);
    while (l->i < l->n && l->p[l->i] != '>' && l->p[l->i] != ',' && l->p[l->i] != ';')
        l->i++;
    if (l->i < l->n && l->p[l->i] == '>')
        l->i++;
}

/* Phrase words before "<", ":" or "@": joined by single spaces into *phrase, and also raw
 * (without spaces) into *local in case they turn out to be a local part. */
static void env_phrase(struct env_lex *l, struct str *phrase, struct str *local, bool *quoted)
{
    *quoted = false;
    for (;;) {
        env_cfws(l);
        struct str w = STR_INIT;
        bool q;
        if (l->i >= l->n || !env_word(l, &w, &q)) {
            str_clear(&w);
            return;
        }
        if (phrase->len)
            str_appendc(phrase, ' ');
        str_append(phrase, w.ptr, w.len);
        str_append(local, w.ptr, w.len);
        *quoted |= q;
        str_clear(&w);
    }
}

static void env_list_parse(struct env_lex *l, struct env_list *lst, bool in_group);

/* One mailbox or group at the cursor. */
static void env_address(struct env_lex *l, struct env_list *lst, bool in_group)
{
    struct str phrase = STR_INIT, local = STR_INIT;
    bool quoted;
    str_reset(&l->comment);
    env_phrase(l, &phrase, &local, &quoted);
    char c = l->i < l->n ? l->p[l->i] : '\0';
    if (c == ':' && !in_group) {
        l->i++;
        struct env_addr *g = env_push(lst);
        g->mailbox = env_dup(lst->a, &phrase);
        env_list_parse(l, lst, true);
        env_push(lst)->group_end = true;
        if (l->i < l->n && l->p[l->i] == ';')
            l->i++;
    } else if (c == '<') {
        struct env_addr *e = env_push(lst);
        e->name = phrase.len ? env_dup(lst->a, &phrase) : NULL;
        str_reset(&l->comment);
        env_angle(l, lst, e);
        env_cfws(l);
        if (!e->name && l->comment.len)
            e->name = env_dup(lst->a, &l->comment); /* "<a@b> (Name)" */
    } else if (c == '@' || phrase.len > 0) {
        struct env_addr *e = env_push(lst);
        env_addr_spec_finish(l, lst, e, &local, quoted);
        env_cfws(l);
        if (l->comment.len)
            e->name = env_dup(lst->a, &l->comment);
    } else if (l->i < l->n) {
        l->i++; /* a stray special: skip it */
    }
    str_clear(&phrase);
    str_clear(&local);
}

static void env_list_parse(struct env_lex *l, struct env_list *lst, bool in_group)
{
    while (lst->n < ENV_MAX_ADDRS) {
        env_cfws(l);
        if (l->i >= l->n)
            return;
        char c = l->p[l->i];
        if (c == ',') {
            l->i++;
            continue;
        }
        if (c == ';' && in_group)
            return;
        size_t before = l->i;
        env_address(l, lst, in_group);
        env_cfws(l);
        /* Junk after an address runs to the next separator. */
        while (l->i < l->n && l->p[l->i] != ',' && !(in_group && l->p[l->i] == ';'))
            l->i++;
        if (l->i == before)
            l->i++;
    }
}

static void env_addr_write(struct str *out, const struct env_addr *e)
{
    if (e->group_end) {
        str_appends(out, "(NIL NIL NIL NIL)");
        return;
    }
    str_appendc(out, '(');
    imapstr_write_nstring(out, e->name);
    str_appendc(out, ' ');
    imapstr_write_nstring(out, e->adl);
    str_appendc(out, ' ');
    imapstr_write_nstring(out, e->mailbox);
    str_appendc(out, ' ');
    imapstr_write_nstring(out, e->host);
    str_appendc(out, ')');
}

/* Parses the field value into lst (empty when absent). */
static void env_addresses(const char *hdr, size_t len, const char *name, struct env_list *lst)
{
    struct mime_field f;
    if (!mime_header_find(hdr, len, name, &f))
        return;
    struct str v = STR_INIT;
    mime_header_unfold(f.raw.p, f.raw.len, &v);
    struct env_lex l = {str_cstr(&v), v.len, 0, STR_INIT};
    env_list_parse(&l, lst, false);
    str_clear(&l.comment);
    str_clear(&v);
}

static void env_list_write(struct str *out, const struct env_list *lst)
{
    if (lst->n == 0) {
        str_appends(out, "NIL");
        return;
    }
    str_appendc(out, '(');
    for (size_t i = 0; i < lst->n; i++)
        env_addr_write(out, &lst->v[i]);
    str_appendc(out, ')');
}

static void env_string_field(const char *hdr, size_t len, const char *name, struct str *out)
{
    struct mime_field f;
    struct str v = STR_INIT;
    if (mime_header_find(hdr, len, name, &f))
        mime_header_unfold(f.raw.p, f.raw.len, &v);
    if (v.len)
        imapstr_write(out, v.ptr, v.len);
    else
        str_appends(out, "NIL");
    str_clear(&v);
}

void mime_address_list_text(const char *value, size_t len, struct str *out)
{
    struct msg_arena a;
    msg_arena_init(&a, 1024);
    struct env_list lst = {NULL, 0, 0, &a};
    struct env_lex l = {value, len, 0, STR_INIT};
    env_list_parse(&l, &lst, false);
    for (size_t i = 0; i < lst.n; i++) {
        const struct env_addr *e = &lst.v[i];
        if (e->group_end || !e->mailbox || (!e->host && !e->name && !e->adl))
            continue; /* a group's start or end */
        if (e->name)
            str_appendf(out, "%s ", e->name);
        str_appendf(out, "<%s%s%s>\n", e->mailbox, e->host ? "@" : "", e->host ? e->host : "");
    }
    str_clear(&l.comment);
    free(lst.v);
    msg_arena_clear(&a);
}

bool mime_address_first(const char *value, size_t len, struct str *name, struct str *mailbox,
                        struct str *host, bool *group)
{
    struct msg_arena a;
    msg_arena_init(&a, 1024);
    struct env_list lst = {NULL, 0, 0, &a};
    struct env_lex l = {value, len, 0, STR_INIT};
    env_list_parse(&l, &lst, false);
    const struct env_addr *e = lst.n ? &lst.v[0] : NULL;
    bool found = e && !e->group_end && e->mailbox;
    if (found) {
        *group = !e->host && !e->name && !e->adl;
        str_appends(name, e->name ? e->name : "");
        str_appends(mailbox, e->mailbox);
        str_appends(host, e->host ? e->host : "");
    }
    str_clear(&l.comment);
    free(lst.v);
    msg_arena_clear(&a);
    return found;
}

void mime_envelope_write(const char *hdr, size_t len, struct str *out)
{
    static const char *const addr_fields[] = {"From", "Sender", "Reply-To", "To", "Cc", "Bcc"};
    struct msg_arena a;
    msg_arena_init(&a, 2048);
    struct env_list lists[6];
    for (int i = 0; i < 6; i++) {
        lists[i] = (struct env_list){NULL, 0, 0, &a};
        env_addresses(hdr, len, addr_fields[i], &lists[i]);
    }
    str_appendc(out, '(');
    env_string_field(hdr, len, "Date", out);
    str_appendc(out, ' ');
    env_string_field(hdr, len, "Subject", out);
    for (int i = 0; i < 6; i++) {
        str_appendc(out, ' ');
        /* RFC 3501 §7.4.2: an absent or empty Sender or Reply-To is the From list. */
        bool from_default = (i == 1 || i == 2) && lists[i].n == 0;
        env_list_write(out, from_default ? &lists[0] : &lists[i]);
    }
    str_appendc(out, ' ');
    env_string_field(hdr, len, "In-Reply-To", out);
    str_appendc(out, ' ');
    env_string_field(hdr, len, "Message-ID", out);
    str_appendc(out, ')');
    for (int i = 0; i < 6; i++)
        free(lists[i].v);
    msg_arena_clear(&a);
}
