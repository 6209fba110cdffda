/*
 * imap_flags — flag text arithmetic for STORE (see store/imap.h for the canonical form):
 * system flags in a fixed order, then keywords as first written, compared
 * case-insensitively. Pure; used by imap_messages.c inside its transactions.
 */
#include "store/imap.h"

#include <string.h>
#include <strings.h>

#define MAX_TOKENS 128 /* flags on one message; more are dropped */

static const char *const system_flags[] = {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
                                           "\\Draft"};
#define N_SYSTEM (sizeof system_flags / sizeof system_flags[0])

struct tokens {
    struct slice t[MAX_TOKENS];
    size_t n;
};

static bool tokens_has(const struct tokens *ts, struct slice s)
{
    for (size_t i = 0; i < ts->n; i++)
        if (ts->t[i].len == s.len && strncasecmp(ts->t[i].p, s.p, s.len) == 0)
            return true;
    return false;
}

/* Splits text at spaces into ts (duplicates and \Recent dropped). */
static void tokens_split(const char *text, struct tokens *ts)
{
    ts->n = 0;
    for (const char *p = text ? text : ""; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        struct slice s = {p, (size_t)(e - p)};
        if (s.len && !slice_eq_ci(s, "\\Recent") && !tokens_has(ts, s) && ts->n < MAX_TOKENS)
            ts->t[ts->n++] = s;
        p = e;
    }
}

static void out_token(struct str *out, struct slice s)
{
    if (out->len)
        str_appendc(out, ' ');
    str_append(out, s.p, s.len);
}

void store_imap_flags_apply(const char *old, enum store_imap_flag_op op, const char *operand,
                            struct str *out)
{
    struct tokens ta, tb, tr, *a = &ta, *b = &tb, *r = &tr;
    tokens_split(old, a);
    tokens_split(operand, b);
    r->n = 0;
    if (op != STORE_FLAGS_REPLACE)
        for (size_t i = 0; i < a->n; i++)
            if (op == STORE_FLAGS_ADD || !tokens_has(b, a->t[i]))
                r->t[r->n++] = a->t[i];
    if (op != STORE_FLAGS_REMOVE)
        for (size_t i = 0; i < b->n && r->n < MAX_TOKENS; i++)
            if (!tokens_has(r, b->t[i]))
                r->t[r->n++] = b->t[i];
    str_reset(out);
    for (size_t k = 0; k < N_SYSTEM; k++) {
        struct slice sf = slice_cstr(system_flags[k]);
        if (tokens_has(r, sf))
            out_token(out, sf);
    }
    for (size_t i = 0; i < r->n; i++) {
        bool sys = r->t[i].len && r->t[i].p[0] == '\\';
        if (!sys)
            out_token(out, r->t[i]);
    }
    str_cstr(out);
}
