/*
 * cmd_list — LIST and LSUB (RFC 3501 §6.3.8-9) with LIST-EXTENDED (RFC 5258: selection
 * options SUBSCRIBED, REMOTE, RECURSIVEMATCH and SPECIAL-USE of RFC 6154; return options
 * SUBSCRIBED, CHILDREN, SPECIAL-USE; several patterns; CHILDINFO), LIST-STATUS (RFC 5819:
 * RETURN (STATUS (...)), one STATUS response after the LIST line of each selectable mailbox),
 * the CHILDREN attributes (RFC 3348) and the special-use attributes (RFC 6154 §2).
 *
 * The whole tree comes from one IMAP_REQ_LIST request; matching happens here. The lines are
 * made first, then written one at a time, each STATUS asked for after its LIST line.
 */
#include "imap/session_int.h"

#include "imap/mailbox_name.h"
#include "imap/mutf7.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PATTERNS 16

struct list_line {
    char *text;   /* the whole "* LIST ..." line */
    char *status; /* the mailbox to STATUS after it (stored form), NULL: none */
};

struct list_opts {
    bool lsub;
    bool sel_subscribed, sel_special, sel_recursive;
    bool ret_subscribed, ret_status;
    struct str status_items;           /* LIST-STATUS items (imap_status_items) */
    struct str patterns[MAX_PATTERNS]; /* stored form, reference prepended */
    size_t npatterns;
    struct list_line *lines;
    size_t nlines, cap, next;
};

static void opts_clear(struct list_opts *o)
{
    for (size_t i = 0; i < o->npatterns; i++)
        str_clear(&o->patterns[i]);
    o->npatterns = 0;
    for (size_t i = 0; i < o->nlines; i++) {
        free(o->lines[i].text);
        free(o->lines[i].status);
    }
    free(o->lines);
    str_clear(&o->status_items);
}

/* reference + pattern, decoded from modified UTF-7 (kept as sent when it is not valid, or
 * after UTF8=ACCEPT: RFC 6855 §3). */
static void add_pattern(struct list_opts *o, const char *ref, size_t rlen, const char *p,
                        size_t plen, bool utf8)
{
    if (o->npatterns == MAX_PATTERNS)
        return;
    struct str wire = STR_INIT, *out = &o->patterns[o->npatterns++];
    str_init(out);
    str_append(&wire, ref, rlen);
    if (rlen && ref[rlen - 1] == IMAP_MAILBOX_DELIM && plen && p[0] == IMAP_MAILBOX_DELIM)
        p++, plen--;
    str_append(&wire, p, plen);
    if (utf8 || imap_mutf7_to_utf8(str_cstr(&wire), wire.len, out) != 0) {
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

/* RFC 5258 §3.5 CHILDINFO: a subscribed mailbox below name that the patterns do not reach. */
static bool subscribed_below(const struct list_opts *o, const struct imap_req *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nmailboxes; i++) {
        const struct imap_mailbox_info *m = &r->mailboxes[i];
        if (m->subscribed && strncmp(m->name, name, n) == 0 && m->name[n] == IMAP_MAILBOX_DELIM &&
            !matches(o, m->name))
            return true;
    }
    return false;
}

static void line_add(struct imap_session *s, struct list_opts *o, const char *verb,
                     const char *attrs, const char *name, const char *extra, bool status)
{
    struct str t = STR_INIT;
    str_appendf(&t, "* %s (%s) \"/\" ", verb, attrs);
    imap_write_mailbox(s, &t, name);
    str_appends(&t, extra ? extra : "");
    str_appends(&t, "\r\n");
    if (o->nlines == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 32;
        o->lines = xrealloc(o->lines, o->cap * sizeof *o->lines);
    }
    o->lines[o->nlines++] = (struct list_line){str_steal(&t), status ? xstrdup(name) : NULL};
}

static void attr_add(struct str *a, const char *attr)
{
    if (a->len)
        str_appendc(a, ' ');
    str_appends(a, attr);
}

/* The line of one name: m the mailbox or subscription (NULL: only a superior level). */
static void list_name(struct imap_session *s, struct list_opts *o, const char *name,
                      const struct imap_mailbox_info *m)
{
    if (!matches(o, name))
        return;
    bool exists = m && m->exists, subscribed = m && m->subscribed;
    bool childinfo = o->sel_recursive && o->sel_subscribed && subscribed_below(o, &s->req, name);
    if (o->sel_subscribed ? !subscribed && !childinfo : !exists)
        return;
    const char *special = m && m->special_use ? m->special_use : "";
    if (o->sel_special && !special[0] && !childinfo)
        return;
    struct str a = STR_INIT;
    if (!exists)
        attr_add(&a, "\\NonExistent");
    else
        attr_add(&a, has_children(&s->req, name) ? "\\HasChildren" : "\\HasNoChildren");
    if (special[0])
        attr_add(&a, special);
    if ((o->ret_subscribed || o->sel_subscribed) && subscribed)
        attr_add(&a, "\\Subscribed");
    line_add(s, o, "LIST", str_cstr(&a), name,
             childinfo ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : NULL, o->ret_status && exists);
    str_clear(&a);
}

static const struct imap_mailbox_info *find(const struct imap_req *r, const char *name)
{
    for (size_t i = 0; i < r->nmailboxes; i++)
        if (strcmp(r->mailboxes[i].name, name) == 0)
            return &r->mailboxes[i];
    return NULL;
}

/*
 * Calls take(s, o, part) for each superior level of name ("a" and "a/b" of "a/b/c") not yet
 * in seen ("\nname\n" entries); a level it took (true) goes into seen.
 */
static void each_superior(struct imap_session *s, struct list_opts *o, const char *name,
                          struct str *seen,
                          bool (*take)(struct imap_session *, struct list_opts *, const char *))
{
    struct str part = STR_INIT, key = STR_INIT;
    for (const char *p = strchr(name, IMAP_MAILBOX_DELIM); p;
         p = strchr(p + 1, IMAP_MAILBOX_DELIM)) {
        str_reset(&part);
        str_append(&part, name, (size_t)(p - name));
        str_reset(&key);
        str_appendf(&key, "\n%s\n", str_cstr(&part));
        if (strstr(str_cstr(seen), str_cstr(&key)) || !take(s, o, str_cstr(&part)))
            continue;
        str_append(seen, key.ptr, key.len);
    }
    str_clear(&part);
    str_clear(&key);
}

/* RECURSIVEMATCH: a superior level of a subscribed name that is no name itself. */
static bool take_superior(struct imap_session *s, struct list_opts *o, const char *part)
{
    if (find(&s->req, part))
        return false;
    list_name(s, o, part, NULL);
    return true;
}

static void list_superiors(struct imap_session *s, struct list_opts *o)
{
    struct str seen = STR_INIT;
    for (size_t i = 0; i < s->req.nmailboxes; i++)
        if (s->req.mailboxes[i].subscribed)
            each_superior(s, o, s->req.mailboxes[i].name, &seen, take_superior);
    str_clear(&seen);
}

static bool subscribed(const struct imap_req *r, const char *name)
{
    const struct imap_mailbox_info *m = find(r, name);
    return m && m->subscribed;
}

/* RFC 3501 §6.3.9: with "%", an unsubscribed superior of a subscribed name that the pattern
 * does not reach itself is returned with \Noselect. */
static bool take_lsub_parent(struct imap_session *s, struct list_opts *o, const char *part)
{
    if (!matches(o, part) || subscribed(&s->req, part))
        return false;
    line_add(s, o, "LSUB", "\\Noselect", part, NULL, false);
    return true;
}

static void lsub_lines(struct imap_session *s, struct list_opts *o)
{
    struct str sent = STR_INIT;
    for (size_t i = 0; i < s->req.nmailboxes; i++) {
        const struct imap_mailbox_info *m = &s->req.mailboxes[i];
        if (!m->subscribed)
            continue;
        if (matches(o, m->name))
            line_add(s, o, "LSUB", m->exists ? "" : "\\Noselect", m->name, NULL, false);
        else
            each_superior(s, o, m->name, &sent, take_lsub_parent);
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

static void write_lines(struct imap_session *s);

static void status_done(struct imap_session *s)
{
    struct list_opts *o = s->cmd.list;
    /* a mailbox deleted since the LIST: no STATUS for it (RFC 5819 §2) */
    if (s->req.rc == 0)
        imap_status_write(s, o->lines[o->next].status, &o->status_items);
    o->next++;
    write_lines(s);
}

static void write_lines(struct imap_session *s)
{
    struct list_opts *o = s->cmd.list;
    for (; o->next < o->nlines; o->next++) {
        imap_writes(s, o->lines[o->next].text);
        if (o->lines[o->next].status) {
            s->req.name = o->lines[o->next].status;
            return imap_request(s, IMAP_REQ_STATUS, status_done);
        }
    }
    imap_done(s, "OK %s completed", o->lsub ? "LSUB" : "LIST");
}

static void list_done(struct imap_session *s)
{
    struct list_opts *o = s->cmd.list;
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, o->lsub ? "LSUB" : "LIST");
    if (o->lsub) {
        lsub_lines(s, o);
    } else {
        for (size_t i = 0; i < s->req.nmailboxes; i++)
            list_name(s, o, s->req.mailboxes[i].name, &s->req.mailboxes[i]);
        if (o->sel_recursive && o->sel_subscribed)
            list_superiors(s, o);
    }
    imap_req_clear(&s->req);
    write_lines(s);
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
        else if (imap_arg_atom_eq(x, "RECURSIVEMATCH"))
            o->sel_recursive = true;
        else if (!imap_arg_atom_eq(x, "REMOTE")) /* no remote mailboxes: nothing to add */
            return false;
    }
    /* §3: RECURSIVEMATCH alone (or with REMOTE only) is an error */
    return !o->sel_recursive || o->sel_subscribed || o->sel_special;
}

static bool parse_return(struct imap_session *s, struct list_opts *o, const struct imap_arg *a)
{
    if (a->type != IMAP_ARG_LIST)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const struct imap_arg *x = &a->list[i];
        if (imap_arg_atom_eq(x, "SUBSCRIBED")) {
            o->ret_subscribed = true;
        } else if (imap_arg_atom_eq(x, "STATUS") && i + 1 < a->count && !o->ret_status) {
            if (!imap_status_items(s, &a->list[++i], &o->status_items))
                return false;
            o->ret_status = true;
        } else if (!imap_arg_atom_eq(x, "CHILDREN") && !imap_arg_atom_eq(x, "SPECIAL-USE")) {
            return false;
        }
    }
    return true;
}

/* [selection] reference pattern-or-list [RETURN (options)]; false: syntax error. */
static bool parse_args(struct imap_session *s, struct list_opts *o, const struct imap_cmd *cmd)
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
            add_pattern(o, ref, rlen, p, plen, s->utf8);
        }
    } else if (imap_arg_get_astring(pat, &p, &plen)) {
        add_pattern(o, ref, rlen, p, plen, s->utf8);
    } else {
        return false;
    }
    if (i < n && !o->lsub) {
        if (i + 2 != n || !imap_arg_atom_eq(&a[i], "RETURN") || !parse_return(s, o, &a[i + 1]))
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
    if (!parse_args(s, o, cmd))
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
