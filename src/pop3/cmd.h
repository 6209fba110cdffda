/*
 * cmd — parse one POP3 command line (RFC 1939 §3, RFC 2449, RFC 2595 STLS, RFC 5034 AUTH).
 *
 * pop3_cmd_parse() is a pure function over the bytes of one line (without its CRLF): no I/O,
 * no allocation, no globals. It checks the syntax only (which verbs exist, how many arguments,
 * that message numbers are numbers); whether a command is allowed in the session's state is
 * the session's business. Slices in the result point into the caller's line. On error it
 * returns a negative ERR_* and sets cmd->reply to the whole reply to send (static text without
 * CRLF, e.g. "-ERR Syntax: RETR msg").
 */
#ifndef PIGEON_POP3_CMD_H
#define PIGEON_POP3_CMD_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

/* RFC 2449 §4: a command line is at most 255 octets including the CRLF. */
#define POP3_LINE_MAX 255

enum pop3_verb {
    POP3_UNKNOWN = 0,
    POP3_USER,
    POP3_PASS,
    POP3_AUTH,
    POP3_STLS,
    POP3_CAPA,
    POP3_QUIT,
    POP3_STAT,
    POP3_LIST,
    POP3_RETR,
    POP3_DELE,
    POP3_NOOP,
    POP3_RSET,
    POP3_TOP,
    POP3_UIDL,
};

struct pop3_cmd {
    enum pop3_verb verb;
    /* USER: the name; PASS: everything after "PASS " (a password may hold spaces) */
    struct slice arg;
    /* LIST, UIDL (optional), RETR, DELE, TOP: the message number, 1-based */
    bool has_msg;
    uint32_t msg;
    /* TOP: the number of body lines */
    uint32_t lines;
    /* AUTH: the mechanism (empty: "AUTH" alone lists the mechanisms) and the initial response
     * (empty if absent; "=" stands for an empty response, RFC 5034 §4) */
    struct slice mechanism;
    struct slice initial;
    /* set on error */
    const char *reply;
};

/*
 * Parses line[0..len) (no CRLF). Verbs are case-insensitive; arguments are separated by
 * spaces (one or more, RFC 1939 says one). Returns 0, or a negative ERR_* with cmd->reply:
 *   unknown verb                          "-ERR Unknown command"
 *   control characters in the line        "-ERR Invalid characters in command"
 *   missing, extra or malformed argument  "-ERR Syntax: <verb usage>"
 *   a message number that is not a number "-ERR Invalid message number"
 * cmd->verb is set even on a syntax error of a known verb.
 */
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd);

/* "USER", "RETR", ... ("" for POP3_UNKNOWN). Static. */
const char *pop3_verb_name(enum pop3_verb verb);

#endif
