/*
 * sieve grammar — what each command and test accepts (RFC 5228 §3-5 and the extensions'
 * sections), and the check of a parsed tree against it: the capability each name needs,
 * tags (with their value), exclusive tag groups, positional arguments, tests and blocks,
 * require only at the start, elsif/else only after if, known comparators, relations and
 * date parts. Runs once at parse time so that the interpreter meets only well-formed nodes.
 */
#include "sieve/sieve_int.h"

#include "core/err.h"

#include <stdarg.h>
#include <string.h>

enum { G_NONE, G_MATCH, G_CMP, G_ADDR, G_BODY, G_SIZE, G_ZONE, G_LOC, G_PERIOD, G_COUNT };

struct tag_spec {
    const char *name;
    char arg;      /* 0: none; 'S' a string, 'L' a string list, 'N' a number */
    unsigned cap;  /* needed capability */
    int group;     /* at most one tag of a group */
};

struct spec {
    const char *name;
    unsigned cap;
    const struct tag_spec *tags;
    const char *pos; /* positional kinds 'S' 'L'; a leading '?' makes the first optional */
    int tests;       /* 0 none, 1 one test, 2 a test list */
    bool block;
};

#define MATCH_TAGS                                                                             \
    {"is", 0, 0, G_MATCH}, {"contains", 0, 0, G_MATCH}, {"matches", 0, 0, G_MATCH},            \
        {"regex", 0, SIEVE_CAP_REGEX, G_MATCH},                                                \
        {"count", 'S', SIEVE_CAP_RELATIONAL, G_MATCH},                                         \
        {"value", 'S', SIEVE_CAP_RELATIONAL, G_MATCH}, {"comparator", 'S', 0, G_CMP}
#define ADDR_TAGS                                                                              \
    {"all", 0, 0, G_ADDR}, {"localpart", 0, 0, G_ADDR}, {"domain", 0, 0, G_ADDR},              \
        {"user", 0, SIEVE_CAP_SUBADDRESS, G_ADDR}, {"detail", 0, SIEVE_CAP_SUBADDRESS, G_ADDR}

static const struct tag_spec no_tags[] = {{NULL, 0, 0, 0}};
static const struct tag_spec match_tags[] = {MATCH_TAGS, {NULL, 0, 0, 0}};
static const struct tag_spec addr_tags[] = {MATCH_TAGS, ADDR_TAGS, {NULL, 0, 0, 0}};
static const struct tag_spec keep_tags[] = {{"flags", 'L', SIEVE_CAP_IMAP4FLAGS, 0},
                                            {NULL, 0, 0, 0}};
static const struct tag_spec fileinto_tags[] = {{"flags", 'L', SIEVE_CAP_IMAP4FLAGS, 0},
                                                {"copy", 0, SIEVE_CAP_COPY, 0},
                                                {"create", 0, SIEVE_CAP_MAILBOX, 0},
                                                {NULL, 0, 0, 0}};
static const struct tag_spec redirect_tags[] = {{"copy", 0, SIEVE_CAP_COPY, 0}, {NULL, 0, 0, 0}};
static const struct tag_spec size_tags[] = {{"over", 'N', 0, G_SIZE}, {"under", 'N', 0, G_SIZE},
                                            {NULL, 0, 0, 0}};
static const struct tag_spec body_tags[] = {MATCH_TAGS,
                                            {"raw", 0, 0, G_BODY},
                                            {"content", 'L', 0, G_BODY},
                                            {"text", 0, 0, G_BODY},
                                            {NULL, 0, 0, 0}};
static const struct tag_spec set_tags[] = {
    {"lower", 0, 0, 1},        {"upper", 0, 0, 1},     {"lowerfirst", 0, 0, 2},
    {"upperfirst", 0, 0, 2},   {"quotewildcard", 0, 0, 0}, {"length", 0, 0, 0},
    {NULL, 0, 0, 0}};
static const struct tag_spec vacation_tags[] = {
    {"days", 'N', 0, G_PERIOD}, {"seconds", 'N', SIEVE_CAP_VACATION_SECONDS, G_PERIOD},
    {"subject", 'S', 0, 0},     {"from", 'S', 0, 0},
    {"addresses", 'L', 0, 0}, {"mime", 0, 0, 0},    {"handle", 'S', 0, 0},
    {NULL, 0, 0, 0}};
static const struct tag_spec include_tags[] = {{"personal", 0, 0, G_LOC}, {"global", 0, 0, G_LOC},
                                               {"once", 0, 0, 0},        {"optional", 0, 0, 0},
                                               {NULL, 0, 0, 0}};
static const struct tag_spec date_tags[] = {MATCH_TAGS,
                                            {"zone", 'S', 0, G_ZONE},
                                            {"originalzone", 0, 0, G_ZONE},
                                            {NULL, 0, 0, 0}};
static const struct tag_spec currentdate_tags[] = {MATCH_TAGS,
                                                   {"zone", 'S', 0, G_ZONE},
                                                   {NULL, 0, 0, 0}};

/* Indexed by enum sieve_id. */
static const struct spec specs[] = {
    [SIEVE_REQUIRE] = {"require", 0, no_tags, "L", 0, false},
    [SIEVE_IF] = {"if", 0, no_tags, "", 1, true},
    [SIEVE_ELSIF] = {"elsif", 0, no_tags, "", 1, true},
    [SIEVE_ELSE] = {"else", 0, no_tags, "", 0, true},
    [SIEVE_STOP] = {"stop", 0, no_tags, "", 0, false},
    [SIEVE_KEEP] = {"keep", 0, keep_tags, "", 0, false},
    [SIEVE_DISCARD] = {"discard", 0, no_tags, "", 0, false},
    [SIEVE_FILEINTO] = {"fileinto", SIEVE_CAP_FILEINTO, fileinto_tags, "S", 0, false},
    [SIEVE_REDIRECT] = {"redirect", 0, redirect_tags, "S", 0, false},
    [SIEVE_REJECT] = {"reject", SIEVE_CAP_REJECT, no_tags, "S", 0, false},
    [SIEVE_EREJECT] = {"ereject", SIEVE_CAP_EREJECT, no_tags, "S", 0, false},
    [SIEVE_SETFLAG] = {"setflag", SIEVE_CAP_IMAP4FLAGS, no_tags, "?SL", 0, false},
    [SIEVE_ADDFLAG] = {"addflag", SIEVE_CAP_IMAP4FLAGS, no_tags, "?SL", 0, false},
    [SIEVE_REMOVEFLAG] = {"removeflag", SIEVE_CAP_IMAP4FLAGS, no_tags, "?SL", 0, false},
    [SIEVE_SET] = {"set", SIEVE_CAP_VARIABLES, set_tags, "SS", 0, false},
    [SIEVE_VACATION] = {"vacation", SIEVE_CAP_VACATION, vacation_tags, "S", 0, false},
    [SIEVE_INCLUDE] = {"include", SIEVE_CAP_INCLUDE, include_tags, "S", 0, false},
    [SIEVE_RETURN] = {"return", SIEVE_CAP_INCLUDE, no_tags, "", 0, false},
    [SIEVE_GLOBAL] = {"global", SIEVE_CAP_INCLUDE | SIEVE_CAP_VARIABLES, no_tags, "L", 0, false},
    [SIEVE_T_ADDRESS] = {"address", 0, addr_tags, "LL", 0, false},
    [SIEVE_T_ENVELOPE] = {"envelope", SIEVE_CAP_ENVELOPE, addr_tags, "LL", 0, false},
    [SIEVE_T_HEADER] = {"header", 0, match_tags, "LL", 0, false},
    [SIEVE_T_EXISTS] = {"exists", 0, no_tags, "L", 0, false},
    [SIEVE_T_SIZE] = {"size", 0, size_tags, "", 0, false},
    [SIEVE_T_TRUE] = {"true", 0, no_tags, "", 0, false},
    [SIEVE_T_FALSE] = {"false", 0, no_tags, "", 0, false},
    [SIEVE_T_NOT] = {"not", 0, no_tags, "", 1, false},
    [SIEVE_T_ALLOF] = {"allof", 0, no_tags, "", 2, false},
    [SIEVE_T_ANYOF] = {"anyof", 0, no_tags, "", 2, false},
    [SIEVE_T_BODY] = {"body", SIEVE_CAP_BODY, body_tags, "L", 0, false},
    [SIEVE_T_STRING] = {"string", SIEVE_CAP_VARIABLES, match_tags, "LL", 0, false},
    [SIEVE_T_HASFLAG] = {"hasflag", SIEVE_CAP_IMAP4FLAGS, match_tags, "?LL", 0, false},
    [SIEVE_T_DATE] = {"date", SIEVE_CAP_DATE, date_tags, "SSL", 0, false},
    [SIEVE_T_CURRENTDATE] = {"currentdate", SIEVE_CAP_DATE, currentdate_tags, "SL", 0, false},
    [SIEVE_T_MAILBOXEXISTS] = {"mailboxexists", SIEVE_CAP_MAILBOX, no_tags, "L", 0, false},
};
#define NSPECS (sizeof specs / sizeof specs[0])
#define FIRST_TEST SIEVE_T_ADDRESS

static const struct {
    const char *name;
    unsigned cap;
} cap_names[] = {
    {"fileinto", SIEVE_CAP_FILEINTO},
    {"reject", SIEVE_CAP_REJECT},
    {"ereject", SIEVE_CAP_EREJECT},
    {"envelope", SIEVE_CAP_ENVELOPE},
    {"imap4flags", SIEVE_CAP_IMAP4FLAGS},
    {"vacation", SIEVE_CAP_VACATION},
    {"copy", SIEVE_CAP_COPY},
    {"body", SIEVE_CAP_BODY},
    {"variables", SIEVE_CAP_VARIABLES},
    {"relational", SIEVE_CAP_RELATIONAL},
    {"subaddress", SIEVE_CAP_SUBADDRESS},
    {"include", SIEVE_CAP_INCLUDE},
    {"regex", SIEVE_CAP_REGEX},
    {"date", SIEVE_CAP_DATE},
    {"comparator-i;ascii-numeric", SIEVE_CAP_NUMERIC},
    {"vacation-seconds", SIEVE_CAP_VACATION_SECONDS | SIEVE_CAP_VACATION},
    {"encoded-character", SIEVE_CAP_ENCODED_CHAR},
    {"mailbox", SIEVE_CAP_MAILBOX},
    /* RFC 5228 §2.7.3: the two base comparators may be required by name. */
    {"comparator-i;octet", ~0u},
    {"comparator-i;ascii-casemap", ~0u},
};

const char *sieve_capabilities(void)
{
    return "fileinto reject ereject envelope imap4flags vacation copy body variables "
           "relational subaddress include regex date comparator-i;ascii-numeric "
           "vacation-seconds encoded-character mailbox";
}

unsigned sieve_cap_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
        if (strcmp(cap_names[i].name, name) == 0)
            return cap_names[i].cap;
    return 0;
}

struct checker {
    struct sieve_script *s;
    struct str *err;
};

static int fail(struct checker *ck, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct checker *ck, unsigned line, const char *fmt, ...)
{
    if (ck->err->len == 0) {
        str_appendf(ck->err, "line %u: ", line);
        va_list ap;
        va_start(ap, fmt);
        str_vappendf(ck->err, fmt, ap);
        va_end(ap);
    }
    return ERR_PARSE;
}

static const struct tag_spec *tag_find(const struct spec *sp, const char *name)
{
    for (const struct tag_spec *t = sp->tags; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

/* Positional arguments are every STR/NUM argument not consumed as a tag's value. */
static bool is_tag_value(const struct sieve_node *n, size_t i)
{
    if (i == 0 || n->args[i - 1].type != SIEVE_ARG_TAG || n->id < 0)
        return false;
    const struct tag_spec *t = tag_find(&specs[n->id], n->args[i - 1].tag);
    return t && t->arg;
}

const struct sieve_arg *sieve_pos(const struct sieve_node *n, size_t k)
{
    for (size_t i = 0; i < n->nargs; i++)
        if (n->args[i].type != SIEVE_ARG_TAG && !is_tag_value(n, i) && k-- == 0)
            return &n->args[i];
    return NULL;
}

size_t sieve_npos(const struct sieve_node *n)
{
    size_t c = 0;
    for (size_t i = 0; i < n->nargs; i++)
        c += n->args[i].type != SIEVE_ARG_TAG && !is_tag_value(n, i);
    return c;
}

const struct sieve_arg *sieve_tag(const struct sieve_node *n, const char *name)
{
    for (size_t i = 0; i < n->nargs; i++)
        if (n->args[i].type == SIEVE_ARG_TAG && strcmp(n->args[i].tag, name) == 0)
            return &n->args[i];
    return NULL;
}

static bool kind_ok(char want, const struct sieve_arg *a)
{
    if (want == 'N')
        return a->type == SIEVE_ARG_NUM;
    if (a->type != SIEVE_ARG_STR)
        return false;
    return want == 'L' || (!a->list && a->nstrs == 1);
}

static const char *kind_name(char k)
{
    return k == 'N' ? "a number" : k == 'S' ? "a string" : "a string list";
}

/* Tags: known, allowed by require, one per group, each with its value. */
static int check_tags(struct checker *ck, const struct sieve_node *n, const struct spec *sp)
{
    int seen_group[G_COUNT] = {0};
    for (size_t i = 0; i < n->nargs; i++) {
        const struct sieve_arg *a = &n->args[i];
        if (a->type != SIEVE_ARG_TAG)
            continue;
        const struct tag_spec *t = tag_find(sp, a->tag);
        if (!t || (t->cap && (ck->s->caps & t->cap) != t->cap))
            return fail(ck, a->line, "%s: unknown tag :%s%s", n->name, a->tag,
                        t ? " (not declared by require)" : "");
        if (t->group && seen_group[t->group]++)
            return fail(ck, a->line, "%s: :%s conflicts with an earlier tag", n->name, a->tag);
        if (sieve_tag(n, a->tag) != a)
            return fail(ck, a->line, "%s: :%s given twice", n->name, a->tag);
        if (t->arg && (i + 1 >= n->nargs || !kind_ok(t->arg, &n->args[i + 1])))
            return fail(ck, a->line, "%s: :%s needs %s", n->name, a->tag, kind_name(t->arg));
    }
    return 0;
}

static int check_positional(struct checker *ck, const struct sieve_node *n, const struct spec *sp)
{
    const char *pos = sp->pos;
    size_t np = sieve_npos(n), want = strlen(pos);
    if (pos[0] == '?') {
        pos++;
        want--;
        if (np == want - 1)
            pos++, want--;
    }
    if (np != want)
        return fail(ck, n->line, "%s: %zu argument%s expected, %zu given", n->name, want,
                    want == 1 ? "" : "s", np);
    for (size_t i = 0; i < want; i++)
        if (!kind_ok(pos[i], sieve_pos(n, i)))
            return fail(ck, sieve_pos(n, i)->line, "%s: argument %zu must be %s", n->name, i + 1,
                        kind_name(pos[i]));
    return 0;
}

static const char *const relations[] = {"gt", "ge", "lt", "le", "eq", "ne", NULL};
static const char *const date_parts[] = {"year",   "month", "day",     "date",   "julian",
                                         "hour",   "minute", "second", "time",   "iso8601",
                                         "std11",  "zone",  "weekday", NULL};

static bool in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (strcasecmp(*l, s) == 0)
            return true;
    return false;
}

/* Values the tables cannot express: comparator names, relations, date parts, sizes. */
static int check_values(struct checker *ck, const struct sieve_node *n)
{
    const struct sieve_arg *t = sieve_tag(n, "comparator");
    if (t) {
        const char *c = t[1].strs[0];
        bool numeric = strcmp(c, "i;ascii-numeric") == 0;
        if (!numeric && strcmp(c, "i;octet") && strcmp(c, "i;ascii-casemap"))
            return fail(ck, t->line, "%s: unknown comparator \"%s\"", n->name, c);
        if (numeric && !(ck->s->caps & SIEVE_CAP_NUMERIC))
            return fail(ck, t->line, "comparator i;ascii-numeric not declared by require");
        if (numeric && (sieve_tag(n, "contains") || sieve_tag(n, "matches") ||
                        sieve_tag(n, "regex")))
            return fail(ck, t->line, "i;ascii-numeric supports only :is, :count and :value");
    }
    const struct sieve_arg *rel = sieve_tag(n, "count");
    rel = rel ? rel : sieve_tag(n, "value");
    if (rel && !in_list(relations, rel[1].strs[0]))
        return fail(ck, rel->line, "unknown relation \"%s\"", rel[1].strs[0]);
    if (n->id == SIEVE_T_SIZE && !sieve_tag(n, "over") && !sieve_tag(n, "under"))
        return fail(ck, n->line, "size needs :over or :under");
    if (n->id == SIEVE_T_DATE || n->id == SIEVE_T_CURRENTDATE) {
        const struct sieve_arg *p = sieve_pos(n, n->id == SIEVE_T_DATE ? 1 : 0);
        if (!in_list(date_parts, p->strs[0]))
            return fail(ck, p->line, "unknown date part \"%s\"", p->strs[0]);
    }
    if (n->id == SIEVE_SET && !sieve_var_name_ok(sieve_pos(n, 0)->strs[0]))
        return fail(ck, n->line, "set: \"%s\" is not a variable name", sieve_pos(n, 0)->strs[0]);
    if (n->id == SIEVE_INCLUDE) {
        const char *name = sieve_pos(n, 0)->strs[0];
        if (!name[0] || strchr(name, '/'))
            return fail(ck, n->line, "include: \"%s\" is not a script name", name);
    }
    return 0;
}

static int check_node(struct checker *ck, struct sieve_node *n, bool test);

/* One node: known name, capability, tags, arguments, tests, block. */
static int check_node(struct checker *ck, struct sieve_node *n, bool test)
{
    n->id = -1;
    for (size_t i = test ? FIRST_TEST : 0; i < (test ? NSPECS : FIRST_TEST); i++)
        if (strcmp(specs[i].name, n->name) == 0)
            n->id = (int)i;
    if (n->id < 0)
        return fail(ck, n->line, "unknown %s \"%s\"", test ? "test" : "command", n->name);
    const struct spec *sp = &specs[n->id];
    if (sp->cap && (ck->s->caps & sp->cap) != sp->cap)
        return fail(ck, n->line, "%s \"%s\" needs require", test ? "test" : "command", n->name);
    int rc = 0;
    if (ck->s->caps & SIEVE_CAP_ENCODED_CHAR)
        rc = sieve_decode_encoded(ck->s, n, ck->err);
    if (rc == 0)
        rc = check_tags(ck, n, sp);
    if (rc == 0)
        rc = check_positional(ck, n, sp);
    if (rc == 0)
        rc = check_values(ck, n);
    if (rc != 0)
        return rc;
    if (sp->tests == 0 && n->ntests)
        return fail(ck, n->line, "%s takes no test", n->name);
    if (sp->tests == 1 && (n->ntests != 1 || n->test_list))
        return fail(ck, n->line, "%s needs one test", n->name);
    if (sp->tests == 2 && (!n->test_list || n->ntests == 0))
        return fail(ck, n->line, "%s needs a test list in parentheses", n->name);
    if (!test && sp->block != n->has_block)
        return fail(ck, n->line, sp->block ? "%s needs a block" : "%s takes no block", n->name);
    for (size_t i = 0; i < n->ntests; i++)
        if ((rc = check_node(ck, &n->tests[i], true)) != 0)
            return rc;
    return 0;
}

static int check_block(struct checker *ck, struct sieve_node *cmds, size_t n, bool top)
{
    bool may_require = top;
    for (size_t i = 0; i < n; i++) {
        struct sieve_node *c = &cmds[i];
        if (strcmp(c->name, "require") == 0) {
            if (!may_require)
                return fail(ck, c->line, "require must come before any other command");
            for (size_t k = 0; c->nargs == 1 && k < c->args[0].nstrs; k++) {
                unsigned cap = sieve_cap_from_name(c->args[0].strs[k]);
                if (!cap)
                    return fail(ck, c->line, "require: unsupported extension \"%s\"",
                                c->args[0].strs[k]);
                ck->s->caps |= cap == ~0u ? 0 : cap;
            }
        } else {
            may_require = false;
        }
        int rc = check_node(ck, c, false);
        if (rc != 0)
            return rc;
        if ((c->id == SIEVE_ELSIF || c->id == SIEVE_ELSE) &&
            (i == 0 || (cmds[i - 1].id != SIEVE_IF && cmds[i - 1].id != SIEVE_ELSIF)))
            return fail(ck, c->line, "%s without if", c->name);
        if (c->has_block && (rc = check_block(ck, c->block, c->nblock, false)) != 0)
            return rc;
    }
    return 0;
}

int sieve_check(struct sieve_script *s, struct str *err)
{
    struct checker ck = {s, err};
    return check_block(&ck, s->cmds, s->ncmds, true);
}
