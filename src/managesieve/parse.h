/*
 * managesieve parse — one ManageSieve command read from the bytes received so far (see
 * parse.c). Pure; arguments are copied (unescaped) into the command's own buffer.
 */
#ifndef PIGEON_MANAGESIEVE_PARSE_H
#define PIGEON_MANAGESIEVE_PARSE_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

#define MSV_MAX_ARGS 4
#define MSV_LINE_MAX 8192 /* octets of a command line outside its literals */

enum msv_arg_type { MSV_ARG_STR = 1, MSV_ARG_NUM };

struct msv_arg {
    enum msv_arg_type type;
    uint64_t num;
    size_t off, len; /* STR: in strs */
};

struct msv_cmd {
    char name[16]; /* upper-cased */
    struct msv_arg args[MSV_MAX_ARGS];
    unsigned nargs;
    struct str strs; /* the strings, each NUL-terminated (owned; str_clear when done) */
};

/*
 * Reads one command from p[0..n). Returns the bytes it used (> 0) with *out filled, 0 when
 * the command is not complete yet, or < 0: ERR_PARSE (a bad line: drop *skip bytes, the line
 * through its LF, and answer NO *why) or ERR_LIMIT (a literal over max_literal: drop *skip
 * bytes — the literal included, more may still have to arrive — then the rest of the line).
 */
int msv_cmd_parse(const char *p, size_t n, size_t max_literal, struct msv_cmd *out,
                  const char **why, size_t *skip);
/* Argument i as a NUL-terminated string. */
const char *msv_arg_str(const struct msv_cmd *c, unsigned i);

#endif
