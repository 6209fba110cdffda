/*
 * sieve run — the interpreter: commands in order (RFC 5228 §3-4), the implicit keep (§2.10.2),
 * imap4flags' internal variable (RFC 5232 §3), variables (RFC 5229), include/return/global
 * (RFC 6609), and the action list with its limits and incompatibilities (RFC 5429 §2.1:
 * reject only with discard; one vacation; a mailbox or an address acted on once).
 */
#include "sieve/sieve_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/addr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sieve_fail(struct sieve_run *r, int rc, unsigned line, const char *fmt, ...)
{
    if (r->rc == 0) {
        r->rc = rc;
        str_appendf(r->err, "line %u: ", line);
        va_list ap;
        va_start(ap, fmt);
        str_vappendf(r->err, fmt, ap);
        va_end(ap);
    }
    r->stopped = true;
}

const char *sieve_expand(struct sieve_run *r, const char *s, struct str *scratch)
{
    if (!(r->caps & SIEVE_CAP_VARIABLES))
        return s;
    str_reset(scratch);
    sieve_vars_expand(&r->vars, s, scratch);
    return str_cstr(scratch);
}

/* ---- flags (RFC 5232) ---- */

static bool flag_eq(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && strncasecmp(a, b, an) == 0;
}

static bool flags_has(const struct str *set, const char *f, size_t n)
{
    const char *p = str_cstr(set);
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (flag_eq(p, k, f, n))
            return true;
        p += e ? k + 1 : k;
    }
    return false;
}

/* Calls fn for each space-separated flag of list. */
static void each_flag(const char *list, void (*fn)(struct str *, const char *, size_t),
                      struct str *set)
{
    while (*list) {
        while (*list == ' ')
            list++;
        const char *e = list;
        while (*e && *e != ' ')
            e++;
        if (e > list)
            fn(set, list, (size_t)(e - list));
        list = e;
    }
}

static void flag_add_one(struct str *set, const char *f, size_t n)
{
    if (flags_has(set, f, n))
        return;
    if (set->len)
        str_appendc(set, ' ');
    str_append(set, f, n);
}

static void flag_del_one(struct str *set, const char *f, size_t n)
{
    struct str out = STR_INIT;
    const char *p = str_cstr(set);
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k && !flag_eq(p, k, f, n)) {
            if (out.len)
                str_appendc(&out, ' ');
            str_append(&out, p, k);
        }
        p += e ? k + 1 : k;
    }
    str_reset(set);
    str_append(set, str_cstr(&out), out.len);
    str_clear(&out);
}

void sieve_flags_add(struct str *set, const char *list)
{
    each_flag(list, flag_add_one, set);
}

void sieve_flags_remove(struct str *set, const char *list)
{
    each_flag(list, flag_del_one, set);
}

/* The flags of a string list argument, expanded and joined. */
static void list_flags(struct sieve_run *r, const struct sieve_arg *a, struct str *out)
{
    struct str scratch = STR_INIT;
    for (size_t i = 0; i < a->nstrs; i++)
        sieve_flags_add(out, sieve_expand(r, a->strs[i], &scratch));
    str_clear(&scratch);
}

/* ---- actions ---- */

struct sieve_action *sieve_action_new(struct sieve_run *r, enum sieve_action_kind k,
                                       unsigned line)
{
    if (r->res->n >= r->lim->max_actions) {
        sieve_fail(r, ERR_LIMIT, line, "too many actions (at most %u)", r->lim->max_actions);
        return NULL;
    }
    r->res->v = xrealloc(r->res->v, (r->res->n + 1) * sizeof *r->res->v);
    struct sieve_action *a = &r->res->v[r->res->n++];
    memset(a, 0, sizeof *a);
    a->kind = k;
    a->line = line;
    return a;
}

static struct sieve_action *find_action(struct sieve_run *r, enum sieve_action_kind k)
{
    for (size_t i = 0; i < r->res->n; i++)
        if (r->res->v[i].kind == k)
            return &r->res->v[i];
    return NULL;
}

/* The flags a keep or fileinto stores: its :flags, else the internal variable. */
static char *store_flags(struct sieve_run *r, const struct sieve_node *c)
{
    struct str f = STR_INIT;
    const struct sieve_arg *t = sieve_tag(c, "flags");
    if (t)
        list_flags(r, &t[1], &f);
    else
        str_append(&f, str_cstr(&r->flags), r->flags.len);
    return str_steal(&f);
}

/* keep is fileinto "INBOX" (RFC 5228 §4.3); the same mailbox is stored into once. */
static void do_store(struct sieve_run *r, const struct sieve_node *c, const char *mailbox)
{
    bool keep = mailbox == NULL;
    for (size_t i = 0; i < r->res->n; i++) {
        struct sieve_action *a = &r->res->v[i];
        bool same = keep ? a->kind == SIEVE_ACT_KEEP
                         : a->kind == SIEVE_ACT_FILEINTO && strcmp(a->mailbox, mailbox) == 0;
        if (same) {
            a->create |= !keep && sieve_tag(c, "create") != NULL;
            char *f = store_flags(r, c);
            struct str merged = STR_INIT;
            str_appends(&merged, a->flags);
            sieve_flags_add(&merged, f);
            free(f);
            free(a->flags);
            a->flags = str_steal(&merged);
            return;
        }
    }
    struct sieve_action *a = sieve_action_new(r, keep ? SIEVE_ACT_KEEP : SIEVE_ACT_FILEINTO, c->line);
    if (!a)
        return;
    a->mailbox = mailbox ? xstrdup(mailbox) : NULL;
    a->flags = store_flags(r, c);
    a->create = !keep && sieve_tag(c, "create") != NULL;
}

static void cmd_fileinto(struct sieve_run *r, const struct sieve_node *c)
{
    struct str scratch = STR_INIT;
    const char *mb = sieve_expand(r, sieve_pos(c, 0)->strs[0], &scratch);
    if (!mb[0]) {
        sieve_fail(r, ERR_PARSE, c->line, "fileinto: empty mailbox name");
    } else {
        do_store(r, c, strcasecmp(mb, "INBOX") == 0 ? NULL : mb);
        if (!sieve_tag(c, "copy"))
            r->implicit_keep = false;
    }
    str_clear(&scratch);
}

static void cmd_redirect(struct sieve_run *r, const struct sieve_node *c)
{
    struct str scratch = STR_INIT;
    const char *to = sieve_expand(r, sieve_pos(c, 0)->strs[0], &scratch);
    struct mail_addr ma;
    const char *why = NULL;
    if (mail_addr_parse(to, strlen(to), MAIL_ADDR_ALLOW_UTF8, &ma, &why) != 0 || !ma.domain[0]) {
        sieve_fail(r, ERR_PARSE, c->line, "redirect: \"%s\" is not an address", to);
        str_clear(&scratch);
        return;
    }
    for (size_t i = 0; i < r->res->n; i++) /* RFC 5228 §2.10.3: once per address */
        if (r->res->v[i].kind == SIEVE_ACT_REDIRECT && strcasecmp(r->res->v[i].address, to) == 0)
            to = NULL;
    if (to && ++r->redirects > r->lim->max_redirects)
        sieve_fail(r, ERR_LIMIT, c->line, "too many redirects (at most %u)",
                   r->lim->max_redirects);
    struct sieve_action *a = to && !r->rc ? sieve_action_new(r, SIEVE_ACT_REDIRECT, c->line) : NULL;
    if (a)
        a->address = xstrdup(to);
    if (!r->rc && !sieve_tag(c, "copy"))
        r->implicit_keep = false;
    str_clear(&scratch);
}

static void cmd_reject(struct sieve_run *r, const struct sieve_node *c)
{
    if (find_action(r, SIEVE_ACT_REJECT)) {
        sieve_fail(r, ERR_BUSY_STATE, c->line, "a second reject");
        return;
    }
    struct str scratch = STR_INIT;
    struct sieve_action *a = sieve_action_new(r, SIEVE_ACT_REJECT, c->line);
    if (a)
        a->reason = xstrdup(sieve_expand(r, sieve_pos(c, 0)->strs[0], &scratch));
    r->implicit_keep = false;
    str_clear(&scratch);
}

static void cmd_flags(struct sieve_run *r, const struct sieve_node *c)
{
    bool named = sieve_npos(c) == 2;
    struct str cur = STR_INIT, scratch = STR_INIT, list = STR_INIT;
    const char *var = named ? sieve_pos(c, 0)->strs[0] : NULL;
    if (var && !sieve_var_name_ok(var)) {
        sieve_fail(r, ERR_PARSE, c->line, "%s: \"%s\" is not a variable name", c->name, var);
        return;
    }
    if (var) {
        str_appendf(&scratch, "${%s}", var);
        sieve_vars_expand(&r->vars, str_cstr(&scratch), &cur);
    } else {
        str_append(&cur, str_cstr(&r->flags), r->flags.len);
    }
    list_flags(r, sieve_pos(c, named ? 1 : 0), &list);
    if (c->id == SIEVE_SETFLAG)
        str_reset(&cur);
    if (c->id == SIEVE_REMOVEFLAG)
        sieve_flags_remove(&cur, str_cstr(&list));
    else
        sieve_flags_add(&cur, str_cstr(&list));
    if (var) {
        if (sieve_vars_set(&r->vars, var, str_cstr(&cur), cur.len) != 0)
            sieve_fail(r, ERR_LIMIT, c->line, "too many variables");
    } else {
        str_reset(&r->flags);
        str_append(&r->flags, str_cstr(&cur), cur.len);
    }
    str_clear(&cur);
    str_clear(&scratch);
    str_clear(&list);
}

static void cmd_set(struct sieve_run *r, const struct sieve_node *c)
{
    struct str scratch = STR_INIT, v = STR_INIT;
    str_appends(&v, sieve_expand(r, sieve_pos(c, 1)->strs[0], &scratch));
    sieve_vars_modify(c, &v);
    if (sieve_vars_set(&r->vars, sieve_pos(c, 0)->strs[0], str_cstr(&v), v.len) != 0)
        sieve_fail(r, ERR_LIMIT, c->line, "too many variables (at most %u)",
                   r->lim->max_variables);
    str_clear(&scratch);
    str_clear(&v);
}

static void cmd_include(struct sieve_run *r, const struct sieve_node *c)
{
    struct str scratch = STR_INIT;
    const char *name = sieve_expand(r, sieve_pos(c, 0)->strs[0], &scratch);
    bool global = sieve_tag(c, "global") != NULL;
    for (size_t i = 0; sieve_tag(c, "once") && i < r->nonce; i++)
        if (strcmp(r->once[i], name) == 0) {
            str_clear(&scratch);
            return;
        }
    if (++r->includes > r->lim->max_includes) {
        sieve_fail(r, ERR_LIMIT, c->line, "too many includes (at most %u)", r->lim->max_includes);
        str_clear(&scratch);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = r->env->include ? r->env->include(r->env->include_ctx, name, global, &text, &len)
                             : ERR_NOTFOUND;
    if (rc != 0) {
        if (!sieve_tag(c, "optional"))
            sieve_fail(r, ERR_NOTFOUND, c->line, "include: no script \"%s\"", name);
        str_clear(&scratch);
        return;
    }
    struct sieve_script *s = NULL;
    struct str perr = STR_INIT;
    rc = sieve_script_parse(text, len, r->lim, &s, &perr);
    free(text);
    if (rc != 0) {
        sieve_fail(r, rc, c->line, "include \"%s\": %s", name, str_cstr(&perr));
    } else {
        r->owned = xrealloc(r->owned, (r->nowned + 1) * sizeof *r->owned);
        r->owned[r->nowned++] = s;
        r->once = xrealloc(r->once, (r->nonce + 1) * sizeof *r->once);
        r->once[r->nonce++] = msg_arena_strndup(&s->arena, name, strlen(name));
        unsigned caps = r->caps;
        r->caps = s->caps;
        sieve_block_run(r, s->cmds, s->ncmds);
        r->caps = caps;
        r->returned = false; /* return ends only the included script */
    }
    str_clear(&perr);
    str_clear(&scratch);
}

/* Runs one command; if/elsif/else chains are handled by the caller. */
static void cmd_run(struct sieve_run *r, const struct sieve_node *c)
{
    switch ((enum sieve_id)c->id) {
    case SIEVE_REQUIRE:
    case SIEVE_GLOBAL: /* one namespace of variables for all scripts of a run */
        break;
    case SIEVE_STOP: r->stopped = true; break;
    case SIEVE_RETURN: r->returned = true; break;
    case SIEVE_KEEP:
        do_store(r, c, NULL);
        r->implicit_keep = false;
        break;
    case SIEVE_DISCARD: r->implicit_keep = false; break;
    case SIEVE_FILEINTO: cmd_fileinto(r, c); break;
    case SIEVE_REDIRECT: cmd_redirect(r, c); break;
    case SIEVE_REJECT:
    case SIEVE_EREJECT: cmd_reject(r, c); break;
    case SIEVE_SETFLAG:
    case SIEVE_ADDFLAG:
    case SIEVE_REMOVEFLAG: cmd_flags(r, c); break;
    case SIEVE_SET: cmd_set(r, c); break;
    case SIEVE_VACATION: sieve_vacation_cmd(r, c); break;
    case SIEVE_INCLUDE: cmd_include(r, c); break;
    default: sieve_fail(r, ERR_PARSE, c->line, "not a command: %s", c->name); break;
    }
}

void sieve_block_run(struct sieve_run *r, const struct sieve_node *cmds, size_t n)
{
    bool taken = false; /* a branch of the current if chain ran */
    for (size_t i = 0; i < n && !r->stopped && !r->returned; i++) {
        const struct sieve_node *c = &cmds[i];
        if (c->id == SIEVE_IF || c->id == SIEVE_ELSIF || c->id == SIEVE_ELSE) {
            if (c->id == SIEVE_IF)
                taken = false;
            if (taken)
                continue;
            int v = c->id == SIEVE_ELSE ? 1 : sieve_test_eval(r, &c->tests[0]);
            if (v < 0)
                return;
            if (v) {
                taken = true;
                sieve_block_run(r, c->block, c->nblock);
            }
            continue;
        }
        cmd_run(r, c);
    }
}

/* RFC 5429 §2.1: reject goes with discard only. */
static void check_compatible(struct sieve_run *r)
{
    const struct sieve_action *rej = find_action(r, SIEVE_ACT_REJECT);
    if (!rej || r->rc)
        return;
    for (size_t i = 0; i < r->res->n; i++)
        if (r->res->v[i].kind != SIEVE_ACT_REJECT) {
            sieve_fail(r, ERR_BUSY_STATE, rej->line,
                       "reject cannot be combined with keep, fileinto, redirect or vacation");
            return;
        }
}

int sieve_run(const struct sieve_script *s, const struct sieve_env *env,
              const struct sieve_limits *lim, struct sieve_result *out, struct str *err)
{
    struct sieve_limits dl;
    if (!lim) {
        sieve_limits_default(&dl);
        lim = &dl;
    }
    memset(out, 0, sizeof *out);
    struct sieve_run r = {.env = env, .lim = lim, .res = out, .err = err,
                          .implicit_keep = true, .caps = s->caps};
    r.vars.lim = lim;
    sieve_block_run(&r, s->cmds, s->ncmds);
    check_compatible(&r);
    if (r.rc == 0 && r.implicit_keep) {
        struct sieve_node none = {.name = "keep", .id = SIEVE_KEEP};
        do_store(&r, &none, NULL);
    }
    for (size_t i = 0; i < r.nowned; i++)
        sieve_script_free(r.owned[i]);
    free(r.owned);
    free(r.once);
    sieve_vars_clear(&r.vars);
    str_clear(&r.flags);
    return r.rc;
}

void sieve_result_clear(struct sieve_result *res)
{
    for (size_t i = 0; i < res->n; i++) {
        struct sieve_action *a = &res->v[i];
        free(a->mailbox);
        free(a->flags);
        free(a->address);
        free(a->reason);
        free(a->handle);
        free(a->from);
        free(a->subject);
        free(a->body);
    }
    free(res->v);
    str_clear(&res->log);
    memset(res, 0, sizeof *res);
}
