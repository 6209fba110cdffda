/*
 * cmd_urlauth — URLAUTH (RFC 4467) with its INTERNAL mechanism, and URLAUTH=BINARY (RFC 5524):
 * GENURLAUTH signs rump URLs of the user's own messages, RESETKEY replaces (or drops) the
 * mailbox access keys, URLFETCH returns what a signed URL names; CATENATE (cmd_catenate.c)
 * takes signed URLs through imap_urlauth_check.
 *
 * INTERNAL's token (imap/urlauth.h) is HMAC-SHA256 of the rump URL under the mailbox's
 * access key.
 *
 * Who may use a URL (RFC 4467 §3): "user+name" that user; "authuser" any user logged in to
 * this server; "submit+name" only a submission server acting for name — no IMAP user is one
 * here, so such URLs are for BURL (smtp/service/burl.c; URLFETCH gives NIL); "anonymous" is not
 * offered (GENURLAUTH says NO). A URL that is invalid, expired, revoked, not for this user or
 * names nothing is NIL in URLFETCH (§7: the command itself succeeds) and NO [BADURL] in
 * CATENATE.
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "imap/binary.h"
#include "imap/fetch_att.h"
#include "imap/url.h"
#include "imap/urlauth.h"
#include "msg/imapstr.h"
#include "msg/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URLAUTH_MAX_URLS 100 /* URLs in one GENURLAUTH or URLFETCH */

/* URLFETCH's extended form (RFC 5524 §3): what is returned for one URL. */
enum { UF_BODY = 1, UF_BINARY = 2, UF_BPS = 4 };

struct ua_item {
    const char *url; /* parser memory, valid for the command */
    size_t len;
    unsigned want; /* 0: the plain form (one nstring) */
};

_Static_assert(IMAP_URLKEY_LEN == IMAP_URLAUTH_KEY_LEN, "one key size");

struct imap_urlauth {
    struct ua_item *items;
    size_t n, next;
    struct imap_url url; /* the URL being handled */
    struct str resp;     /* GENURLAUTH: the response being built */
    /* imap_urlauth_check */
    const char *raw;
    void (*then)(struct imap_session *s, bool ok);
};

static struct imap_urlauth *ua_get(struct imap_session *s)
{
    if (!s->cmd.ua) {
        s->cmd.ua = xcalloc(1, sizeof *s->cmd.ua);
        imap_url_init(&s->cmd.ua->url);
    }
    return s->cmd.ua;
}

void imap_urlauth_free(struct imap_session *s)
{
    struct imap_urlauth *ua = s->cmd.ua;
    if (!ua)
        return;
    imap_url_clear(&ua->url);
    str_clear(&ua->resp);
    free(ua->items);
    free(ua);
    s->cmd.ua = NULL;
}

static bool same_user(const struct imap_session *s, const struct str *name)
{
    return name->len && strcasecmp(name->ptr, s->user) == 0;
}

/* RFC 4467 §3: may this session use a URL with this access identifier? */
static bool access_ok(const struct imap_session *s, const struct imap_url *u)
{
    switch (u->access) {
    case IMAP_URL_ACCESS_USER:
        return same_user(s, &u->access_user);
    case IMAP_URL_ACCESS_AUTHUSER:
        return true;
    default: /* submit+: only a submission server; anonymous: not offered */
        return false;
    }
}

/* ---- the check shared with CATENATE ---- */

static void checked(struct imap_session *s)
{
    struct imap_urlauth *ua = s->cmd.ua;
    const struct imap_url *u = &ua->url;
    bool ok = s->req.rc == 0 && s->req.nrows == 1 &&
              imap_urlauth_token_ok(u, ua->raw, s->req.urlkey) &&
              (!u->uidvalidity || u->uidvalidity == s->req.mailbox.uidvalidity);
    ua->then(s, ok);
}

void imap_urlauth_check(struct imap_session *s, const char *raw, size_t len,
                        void (*then)(struct imap_session *s, bool ok))
{
    struct imap_urlauth *ua = ua_get(s);
    const char *err;
    ua->raw = raw;
    ua->then = then;
    if (imap_url_parse(raw, len, &ua->url, &err) != 0 || !ua->url.mech.len ||
        strcasecmp(str_cstr(&ua->url.mech), "INTERNAL") != 0 || !access_ok(s, &ua->url))
        return then(s, false);
    s->req.owner = str_cstr(&ua->url.owner);
    s->req.name = str_cstr(&ua->url.mailbox);
    s->req.in_uids = &ua->url.uid;
    s->req.n_in_uids = 1;
    s->req.expire = ua->url.expire;
    imap_request(s, IMAP_REQ_URLAUTH, checked);
}

const struct imap_url *imap_urlauth_url(const struct imap_session *s)
{
    return &s->cmd.ua->url;
}

/* ---- GENURLAUTH ---- */

static void gen_next(struct imap_session *s);

static void gen_keyed(struct imap_session *s)
{
    struct imap_urlauth *ua = s->cmd.ua;
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "GENURLAUTH");
    const struct ua_item *it = &ua->items[ua->next];
    char tok[IMAP_URLAUTH_TOKEN_HEX + 1];
    imap_urlauth_token(s->req.urlkey, it->url, it->len, tok);
    struct str full = STR_INIT;
    str_append(&full, it->url, it->len);
    str_appends(&full, ":INTERNAL:");
    str_appends(&full, tok);
    str_appendc(&ua->resp, ' ');
    imapstr_write(&ua->resp, full.ptr, full.len);
    str_clear(&full);
    ua->next++;
    gen_next(s);
}

static void gen_next(struct imap_session *s)
{
    struct imap_urlauth *ua = s->cmd.ua;
    if (ua->next == ua->n) {
        str_appends(&ua->resp, "\r\n");
        imap_write(s, ua->resp.ptr, ua->resp.len);
        return imap_done(s, "OK GENURLAUTH completed");
    }
    const struct ua_item *it = &ua->items[ua->next];
    const char *err;
    if (imap_url_parse(it->url, it->len, &ua->url, &err) != 0)
        return imap_bad(s, "Invalid URL: %s", err);
    const struct imap_url *u = &ua->url;
    if (u->access == IMAP_URL_ACCESS_NONE || u->mech.len || u->rump_len != it->len)
        return imap_bad(s, "GENURLAUTH takes rump URLs (ending ;URLAUTH=access)");
    if (!same_user(s, &u->owner))
        return imap_badurl(s, it->url, it->len, "Only URLs of your own mailboxes can be signed");
    if (u->access == IMAP_URL_ACCESS_ANONYMOUS)
        return imap_done(s, "NO Anonymous URLAUTH access is not offered");
    s->req.name = str_cstr(&ua->url.mailbox);
    imap_request(s, IMAP_REQ_URLKEY, gen_keyed);
}

void imap_cmd_genurlauth(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs == 0 || cmd->nargs % 2 || cmd->nargs / 2 > URLAUTH_MAX_URLS)
        return imap_bad(s, "GENURLAUTH takes pairs of a rump URL and a mechanism");
    struct imap_urlauth *ua = ua_get(s);
    ua->items = xcalloc(cmd->nargs / 2, sizeof *ua->items);
    for (size_t i = 0; i < cmd->nargs; i += 2) {
        const char *p;
        size_t n;
        if (!imap_arg_get_astring(&cmd->args[i], &p, &n) || cmd->args[i + 1].type != IMAP_ARG_ATOM)
            return imap_bad(s, "GENURLAUTH takes pairs of a rump URL and a mechanism");
        if (!ascii_eq_ci(cmd->args[i + 1].str, "INTERNAL"))
            return imap_done(s, "NO Unknown URLAUTH mechanism (INTERNAL is offered)");
        ua->items[ua->n++] = (struct ua_item){p, n, 0};
    }
    str_appends(&ua->resp, "* GENURLAUTH");
    gen_next(s);
}

/* ---- RESETKEY ---- */

static void reset_done(struct imap_session *s)
{
    if (s->req.rc != 0)
        return imap_done_rc(s, s->req.rc, "RESETKEY");
    if (!s->req.name)
        return imap_done(s, "OK All keys removed");
    imap_done(s, "OK [URLMECH INTERNAL] Key reset");
}

void imap_cmd_resetkey(struct imap_session *s, const struct imap_cmd *cmd)
{
    for (size_t i = 1; i < cmd->nargs; i++)
        if (cmd->args[i].type != IMAP_ARG_ATOM)
            return imap_bad(s, "RESETKEY takes a mailbox and mechanism names");
        else if (!ascii_eq_ci(cmd->args[i].str, "INTERNAL"))
            return imap_done(s, "NO Unknown URLAUTH mechanism (INTERNAL is offered)");
    if (cmd->nargs && !imap_arg_mailbox(s, &cmd->args[0], &s->cmd.name))
        return;
    s->req.name = cmd->nargs ? str_cstr(&s->cmd.name) : NULL;
    imap_request(s, IMAP_REQ_RESETKEY, reset_done);
}

/* ---- URLFETCH ---- */

static void fetch_next(struct imap_session *s);

static void write_url(struct str *o, const struct ua_item *it)
{
    str_appends(o, "* URLFETCH ");
    imapstr_write(o, it->url, it->len);
}

/* bytes as a literal, or a literal8 when they hold a NUL (RFC 3516 §4.3). */
static void write_literal(struct str *o, const char *p, size_t n)
{
    str_appendf(o, "%s{%zu}\r\n", memchr(p, '\0', n) ? "~" : "", n);
    str_append(o, p, n);
}

static void fetch_nil(struct imap_session *s)
{
    struct imap_urlauth *ua = s->cmd.ua;
    struct str o = STR_INIT;
    write_url(&o, &ua->items[ua->next]);
    str_appends(&o, " NIL\r\n");
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
    ua->next++;
    fetch_next(s);
}

/* The extended items of RFC 5524 for the URL's part of the mapped message. */
static void write_ext(struct imap_session *s, const struct ua_item *it, const struct imap_url *u,
                      const struct imap_msg_map *m, const struct str *body, struct str *o)
{
    struct msg_arena arena;
    msg_arena_init(&arena, 512);
    struct mime_section sec = {.kind = MIME_SECTION_BODY};
    const char *err;
    struct mime_tree *t = mime_parse(m->data, m->len, NULL);
    bool whole = !u->section.len;
    bool parts = whole || (imap_section_parse(u->section.ptr, u->section.len, &arena, &sec, NULL,
                                              &err) == 0 &&
                           sec.kind == MIME_SECTION_BODY);
    const struct mime_part *p = parts && !whole ? mime_section_part(t, &sec) : NULL;
    const char *sep = " (";
    /* a part (or the whole message) decoded; a header section as it is */
    struct str dec = STR_INIT;
    bool dec_ok = true;
    if ((it->want & UF_BINARY) && parts && (whole || p)) {
        dec_ok = imap_binary_content(t, p, &dec);
        if (u->partial) {
            size_t st = u->start < dec.len ? u->start : dec.len;
            size_t n = dec.len - st < u->count ? dec.len - st : u->count;
            memmove(dec.ptr, dec.ptr + st, n);
            dec.len = n;
        }
    } else if (it->want & UF_BINARY) {
        str_append(&dec, body->ptr, body->len);
    }
    if ((it->want & UF_BPS) && parts && (whole || p)) {
        /* asked with BINARY, the structure gives the converted sizes, as Dovecot's does */
        if ((it->want & UF_BINARY) && dec_ok)
            imap_binary_resize(t, (struct mime_part *)p);
        str_appends(o, " (BODYPARTSTRUCTURE ");
        mime_bodystructure_write(t, p, MIME_BS_EXTENSIONS | (s->utf8 ? MIME_BS_UTF8 : 0), o);
        sep = " ";
    }
    if (it->want & UF_BODY) {
        str_appendf(o, "%sBODY ", sep);
        write_literal(o, body->ptr, body->len);
        sep = " ";
    }
    if (it->want & UF_BINARY) {
        str_appendf(o, "%sBINARY ", sep);
        if (dec_ok)
            write_literal(o, dec.ptr, dec.len);
        else
            str_appends(o, "NIL"); /* an unknown transfer encoding */
        sep = " ";
    }
    str_clear(&dec);
    str_appends(o, sep[1] == '(' ? " ()" : ")");
    mime_tree_free(t);
    msg_arena_clear(&arena);
}

static void fetch_checked(struct imap_session *s, bool ok)
{
    struct imap_urlauth *ua = s->cmd.ua;
    const struct ua_item *it = &ua->items[ua->next];
    struct imap_msg_map m = {"", 0, NULL};
    if (!ok || s->ops->msg_map(s->ops_ctx, s->req.rows[0].blob, &m) != 0)
        return fetch_nil(s);
    struct str body = STR_INIT, o = STR_INIT;
    if (!imap_url_content(&ua->url, m.data, m.len, &body)) {
        s->ops->msg_unmap(s->ops_ctx, &m);
        str_clear(&body);
        return fetch_nil(s);
    }
    write_url(&o, it);
    if (it->want) {
        write_ext(s, it, &ua->url, &m, &body, &o);
    } else {
        str_appendc(&o, ' ');
        write_literal(&o, body.ptr, body.len);
    }
    str_appends(&o, "\r\n");
    s->ops->msg_unmap(s->ops_ctx, &m);
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
    str_clear(&body);
    ua->next++;
    fetch_next(s);
}

static void fetch_next(struct imap_session *s)
{
    struct imap_urlauth *ua = s->cmd.ua;
    if (ua->next == ua->n)
        return imap_done(s, "OK URLFETCH completed");
    const struct ua_item *it = &ua->items[ua->next];
    imap_urlauth_check(s, it->url, it->len, fetch_checked);
}

/* One URLFETCH argument: a URL, or RFC 5524's (url [BODY] [BINARY] [BODYPARTSTRUCTURE]). */
static bool fetch_item(const struct imap_arg *a, struct ua_item *out)
{
    const char *p;
    size_t n;
    if (a->type != IMAP_ARG_LIST) {
        *out = (struct ua_item){NULL, 0, 0};
        return imap_arg_get_astring(a, &out->url, &out->len);
    }
    if (a->count < 2 || !imap_arg_get_astring(&a->list[0], &p, &n))
        return false;
    *out = (struct ua_item){p, n, 0};
    for (size_t i = 1; i < a->count; i++) {
        unsigned bit = imap_arg_atom_eq(&a->list[i], "BODY")                ? UF_BODY
                       : imap_arg_atom_eq(&a->list[i], "BINARY")            ? UF_BINARY
                       : imap_arg_atom_eq(&a->list[i], "BODYPARTSTRUCTURE") ? UF_BPS
                                                                            : 0;
        if (!bit || (out->want & bit))
            return false;
        out->want |= bit;
    }
    return true;
}

void imap_cmd_urlfetch(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs == 0 || cmd->nargs > URLAUTH_MAX_URLS)
        return imap_bad(s, "URLFETCH takes URLs");
    struct imap_urlauth *ua = ua_get(s);
    ua->items = xcalloc(cmd->nargs, sizeof *ua->items);
    for (size_t i = 0; i < cmd->nargs; i++)
        if (!fetch_item(&cmd->args[i], &ua->items[ua->n++]))
            return imap_bad(s, "URLFETCH takes URLs or (URL BODY/BINARY/BODYPARTSTRUCTURE)");
    fetch_next(s);
}
