/* search_parse — see search_parse.h. */
#include "imap/search_parse.h"

#include "core/err.h"
#include "core/str.h"
#include "msg/charset.h"
#include "msg/utf8.h"

#include <string.h>
#include <strings.h>

#define SEARCH_MAX_DEPTH 64

struct sp {
    struct imap_search *s;
    unsigned flags;      /* enum imap_search_parse_flags */
    const char *charset; /* NULL: none given (UTF-8 or US-ASCII) */
    size_t charset_len;
    const char **err_out;
};

struct sp_args {
    const struct imap_arg *v;
    size_t n, i;
};

static int sp_fail(struct sp *sp, const char *why)
{
    *sp->err_out = why;
    return ERR_PARSE;
}

static struct imap_search_key *sp_key_new(struct sp *sp, enum imap_search_op op)
{
    struct imap_search_key *k = msg_arena_alloc(&sp->s->arena, sizeof *k);
    k->op = op;
    k->want = true;
    return k;
}

static const struct imap_arg *sp_next(struct sp_args *a)
{
    return a->i < a->n ? &a->v[a->i++] : NULL;
}

/* An astring argument, converted from the CHARSET to UTF-8 and case-folded. */
static int sp_string(struct sp *sp, struct sp_args *a, struct imap_search_key *k)
{
    const struct imap_arg *arg = sp_next(a);
    const char *s;
    size_t n;
    if (!arg || !imap_arg_get_astring(arg, &s, &n))
        return sp_fail(sp, "Missing search string");
    struct str u = STR_INIT, f = STR_INIT;
    (void)charset_to_utf8(sp->charset ? sp->charset : "", sp->charset_len, s, n, &u);
    utf8_fold(str_cstr(&u), u.len, &f);
    k->str = msg_arena_strndup(&sp->s->arena, str_cstr(&f), f.len);
    k->str_len = f.len;
    str_clear(&u);
    str_clear(&f);
    return 0;
}

static int sp_date(struct sp *sp, struct sp_args *a, struct imap_search_key *k)
{
    const struct imap_arg *arg = sp_next(a);
    const char *s;
    size_t n;
    if (!arg || !imap_arg_get_astring(arg, &s, &n) || msg_date_parse_imap_date(s, n, &k->date) < 0)
        return sp_fail(sp, "Invalid search date");
    return 0;
}

static int sp_number(struct sp *sp, struct sp_args *a, struct imap_search_key *k)
{
    const struct imap_arg *arg = sp_next(a);
    unsigned long long v;
    if (!arg || arg->type != IMAP_ARG_ATOM ||
        slice_to_u64(slice_make(arg->str, arg->len), UINT64_MAX, &v) < 0)
        return sp_fail(sp, "Invalid search number");
    k->number = v;
    return 0;
}

static int sp_set(struct sp *sp, const struct imap_arg *arg, struct imap_search_key *k)
{
    struct imap_seqset set;
    imap_seqset_init(&set);
    unsigned fl = sp->flags & IMAP_SEARCH_ALLOW_SAVED ? IMAP_SEQSET_ALLOW_SAVED : 0;
    if (!arg || arg->type != IMAP_ARG_ATOM ||
        imap_seqset_parse(arg->str, arg->len, fl, &set, sp->err_out) < 0) {
        imap_seqset_clear(&set);
        return sp_fail(sp, "Invalid sequence set");
    }
    if (set.saved) { /* RFC 5182 §2.1: "$" is the saved uids, whether or not after UID */
        imap_seqset_clear(&set);
        k->op = IMAP_SK_UIDSET;
        k->saved = true;
        sp->s->uses_saved = true;
        return 0;
    }
    k->nraw = set.n;
    k->raw = msg_arena_alloc(&sp->s->arena, set.n * sizeof *k->raw);
    memcpy(k->raw, set.r, set.n * sizeof *k->raw);
    k->set.r = msg_arena_alloc(&sp->s->arena, set.n * sizeof *k->set.r);
    k->set.cap = set.n;
    imap_seqset_clear(&set);
    return 0;
}

static int sp_keyword(struct sp *sp, struct sp_args *a, struct imap_search_key *k)
{
    const struct imap_arg *arg = sp_next(a);
    /* flag-keyword is an atom; "NIL" is one (RFC 3501 §9). */
    if (!arg || (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL))
        return sp_fail(sp, "Invalid keyword");
    k->str = msg_arena_strndup(&sp->s->arena, arg->str, arg->len);
    k->str_len = arg->len;
    return 0;
}

/* MODSEQ ["entry-name" entry-type] mod-sequence-valzer (RFC 7162 §3.1.5). */
static int sp_modseq(struct sp *sp, struct sp_args *a, struct imap_search_key *k)
{
    sp->s->uses_modseq = true;
    if (a->i < a->n && a->v[a->i].type == IMAP_ARG_STRING) {
        a->i++;
        const struct imap_arg *t = sp_next(a);
        if (!t || !(imap_arg_atom_eq(t, "priv") || imap_arg_atom_eq(t, "shared") ||
                    imap_arg_atom_eq(t, "all")))
            return sp_fail(sp, "Invalid MODSEQ entry type");
    }
    return sp_number(sp, a, k);
}

static int sp_key(struct sp *sp, struct sp_args *a, unsigned depth, struct imap_search_key **out);

/* Keys up to the end of a, as an AND node. */
static int sp_keys(struct sp *sp, struct sp_args *a, unsigned depth, struct imap_search_key **out)
{
    struct imap_search_key *and = sp_key_new(sp, IMAP_SK_AND), **tail = &and->children;
    if (a->i >= a->n)
        return sp_fail(sp, "Missing search key");
    while (a->i < a->n) {
        int r = sp_key(sp, a, depth, tail);
        if (r < 0)
            return r;
        tail = &(*tail)->next;
    }
    *out = and;
    return 0;
}

struct sp_simple {
    const char *word;
    enum imap_search_op op;
    unsigned flag;
    bool want;
};

static const struct sp_simple sp_simple_keys[] = {
    {"ALL", IMAP_SK_ALL, 0, true},
    {"ANSWERED", IMAP_SK_FLAG, IMAP_MSGF_ANSWERED, true},
    {"DELETED", IMAP_SK_FLAG, IMAP_MSGF_DELETED, true},
    {"DRAFT", IMAP_SK_FLAG, IMAP_MSGF_DRAFT, true},
    {"FLAGGED", IMAP_SK_FLAG, IMAP_MSGF_FLAGGED, true},
    {"RECENT", IMAP_SK_FLAG, IMAP_MSGF_RECENT, true},
    {"SEEN", IMAP_SK_FLAG, IMAP_MSGF_SEEN, true},
    {"UNANSWERED", IMAP_SK_FLAG, IMAP_MSGF_ANSWERED, false},
    {"UNDELETED", IMAP_SK_FLAG, IMAP_MSGF_DELETED, false},
    {"UNDRAFT", IMAP_SK_FLAG, IMAP_MSGF_DRAFT, false},
    {"UNFLAGGED", IMAP_SK_FLAG, IMAP_MSGF_FLAGGED, false},
    {"UNSEEN", IMAP_SK_FLAG, IMAP_MSGF_SEEN, false},
    {"NEW", IMAP_SK_NEW, 0, true},
    {"OLD", IMAP_SK_OLD, 0, true},
};

/* Keys with one argument: string, date, number, set or keyword. */
struct sp_arg_key {
    const char *word;
    const char *field; /* HEADER shorthands */
    int (*arg)(struct sp *, struct sp_args *, struct imap_search_key *);
    enum imap_search_op op;
    bool want;
};

static const struct sp_arg_key sp_arg_keys[] = {
    {"BCC", "Bcc", sp_string, IMAP_SK_HEADER, true},
    {"CC", "Cc", sp_string, IMAP_SK_HEADER, true},
    {"FROM", "From", sp_string, IMAP_SK_HEADER, true},
    {"SUBJECT", "Subject", sp_string, IMAP_SK_HEADER, true},
    {"TO", "To", sp_string, IMAP_SK_HEADER, true},
    {"BODY", NULL, sp_string, IMAP_SK_BODY, true},
    {"TEXT", NULL, sp_string, IMAP_SK_TEXT, true},
    {"BEFORE", NULL, sp_date, IMAP_SK_BEFORE, true},
    {"ON", NULL, sp_date, IMAP_SK_ON, true},
    {"SINCE", NULL, sp_date, IMAP_SK_SINCE, true},
    {"SENTBEFORE", NULL, sp_date, IMAP_SK_SENTBEFORE, true},
    {"SENTON", NULL, sp_date, IMAP_SK_SENTON, true},
    {"SENTSINCE", NULL, sp_date, IMAP_SK_SENTSINCE, true},
    {"LARGER", NULL, sp_number, IMAP_SK_LARGER, true},
    {"SMALLER", NULL, sp_number, IMAP_SK_SMALLER, true},
    {"MODSEQ", NULL, sp_modseq, IMAP_SK_MODSEQ, true},
    {"KEYWORD", NULL, sp_keyword, IMAP_SK_KEYWORD, true},
    {"UNKEYWORD", NULL, sp_keyword, IMAP_SK_KEYWORD, false},
};

static int sp_header_key(struct sp *sp, struct sp_args *a, struct imap_search_key *k)
{
    const struct imap_arg *arg = sp_next(a);
    const char *s;
    size_t n;
    if (!arg || !imap_arg_get_astring(arg, &s, &n) || n == 0 || memchr(s, ':', n) ||
        memchr(s, '\0', n))
        return sp_fail(sp, "Invalid header field name");
    k->field = msg_arena_strndup(&sp->s->arena, s, n);
    return sp_string(sp, a, k);
}

/* OR, NOT and parenthesised groups. */
static int sp_compound(struct sp *sp, struct sp_args *a, const struct imap_arg *arg, unsigned depth,
                       struct imap_search_key **out)
{
    if (arg->type == IMAP_ARG_LIST) {
        struct sp_args sub = {arg->list, arg->count, 0};
        return sp_keys(sp, &sub, depth + 1, out);
    }
    bool is_or = imap_arg_atom_eq(arg, "OR");
    struct imap_search_key *k = sp_key_new(sp, is_or ? IMAP_SK_OR : IMAP_SK_NOT);
    int r = sp_key(sp, a, depth + 1, &k->children);
    if (r == 0 && is_or)
        r = sp_key(sp, a, depth + 1, &k->children->next);
    *out = k;
    return r;
}

static int sp_key(struct sp *sp, struct sp_args *a, unsigned depth, struct imap_search_key **out)
{
    if (depth > SEARCH_MAX_DEPTH)
        return sp_fail(sp, "Search keys nested too deeply");
    const struct imap_arg *arg = sp_next(a);
    if (!arg)
        return sp_fail(sp, "Missing search key");
    if (arg->type == IMAP_ARG_LIST || imap_arg_atom_eq(arg, "OR") || imap_arg_atom_eq(arg, "NOT"))
        return sp_compound(sp, a, arg, depth, out);
    if (arg->type != IMAP_ARG_ATOM)
        return sp_fail(sp, "Invalid search key");
    for (size_t i = 0; i < sizeof sp_simple_keys / sizeof sp_simple_keys[0]; i++) {
        if (!imap_arg_atom_eq(arg, sp_simple_keys[i].word))
            continue;
        struct imap_search_key *k = sp_key_new(sp, sp_simple_keys[i].op);
        k->flag = sp_simple_keys[i].flag;
        k->want = sp_simple_keys[i].want;
        *out = k;
        return 0;
    }
    for (size_t i = 0; i < sizeof sp_arg_keys / sizeof sp_arg_keys[0]; i++) {
        if (!imap_arg_atom_eq(arg, sp_arg_keys[i].word))
            continue;
        struct imap_search_key *k = sp_key_new(sp, sp_arg_keys[i].op);
        k->field = sp_arg_keys[i].field;
        k->want = sp_arg_keys[i].want;
        *out = k;
        return sp_arg_keys[i].arg(sp, a, k);
    }
    if (imap_arg_atom_eq(arg, "HEADER")) {
        *out = sp_key_new(sp, IMAP_SK_HEADER);
        return sp_header_key(sp, a, *out);
    }
    if (imap_arg_atom_eq(arg, "UID")) {
        *out = sp_key_new(sp, IMAP_SK_UIDSET);
        return sp_set(sp, sp_next(a), *out);
    }
    if ((arg->str[0] >= '0' && arg->str[0] <= '9') || arg->str[0] == '*' || arg->str[0] == '$') {
        *out = sp_key_new(sp, IMAP_SK_SEQSET);
        return sp_set(sp, arg, *out);
    }
    return sp_fail(sp, "Unknown search key");
}

/* PARTIAL's range (RFC 5267 §4.4): "lo:hi", both 1..2^32-1, in either order; no "*". */
static bool sp_partial(struct imap_search *s, const struct imap_arg *a)
{
    if (a->type != IMAP_ARG_ATOM)
        return false;
    const char *colon = strchr(a->str, ':');
    uint64_t v[2] = {0, 0};
    const char *p[2] = {a->str, colon ? colon + 1 : NULL};
    for (int k = 0; k < 2; k++) {
        const char *q = p[k];
        if (!q || *q < '1' || *q > '9')
            return false;
        for (; *q >= '0' && *q <= '9' && v[k] <= UINT32_MAX; q++)
            v[k] = v[k] * 10 + (uint64_t)(*q - '0');
        if (v[k] > UINT32_MAX || (k == 0 && q != colon) || (k == 1 && *q))
            return false;
    }
    s->ret |= IMAP_SEARCH_RET_PARTIAL;
    s->partial_lo = (uint32_t)(v[0] < v[1] ? v[0] : v[1]);
    s->partial_hi = (uint32_t)(v[0] < v[1] ? v[1] : v[0]);
    return true;
}

/* RETURN (opts) of RFC 4731 at a->v[a->i]. */
static int sp_return(struct sp *sp, struct sp_args *a)
{
    static const struct {
        const char *word;
        unsigned bit;
    } opts[] = {{"MIN", IMAP_SEARCH_RET_MIN},
                {"MAX", IMAP_SEARCH_RET_MAX},
                {"ALL", IMAP_SEARCH_RET_ALL},
                {"COUNT", IMAP_SEARCH_RET_COUNT},
                {"SAVE", IMAP_SEARCH_RET_SAVE}};
    a->i++;
    const struct imap_arg *l = sp_next(a);
    if (!l || l->type != IMAP_ARG_LIST)
        return sp_fail(sp, "Invalid RETURN options");
    sp->s->esearch = true;
    bool context = sp->flags & IMAP_SEARCH_ALLOW_CONTEXT;
    for (size_t i = 0; i < l->count; i++) {
        const struct imap_arg *o = &l->list[i];
        if (context && imap_arg_atom_eq(o, "PARTIAL")) {
            if (i + 1 == l->count || !sp_partial(sp->s, &l->list[++i]))
                return sp_fail(sp, "PARTIAL takes a range of positions, as 1:100");
            continue;
        }
        if (context && (imap_arg_atom_eq(o, "UPDATE") || imap_arg_atom_eq(o, "CONTEXT"))) {
            /* CONTEXT is a hint (RFC 5267 §4.2): every result here is as cheap to keep */
            sp->s->ret |= imap_arg_atom_eq(o, "UPDATE") ? IMAP_SEARCH_RET_UPDATE : 0;
            continue;
        }
        size_t k = 0;
        while (k < sizeof opts / sizeof opts[0] && !imap_arg_atom_eq(o, opts[k].word))
            k++;
        if (k == sizeof opts / sizeof opts[0])
            return sp_fail(sp, "Unknown RETURN option");
        sp->s->ret |= opts[k].bit;
    }
    /* RFC 4731 §3.1: RETURN () means ALL; RFC 5267 §4.3: RETURN (UPDATE) returns nothing yet */
    if (sp->s->ret == 0)
        sp->s->ret = IMAP_SEARCH_RET_ALL;
    /* RFC 5267 §4.3: MIN and MAX cannot be kept up to date with ADDTO/REMOVEFROM */
    if ((sp->s->ret & IMAP_SEARCH_RET_UPDATE) &&
        (sp->s->ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX | IMAP_SEARCH_RET_SAVE)))
        return sp_fail(sp, "UPDATE cannot go with MIN, MAX or SAVE");
    return 0;
}

int imap_search_parse(const struct imap_arg *args, size_t nargs, unsigned flags,
                      struct imap_search *out, const char **err_out)
{
    memset(out, 0, sizeof *out);
    msg_arena_init(&out->arena, 2048);
    struct sp sp = {out, flags, NULL, 0, err_out};
    struct sp_args a = {args, nargs, 0};
    int r;
    if ((flags & IMAP_SEARCH_ALLOW_RETURN) && a.i < a.n && imap_arg_atom_eq(&a.v[a.i], "RETURN") &&
        (r = sp_return(&sp, &a)) < 0)
        return r;
    bool bare = flags & IMAP_SEARCH_BARE_CHARSET;
    if (bare || (a.i < a.n && imap_arg_atom_eq(&a.v[a.i], "CHARSET"))) {
        a.i += bare ? 0 : 1;
        const struct imap_arg *cs = sp_next(&a);
        if (!cs || !imap_arg_get_astring(cs, &sp.charset, &sp.charset_len))
            return sp_fail(&sp, "Missing CHARSET name");
        if (!charset_is_known(sp.charset, sp.charset_len)) {
            *err_out = "Unknown charset";
            return ERR_NOTFOUND;
        }
    }
    return sp_keys(&sp, &a, 0, &out->root);
}

static void sp_prepare_key(struct imap_search *s, struct imap_search_key *k, uint32_t msn_max,
                           uint32_t uid_max)
{
    for (; k; k = k->next) {
        if (k->saved) {
            k->set.r = msg_arena_alloc(&s->arena, (s->nsaved ? s->nsaved : 1) * sizeof *k->set.r);
            k->set.cap = s->nsaved;
            for (size_t i = 0; i < s->nsaved; i++)
                k->set.r[i] = (struct imap_seqrange){s->saved[i], s->saved[i]};
            k->set.n = s->nsaved;
            imap_seqset_resolve(&k->set, uid_max);
        } else if (k->op == IMAP_SK_SEQSET || k->op == IMAP_SK_UIDSET) {
            memcpy(k->set.r, k->raw, k->nraw * sizeof *k->raw);
            k->set.n = k->nraw;
            imap_seqset_resolve(&k->set, k->op == IMAP_SK_SEQSET ? msn_max : uid_max);
        }
        sp_prepare_key(s, k->children, msn_max, uid_max);
    }
}

void imap_search_set_saved(struct imap_search *s, const uint32_t *uids, size_t n)
{
    s->saved = uids;
    s->nsaved = n;
}

void imap_search_prepare(struct imap_search *s, uint32_t msn_max, uint32_t uid_max)
{
    sp_prepare_key(s, s->root, msn_max, uid_max);
}

void imap_search_clear(struct imap_search *s)
{
    msg_arena_clear(&s->arena);
    memset(s, 0, sizeof *s);
}
