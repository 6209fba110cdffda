/*
 * cmd — one POP3 command line into a struct pop3_cmd (RFC 1939 §3).
 *
 * A table maps each verb to an argument shape; every error leaves a complete static reply
 * in cmd->reply.
 */
#include "pop3/cmd.h"

#include "core/err.h"

#include <string.h>

#define R_UNKNOWN "-ERR Unknown command"
#define R_CHARS "-ERR Invalid characters in command"
#define R_BAD_NUMBER "-ERR Invalid message number"
#define R_NO_SUCH "-ERR No such message"
#define R_BAD_LINES "-ERR Invalid number of lines"

/* What follows a verb. */
enum arg_shape {
    ARGS_NONE,      /* STAT, NOOP, ... */
    ARGS_NAME,      /* USER name: exactly one word */
    ARGS_REST,      /* PASS: the rest of the line, spaces included */
    ARGS_MSG_OPT,   /* LIST [msg], UIDL [msg] */
    ARGS_MSG,       /* RETR msg, DELE msg */
    ARGS_MSG_LINES, /* TOP msg n */
    ARGS_AUTH,      /* AUTH [mechanism [initial-response]] */
};

struct pop3_verb_def {
    const char *name;
    enum pop3_verb verb;
    enum arg_shape shape;
    const char *syntax; /* reply for a malformed argument list */
};

static const struct pop3_verb_def verbs[] = {
    {"USER", POP3_USER, ARGS_NAME, "-ERR Syntax: USER name"},
    {"PASS", POP3_PASS, ARGS_REST, "-ERR Syntax: PASS password"},
    {"AUTH", POP3_AUTH, ARGS_AUTH, "-ERR Syntax: AUTH mechanism [initial-response]"},
    {"STLS", POP3_STLS, ARGS_NONE, "-ERR Syntax: STLS"},
    {"CAPA", POP3_CAPA, ARGS_NONE, "-ERR Syntax: CAPA"},
    {"QUIT", POP3_QUIT, ARGS_NONE, "-ERR Syntax: QUIT"},
    {"STAT", POP3_STAT, ARGS_NONE, "-ERR Syntax: STAT"},
    {"LIST", POP3_LIST, ARGS_MSG_OPT, "-ERR Syntax: LIST [msg]"},
    {"RETR", POP3_RETR, ARGS_MSG, "-ERR Syntax: RETR msg"},
    {"DELE", POP3_DELE, ARGS_MSG, "-ERR Syntax: DELE msg"},
    {"NOOP", POP3_NOOP, ARGS_NONE, "-ERR Syntax: NOOP"},
    {"RSET", POP3_RSET, ARGS_NONE, "-ERR Syntax: RSET"},
    {"TOP", POP3_TOP, ARGS_MSG_LINES, "-ERR Syntax: TOP msg lines"},
    {"UIDL", POP3_UIDL, ARGS_MSG_OPT, "-ERR Syntax: UIDL [msg]"},
};

static int cmd_fail(struct pop3_cmd *cmd, int code, const char *reply)
{
    cmd->reply = reply;
    return code;
}

static bool is_sp(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits the next space-separated word off *rest (leading spaces skipped). */
static struct slice next_word(struct slice *rest)
{
    size_t i = 0;
    while (i < rest->len && is_sp(rest->p[i]))
        i++;
    size_t start = i;
    while (i < rest->len && !is_sp(rest->p[i]))
        i++;
    struct slice w = slice_make(rest->p + start, i - start);
    *rest = slice_make(rest->p + i, rest->len - i);
    return w;
}

static bool all_digits(struct slice w)
{
    for (size_t i = 0; i < w.len; i++)
        if (w.p[i] < '0' || w.p[i] > '9')
            return false;
    return w.len > 0;
}

/* RFC 1939 §3: a message number is a decimal number. Too big for any maildrop is "no such
 * message" rather than a syntax error. */
static int parse_msg(struct slice w, struct pop3_cmd *cmd)
{
    unsigned long long v = 0;
    cmd->has_msg = true;
    if (!all_digits(w))
        return cmd_fail(cmd, ERR_PARSE, R_BAD_NUMBER);
    if (slice_to_u64(w, UINT32_MAX, &v) != 0)
        return cmd_fail(cmd, ERR_RANGE, R_NO_SUCH);
    cmd->msg = (uint32_t)v;
    return 0;
}

static int parse_args(const struct pop3_verb_def *def, struct slice rest, struct pop3_cmd *cmd)
{
    struct slice w1 = next_word(&rest);
    struct slice w2 = next_word(&rest);
    struct slice w3 = next_word(&rest);
    switch (def->shape) {
    case ARGS_NONE:
        return w1.len ? cmd_fail(cmd, ERR_PARSE, def->syntax) : 0;
    case ARGS_NAME:
        if (!w1.len || w2.len)
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
        cmd->arg = w1;
        return 0;
    case ARGS_REST:
        return 0; /* handled by the caller: it needs the untrimmed line */
    case ARGS_MSG_OPT:
        if (w2.len)
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
        return w1.len ? parse_msg(w1, cmd) : 0;
    case ARGS_MSG:
        if (!w1.len || w2.len)
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
        return parse_msg(w1, cmd);
    case ARGS_MSG_LINES: {
        if (!w2.len || w3.len)
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
        int rc = parse_msg(w1, cmd);
        if (rc != 0)
            return rc;
        unsigned long long v = 0;
        if (!all_digits(w2))
            return cmd_fail(cmd, ERR_PARSE, R_BAD_LINES);
        /* more lines than any message has: the whole body */
        cmd->lines = slice_to_u64(w2, UINT32_MAX, &v) == 0 ? (uint32_t)v : UINT32_MAX;
        return 0;
    }
    case ARGS_AUTH:
        if (w3.len)
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
        cmd->mechanism = w1;
        cmd->initial = w2;
        return 0;
    }
    return cmd_fail(cmd, ERR_PARSE, def->syntax);
}

int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd)
{
    memset(cmd, 0, sizeof *cmd);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return cmd_fail(cmd, ERR_PARSE, R_CHARS);
    }
    size_t vlen = 0;
    while (vlen < len && !is_sp(line[vlen]))
        vlen++;
    struct slice verb = slice_make(line, vlen);
    const struct pop3_verb_def *def = NULL;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (slice_eq_ci(verb, verbs[i].name))
            def = &verbs[i];
    if (!def)
        return cmd_fail(cmd, ERR_PARSE, R_UNKNOWN);
    cmd->verb = def->verb;
    struct slice rest = slice_make(line + vlen, len - vlen);
    if (def->shape == ARGS_REST) {
        /* RFC 1939 §7 PASS: the argument is everything after the one separating space, so a
         * password may contain (even end in) spaces. */
        if (rest.len < 2 || rest.p[0] != ' ')
            return cmd_fail(cmd, ERR_PARSE, def->syntax);
        cmd->arg = slice_make(rest.p + 1, rest.len - 1);
        return 0;
    }
    return parse_args(def, rest, cmd);
}

const char *pop3_verb_name(enum pop3_verb verb)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (verbs[i].verb == verb)
            return verbs[i].name;
    return "";
}
