/*
 * cmd_catenate — APPEND's CATENATE (RFC 4469): a message made of TEXT literals and URLs of
 * messages (or their sections, or byte ranges of those) on this server (imap/url.h): the
 * user's own ("/mailbox/;UID=n" or imap://user@host/...), or any user's that carries a valid
 * URLAUTH (RFC 4467, checked by cmd_urlauth.c). Each own URL is looked up with one
 * IMAP_REQ_LOCATE (the mailbox's UIDVALIDITY, the message's file), checked against the URL's
 * UIDVALIDITY, its section cut from the mapped file as FETCH BODY[section]<partial> would
 * send it, and appended to the message being built; the APPEND request then stores the
 * built messages as it stores literals (all of a MULTIAPPEND, or none).
 *
 * A URL that names nothing (no such mailbox, message or section, another UIDVALIDITY, another
 * user's message without a valid URLAUTH, a syntax this server does not take) fails the
 * APPEND with NO [BADURL url] (RFC 4469 §5); a message built larger than the literal limit
 * with NO [TOOBIG].
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "imap/fetch_att.h"
#include "imap/url.h"
#include "msg/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CATENATE_MAX_ITEMS 100 /* TEXT and URL items in one message */

struct cat_item {
    size_t part; /* the APPEND part it builds */
    bool is_url;
    const char *data; /* TEXT bytes, or the URL (parser memory, valid for the command) */
    size_t len;
};

struct imap_catenate {
    struct cat_item *items;
    size_t n, cap, next;
    struct str *built; /* per APPEND part; used by the parts made by CATENATE */
    size_t nbuilt;
    struct imap_url url; /* the URL being looked up */
    void (*then)(struct imap_session *s);
};

void imap_catenate_free(struct imap_session *s)
{
    struct imap_catenate *c = s->cmd.cat;
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuilt; i++)
        str_clear(&c->built[i]);
    free(c->built);
    free(c->items);
    imap_url_clear(&c->url);
    free(c);
    s->cmd.cat = NULL;
}

static void add_item(struct imap_catenate *c, size_t part, bool is_url, const char *p, size_t n)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->items = xrealloc(c->items, c->cap * sizeof *c->items);
    }
    c->items[c->n++] = (struct cat_item){part, is_url, p, n};
}

bool imap_catenate_parse(struct imap_session *s, const struct imap_arg *list, size_t part,
                         size_t max_parts)
{
    if (!s->cmd.cat) {
        s->cmd.cat = xcalloc(1, sizeof *s->cmd.cat);
        imap_url_init(&s->cmd.cat->url);
        s->cmd.cat->built = xcalloc(max_parts, sizeof *s->cmd.cat->built);
        s->cmd.cat->nbuilt = max_parts;
    }
    struct imap_catenate *c = s->cmd.cat;
    if (list->count == 0 || list->count % 2 || list->count / 2 > CATENATE_MAX_ITEMS) {
        imap_bad(s, list->count ? "Too many CATENATE parts" : "Empty CATENATE");
        return false;
    }
    for (size_t k = 0; k < list->count; k += 2) {
        const struct imap_arg *kind = &list->list[k], *v = &list->list[k + 1];
        const char *p;
        size_t n;
        bool url = imap_arg_atom_eq(kind, "URL");
        bool ok = url ? imap_arg_get_astring(v, &p, &n)
                      : imap_arg_atom_eq(kind, "TEXT") && v->type == IMAP_ARG_LITERAL;
        if (!ok) {
            imap_bad(s, "CATENATE takes TEXT literals and URL strings");
            return false;
        }
        add_item(c, part, url, url ? p : v->str, url ? n : v->len);
    }
    return true;
}

static void next_item(struct imap_session *s);

void imap_badurl(struct imap_session *s, const char *url, size_t len, const char *text)
{
    /* RFC 4469 §6: the URL as TEXT-CHARs without "]" */
    struct str u = STR_INIT;
    for (size_t i = 0; i < len && i < 1024; i++) {
        unsigned char ch = (unsigned char)url[i];
        str_appendc(&u, ch < 0x20 || ch == ']' || ch >= 0x7f ? '?' : (char)ch);
    }
    imap_done(s, "NO [BADURL %s] %s", str_cstr(&u), text);
    str_clear(&u);
}

static void fail_url(struct imap_session *s, const struct cat_item *it)
{
    imap_badurl(s, it->data, it->len, "CATENATE: the URL names no message of yours");
}

/* Appends what url names of the located message (s->req.rows[0]) to its part; ok: the
 * lookup found it. */
static void append_found(struct imap_session *s, const struct imap_url *url, bool ok)
{
    struct imap_catenate *c = s->cmd.cat;
    const struct cat_item *it = &c->items[c->next];
    struct imap_msg_map m = {"", 0, NULL};
    ok = ok && s->ops->msg_map(s->ops_ctx, s->req.rows[0].blob, &m) == 0;
    if (ok) {
        ok = imap_url_content(url, m.data, m.len, &c->built[it->part]);
        s->ops->msg_unmap(s->ops_ctx, &m);
    }
    if (!ok)
        return fail_url(s, it);
    c->next++;
    next_item(s);
}

static void located(struct imap_session *s)
{
    struct imap_catenate *c = s->cmd.cat;
    append_found(s, &c->url,
                 s->req.rc == 0 && s->req.nrows == 1 &&
                     (!c->url.uidvalidity || c->url.uidvalidity == s->req.mailbox.uidvalidity));
}

/* A URLAUTH-authorized URL (RFC 4469 §5 with RFC 4467), checked by cmd_urlauth.c. */
static void authorized(struct imap_session *s, bool ok)
{
    append_found(s, imap_urlauth_url(s), ok);
}

static void next_item(struct imap_session *s)
{
    struct imap_catenate *c = s->cmd.cat;
    uint64_t max = s->cfg.max_literal ? s->cfg.max_literal : 64u << 20;
    for (; c->next < c->n; c->next++) {
        const struct cat_item *it = &c->items[c->next];
        if (c->built[it->part].len > max)
            return imap_done(s, "NO [TOOBIG] The message would be too large");
        if (!it->is_url) {
            str_append(&c->built[it->part], it->data, it->len);
            continue;
        }
        const char *err;
        if (imap_url_parse(it->data, it->len, &c->url, &err) != 0)
            return fail_url(s, it);
        if (c->url.access != IMAP_URL_ACCESS_NONE)
            return imap_urlauth_check(s, it->data, it->len, authorized);
        if (c->url.absolute && strcasecmp(str_cstr(&c->url.owner), s->user) != 0)
            return fail_url(s, it); /* another user's message needs URLAUTH */
        s->req.name = str_cstr(&c->url.mailbox);
        s->req.in_uids = &c->url.uid;
        s->req.n_in_uids = 1;
        return imap_request(s, IMAP_REQ_LOCATE, located);
    }
    for (size_t k = 0; k < s->cmd.nparts; k++) {
        if (c->built[k].len > max)
            return imap_done(s, "NO [TOOBIG] The message would be too large");
        if (!s->cmd.parts[k].data) { /* made by CATENATE */
            s->cmd.parts[k].data = str_cstr(&c->built[k]);
            s->cmd.parts[k].len = c->built[k].len;
        }
    }
    c->then(s);
}

/* The destination exists (RFC 4469 §5 asks TRYCREATE before any URL is looked at). */
static void dest_checked(struct imap_session *s)
{
    if (s->req.rc == ERR_NOTFOUND)
        return imap_done(s, "NO [TRYCREATE] Mailbox does not exist");
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "APPEND");
    next_item(s);
}

void imap_catenate_run(struct imap_session *s, void (*then)(struct imap_session *s))
{
    s->cmd.cat->then = then;
    s->req.name = str_cstr(&s->cmd.name2);
    imap_request(s, IMAP_REQ_STATUS, dest_checked);
}
