/*
 * cmd_metadata — GETMETADATA and SETMETADATA (RFC 5464): annotations of the server (mailbox
 * "") and of the user's mailboxes, kept in the store. Entry names (§3.2) start with /private
 * or /shared, are printable US-ASCII without "*", "%", "//" or a trailing "/", at most
 * IMAP_META_MAX_ENTRY octets, and are compared without regard to case (kept lower-cased).
 * Limits: IMAP_META_MAX_VALUE octets per value (NO [METADATA MAXSIZE n]), the store's count
 * per user (NO [METADATA TOOMANY]), IMAP_META_MAX_ITEMS entries per command.
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/imapstr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMAP_META_MAX_ENTRY 1024
#define IMAP_META_MAX_VALUE (64 * 1024) /* the store's STORE_META_MAX_VALUE */
#define IMAP_META_MAX_ITEMS 100

struct imap_meta_cmd {
    struct imap_meta_item items[IMAP_META_MAX_ITEMS];
    char *names[IMAP_META_MAX_ITEMS]; /* lower-cased entry names */
    size_t n;
    bool server;      /* mailbox "" */
    uint64_t maxsize; /* GETMETADATA (MAXSIZE n); UINT64_MAX: none */
};

void imap_metadata_free(struct imap_session *s)
{
    struct imap_meta_cmd *m = s->cmd.meta;
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->names[i]);
    free(m);
    s->cmd.meta = NULL;
}

/* RFC 5464 §3.2; set_form: a name below /private or /shared (SETMETADATA). */
static bool entry_ok(const char *p, size_t n, bool set_form)
{
    static const char *const roots[] = {"/private", "/shared"};
    bool rooted = false;
    for (int r = 0; r < 2; r++) {
        size_t rl = strlen(roots[r]);
        if (n >= rl && strncasecmp(p, roots[r], rl) == 0 && (n == rl || p[rl] == '/'))
            rooted = !(set_form && n == rl);
    }
    if (!rooted || n > IMAP_META_MAX_ENTRY || p[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x21 || c > 0x7e || c == '*' || c == '%' || (c == '/' && i && p[i - 1] == '/'))
            return false;
    }
    return true;
}

/* Adds an entry (and its value for SET); false after replying. */
static bool add_entry(struct imap_session *s, const struct imap_arg *a, bool set_form)
{
    struct imap_meta_cmd *m = s->cmd.meta;
    const char *p;
    size_t n;
    if (!imap_arg_get_astring(a, &p, &n) || !entry_ok(p, n, set_form)) {
        imap_bad(s, "Invalid entry name (RFC 5464 §3.2)");
        return false;
    }
    if (m->n == IMAP_META_MAX_ITEMS) {
        imap_bad(s, "Too many entries in one command");
        return false;
    }
    char *name = xmalloc(n + 1);
    memcpy(name, p, n);
    name[n] = '\0';
    ascii_lower(name, n);
    m->names[m->n] = name;
    m->items[m->n++] = (struct imap_meta_item){name, NULL, 0};
    return true;
}

/* The mailbox argument: "" is the server (req.name NULL); false after replying. */
static bool meta_mailbox(struct imap_session *s, const struct imap_arg *a)
{
    const char *p;
    size_t n;
    s->cmd.meta = xcalloc(1, sizeof *s->cmd.meta);
    s->cmd.meta->maxsize = UINT64_MAX;
    if (imap_arg_get_astring(a, &p, &n) && n == 0) {
        s->cmd.meta->server = true;
        s->req.name = NULL;
        return true;
    }
    if (!imap_arg_mailbox(s, a, &s->cmd.name))
        return false;
    s->req.name = str_cstr(&s->cmd.name);
    return true;
}

static void meta_fail(struct imap_session *s, const char *verb)
{
    if (s->req.rc == ERR_LIMIT)
        return imap_done(s, "NO [METADATA TOOMANY] Too many annotations");
    imap_done_rc(s, s->req.rc, verb);
}

/* ---- SETMETADATA mailbox (entry value ...) ---- */

static void set_done(struct imap_session *s)
{
    if (s->req.rc != 0)
        return meta_fail(s, "SETMETADATA");
    imap_done(s, "OK SETMETADATA completed");
}

void imap_cmd_setmetadata(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs != 2 || cmd->args[1].type != IMAP_ARG_LIST || !cmd->args[1].count ||
        cmd->args[1].count % 2)
        return imap_bad(s, "SETMETADATA takes a mailbox and a list of entries and values");
    if (!meta_mailbox(s, &cmd->args[0]))
        return;
    const struct imap_arg *l = cmd->args[1].list;
    for (size_t k = 0; k < cmd->args[1].count; k += 2) {
        if (!add_entry(s, &l[k], true))
            return;
        struct imap_meta_item *it = &s->cmd.meta->items[s->cmd.meta->n - 1];
        if (!imap_arg_get_nstring(&l[k + 1], &it->value, &it->len))
            return imap_bad(s, "Invalid value for %s", it->entry);
        if (it->value && it->len > IMAP_META_MAX_VALUE) /* RFC 5464 §4.3 */
            return imap_done(s, "NO [METADATA MAXSIZE %u] Value too large", IMAP_META_MAX_VALUE);
    }
    s->req.meta = s->cmd.meta->items;
    s->req.nmeta = s->cmd.meta->n;
    imap_request(s, IMAP_REQ_SETMETA, set_done);
}

/* ---- GETMETADATA [(options)] mailbox (entry ...) | entry ---- */

static void write_value(struct str *o, const char *v, size_t len)
{
    if (memchr(v, '\0', len)) { /* RFC 5464 §5: value = nstring / literal8 */
        str_appendf(o, "~{%zu}\r\n", len);
        str_append(o, v, len);
    } else {
        imapstr_write(o, v, len);
    }
}

static bool was_found(const struct imap_req *r, const char *entry)
{
    for (size_t i = 0; i < r->nmeta_out; i++)
        if (strcmp(r->meta_out[i].entry, entry) == 0)
            return true;
    return false;
}

static void get_done(struct imap_session *s)
{
    if (s->req.rc != 0)
        return meta_fail(s, "GETMETADATA");
    const struct imap_meta_cmd *m = s->cmd.meta;
    struct str o = STR_INIT;
    size_t longest = 0, shown = 0;
    str_appends(&o, "* METADATA ");
    if (m->server)
        str_appends(&o, "\"\"");
    else
        imap_write_mailbox(s, &o, str_cstr(&s->cmd.name));
    str_appends(&o, " (");
    for (size_t i = 0; i < s->req.nmeta_out; i++) {
        const struct imap_meta_out *e = &s->req.meta_out[i];
        if (e->len > m->maxsize) { /* RFC 5464 §4.2.1 */
            longest = e->len > longest ? e->len : longest;
            continue;
        }
        str_appends(&o, shown++ ? " " : "");
        imapstr_write_astring(&o, e->entry, strlen(e->entry));
        str_appendc(&o, ' ');
        write_value(&o, e->value, e->len);
    }
    /* an entry asked for by name (DEPTH 0) that has no value: NIL, as Dovecot answers */
    for (size_t i = 0; s->req.meta_depth == 0 && i < m->n; i++) {
        if (was_found(&s->req, m->items[i].entry))
            continue;
        str_appends(&o, shown++ ? " " : "");
        imapstr_write_astring(&o, m->items[i].entry, strlen(m->items[i].entry));
        str_appends(&o, " NIL");
    }
    str_appends(&o, ")\r\n");
    if (shown)
        imap_write(s, o.ptr, o.len);
    str_clear(&o);
    if (longest)
        return imap_done(s, "OK [METADATA LONGENTRIES %zu] GETMETADATA completed", longest);
    imap_done(s, "OK GETMETADATA completed");
}

/* (MAXSIZE n DEPTH 0|1|infinity); false after replying BAD. */
static bool get_options(struct imap_session *s, const struct imap_arg *l)
{
    for (size_t k = 0; k < l->count; k += 2) {
        const struct imap_arg *v = k + 1 < l->count ? &l->list[k + 1] : NULL;
        char *end = NULL;
        if (imap_arg_atom_eq(&l->list[k], "MAXSIZE") && v && v->type == IMAP_ARG_ATOM &&
            v->str[0] >= '0' && v->str[0] <= '9') {
            s->cmd.meta->maxsize = strtoull(v->str, &end, 10);
        } else if (imap_arg_atom_eq(&l->list[k], "DEPTH") && v) {
            s->req.meta_depth = imap_arg_atom_eq(v, "0")          ? 0
                                : imap_arg_atom_eq(v, "1")        ? 1
                                : imap_arg_atom_eq(v, "infinity") ? 2
                                                                  : -1;
            end = s->req.meta_depth < 0 ? NULL : "";
        }
        if (!end || *end) {
            imap_bad(s, "Invalid GETMETADATA options");
            return false;
        }
    }
    return true;
}

void imap_cmd_getmetadata(struct imap_session *s, const struct imap_cmd *cmd)
{
    const struct imap_arg *a = cmd->args;
    size_t n = cmd->nargs;
    const struct imap_arg *opts = n == 3 && a[0].type == IMAP_ARG_LIST ? &a[0] : NULL;
    if (opts)
        a++, n--;
    if (n != 2)
        return imap_bad(s, "GETMETADATA takes [options] mailbox entries");
    s->req.meta_depth = 0;
    if (!meta_mailbox(s, &a[0]) || (opts && !get_options(s, opts)))
        return;
    const struct imap_arg *e = a[1].type == IMAP_ARG_LIST ? a[1].list : &a[1];
    size_t ne = a[1].type == IMAP_ARG_LIST ? a[1].count : 1;
    if (ne == 0)
        return imap_bad(s, "GETMETADATA needs an entry");
    for (size_t k = 0; k < ne; k++)
        if (!add_entry(s, &e[k], false))
            return;
    s->req.meta = s->cmd.meta->items;
    s->req.nmeta = s->cmd.meta->n;
    imap_request(s, IMAP_REQ_GETMETA, get_done);
}
