/*
 * cmd — one SMTP command line into a struct smtp_cmd (RFC 5321 §4.1.1).
 *
 * A table maps each verb to a small argument parser; MAIL and RCPT parameters go through a
 * second table per verb. Every error leaves a complete static reply in cmd->reply.
 */
#include "smtp/cmd.h"

#include "core/err.h"

#include <string.h>

#define R_UNKNOWN "500 5.5.2 Command not recognized"
#define R_MAIL_SYNTAX "501 5.5.4 Syntax: MAIL FROM:<address>"
#define R_RCPT_SYNTAX "501 5.5.4 Syntax: RCPT TO:<address>"
#define R_BAD_SENDER "501 5.1.7 Bad sender address syntax"
#define R_BAD_RCPT "501 5.1.3 Bad recipient address syntax"
#define R_SENDER_UTF8 "553 5.6.7 Non-ASCII sender address requires SMTPUTF8"
#define R_RCPT_UTF8 "553 5.6.7 Non-ASCII recipient address requires SMTPUTF8"
#define R_PARAM_UNKNOWN "555 5.5.4 Unsupported parameter"
#define R_PARAM_SYNTAX "501 5.5.4 Syntax error in parameters"
#define R_PARAM_DUP "501 5.5.4 Duplicate parameter"
#define R_PARAM_MANY "501 5.5.4 Too many parameters"

struct smtp_verb_def {
    const char *name;
    enum smtp_verb verb;
    /* checks the argument and fills the verb's fields of cmd; 0 or ERR_* with cmd->reply */
    int (*parse)(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                 struct smtp_cmd *cmd);
    const char *syntax; /* reply for a malformed argument */
};

/* A MAIL or RCPT parameter: its keyword and a checker for its value. */
struct smtp_param_def {
    const char *key;
    bool has_value; /* "KEY=value" (checker sees a non-empty value) vs. a bare "KEY" */
    int (*check)(struct slice value, unsigned flags, struct smtp_cmd *cmd);
};

static int cmd_fail(struct smtp_cmd *cmd, int code, const char *reply)
{
    cmd->reply = reply;
    return code;
}

static bool is_sp(char c)
{
    return c == ' ' || c == '\t';
}

static struct slice slice_skip(struct slice s, size_t n)
{
    return slice_make(s.p + n, s.len - n);
}

static struct slice slice_skip_sp(struct slice s)
{
    while (s.len && is_sp(s.p[0]))
        s = slice_skip(s, 1);
    return s;
}

static bool slice_same_ci(struct slice a, struct slice b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++) {
        char x = a.p[i], y = b.p[i];
        if (x >= 'a' && x <= 'z')
            x = (char)(x - 32);
        if (y >= 'a' && y <= 'z')
            y = (char)(y - 32);
        if (x != y)
            return false;
    }
    return true;
}

/* Splits the next space-separated token off *rest. */
static struct slice slice_token(struct slice *rest)
{
    *rest = slice_skip_sp(*rest);
    size_t n = 0;
    while (n < rest->len && !is_sp(rest->p[n]))
        n++;
    struct slice tok = slice_make(rest->p, n);
    *rest = slice_skip(*rest, n);
    return tok;
}

static bool is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex_upper(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* RFC 3461 §4 xtext: xchar (33-126 but "+" and "=") or "+" 2 upper-case hex digits. */
static bool slice_is_xtext(struct slice v)
{
    if (v.len == 0)
        return false;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c == '+') {
            if (i + 2 >= v.len || !is_hex_upper(v.p[i + 1]) || !is_hex_upper(v.p[i + 2]))
                return false;
            i += 2;
        } else if (c < 33 || c > 126 || c == '=') {
            return false;
        }
    }
    return true;
}

/* ---- parameter checkers (RFC 1870, 6152, 3030, 6531, 4954, 3461) ---- */

static int param_size(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    unsigned long long n;
    /* RFC 1870 §6: the session compares the value with its limit; here only syntax. */
    if (slice_to_u64(v, UINT64_MAX, &n) < 0)
        return cmd_fail(cmd, ERR_PARSE, "501 5.5.4 Invalid SIZE parameter");
    cmd->size = n;
    return 0;
}

static int param_body(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    if (slice_eq_ci(v, "7BIT"))
        cmd->body = SMTP_BODY_7BIT;
    else if (slice_eq_ci(v, "8BITMIME"))
        cmd->body = SMTP_BODY_8BITMIME;
    else if (slice_eq_ci(v, "BINARYMIME"))
        cmd->body = SMTP_BODY_BINARYMIME;
    else
        return cmd_fail(cmd, ERR_PARSE, "501 5.5.4 Invalid BODY parameter");
    return 0;
}

static int param_smtputf8(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    /* RFC 6531 §3.4: SMTPUTF8 takes no value (param_check refuses one). */
    cmd->smtputf8 = true;
    return 0;
}

static int param_requiretls(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    /* RFC 8689 §2: REQUIRETLS takes no value (param_check refuses one); whether the session
     * may take it (TLS) is the session's decision. */
    cmd->requiretls = true;
    return 0;
}

static int param_auth(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    /* RFC 4954 §5: AUTH=<> or AUTH=xtext. */
    if (!slice_eq(v, "<>") && !slice_is_xtext(v))
        return cmd_fail(cmd, ERR_PARSE, "501 5.5.4 Invalid AUTH parameter");
    cmd->auth_param = v;
    return 0;
}

static int param_ret(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    if (!slice_eq_ci(v, "FULL") && !slice_eq_ci(v, "HDRS"))
        return cmd_fail(cmd, ERR_PARSE, "501 5.5.4 Invalid RET parameter");
    return 0;
}

static int param_envid(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    /* RFC 3461 §4.4: at most 100 characters of xtext. */
    if (v.len > 100 || !slice_is_xtext(v))
        return cmd_fail(cmd, ERR_PARSE, "501 5.5.4 Invalid ENVID parameter");
    return 0;
}

static bool notify_item_ok(struct slice item)
{
    return slice_eq_ci(item, "SUCCESS") || slice_eq_ci(item, "FAILURE") ||
           slice_eq_ci(item, "DELAY");
}

static int param_notify(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    /* RFC 3461 §4.1: "NEVER" alone, or a comma list of SUCCESS, FAILURE, DELAY. */
    if (slice_eq_ci(v, "NEVER"))
        return 0;
    for (size_t i = 0;;) {
        size_t n = i;
        while (n < v.len && v.p[n] != ',')
            n++;
        if (!notify_item_ok(slice_make(v.p + i, n - i)))
            return cmd_fail(cmd, ERR_PARSE, "501 5.5.4 Invalid NOTIFY parameter");
        if (n == v.len)
            return 0;
        i = n + 1;
    }
}

static int param_orcpt(struct slice v, unsigned flags, struct smtp_cmd *cmd)
{
    /* RFC 3461 §4.2: addr-type ";" xtext; RFC 6533 §3 also allows UTF-8 with SMTPUTF8. */
    size_t n = 0;
    while (n < v.len && v.p[n] != ';')
        n++;
    bool ok = n > 0 && n < v.len;
    for (size_t i = 0; ok && i < n; i++)
        ok = is_alnum(v.p[i]) || v.p[i] == '-';
    struct slice addr = slice_skip(v, ok ? n + 1 : 0);
    if (ok && !slice_is_xtext(addr)) {
        ok = addr.len > 0 && (flags & SMTP_PARSE_UTF8);
        for (size_t i = 0; ok && i < addr.len; i++)
            ok = (unsigned char)addr.p[i] > 32 && addr.p[i] != 127;
    }
    if (!ok)
        return cmd_fail(cmd, ERR_PARSE, "501 5.5.4 Invalid ORCPT parameter");
    return 0;
}

static const struct smtp_param_def mail_params[] = {
    {"SIZE", true, param_size},
    {"BODY", true, param_body},
    {"SMTPUTF8", false, param_smtputf8},
    {"AUTH", true, param_auth},
    {"RET", true, param_ret},                /* RFC 3461 §4.3 */
    {"ENVID", true, param_envid},            /* RFC 3461 §4.4 */
    {"REQUIRETLS", false, param_requiretls}, /* RFC 8689 §2 */
    {NULL, false, NULL},
};

static const struct smtp_param_def rcpt_params[] = {
    {"NOTIFY", true, param_notify},
    {"ORCPT", true, param_orcpt},
    {NULL, false, NULL},
};

/*
 * Splits "keyword[=value]" (RFC 5321 §4.1.2 esmtp-param). Without "=" the value is an empty
 * slice pointing just past the keyword (never NULL) and *has_eq_out is false.
 */
static int param_split(struct slice tok, struct smtp_param *out, bool *has_eq_out)
{
    size_t k = 0;
    while (k < tok.len && tok.p[k] != '=')
        k++;
    out->key = slice_make(tok.p, k);
    out->value = slice_make(tok.p + k, 0);
    *has_eq_out = k < tok.len;
    /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
    if (k == 0 || !is_alnum(tok.p[0]))
        return ERR_PARSE;
    for (size_t i = 1; i < k; i++)
        if (!is_alnum(tok.p[i]) && tok.p[i] != '-')
            return ERR_PARSE;
    if (!*has_eq_out)
        return 0;
    out->value = slice_skip(tok, k + 1);
    /* esmtp-value = 1*(%d33-60 / %d62-126), RFC 6531 §3.3 adds UTF8-non-ascii */
    if (out->value.len == 0)
        return ERR_PARSE;
    for (size_t i = 0; i < out->value.len; i++) {
        unsigned char c = (unsigned char)out->value.p[i];
        if (c < 33 || c == '=' || c == 127)
            return ERR_PARSE;
    }
    return 0;
}

/* Finds the definition of prm, checks value presence, then runs its checker. */
static int param_check(const struct smtp_param_def *defs, const struct smtp_param *prm, bool has_eq,
                       unsigned flags, struct smtp_cmd *cmd)
{
    const struct smtp_param_def *d = defs;
    while (d->key && !slice_eq_ci(prm->key, d->key))
        d++;
    if (!d->key)
        return cmd_fail(cmd, ERR_PARSE, R_PARAM_UNKNOWN);
    if (d->has_value != has_eq)
        return cmd_fail(cmd, ERR_PARSE, R_PARAM_SYNTAX);
    return d->check(prm->value, flags, cmd);
}

static int params_parse(struct slice rest, const struct smtp_param_def *defs, unsigned flags,
                        struct smtp_cmd *cmd)
{
    for (;;) {
        struct slice tok = slice_token(&rest);
        if (tok.len == 0)
            return 0;
        if (cmd->nparams == SMTP_CMD_MAX_PARAMS)
            return cmd_fail(cmd, ERR_LIMIT, R_PARAM_MANY);
        struct smtp_param *prm = &cmd->params[cmd->nparams];
        bool has_eq;
        if (param_split(tok, prm, &has_eq) < 0)
            return cmd_fail(cmd, ERR_PARSE, R_PARAM_SYNTAX);
        for (unsigned i = 0; i < cmd->nparams; i++)
            if (slice_same_ci(cmd->params[i].key, prm->key))
                return cmd_fail(cmd, ERR_PARSE, R_PARAM_DUP);
        cmd->nparams++;
        int rc = param_check(defs, prm, has_eq, flags, cmd);
        if (rc < 0)
            return rc;
    }
}

/* ---- per-verb argument parsers ---- */

/*
 * Parses the Path after "FROM:" / "TO:" and the parameters after it. The address is parsed
 * with UTF-8 allowed; whether it was permitted is decided by the caller once the parameters
 * (SMTPUTF8 comes after the address) are known.
 */
static int path_and_params(struct slice rest, unsigned aflags, const struct smtp_param_def *defs,
                           unsigned flags, struct smtp_cmd *cmd, const char *bad_addr)
{
    size_t used = 0;
    const char *why = NULL;
    rest = slice_skip_sp(rest);
    if (mail_addr_parse_path(rest.p, rest.len, aflags | MAIL_ADDR_ALLOW_UTF8, &cmd->addr, &used,
                             &why) < 0)
        return cmd_fail(cmd, ERR_PARSE, bad_addr);
    rest = slice_skip(rest, used);
    /* RFC 5321 §4.1.1.2: parameters are separated from the path by SP. */
    if (rest.len > 0 && !is_sp(rest.p[0]))
        return cmd_fail(cmd, ERR_PARSE, bad_addr);
    return params_parse(rest, defs, flags, cmd);
}

/* RFC 5321 §4.1.1.2 "MAIL FROM:" Reverse-path [SP Mail-parameters] */
static int arg_mail(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                    struct smtp_cmd *cmd)
{
    if (!slice_starts_ci(arg, "FROM:") || slice_skip_sp(slice_skip(arg, 5)).len == 0)
        return cmd_fail(cmd, ERR_PARSE, def->syntax);
    unsigned aflags = MAIL_ADDR_ALLOW_NULL | MAIL_ADDR_ALLOW_NO_BRACKETS;
    int rc = path_and_params(slice_skip(arg, 5), aflags, mail_params, flags, cmd, R_BAD_SENDER);
    if (rc < 0)
        return rc;
    /* RFC 6531 §3.4: a UTF-8 reverse-path needs the SMTPUTF8 parameter on this MAIL. */
    if (cmd->addr.utf8 && !cmd->smtputf8)
        return cmd_fail(cmd, ERR_RANGE, R_SENDER_UTF8);
    return 0;
}

/* RFC 5321 §4.1.1.3 "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) */
static int arg_rcpt(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                    struct smtp_cmd *cmd)
{
    if (!slice_starts_ci(arg, "TO:") || slice_skip_sp(slice_skip(arg, 3)).len == 0)
        return cmd_fail(cmd, ERR_PARSE, def->syntax);
    unsigned aflags = MAIL_ADDR_ALLOW_POSTMASTER | MAIL_ADDR_ALLOW_NO_BRACKETS;
    int rc = path_and_params(slice_skip(arg, 3), aflags, rcpt_params, flags, cmd, R_BAD_RCPT);
    if (rc < 0)
        return rc;
    if (cmd->addr.utf8 && !(flags & SMTP_PARSE_UTF8))
        return cmd_fail(cmd, ERR_RANGE, R_RCPT_UTF8);
    return 0;
}

/* HELO/EHLO: any printable ASCII; the session only logs it and puts it in Received:. */
static int arg_hello(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                     struct smtp_cmd *cmd)
{
    if (arg.len == 0)
        return cmd_fail(cmd, ERR_PARSE, def->syntax);
    for (size_t i = 0; i < arg.len; i++) {
        unsigned char c = (unsigned char)arg.p[i];
        if ((c < 32 && c != '\t') || c >= 127)
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
    }
    return 0;
}

static int arg_none(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                    struct smtp_cmd *cmd)
{
    if (arg.len != 0)
        return cmd_fail(cmd, ERR_PARSE, def->syntax);
    return 0;
}

static int arg_any(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                   struct smtp_cmd *cmd)
{
    return 0;
}

/* RFC 3030 §2: "BDAT" SP chunk-size [SP end-marker] */
static int arg_bdat(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                    struct smtp_cmd *cmd)
{
    struct slice rest = arg;
    struct slice size = slice_token(&rest);
    struct slice last = slice_token(&rest);
    unsigned long long n;
    /* INT64_MAX keeps every size representable as an off_t. */
    if (slice_to_u64(size, INT64_MAX, &n) < 0 || slice_token(&rest).len != 0)
        return cmd_fail(cmd, ERR_PARSE, def->syntax);
    if (last.len != 0 && !slice_eq_ci(last, "LAST"))
        return cmd_fail(cmd, ERR_PARSE, def->syntax);
    cmd->chunk_size = n;
    cmd->last = last.len != 0;
    return 0;
}

/* RFC 4468 §3.5: "BURL" SP absolute-URI [SP end-marker]; the URL is judged by whoever
 * fetches it, here only its characters (RFC 3986: printable ASCII, no space). */
static int arg_burl(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                    struct smtp_cmd *cmd)
{
    struct slice rest = arg;
    struct slice url = slice_token(&rest);
    struct slice last = slice_token(&rest);
    if (url.len == 0 || slice_token(&rest).len != 0 ||
        (last.len != 0 && !slice_eq_ci(last, "LAST")))
        return cmd_fail(cmd, ERR_PARSE, def->syntax);
    for (size_t i = 0; i < url.len; i++)
        if ((unsigned char)url.p[i] <= 32 || (unsigned char)url.p[i] >= 127)
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
    cmd->url = url;
    cmd->last = last.len != 0;
    return 0;
}

/* RFC 4954 §4: "AUTH" SP sasl-mech [SP initial-response]; sasl-mech is 1*20 of [A-Z0-9-_]. */
static int arg_auth(const struct smtp_verb_def *def, struct slice arg, unsigned flags,
                    struct smtp_cmd *cmd)
{
    struct slice rest = arg;
    struct slice mech = slice_token(&rest);
    struct slice initial = slice_token(&rest);
    if (mech.len == 0 || mech.len > 20 || slice_token(&rest).len != 0)
        return cmd_fail(cmd, ERR_PARSE, def->syntax);
    for (size_t i = 0; i < mech.len; i++)
        if (!is_alnum(mech.p[i]) && mech.p[i] != '-' && mech.p[i] != '_')
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
    cmd->mechanism = mech;
    cmd->initial = initial;
    return 0;
}

static const struct smtp_verb_def verbs[] = {
    {"HELO", SMTP_HELO, arg_hello, "501 5.5.4 Syntax: HELO hostname"},
    {"EHLO", SMTP_EHLO, arg_hello, "501 5.5.4 Syntax: EHLO hostname"},
    {"MAIL", SMTP_MAIL, arg_mail, R_MAIL_SYNTAX},
    {"RCPT", SMTP_RCPT, arg_rcpt, R_RCPT_SYNTAX},
    {"DATA", SMTP_DATA, arg_none, "501 5.5.4 Syntax: DATA"},
    {"BDAT", SMTP_BDAT, arg_bdat, "501 5.5.4 Syntax: BDAT chunk-size [LAST]"},
    {"RSET", SMTP_RSET, arg_none, "501 5.5.4 Syntax: RSET"},
    {"NOOP", SMTP_NOOP, arg_any, NULL},
    {"QUIT", SMTP_QUIT, arg_none, "501 5.5.4 Syntax: QUIT"},
    {"HELP", SMTP_HELP, arg_any, NULL},
    {"VRFY", SMTP_VRFY, arg_any, NULL},
    {"EXPN", SMTP_EXPN, arg_any, NULL},
    {"STARTTLS", SMTP_STARTTLS, arg_none, "501 5.5.4 Syntax: STARTTLS"},
    {"AUTH", SMTP_AUTH, arg_auth, "501 5.5.4 Syntax: AUTH mechanism [initial-response]"},
    {"BURL", SMTP_BURL, arg_burl, "501 5.5.4 Syntax: BURL imap-url [LAST]"},
};

#define NVERBS (sizeof verbs / sizeof verbs[0])

/* NUL, CR and LF never belong inside a line (RFC 5321 §2.3.8: no bare CR or LF). */
static bool line_is_clean(const char *line, size_t len)
{
    return memchr(line, '\0', len) == NULL && memchr(line, '\r', len) == NULL &&
           memchr(line, '\n', len) == NULL;
}

int smtp_cmd_parse(const char *line, size_t len, unsigned flags, struct smtp_cmd *cmd)
{
    memset(cmd, 0, sizeof *cmd);
    if (len == 0 || !line_is_clean(line, len))
        return cmd_fail(cmd, ERR_PARSE, R_UNKNOWN);
    struct slice rest = slice_make(line, len);
    struct slice word = slice_token(&rest);
    for (size_t i = 0; i < word.len; i++)
        if ((unsigned char)word.p[i] < 32 || (unsigned char)word.p[i] >= 127)
            return cmd_fail(cmd, ERR_PARSE, R_UNKNOWN);
    /* A verb must start the line: " MAIL" is not MAIL. */
    if (word.p != line)
        return cmd_fail(cmd, ERR_PARSE, R_UNKNOWN);
    const struct smtp_verb_def *def = NULL;
    for (size_t i = 0; i < NVERBS && !def; i++)
        if (slice_eq_ci(word, verbs[i].name))
            def = &verbs[i];
    if (!def)
        return cmd_fail(cmd, ERR_PARSE, R_UNKNOWN);
    cmd->verb = def->verb;
    cmd->arg = slice_trim(rest);
    return def->parse(def, cmd->arg, flags, cmd);
}

const char *smtp_verb_name(enum smtp_verb v)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (verbs[i].verb == v)
            return verbs[i].name;
    return "UNKNOWN";
}
