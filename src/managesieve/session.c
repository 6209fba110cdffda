/*
 * managesieve session — see session.h. One command at a time: the bytes received are kept
 * in the session's buffer (bounded: input is refused beyond one line and one script), a
 * command is read by msv_cmd_parse, checked against the verb table (arguments, state) and
 * run; a store request or a password check pauses the session until its *_done.
 */
#include "managesieve/session.h"

#include "managesieve/parse.h"

#include "auth/sasl.h"
#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "sieve/sieve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum msv_state { ST_UNAUTH, ST_AUTH };
/* What the next SASL response is (sasl_wait): PLAIN's one, or LOGIN's user name or password. */
enum msv_sasl { SASL_PLAIN_RESP, SASL_LOGIN_USER, SASL_LOGIN_PASS };

struct managesieve_session {
    struct managesieve_server_config cfg;
    const struct managesieve_io *io;
    void *io_arg;
    const struct managesieve_session_ops *ops;
    void *ops_ctx;
    uint64_t id;
    bool tls, busy, closing, sasl_wait, shutting;
    enum msv_state state;
    enum msv_sasl sasl_step;
    char login_user[SASL_FIELD_MAX + 1]; /* LOGIN: the name, until the password comes */
    unsigned errors;
    char user[256];
    struct str buf;       /* received, not yet used */
    uint64_t skip;        /* octets of a refused literal still to drop */
    bool skip_line;       /* then drop through the next LF */
    struct msv_cmd cmd;
    /* the request in flight */
    enum managesieve_op op;
    bool havespace;       /* LIST for HAVESPACE */
    char name[256];       /* HAVESPACE: the script name */
};

/* ---- output ---- */

static void out(struct managesieve_session *s, const char *p, size_t n)
{
    s->io->write(s->io_arg, p, n);
}

static void outs(struct managesieve_session *s, const char *p)
{
    out(s, p, strlen(p));
}

/* A string as RFC 5804 wants it: quoted, or a literal when it holds CR, LF or NUL. */
static void out_string(struct managesieve_session *s, const char *p, size_t n)
{
    struct str o = STR_INIT;
    if (memchr(p, '\r', n) || memchr(p, '\n', n) || memchr(p, '\0', n) || n > 1024) {
        str_appendf(&o, "{%zu}\r\n", n);
        str_append(&o, p, n);
    } else {
        str_appendc(&o, '"');
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '"' || p[i] == '\\')
                str_appendc(&o, '\\');
            str_appendc(&o, p[i]);
        }
        str_appendc(&o, '"');
    }
    out(s, o.ptr, o.len);
    str_clear(&o);
}

/* "OK|NO|BYE [(code)] "text"" */
static void reply(struct managesieve_session *s, const char *kind, const char *code,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reply(struct managesieve_session *s, const char *kind, const char *code,
                  const char *fmt, ...)
{
    struct str t = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&t, fmt, ap);
    va_end(ap);
    outs(s, kind);
    if (code) {
        outs(s, " (");
        outs(s, code);
        outs(s, ")");
    }
    outs(s, " ");
    out_string(s, str_cstr(&t), t.len);
    outs(s, "\r\n");
    str_clear(&t);
}

static void capabilities(struct managesieve_session *s)
{
    char line[128];
    outs(s, "\"IMPLEMENTATION\" \"Pigeon\"\r\n\"SIEVE\" ");
    out_string(s, sieve_capabilities(), strlen(sieve_capabilities()));
    outs(s, "\r\n");
    if (s->state == ST_UNAUTH)
        outs(s, s->tls || s->cfg.plaintext_ok ? "\"SASL\" \"PLAIN LOGIN\"\r\n" : "\"SASL\" \"\"\r\n");
    if (s->cfg.starttls && !s->tls)
        outs(s, "\"STARTTLS\"\r\n");
    snprintf(line, sizeof line, "\"MAXREDIRECTS\" \"%u\"\r\n", s->cfg.max_redirects);
    outs(s, line);
    if (s->state == ST_AUTH)
        outs(s, "\"OWNER\" "), out_string(s, s->user, strlen(s->user)), outs(s, "\r\n");
    outs(s, "\"VERSION\" \"1.0\"\r\n");
}

/* A bad command: NO, and BYE after too many. */
static void bad(struct managesieve_session *s, const char *why)
{
    if (++s->errors >= s->cfg.max_errors && s->cfg.max_errors) {
        reply(s, "BYE", NULL, "Too many errors");
        s->closing = true;
        return;
    }
    reply(s, "NO", NULL, "%s", why);
}

/* ---- commands ---- */

static bool name_ok(const char *n, size_t len)
{
    if (len == 0 || len > 255 || strlen(n) != len)
        return false;
    for (size_t i = 0; i < len; i++) /* RFC 5804 §1.6: no controls; "/" kept out for files */
        if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f || n[i] == '/')
            return false;
    return true;
}

static void request(struct managesieve_session *s, enum managesieve_op op, const char *name,
                    const char *name2, const char *text, size_t len)
{
    struct managesieve_req r = {op, s->user, name, name2, text, len};
    s->op = op;
    s->busy = true;
    s->ops->request(s->ops_ctx, s, &r);
}

/* The script argument checked with the Sieve engine; NO with the parser's error when bad. */
static bool script_ok(struct managesieve_session *s, unsigned arg)
{
    const struct msv_cmd *c = &s->cmd;
    struct sieve_limits lim;
    sieve_limits_default(&lim);
    lim.max_script_size = s->cfg.max_script_size;
    struct sieve_script *sc = NULL;
    struct str err = STR_INIT;
    int rc = sieve_script_parse(msv_arg_str(c, arg), c->args[arg].len, &lim, &sc, &err);
    sieve_script_free(sc);
    if (rc == ERR_LIMIT && c->args[arg].len > s->cfg.max_script_size)
        reply(s, "NO", "QUOTA/MAXSIZE", "%s", str_cstr(&err));
    else if (rc != 0)
        reply(s, "NO", NULL, "%s", str_cstr(&err));
    str_clear(&err);
    return rc == 0;
}

static void cmd_authenticate_plain(struct managesieve_session *s, const char *b64, size_t len)
{
    struct sasl_creds cr;
    if (sasl_plain_decode(b64, len, &cr) != 0 || (cr.authzid[0] && strcmp(cr.authzid, cr.user))) {
        sasl_creds_wipe(&cr);
        bad(s, "Bad PLAIN response");
        return;
    }
    s->busy = true;
    s->ops->auth(s->ops_ctx, s, cr.user, cr.pass);
    sasl_creds_wipe(&cr);
}

/* One LOGIN step (draft-murchison-sasl-login, as SMTP and POP3 take it): the user name, then
 * the password; the challenges are "Username:" and "Password:" in base64. */
static void sasl_login_step(struct managesieve_session *s, const char *b64, size_t len)
{
    char field[SASL_FIELD_MAX + 1];
    if (sasl_field_decode(b64, len, field, sizeof field) != 0 ||
        (s->sasl_step == SASL_LOGIN_USER && !field[0])) {
        explicit_bzero(field, sizeof field);
        explicit_bzero(s->login_user, sizeof s->login_user);
        return bad(s, "Bad LOGIN response");
    }
    if (s->sasl_step == SASL_LOGIN_USER) {
        memcpy(s->login_user, field, sizeof field);
        s->sasl_step = SASL_LOGIN_PASS;
        s->sasl_wait = true;
        outs(s, "\"UGFzc3dvcmQ6\"\r\n");
        return;
    }
    s->busy = true;
    s->ops->auth(s->ops_ctx, s, s->login_user, field);
    explicit_bzero(field, sizeof field);
    explicit_bzero(s->login_user, sizeof s->login_user);
}

/* A SASL response for the mechanism under way. */
static void sasl_response(struct managesieve_session *s, const char *b64, size_t len)
{
    if (s->sasl_step == SASL_PLAIN_RESP)
        return cmd_authenticate_plain(s, b64, len);
    sasl_login_step(s, b64, len);
}

/* AUTHENTICATE "PLAIN" | "LOGIN" [initial-response] (RFC 5804 §2.1). */
static void cmd_authenticate(struct managesieve_session *s)
{
    const struct msv_cmd *c = &s->cmd;
    bool plain = strcasecmp(msv_arg_str(c, 0), "PLAIN") == 0;
    if (!plain && strcasecmp(msv_arg_str(c, 0), "LOGIN") != 0)
        return bad(s, "Unsupported SASL mechanism");
    if (!s->tls && !s->cfg.plaintext_ok)
        return reply(s, "NO", "ENCRYPT-NEEDED", "Use STARTTLS first");
    s->sasl_step = plain ? SASL_PLAIN_RESP : SASL_LOGIN_USER;
    if (c->nargs == 2)
        return sasl_response(s, msv_arg_str(c, 1), c->args[1].len);
    s->sasl_wait = true;
    /* PLAIN: an empty challenge, the client sends its response; LOGIN: "Username:" */
    outs(s, plain ? "\"\"\r\n" : "\"VXNlcm5hbWU6\"\r\n");
}

static void cmd_starttls(struct managesieve_session *s)
{
    if (!s->cfg.starttls || s->tls)
        return bad(s, "STARTTLS is not available");
    reply(s, "OK", NULL, "Begin TLS negotiation now");
    str_reset(&s->buf); /* RFC 5804 §2.2: nothing sent before the handshake counts */
    s->busy = true;
    s->io->starttls(s->io_arg);
}

static void cmd_putscript(struct managesieve_session *s)
{
    const struct msv_cmd *c = &s->cmd;
    if (!name_ok(msv_arg_str(c, 0), c->args[0].len))
        return bad(s, "Bad script name");
    if (script_ok(s, 1))
        request(s, MANAGESIEVE_PUT, msv_arg_str(c, 0), NULL, msv_arg_str(c, 1), c->args[1].len);
}

static void cmd_checkscript(struct managesieve_session *s)
{
    if (script_ok(s, 0))
        reply(s, "OK", NULL, "Script is valid");
}

static void cmd_havespace(struct managesieve_session *s)
{
    const struct msv_cmd *c = &s->cmd;
    if (!name_ok(msv_arg_str(c, 0), c->args[0].len))
        return bad(s, "Bad script name");
    if (c->args[1].num > s->cfg.max_script_size)
        return reply(s, "NO", "QUOTA/MAXSIZE", "Scripts are limited to %zu octets",
                     s->cfg.max_script_size);
    snprintf(s->name, sizeof s->name, "%s", msv_arg_str(c, 0));
    s->havespace = true;
    request(s, MANAGESIEVE_LIST, NULL, NULL, NULL, 0);
}

static void cmd_name_op(struct managesieve_session *s)
{
    const struct msv_cmd *c = &s->cmd;
    enum managesieve_op op = !strcmp(c->name, "GETSCRIPT")      ? MANAGESIEVE_GET
                             : !strcmp(c->name, "DELETESCRIPT") ? MANAGESIEVE_DELETE
                             : !strcmp(c->name, "SETACTIVE")    ? MANAGESIEVE_ACTIVATE
                                                                : MANAGESIEVE_RENAME;
    bool empty_ok = op == MANAGESIEVE_ACTIVATE; /* SETACTIVE "" deactivates */
    for (unsigned i = 0; i < c->nargs; i++)
        if (!(empty_ok && c->args[i].len == 0) && !name_ok(msv_arg_str(c, i), c->args[i].len))
            return bad(s, "Bad script name");
    request(s, op, msv_arg_str(c, 0), c->nargs > 1 ? msv_arg_str(c, 1) : NULL, NULL, 0);
}

static void cmd_listscripts(struct managesieve_session *s)
{
    request(s, MANAGESIEVE_LIST, NULL, NULL, NULL, 0);
}

static void cmd_capability(struct managesieve_session *s)
{
    capabilities(s);
    reply(s, "OK", NULL, "Capability completed");
}

static void cmd_noop(struct managesieve_session *s)
{
    const struct msv_cmd *c = &s->cmd;
    if (c->nargs == 0)
        return reply(s, "OK", NULL, "Done");
    outs(s, "OK (TAG ");
    out_string(s, msv_arg_str(c, 0), c->args[0].len);
    outs(s, ") \"Done\"\r\n");
}

static void cmd_logout(struct managesieve_session *s)
{
    reply(s, "OK", NULL, "Logout completed");
    s->closing = true;
}

enum { ANY, UNAUTH, AUTH };

static const struct verb {
    const char *name;
    const char *args; /* 'S' string, 'N' number; lower case: optional */
    int state;
    void (*run)(struct managesieve_session *s);
} verbs[] = {
    {"AUTHENTICATE", "Ss", UNAUTH, cmd_authenticate},
    {"STARTTLS", "", UNAUTH, cmd_starttls},
    {"CAPABILITY", "", ANY, cmd_capability},
    {"LOGOUT", "", ANY, cmd_logout},
    {"NOOP", "s", ANY, cmd_noop},
    {"HAVESPACE", "SN", AUTH, cmd_havespace},
    {"PUTSCRIPT", "SS", AUTH, cmd_putscript},
    {"CHECKSCRIPT", "S", AUTH, cmd_checkscript},
    {"LISTSCRIPTS", "", AUTH, cmd_listscripts},
    {"SETACTIVE", "S", AUTH, cmd_name_op},
    {"GETSCRIPT", "S", AUTH, cmd_name_op},
    {"DELETESCRIPT", "S", AUTH, cmd_name_op},
    {"RENAMESCRIPT", "SS", AUTH, cmd_name_op},
};

static bool args_ok(const struct msv_cmd *c, const char *spec)
{
    size_t max = strlen(spec), min = 0;
    while (min < max && spec[min] >= 'A' && spec[min] <= 'Z')
        min++;
    if (c->nargs < min || c->nargs > max)
        return false;
    for (unsigned i = 0; i < c->nargs; i++) {
        char k = (char)(spec[i] & ~0x20);
        if ((k == 'S' && c->args[i].type != MSV_ARG_STR) ||
            (k == 'N' && c->args[i].type != MSV_ARG_NUM))
            return false;
    }
    return true;
}

static void dispatch(struct managesieve_session *s)
{
    const struct msv_cmd *c = &s->cmd;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        const struct verb *v = &verbs[i];
        if (strcmp(v->name, c->name) != 0)
            continue;
        if (v->state == AUTH && s->state != ST_AUTH)
            return bad(s, "Authenticate first");
        if (v->state == UNAUTH && s->state != ST_UNAUTH)
            return bad(s, "Already authenticated");
        if (!args_ok(c, v->args))
            return bad(s, "Wrong arguments");
        return v->run(s);
    }
    bad(s, "Unknown command");
}

/* ---- input ---- */

/* The client's answer to a SASL challenge: one string, or "*" to abort. */
static int sasl_line(struct managesieve_session *s)
{
    struct str tmp = STR_INIT;
    str_append(&tmp, "X ", 2);
    str_append(&tmp, s->buf.ptr, s->buf.len);
    const char *why = NULL;
    size_t skip = 0;
    int rc = msv_cmd_parse(tmp.ptr, tmp.len, 4096, &s->cmd, &why, &skip);
    str_clear(&tmp);
    if (rc == 0)
        return 0;
    s->sasl_wait = false;
    if (rc < 0 || s->cmd.nargs != 1 || s->cmd.args[0].type != MSV_ARG_STR) {
        explicit_bzero(s->login_user, sizeof s->login_user);
        str_consume(&s->buf, rc > 2 ? (size_t)rc - 2 : s->buf.len);
        bad(s, "Bad SASL response");
        return 1;
    }
    str_consume(&s->buf, (size_t)rc - 2);
    if (strcmp(msv_arg_str(&s->cmd, 0), "*") == 0) {
        explicit_bzero(s->login_user, sizeof s->login_user);
        reply(s, "NO", NULL, "Authentication cancelled");
    } else {
        sasl_response(s, msv_arg_str(&s->cmd, 0), s->cmd.args[0].len);
    }
    return 1;
}

/* Drops what an earlier error said to drop. false: more input is needed. */
static bool skip_input(struct managesieve_session *s)
{
    if (s->skip) {
        size_t k = s->skip < s->buf.len ? (size_t)s->skip : s->buf.len;
        str_consume(&s->buf, k);
        s->skip -= k;
        if (s->skip)
            return false;
    }
    if (s->skip_line) {
        const char *nl = s->buf.len ? memchr(s->buf.ptr, '\n', s->buf.len) : NULL;
        if (!nl) {
            str_reset(&s->buf);
            return false;
        }
        str_consume(&s->buf, (size_t)(nl - s->buf.ptr) + 1);
        s->skip_line = false;
    }
    return true;
}

/* Runs every complete command in the buffer, until one pauses the session. */
static void process(struct managesieve_session *s)
{
    if (s->shutting && !s->busy && !s->closing) {
        reply(s, "BYE", "TRYLATER", "Server shutting down");
        s->closing = true;
    }
    while (!s->busy && !s->closing && skip_input(s) && s->buf.len) {
        if (s->sasl_wait) {
            if (sasl_line(s) == 0)
                return;
            continue;
        }
        const char *why = NULL;
        size_t skip = 0;
        int rc = msv_cmd_parse(s->buf.ptr, s->buf.len, s->cfg.max_script_size, &s->cmd, &why,
                               &skip);
        if (rc == 0)
            return;
        if (rc > 0) {
            str_consume(&s->buf, (size_t)rc);
            dispatch(s);
        } else if (rc == ERR_LIMIT) {
            s->skip = skip;
            s->skip_line = true;
            reply(s, "NO", "QUOTA/MAXSIZE", "%s", why);
        } else {
            s->skip = skip;
            bad(s, why);
        }
    }
}

size_t managesieve_session_feed(struct managesieve_session *s, const char *p, size_t n)
{
    if (s->closing)
        return n;
    /* Bounded: a line and a script; beyond that the connection waits (back-pressure). */
    size_t room = MSV_LINE_MAX + s->cfg.max_script_size + 1024;
    size_t take = s->buf.len >= room ? 0 : n < room - s->buf.len ? n : room - s->buf.len;
    if (s->busy && s->buf.len >= MSV_LINE_MAX)
        take = 0;
    str_append(&s->buf, p, take);
    process(s);
    return take;
}

/* ---- results ---- */

void managesieve_session_auth_done(struct managesieve_session *s, bool ok, const char *user)
{
    s->busy = false;
    if (ok) {
        snprintf(s->user, sizeof s->user, "%s", user);
        s->state = ST_AUTH;
        s->errors = 0;
        reply(s, "OK", NULL, "Logged in");
    } else {
        bad(s, "Authentication failed");
    }
    process(s);
}

static void list_result(struct managesieve_session *s, const struct managesieve_result *r)
{
    if (s->havespace) {
        s->havespace = false;
        bool exists = false;
        for (size_t i = 0; i < r->n; i++)
            exists |= strcmp(r->scripts[i].name, s->name) == 0;
        if (!exists && r->n >= s->cfg.max_scripts)
            return reply(s, "NO", "QUOTA/MAXSCRIPTS", "At most %u scripts", s->cfg.max_scripts);
        return reply(s, "OK", NULL, "Putscript would succeed");
    }
    for (size_t i = 0; i < r->n; i++) {
        out_string(s, r->scripts[i].name, strlen(r->scripts[i].name));
        outs(s, r->scripts[i].active ? " ACTIVE\r\n" : "\r\n");
    }
    reply(s, "OK", NULL, "Listscripts completed");
}

void managesieve_session_request_done(struct managesieve_session *s,
                                      const struct managesieve_result *r)
{
    s->busy = false;
    if (r->rc == ERR_NOTFOUND)
        reply(s, "NO", "NONEXISTENT", "There is no such script");
    else if (r->rc == ERR_EXISTS)
        reply(s, "NO", "ALREADYEXISTS", "A script of that name exists");
    else if (r->rc == ERR_BUSY_STATE)
        reply(s, "NO", "ACTIVE", "The script is active");
    else if (r->rc == ERR_LIMIT)
        reply(s, "NO", "QUOTA/MAXSCRIPTS", "At most %u scripts", s->cfg.max_scripts);
    else if (r->rc != 0)
        reply(s, "NO", "TRYLATER", "Temporary failure, try again later");
    else if (s->op == MANAGESIEVE_LIST)
        list_result(s, r);
    else if (s->op == MANAGESIEVE_GET) {
        char head[32];
        snprintf(head, sizeof head, "{%zu}\r\n", r->len);
        outs(s, head);
        out(s, r->text, r->len);
        outs(s, "\r\n");
        reply(s, "OK", NULL, "Getscript completed");
    } else {
        reply(s, "OK", NULL, "Completed");
    }
    s->havespace = false;
    process(s);
}

/* ---- lifecycle ---- */

struct managesieve_session *managesieve_session_new(const struct managesieve_server_config *cfg,
                                                    const struct managesieve_io *io, void *io_arg,
                                                    const struct managesieve_session_ops *ops,
                                                    void *ops_ctx,
                                                    const struct managesieve_peer *peer,
                                                    uint64_t id)
{
    struct managesieve_session *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->io = io;
    s->io_arg = io_arg;
    s->ops = ops;
    s->ops_ctx = ops_ctx;
    s->id = id;
    s->tls = peer->tls;
    return s;
}

void managesieve_session_free(struct managesieve_session *s)
{
    if (!s)
        return;
    explicit_bzero(s->login_user, sizeof s->login_user);
    str_clear(&s->buf);
    str_clear(&s->cmd.strs);
    free(s);
}

uint64_t managesieve_session_id(const struct managesieve_session *s)
{
    return s->id;
}

void managesieve_session_start(struct managesieve_session *s)
{
    capabilities(s);
    reply(s, "OK", NULL, "Pigeon ManageSieve ready");
}

void managesieve_session_refuse(struct managesieve_session *s, const char *reason)
{
    reply(s, "BYE", "TRYLATER", "%s", reason);
    s->closing = true;
}

bool managesieve_session_busy(const struct managesieve_session *s)
{
    return s->busy;
}

bool managesieve_session_closing(const struct managesieve_session *s)
{
    return s->closing;
}

void managesieve_session_tls_started(struct managesieve_session *s, const char *version,
                                     const char *cipher)
{
    s->tls = true;
    s->busy = false;
    capabilities(s);
    reply(s, "OK", NULL, "TLS negotiation successful");
    process(s);
}

void managesieve_session_timeout(struct managesieve_session *s)
{
    reply(s, "BYE", NULL, "Idle timeout");
    s->closing = true;
}

void managesieve_session_shutdown(struct managesieve_session *s)
{
    s->shutting = true; /* BYE now, or once the command in progress is done */
    if (!s->busy)
        process(s);
}
