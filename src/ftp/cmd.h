/*
 * cmd — one FTP command line (RFC 959 §4.1, §5.3): the verb and its argument, and the parsers
 * of the arguments that have a syntax of their own (PORT's h1,h2,h3,h4,p1,p2, RFC 2428's
 * EPRT |proto|addr|port| and EPSV's protocol, REST's offset, TYPE, MODE, STRU, PROT, PBSZ).
 *
 * Hand-written: the grammar is a verb of 3-4 letters, one space and the rest of the line (a
 * pathname may hold spaces), and no Debian library parses FTP commands on their own. Pure
 * functions over the caller's bytes: no I/O, no allocation, no globals. Slices in results
 * point into the caller's line.
 */
#ifndef PIGEON_FTP_CMD_H
#define PIGEON_FTP_CMD_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest command line accepted, without its CRLF: a pathname of PATH_MAX and the verb. */
#define FTP_LINE_MAX 4096

enum ftp_verb {
    FTP_UNKNOWN = 0,
    FTP_USER, FTP_PASS, FTP_ACCT, FTP_QUIT, FTP_NOOP, FTP_SYST, FTP_FEAT, FTP_OPTS, FTP_HELP,
    FTP_PWD, FTP_CWD, FTP_CDUP, FTP_TYPE, FTP_MODE, FTP_STRU, FTP_PASV, FTP_EPSV, FTP_PORT,
    FTP_EPRT, FTP_LIST, FTP_NLST, FTP_MLSD, FTP_MLST, FTP_RETR, FTP_STOR, FTP_STOU, FTP_APPE,
    FTP_REST, FTP_SIZE, FTP_MDTM, FTP_DELE, FTP_MKD, FTP_RMD, FTP_RNFR, FTP_RNTO, FTP_ABOR,
    FTP_STAT, FTP_AUTH, FTP_PBSZ, FTP_PROT, FTP_CCC, FTP_ALLO, FTP_SITE, FTP_SMNT, FTP_REIN,
    FTP_MFMT, FTP_VERB_COUNT
};

struct ftp_cmd {
    enum ftp_verb verb;
    struct slice arg; /* everything after the first space; empty when none */
    bool has_arg;
    const char *reply; /* set on error: the whole reply line, without CRLF */
};

/* A host and port of PORT/EPRT/PASV/EPSV: numeric address text and the port. */
struct ftp_hostport {
    int family;    /* 4 or 6 */
    char addr[48]; /* "127.0.0.1", "::1" */
    uint16_t port;
};

/*
 * Removes Telnet commands from p[0..n) in place (RFC 959 §4.1.3: ABOR may come after Telnet
 * IP and Synch, IAC IP IAC DM, whose DM byte was sent urgent and so is missing from the stream):
 * IAC IAC is one 0xff octet, IAC WILL/WONT/DO/DONT x is dropped, IAC and a command octet are
 * dropped, a lone IAC before an ordinary octet is dropped. Returns the new length.
 */
size_t ftp_telnet_strip(char *p, size_t n);

/*
 * Parses line[0..len) (no CRLF, Telnet already stripped). Verbs are case-insensitive. Returns
 * 0, or < 0 with cmd->reply: "500 Syntax error, command unrecognized." for an unknown verb
 * or control octets, "501 ..." for a missing or stray argument (cmd->verb then set).
 */
int ftp_cmd_parse(const char *line, size_t len, struct ftp_cmd *cmd);
const char *ftp_verb_name(enum ftp_verb verb); /* "RETR"; "" for FTP_UNKNOWN */

/* PORT h1,h2,h3,h4,p1,p2 (RFC 959 §4.1.2). 0 or < 0. */
int ftp_parse_port(struct slice arg, struct ftp_hostport *out);
/* EPRT <d><proto><d><addr><d><port><d> (RFC 2428 §2). 0, < 0 on bad syntax, or 1 when the
 * protocol is neither 1 nor 2 (the reply is 522). */
int ftp_parse_eprt(struct slice arg, struct ftp_hostport *out);
/* REST's marker: a decimal octet offset (RFC 3659 §5, STREAM mode). 0 or < 0. */
int ftp_parse_offset(struct slice arg, uint64_t *out);
/* MFMT's argument (draft-somers-ftp-mfxx §3): "YYYYMMDDHHMMSS[.sss] pathname", the time in
 * UTC (fractions ignored): *when in seconds since the epoch, *path the rest (not empty).
 * 0, or < 0 on bad syntax or a date that does not exist. */
int ftp_parse_mfmt(struct slice arg, int64_t *when, struct slice *path);
/* "(h1,h2,h3,h4,p1,p2)" for a 227 reply; addr must be IPv4 text. 0, or < 0 when it is not. */
int ftp_format_pasv(const struct ftp_hostport *hp, char *out, size_t cap);

#endif
