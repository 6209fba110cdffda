/*
 * session — the IMAP session's lifecycle, input framing (imap/parser.h), the verb table, the
 * command lifecycle (requests to the daemon, the end-of-command sync, the tagged reply) and
 * reply helpers. The verbs live in cmd_*.c, the selected mailbox in view.c.
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "imap/mailbox_name.h"
#include "msg/imapstr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the verb table ---- */

enum { S_NA = IS_NOT_AUTH, S_AU = IS_AUTH, S_SE = IS_SELECTED };
#define S_ANY (S_NA | S_AU | S_SE)
#define S_AUTHED (S_AU | S_SE)

struct imap_verb {
    const char *name;
    unsigned states;  /* enum imap_state bits where the verb is allowed */
    bool no_expunge;  /* RFC 3501 §7.4.1: no EXPUNGE response while answering it */
    imap_cmd_fn *run; /* NULL: UID, which picks from uid_verbs */
};

static const struct imap_verb verbs[] = {
    {"CAPABILITY", S_ANY, false, imap_cmd_capability},
    {"NOOP", S_ANY, false, imap_cmd_noop},
    {"LOGOUT", S_ANY, false, imap_cmd_logout},
    {"ID", S_ANY, false, imap_cmd_id},
    {"STARTTLS", S_NA, false, imap_cmd_starttls},
    {"LOGIN", S_NA, false, imap_cmd_login},
    {"AUTHENTICATE", S_NA, false, imap_cmd_authenticate},
    {"UNAUTHENTICATE", S_AUTHED, false, imap_cmd_unauthenticate},
    {"ENABLE", S_AUTHED, false, imap_cmd_enable},
    {"COMPRESS", S_AUTHED, false, imap_cmd_compress},
    {"NAMESPACE", S_AUTHED, false, imap_cmd_namespace},
    {"GETQUOTAROOT", S_AUTHED, false, imap_cmd_getquotaroot},
    {"GETQUOTA", S_AUTHED, false, imap_cmd_getquota},
    {"SETQUOTA", S_AUTHED, false, imap_cmd_setquota},
    {"GETMETADATA", S_AUTHED, false, imap_cmd_getmetadata},
    {"SETMETADATA", S_AUTHED, false, imap_cmd_setmetadata},
    {"CANCELUPDATE", S_SE, false, imap_cmd_cancelupdate},
    {"NOTIFY", S_AUTHED, false, imap_cmd_notify},
    {"GENURLAUTH", S_AUTHED, false, imap_cmd_genurlauth},
    {"RESETKEY", S_AUTHED, false, imap_cmd_resetkey},
    {"URLFETCH", S_AUTHED, false, imap_cmd_urlfetch},
    {"SELECT", S_AUTHED, false, imap_cmd_select},
    {"EXAMINE", S_AUTHED, false, imap_cmd_examine},
    {"CREATE", S_AUTHED, false, imap_cmd_create},
    {"DELETE", S_AUTHED, false, imap_cmd_delete},
    {"RENAME", S_AUTHED, false, imap_cmd_rename},
    {"SUBSCRIBE", S_AUTHED, false, imap_cmd_subscribe},
    {"UNSUBSCRIBE", S_AUTHED, false, imap_cmd_unsubscribe},
    {"LIST", S_AUTHED, false, imap_cmd_list},
    {"LSUB", S_AUTHED, false, imap_cmd_lsub},
    {"STATUS", S_AUTHED, false, imap_cmd_status},
    {"APPEND", S_AUTHED, false, imap_cmd_append},
    {"IDLE", S_AUTHED, false, imap_cmd_idle},
    {"CHECK", S_SE, false, imap_cmd_check},
    {"CLOSE", S_SE, false, imap_cmd_close},
    {"UNSELECT", S_SE, false, imap_cmd_unselect},
    {"EXPUNGE", S_SE, false, imap_cmd_expunge},
    {"SEARCH", S_SE, true, imap_cmd_search},
    {"SORT", S_SE, true, imap_cmd_sort},
    {"THREAD", S_SE, true, imap_cmd_thread},
    {"FETCH", S_SE, true, imap_cmd_fetch},
    {"STORE", S_SE, true, imap_cmd_store},
    {"COPY", S_SE, false, imap_cmd_copy},
    {"MOVE", S_SE, false, imap_cmd_move},
    {"UID", S_SE, false, NULL},
};

/* RFC 3501 §6.4.8: the UID forms; these may be answered with EXPUNGE responses. */
static const struct imap_verb uid_verbs[] = {
    {"FETCH", S_SE, false, imap_cmd_fetch}, {"SEARCH", S_SE, false, imap_cmd_search},
    {"STORE", S_SE, false, imap_cmd_store}, {"COPY", S_SE, false, imap_cmd_copy},
    {"MOVE", S_SE, false, imap_cmd_move},   {"EXPUNGE", S_SE, false, imap_cmd_expunge},
    {"SORT", S_SE, false, imap_cmd_sort},   {"THREAD", S_SE, false, imap_cmd_thread},
};

static const struct imap_verb *verb_find(const struct imap_verb *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_eq_ci(t[i].name, name))
            return &t[i];
    return NULL;
}

/* ---- lifecycle ---- */

struct imap_session *imap_session_new(const struct imap_server_config *cfg,
                                      const struct imap_io *io, void *io_arg,
                                      const struct imap_session_ops *ops, void *ops_ctx,
                                      const struct session_peer *peer, uint64_t id)
{
    struct imap_session *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    session_base_init(&s->base, "imap", peer, id, io->write, io_arg, cfg->max_errors);
    s->io = io;
    s->ops = ops;
    s->ops_ctx = ops_ctx;
    s->state = IS_NOT_AUTH;
    struct imap_parser_limits lim;
    imap_parser_limits_default(&lim);
    if (cfg->max_literal) {
        lim.max_literal = cfg->max_literal;
        lim.max_memory = (size_t)cfg->max_literal + lim.max_line + 65536;
    }
    s->parser = imap_parser_new(&lim);
    return s;
}

static void cmd_reset(struct imap_session *s)
{
    imap_fetch_free(s);
    imap_search_free(s);
    imap_list_free(s);
    str_clear(&s->cmd.name);
    str_clear(&s->cmd.name2);
    str_clear(&s->cmd.flags);
    free(s->cmd.uids);
    s->cmd.uids = NULL;
    s->cmd.nuids = 0;
    s->cmd.active = false;
    s->cmd.uid = false;
    s->cmd.no_expunge = false;
    s->cmd.silent = false;
    s->cmd.qresync = false;
    imap_seqset_clear(&s->cmd.known);
    for (size_t i = 0; i < s->cmd.nparts; i++)
        str_clear(&s->cmd.part_flags[i]);
    free(s->cmd.parts);
    free(s->cmd.part_flags);
    s->cmd.parts = NULL;
    s->cmd.part_flags = NULL;
    s->cmd.nparts = 0;
    imap_catenate_free(s);
    imap_metadata_free(s);
    imap_urlauth_free(s);
    s->cmd.cont = NULL;
    str_reset(&s->cmd.tagged);
    imap_req_clear(&s->req);
    memset(&s->req, 0, sizeof s->req); /* no input pointer outlives its command */
}

void imap_session_free(struct imap_session *s)
{
    if (!s)
        return;
    cmd_reset(s);
    str_clear(&s->cmd.tag);
    str_clear(&s->cmd.tagged);
    imap_view_clear(&s->view);
    imap_contexts_free(s);
    imap_notify_free(s);
    free(s->saved);
    imap_parser_free(s->parser);
    str_clear(&s->out);
    explicit_bzero(s->user, sizeof s->user);
    free(s);
}

uint64_t imap_session_id(const struct imap_session *s)
{
    return s->id;
}

void imap_req_clear(struct imap_req *r)
{
    for (size_t i = 0; r->mailboxes && i < r->nmailboxes; i++) {
        free(r->mailboxes[i].name);
        free(r->mailboxes[i].special_use);
    }
    for (size_t i = 0; r->rows && i < r->nrows; i++) {
        free(r->rows[i].flags);
    }
    for (size_t i = 0; r->cache && i < r->nblobs; i++) {
        free(r->cache[i].envelope);
        free(r->cache[i].bodystructure);
        free(r->cache[i].body);
        free(r->cache[i].search_headers);
    }
    free(r->mailboxes);
    free(r->rows);
    free(r->uids);
    free(r->uids2);
    free(r->cache);
    for (size_t i = 0; r->meta_out && i < r->nmeta_out; i++) {
        free(r->meta_out[i].entry);
        free(r->meta_out[i].value);
    }
    free(r->meta_out);
    explicit_bzero(r->urlkey, sizeof r->urlkey);
    r->meta_out = NULL;
    r->nmeta_out = 0;
    r->rc = 0;
    memset(&r->mailbox, 0, sizeof r->mailbox);
    r->mailboxes = NULL;
    r->nmailboxes = 0;
    r->rows = NULL;
    r->nrows = 0;
    r->uids = r->uids2 = NULL;
    r->nuids = r->nuids2 = 0;
    r->cache = NULL;
}

/* ---- output ---- */

void imap_write(struct imap_session *s, const char *p, size_t n)
{
    s->write(s->io_arg, p, n);
}

void imap_writes(struct imap_session *s, const char *cstr)
{
    imap_write(s, cstr, strlen(cstr));
}

void imap_printf(struct imap_session *s, const char *fmt, ...)
{
    struct str line = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&line, fmt, ap);
    va_end(ap);
    imap_write(s, line.ptr, line.len);
    str_clear(&line);
}

void imap_close(struct imap_session *s)
{
    s->closing = true;
    s->sending = false;
    imap_fetch_free(s);
}

bool imap_can_login(const struct imap_session *s)
{
    return s->tls || s->cfg.plaintext_ok;
}

void imap_capabilities(struct imap_session *s, struct str *out)
{
    /* RFC 9051 §6.1.1: IMAP4rev2 beside IMAP4rev1; a client ENABLEs the one it speaks. */
    str_appends(out, "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT "
                     "UIDPLUS MOVE SPECIAL-USE CHILDREN CONDSTORE QUOTA QUOTA=RES-STORAGE "
                     "QUOTA=RES-MESSAGE ESEARCH SEARCHRES SORT SORT=DISPLAY ESORT "
                     "THREAD=ORDEREDSUBJECT THREAD=REFERENCES LIST-EXTENDED LIST-STATUS QRESYNC "
                     "BINARY MULTIAPPEND CATENATE METADATA CONTEXT=SEARCH CONTEXT=SORT NOTIFY "
                     "UTF8=ACCEPT STATUS=SIZE UNAUTHENTICATE URLAUTH URLAUTH=BINARY");
    if (s->state != IS_NOT_AUTH) {
        if (s->io->compress && !s->compressed) /* RFC 4978: once logged in */
            str_appends(out, " COMPRESS=DEFLATE");
        return;
    }
    if (s->cfg.starttls && !s->tls)
        str_appends(out, " STARTTLS");
    /* RFC 3501 §6.2.3: LOGINDISABLED while passwords may not be sent. */
    str_appends(out, imap_can_login(s) ? " AUTH=PLAIN" : " LOGINDISABLED");
}

void imap_rev2_on(struct imap_session *s)
{
    s->rev2 = true;
    s->utf8 = true; /* RFC 9051 §5.1: mailbox names are UTF-8, not modified UTF-7 */
    for (size_t i = 0; i < s->view.n; i++) /* §2.3.2: there is no \Recent any more */
        s->view.msgs[i].flags &= (uint8_t)~IMAP_MSGF_RECENT;
}

void imap_condstore_on(struct imap_session *s)
{
    if (s->condstore)
        return;
    s->condstore = true;
    /* RFC 7162 §3.1: the first CONDSTORE-enabling command tells the selected mailbox's
     * HIGHESTMODSEQ, as SELECT would have */
    if (s->state == IS_SELECTED)
        imap_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
                    (unsigned long long)s->view.highestmodseq);
}

/* ---- the command lifecycle ---- */

static void finish_command(struct imap_session *s)
{
    if (s->state == IS_SELECTED && !s->cmd.no_expunge)
        imap_view_flush_expunges(s, false);
    str_reset(&s->out);
    str_append(&s->out, s->cmd.tag.ptr, s->cmd.tag.len);
    str_appendc(&s->out, ' ');
    str_append(&s->out, s->cmd.tagged.ptr, s->cmd.tagged.len);
    str_append(&s->out, "\r\n", 2);
    imap_write(s, s->out.ptr, s->out.len);
    if (s->compress_pending && !s->compress_on) { /* RFC 4978 §3: right after the OK */
        s->compress_on = true;
        s->io->compress(s->io_arg);
    }
    cmd_reset(s);
    s->mode = IM_COMMAND;
    if (s->out.cap > 65536)
        str_clear(&s->out);
    if (s->shutdown && !s->closing) {
        imap_writes(s, "* BYE Server shutting down\r\n");
        imap_close(s);
    }
    imap_notify_idle(s); /* a notice heard during the command (RFC 5465) */
}

/* RFC 5267 §4.3: updating searches tell what changed before the tagged reply. */
static void finish_after_contexts(struct imap_session *s)
{
    if (s->state == IS_SELECTED && !s->closing && imap_contexts_stale(s))
        return imap_contexts_update(s, finish_command);
    finish_command(s);
}

static void after_end_sync(struct imap_session *s)
{
    if (s->req.rc == 0) {
        imap_view_apply_sync(s, &s->req, !s->cmd.no_expunge);
    } else if (s->req.rc == ERR_NOTFOUND) {
        /* The mailbox was deleted under us (RFC 3501 leaves this open: Dovecot hangs up). */
        imap_writes(s, "* BYE Selected mailbox was deleted, have to disconnect\r\n");
        finish_command(s);
        imap_close(s);
        return;
    }
    imap_req_clear(&s->req);
    finish_after_contexts(s);
}

/* Re-syncs the view first when the store changed (RFC 3501 §5.2, §7.3.1, §7.4.1). */
static void end_command(struct imap_session *s)
{
    if (s->state == IS_SELECTED && s->dirty && !s->closing) {
        s->dirty = false;
        s->req.mailbox_id = s->view.id;
        s->req.since_modseq = s->view.highestmodseq;
        s->req.read_only = s->view.read_only;
        imap_request(s, IMAP_REQ_SYNC, after_end_sync);
        return;
    }
    finish_after_contexts(s);
}

static void tagged_v(struct imap_session *s, const char *fmt, va_list ap)
{
    str_reset(&s->cmd.tagged);
    str_vappendf(&s->cmd.tagged, fmt, ap);
}

void imap_done(struct imap_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tagged_v(s, fmt, ap);
    va_end(ap);
    end_command(s);
}

static void count_error(struct imap_session *s)
{
    if (session_base_error(&s->base)) {
        imap_writes(s, "* BYE Too many invalid commands\r\n");
        imap_close(s);
    }
}

void imap_bad(struct imap_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    str_reset(&s->cmd.tagged);
    str_appends(&s->cmd.tagged, "BAD ");
    str_vappendf(&s->cmd.tagged, fmt, ap);
    va_end(ap);
    finish_command(s);
    count_error(s);
}

void imap_done_rc(struct imap_session *s, int rc, const char *what)
{
    switch (rc) {
    case ERR_NOTFOUND:
        return imap_done(s, "NO [NONEXISTENT] Mailbox does not exist");
    case ERR_EXISTS:
        return imap_done(s, "NO [ALREADYEXISTS] Mailbox already exists");
    case ERR_BUSY_STATE:
        /* RFC 9051 §7.1: the response code IMAP4rev2 gave this refusal */
        return imap_done(s, "NO [HASCHILDREN] Mailbox has children, delete them first");
    case ERR_PARSE:
        return imap_done(s, "NO [CANNOT] %s not possible", what);
    case ERR_LIMIT: /* RFC 9208 §4.3 */
        return imap_done(s, "NO [OVERQUOTA] Quota exceeded");
    default:
        log_warn("imap " LOG_ID " %s failed: %s", LOG_IDV(s->id), what, err_str(rc));
        return imap_done(s, "NO [UNAVAILABLE] %s failed, try again later", what);
    }
}

static void run_cont(struct imap_session *s)
{
    void (*cont)(struct imap_session *) = s->cmd.cont;
    s->cmd.cont = NULL;
    if (s->closing && cont) {
        imap_req_clear(&s->req);
        return;
    }
    if (cont)
        cont(s);
}

/*
 * The daemon may answer a request at once, inside ops->request (a read it does on its own
 * thread). The continuation then runs from the loop below rather than from inside the
 * request, so a FETCH or SEARCH of many chunks does not nest one call per chunk.
 */
void imap_request(struct imap_session *s, enum imap_req_kind kind,
                  void (*cont)(struct imap_session *s))
{
    imap_req_clear(&s->req);
    s->req.kind = kind;
    s->req.user = s->user;
    s->req.no_recent = s->rev2;
    s->cmd.cont = cont;
    s->waiting = true;
    if (s->requesting) { /* inside the loop below: it runs cont when the answer is there */
        s->ops->request(s->ops_ctx, s, &s->req);
        return;
    }
    s->requesting = true;
    s->ops->request(s->ops_ctx, s, &s->req);
    while (s->answered) {
        s->answered = false;
        run_cont(s);
    }
    s->requesting = false;
}

void imap_session_req_done(struct imap_session *s)
{
    if (!s->waiting)
        return;
    s->waiting = false;
    if (s->requesting) {
        s->answered = true;
        return;
    }
    run_cont(s);
}

/* ---- mailbox names ---- */

bool imap_arg_mailbox(struct imap_session *s, const struct imap_arg *a, struct str *out)
{
    const char *p, *err = NULL;
    size_t n;
    str_reset(out);
    if (!imap_arg_get_astring(a, &p, &n)) {
        imap_bad(s, "Mailbox name expected");
        return false;
    }
    if (imap_mailbox_name_from_wire(p, n, s->utf8, out, &err) != 0) {
        imap_done(s, "NO [CANNOT] Invalid mailbox name: %s", err ? err : "invalid");
        return false;
    }
    str_cstr(out);
    return true;
}

void imap_write_mailbox(struct imap_session *s, struct str *out, const char *name)
{
    struct str wire = STR_INIT;
    imap_mailbox_name_to_wire(name, strlen(name), s->utf8, &wire);
    imapstr_write(out, str_cstr(&wire), wire.len);
    str_clear(&wire);
}

/* ---- input ---- */

static void dispatch(struct imap_session *s, const struct imap_cmd *cmd)
{
    str_reset(&s->cmd.tag);
    str_appends(&s->cmd.tag, cmd->tag);
    s->cmd.active = true;
    const struct imap_verb *v = verb_find(verbs, sizeof verbs / sizeof verbs[0], cmd->name);
    struct imap_cmd sub = *cmd;
    if (v && !v->run && (s->state & v->states)) {
        if (cmd->nargs == 0 || cmd->args[0].type != IMAP_ARG_ATOM)
            return imap_bad(s, "UID needs a command");
        v = verb_find(uid_verbs, sizeof uid_verbs / sizeof uid_verbs[0], cmd->args[0].str);
        if (!v)
            return imap_bad(s, "Unknown UID command");
        s->cmd.uid = true;
        sub.name = v->name;
        sub.args = cmd->args + 1;
        sub.nargs = cmd->nargs - 1;
    }
    if (!v)
        return imap_bad(s, "Unknown command %.40s", cmd->name);
    if (!(s->state & v->states)) {
        const char *why = v->states == S_NA         ? "Already logged in"
                          : s->state == IS_NOT_AUTH ? "Log in first"
                                                    : "Select a mailbox first";
        return imap_bad(s, "%s (%s not allowed now)", why, v->name);
    }
    s->cmd.no_expunge = v->no_expunge;
    log_debug("imap " LOG_ID " %s%s", LOG_IDV(s->id), s->cmd.uid ? "UID " : "", v->name);
    v->run(s, &sub);
}

/* A refused non-synchronizing literal too large to discard: BAD [TOOBIG], BYE and close
 * (RFC 7888 §4); true when it did. */
static bool refuse_and_close(struct imap_session *s, const struct imap_parser_event *ev,
                             const char *tag)
{
    if (ev->literal_sync || ev->literal_size <= IMAP_LITERAL_SKIP_MAX)
        return false;
    log_info("imap " LOG_ID " non-synchronizing literal of %llu octets refused, closing",
             LOG_IDV(s->id), (unsigned long long)ev->literal_size);
    imap_printf(s, "%s BAD [TOOBIG] Literal too large\r\n* BYE Literal too large\r\n", tag);
    imap_close(s);
    return true;
}

/* A literal was announced: send the continuation, or refuse it (RFC 7888 §4). */
static void on_literal(struct imap_session *s, const struct imap_parser_event *ev)
{
    if (s->state == IS_NOT_AUTH && ev->literal_size > IMAP_PREAUTH_LITERAL) {
        if (refuse_and_close(s, ev, ev->tag ? ev->tag : "*"))
            return;
        imap_parser_literal_reject(s->parser);
        imap_printf(s, "%s NO [TOOBIG] Literal too large before login\r\n",
                    ev->tag ? ev->tag : "*");
        return count_error(s);
    }
    if (ev->literal_sync)
        imap_writes(s, "+ Ready for literal data\r\n");
}

static void on_error(struct imap_session *s, int r, const struct imap_parser_event *ev)
{
    if (ev->empty_line)
        return; /* a stray CRLF between commands: ignored, as other servers do */
    const char *tag = ev->tag ? ev->tag : "*";
    if (s->mode != IM_COMMAND) {
        /* A line too long instead of DONE or a SASL response. */
        s->mode = IM_COMMAND;
        tag = s->cmd.tag.len ? str_cstr(&s->cmd.tag) : "*";
    }
    if (r == ERR_LIMIT && ev->literal_size && refuse_and_close(s, ev, tag)) {
        if (s->cmd.active)
            cmd_reset(s);
        return;
    }
    if (r == ERR_LIMIT && ev->literal_size)
        imap_printf(s, "%s NO [TOOBIG] %s\r\n", tag, ev->error ? ev->error : "Literal too large");
    else
        imap_printf(s, "%s BAD %s\r\n", tag, ev->error ? ev->error : "Syntax error");
    if (s->cmd.active)
        cmd_reset(s);
    count_error(s);
}

static bool can_feed(const struct imap_session *s)
{
    return !s->waiting && !s->closing && !s->tls_pending && !s->compress_pending && !s->sending &&
           (!s->cmd.active || s->mode != IM_COMMAND);
}

size_t imap_session_feed(struct imap_session *s, const char *p, size_t n)
{
    size_t used = 0;
    s->compress_pending = false; /* the connection switched in between (RFC 4978 §3) */
    while (used < n && can_feed(s)) {
        size_t u = 0;
        struct imap_parser_event ev;
        int r = imap_parser_feed(s->parser, p + used, n - used, &u, &ev);
        used += u;
        if (r < 0) {
            on_error(s, r, &ev);
        } else if (r == IMAP_PARSE_COMMAND) {
            dispatch(s, ev.cmd);
        } else if (r == IMAP_PARSE_LITERAL) {
            on_literal(s, &ev);
        } else if (r == IMAP_PARSE_LINE) {
            if (s->mode == IM_SASL)
                imap_sasl_line(s, ev.data, ev.len);
            else if (s->mode == IM_IDLE)
                imap_idle_line(s, ev.data, ev.len);
        }
    }
    return used;
}

bool imap_session_busy(const struct imap_session *s)
{
    return s->waiting;
}

bool imap_session_closing(const struct imap_session *s)
{
    return s->closing;
}

void imap_session_writable(struct imap_session *s)
{
    if (s->sending && !s->closing)
        imap_fetch_pump(s);
}

/* ---- events ---- */

void imap_session_start(struct imap_session *s)
{
    session_base_log_connect(&s->base);
    str_reset(&s->out);
    str_appends(&s->out, "* OK [CAPABILITY ");
    imap_capabilities(s, &s->out);
    str_appends(&s->out, "] Pigeon IMAP server ready\r\n");
    imap_write(s, s->out.ptr, s->out.len);
}

void imap_session_refuse(struct imap_session *s, const char *text)
{
    session_base_log_refused(&s->base, text);
    imap_printf(s, "* BYE %s\r\n", text);
    imap_close(s);
}

void imap_session_tls_started(struct imap_session *s, const char *version, const char *cipher)
{
    s->tls = true;
    s->tls_pending = false;
    imap_parser_reset(s->parser); /* nothing sent in clear carries over (RFC 3501 §6.2.1) */
    log_info("imap " LOG_ID " tls %s with cipher %s", LOG_IDV(s->id), version, cipher);
}

void imap_session_notify(struct imap_session *s)
{
    s->dirty = true;
    imap_notify_heard(s);
    if (s->mode == IM_IDLE && !s->waiting && !s->closing)
        return imap_idle_heard(s);
    imap_notify_idle(s); /* NOTIFY (RFC 5465): between commands too */
}

void imap_session_timeout(struct imap_session *s)
{
    if (s->closing)
        return;
    log_info("imap " LOG_ID " timeout from %s", LOG_IDV(s->id), s->peer_addr);
    /* In the middle of a literal a BYE would be taken for message text. */
    if (!s->sending)
        imap_writes(s, "* BYE Autologout; idle for too long\r\n");
    imap_close(s);
}

void imap_session_shutdown(struct imap_session *s)
{
    s->shutdown = true;
    if (s->closing || s->waiting || s->sending || (s->cmd.active && s->mode == IM_COMMAND))
        return;
    imap_writes(s, "* BYE Server shutting down\r\n");
    imap_close(s);
}
