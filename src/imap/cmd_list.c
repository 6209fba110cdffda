/*
 * cmd_list — LIST and LSUB (RFC 3501 §6.3.8-9) with the CHILDREN attributes (RFC 3348) and
 * the special-use attributes (RFC 6154 §2) on every LIST line. The selection and return
 * options of RFC 5258 (SUBSCRIBED, SPECIAL-USE, RECURSIVEMATCH; RETURN SUBSCRIBED, CHILDREN,
 * SPECIAL-USE) and multiple patterns are understood, though LIST-EXTENDED is not advertised.
 *
 * The whole tree comes from one IMAP_REQ_LIST request; matching happens here.
 */
#include "imap/session_int.h"

#include "imap/mailbox_name.h"
#include "imap/mutf7.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PATTERNS 16

struct list_opts {
    bool lsub;
    bool sel_subscribed, sel_special;
    bool ret_subscribed;
    struct str patterns[MAX_PATTERNS]; /* stored form, reference prepended */
    size_t npatterns;
};

static void opts_clear(struct list_opts *o)
{
    for (size_t i = 0; i < o->npatterns; i++)
        str_clear(&o->patterns[i]);
    o->npatterns = 0;
}

/* reference + pattern, decoded from modified UTF-7 (kept as sent when it is not valid). */
static void add_pattern(struct list_opts *o, const char *ref, size_t rlen, const char *p,
                        size_t plen)
{
    if (o->npatterns == MAX_PATTERNS)
        return;
    struct str wire = STR_INIT, *out = &o->patterns[o->npatterns++];
    str_init(out);
    str_append(&wire, ref, rlen);
    if (rlen && ref[rlen - 1] == IMAP_MAILBOX_DELIM && plen && p[0] == IMAP_MAILBOX_DELIM)
        p++, plen--;
    str_append(&wire, p, plen);
    if (imap_mutf7_to_utf8(str_cstr(&wire), wire.len, out) != 0) {
        str_reset(out);
        str_append(out, wire.ptr, wire.len);
    }
    str_cstr(out);
    str_clear(&wire);
}

static bool matches(const struct list_opts *o, const char *name)
{
    for (size_t i = 0; i < o->npatterns; i++)
        if (imap_mailbox_match(o->patterns[i].ptr, o->patterns[i].len, name, strlen(name)))
            return true;
    return false;
}

static bool has_children(const struct imap_req *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nmailboxes; i++) {
        const char *m = r->mailboxes[i].name;
        if (r->mailboxes[i].exists && strncmp(m, name, n) == 0 && m[n] == IMAP_MAILBOX_DELIM)
            return true;
    }
    return false;
}

static void write_line(struct imap_session *s, const char *verb, const char *attrs,
                       const char *name)
{
    str_reset(&s->out);
    str_appendf(&s->out, "* %s (%s) \"/\" ", verb, attrs);
    imap_write_mailbox(s, &s->out, name);
    str_appends(&s->out, "\r\n");
    imap_write(s, s->out.ptr, s->out.len);
}

static void attr_add(struct str *a, const char *attr)
{
    if (a->len)
        str_appendc(a, ' ');
    str_appends(a, attr);
}

static void list_one(struct imap_session *s, const struct list_opts *o,
                     const struct imap_mailbox_info *m)
{
    if (o->sel_subscribed ? !m->subscribed : !m->exists)
        return;
    if (o->sel_special && !m->special_use[0])
        return;
    if (!matches(o, m->name))
        return;
    struct str a = STR_INIT;
    if (!m->exists)
        attr_add(&a, "\\NonExistent");
    else
        attr_add(&a, has_children(&s->req, m->name) ? "\\HasChildren" : "\\HasNoChildren");
    if (m->special_use[0])
        attr_add(&a, m->special_use);
    if ((o->ret_subscribed || o->sel_subscribed) && m->subscribed)
        attr_add(&a, "\\Subscribed");
    write_line(s, "LIST", str_cstr(&a), m->name);
    str_clear(&a);
}

static bool subscribed(const struct imap_req *r, const char *name)
{
    for (size_t i = 0; i < r->nmailboxes; i++)
        if (r->mailboxes[i].subscribed && strcmp(r->mailboxes[i].name, name) == 0)
            return true;
    return false;
}

/* RFC 3501 §6.3.9: with "%", an unsubscribed superior of a subscribed name that the pattern
 * does not reach itself is returned with \Noselect. sent holds "\nname\n" of those sent. */
static void lsub_parents(struct imap_session *s, const struct list_opts *o, const char *name,
                         struct str *sent)
{
    struct str part = STR_INIT, key = STR_INIT;
    for (const char *p = strchr(name, IMAP_MAILBOX_DELIM); p;
         p = strchr(p + 1, IMAP_MAILBOX_DELIM)) {
        str_reset(&part);
        str_append(&part, name, (size_t)(p - name));
        str_reset(&key);
        str_appendf(&key, "\n%s\n", str_cstr(&part));
        if (!matches(o, str_cstr(&part)) || subscribed(&s->req, str_cstr(&part)) ||
            strstr(str_cstr(sent), str_cstr(&key)))
            continue;
        write_line(s, "LSUB", "\\Noselect", str_cstr(&part));
        str_append(sent, key.ptr, key.len);
    }
    str_clear(&part);
    str_clear(&key);
}

static void lsub_write(struct imap_session *s, const struct list_opts *o)
{
    struct str sent = STR_INIT;
    for (size_t i = 0; i < s->req.nmailboxes; i++) {
        const struct imap_mailbox_info *m = &s->req.mailboxes[i];
        if (!m->subscribed)
            continue;
        if (matches(o, m->name))
            write_line(s, "LSUB", m->exists ? "" : "\\Noselect", m->name);
        else
            lsub_parents(s, o, m->name, &sent);
    }
    str_clear(&sent);
}

void imap_list_free(struct imap_session *s)
{
    struct list_opts *o = s->cmd.list;
    if (!o)
        return;
    opts_clear(o);
    free(o);
    s->cmd.list = NULL;
}

static void list_done(struct imap_session *s)
{
    const struct list_opts *o = s->cmd.list;
    const char *verb = o->lsub ? "LSUB" : "LIST";
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, verb);
    if (o->lsub)
        lsub_write(s, o);
    else
        for (size_t i = 0; i < s->req.nmailboxes; i++)
            list_one(s, o, &s->req.mailboxes[i]);
    imap_done(s, "OK %s completed", verb);
}

/* RFC 5258 selection options: (SUBSCRIBED SPECIAL-USE RECURSIVEMATCH REMOTE). */
static bool parse_selection(struct list_opts *o, const struct imap_arg *a)
{
    for (size_t i = 0; i < a->count; i++) {
        const struct imap_arg *x = &a->list[i];
        if (imap_arg_atom_eq(x, "SUBSCRIBED"))
            o->sel_subscribed = true;
        else if (imap_arg_atom_eq(x, "SPECIAL-USE"))
            o->sel_special = true;
        else if (!imap_arg_atom_eq(x, "RECURSIVEMATCH") && !imap_arg_atom_eq(x, "REMOTE"))
            return false;
    }
    return true;
}

static bool parse_return(struct list_opts *o, const struct imap_arg *a)
{
    if (a->type != IMAP_ARG_LIST)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const struct imap_arg *x = &a->list[i];
        if (imap_arg_atom_eq(x, "SUBSCRIBED"))
            o->ret_subscribed = true;
        else if (!imap_arg_atom_eq(x, "CHILDREN") && !imap_arg_atom_eq(x, "SPECIAL-USE"))
            return false;
    }
    return true;
}

/* [selection] reference pattern-or-list [RETURN (options)]; false: syntax error. */
static bool parse_args(struct list_opts *o, const struct imap_cmd *cmd)
{
    const struct imap_arg *a = cmd->args;
    size_t n = cmd->nargs, i = 0;
    if (!o->lsub && n > 0 && a[0].type == IMAP_ARG_LIST && !parse_selection(o, &a[i++]))
        return false;
    const char *ref, *p;
    size_t rlen, plen;
    if (i + 2 > n || !imap_arg_get_astring(&a[i], &ref, &rlen))
        return false;
    const struct imap_arg *pat = &a[i + 1];
    i += 2;
    if (pat->type == IMAP_ARG_LIST && !o->lsub) {
        for (size_t k = 0; k < pat->count; k++) {
            if (!imap_arg_get_astring(&pat->list[k], &p, &plen))
                return false;
            add_pattern(o, ref, rlen, p, plen);
        }
    } else if (imap_arg_get_astring(pat, &p, &plen)) {
        add_pattern(o, ref, rlen, p, plen);
    } else {
        return false;
    }
    if (i < n && !o->lsub) {
        if (i + 2 != n || !imap_arg_atom_eq(&a[i], "RETURN") || !parse_return(o, &a[i + 1]))
            return false;
        i += 2;
    }
    return i == n && o->npatterns > 0;
}

static void list_start(struct imap_session *s, const struct imap_cmd *cmd, bool lsub)
{
    struct list_opts *o = xcalloc(1, sizeof *o);
    s->cmd.list = o;
    o->lsub = lsub;
    if (!parse_args(o, cmd))
        return imap_bad(s, "Invalid %s arguments", lsub ? "LSUB" : "LIST");
    /* RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root. */
    if (!lsub && o->npatterns == 1 && o->patterns[0].len == 0 && !o->sel_subscribed) {
        imap_writes(s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
        return imap_done(s, "OK LIST completed");
    }
    imap_request(s, IMAP_REQ_LIST, list_done);
}

void imap_cmd_list(struct imap_session *s, const struct imap_cmd *cmd)
{
    list_start(s, cmd, false);
}

void imap_cmd_lsub(struct imap_session *s, const struct imap_cmd *cmd)
{
    list_start(s, cmd, true);
}
