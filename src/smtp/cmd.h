/*
 * cmd — parse one SMTP command line (RFC 5321 §4.1, RFC 1870, 3030, 4468, 4954, 6152, 6531).
 *
 * smtp_cmd_parse() is a pure function over the bytes of one line (without its CRLF): no I/O,
 * no allocation, no globals. Slices in the result point into the caller's line. On error it
 * returns a negative ERR_* and sets cmd->reply to the complete reply to send (static text,
 * e.g. "501 5.5.4 Syntax: MAIL FROM:<address>").
 */
#ifndef PIGEON_SMTP_CMD_H
#define PIGEON_SMTP_CMD_H

#include "core/str.h"
#include "msg/addr.h"

#include <stdbool.h>
#include <stdint.h>

enum smtp_verb {
    SMTP_UNKNOWN = 0,
    SMTP_HELO,
    SMTP_EHLO,
    SMTP_MAIL,
    SMTP_RCPT,
    SMTP_DATA,
    SMTP_BDAT,
    SMTP_RSET,
    SMTP_NOOP,
    SMTP_QUIT,
    SMTP_HELP,
    SMTP_VRFY,
    SMTP_EXPN,
    SMTP_STARTTLS,
    SMTP_AUTH,
    SMTP_BURL,
};

enum smtp_body_type { SMTP_BODY_UNSPEC = 0, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };

#define SMTP_CMD_MAX_PARAMS 16

struct smtp_param {
    struct slice key;   /* e.g. "SIZE" */
    struct slice value; /* empty when the parameter has no "=value" */
};

struct smtp_cmd {
    enum smtp_verb verb;
    struct slice arg;   /* everything after the verb and one or more spaces, trailing space trimmed */
    /* MAIL / RCPT */
    struct mail_addr addr;
    struct smtp_param params[SMTP_CMD_MAX_PARAMS];
    unsigned nparams;
    /* MAIL parameters understood by Pigeon (others are refused with 555 5.5.4) */
    uint64_t size;      /* SIZE=, 0 if absent */
    enum smtp_body_type body;
    bool smtputf8;
    struct slice auth_param; /* MAIL AUTH=<...> (RFC 4954 §5), ignored but accepted */
    bool requiretls;         /* MAIL ... REQUIRETLS (RFC 8689 §2): TLS on every hop */
    /* BDAT */
    uint64_t chunk_size;
    bool last; /* BDAT or BURL ... LAST */
    /* BURL (RFC 4468) */
    struct slice url;
    /* AUTH */
    struct slice mechanism;
    struct slice initial;    /* initial response, empty if absent ("=" means empty response) */
    /* set on error */
    const char *reply;
};

/*
 * Parses line[0..len) (no CRLF). Verbs are case-insensitive. "MAIL FROM:" and "RCPT TO:"
 * accept spaces after the colon (the textbook types "MAIL FROM: <alice@crepes.fr>").
 * flags: SMTP_PARSE_UTF8 when the transaction's MAIL carried SMTPUTF8, so RCPT may hold UTF-8
 * (MAIL itself allows UTF-8 when its own SMTPUTF8 parameter is present).
 * Returns 0, or a negative ERR_* with cmd->reply set:
 *   unknown verb                "500 5.5.2 Command not recognized"
 *   bad syntax                  "501 5.5.4 ..." (address problems "501 5.1.3"/"501 5.1.7")
 *   unknown MAIL/RCPT parameter "555 5.5.4 ..."
 *   non-ASCII address without SMTPUTF8 "553 5.6.7 ..."
 */
enum smtp_parse_flags { SMTP_PARSE_UTF8 = 1 << 0 };
int smtp_cmd_parse(const char *line, size_t len, unsigned flags, struct smtp_cmd *cmd);

/* Canonical name of a verb ("MAIL"), for logs. */
const char *smtp_verb_name(enum smtp_verb v);

#endif
