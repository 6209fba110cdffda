/*
 * parser — incremental IMAP command parser (RFC 3501 §9 grammar, LITERAL+ of RFC 7888).
 *
 * Feed it bytes as they arrive, in pieces of any size; it returns one event at a time:
 * a complete command ("tag name args"), a literal announcement (so the caller can send
 * "+ Ready for literal" for a synchronizing literal, or refuse it), a chunk of a streamed
 * literal, or an error with a reason for the BAD reply. Arguments form a tree of atoms,
 * NIL, quoted strings, literals and (nested) lists. The parser never touches a socket, a
 * clock or a global; it copies what it keeps, so the caller may drop consumed input at once.
 *
 * Framing: a command is a line (CRLF; a bare LF is accepted too) that may be interrupted by
 * literals "{n}" / "{n+}" (or literal8 "~{n}" / "~{n+}" of RFC 3516) at a line end, after
 * which the command continues on the next line.
 * Atoms are ATOM-CHARs plus '%', '*', '\' and ']' (flags, wildcards, sequence sets,
 * astrings); after BODY/BINARY[.PEEK] a "[...]" section spec is part of the atom, spaces and
 * parentheses included ("BODY.PEEK[HEADER.FIELDS (From To)]<0.100>" is one atom).
 *
 * Return convention of imap_parser_feed: > 0 an event (enum imap_parse_event), 0 all input
 * consumed and more is needed, < 0 an error (ERR_PARSE: syntax, reply BAD; ERR_LIMIT: a limit
 * was hit, see the event). After an error the parser recovers by itself: it discards the rest
 * of the command, including the bytes of any non-synchronizing literal the discarded text
 * announces, and then parses the next command. Keep feeding.
 *
 * Memory: the command tree, tag and strings live in the parser's arena and stay valid until
 * the next imap_parser_feed call. Limits (line length, literal size, memory per command,
 * nesting, argument count) bound everything a client can make the parser hold.
 */
#ifndef PIGEON_IMAP_PARSER_H
#define PIGEON_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
    IMAP_ARG_ATOM,
    IMAP_ARG_NIL,      /* the atom NIL (any case); str is still "NIL" for astring use */
    IMAP_ARG_STRING,   /* quoted string, escapes removed */
    IMAP_ARG_LITERAL,  /* literal held in memory */
    IMAP_ARG_STREAMED, /* literal whose bytes went to the caller as LITERAL_DATA events */
    IMAP_ARG_LIST,
};

struct imap_arg {
    enum imap_arg_type type;
    const char *str;       /* ATOM/NIL/STRING/LITERAL: NUL-terminated; a LITERAL may hold NULs */
    size_t len;            /* bytes in str; STREAMED: the literal's size */
    struct imap_arg *list; /* LIST: its elements */
    size_t count;          /* LIST: number of elements */
    bool literal_sync;     /* LITERAL/STREAMED: "{n}" rather than "{n+}" */
    bool literal8;         /* LITERAL/STREAMED: "~{n}" (RFC 3516 literal8: may hold NULs) */
};

struct imap_cmd {
    const char *tag;
    const char *name; /* as sent: compare case-insensitively */
    struct imap_arg *args;
    size_t nargs;
};

struct imap_parser_limits {
    size_t max_line;      /* bytes in one line of a command, literals excluded */
    uint64_t max_literal; /* larger literals are refused before a byte of them is read */
    size_t max_memory;    /* bytes held for one command: strings and in-memory literals */
    unsigned max_depth;   /* list nesting */
    size_t max_args;      /* arguments in one command, counting every level */
};

/* Defaults: line 64 KiB, literal 64 MiB, memory 65 MiB, depth 32, args 100000. */
void imap_parser_limits_default(struct imap_parser_limits *lim);

enum imap_parse_event {
    IMAP_PARSE_COMMAND = 1,      /* ev->cmd is a complete command */
    IMAP_PARSE_LITERAL = 2,      /* a literal was announced: see imap_parser_feed */
    IMAP_PARSE_LITERAL_DATA = 3, /* a chunk of a streamed literal: ev->data, ev->len */
    IMAP_PARSE_LINE = 4,         /* the raw line asked for by imap_parser_expect_line */
};

struct imap_parser_event {
    const struct imap_cmd *cmd; /* COMMAND */
    const char *tag;            /* the current command's tag once read (errors too), else NULL */
    const char *name;           /* its name once read, else NULL */
    uint64_t literal_size;      /* LITERAL, LITERAL_DATA, and ERR_LIMIT for a too large literal */
    bool literal_sync;          /* LITERAL: synchronizing ("{n}"): the client awaits "+" */
    unsigned literal_depth;     /* LITERAL: list nesting of the literal (0: top level) */
    size_t literal_index;       /* LITERAL: its index among the arguments of that level */
    uint64_t literal_offset;    /* LITERAL_DATA: offset of this chunk within the literal */
    const char *data;           /* LITERAL_DATA, LINE: bytes, valid until the next feed */
    size_t len;
    const char *error; /* errors: static reason for "BAD <reason>" */
    bool empty_line;   /* error: the line was empty (a session may ignore it) */
};

struct imap_parser;

/* lim NULL: defaults. Owned by the caller: imap_parser_free. */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *lim);
void imap_parser_free(struct imap_parser *p);
/* Forgets any partial command and buffered bytes (after STARTTLS, for instance). */
void imap_parser_reset(struct imap_parser *p);

/*
 * Consumes bytes from data[0..len) until an event, an error or the end of the input;
 * *used_out gets the count consumed (the rest must be fed again). *ev is filled for every
 * return. Never blocks.
 *
 * Literal contract. When "{n}" or "{n+}" ends a line, the size is checked first: above
 * max_literal (or what max_memory has left) the result is ERR_LIMIT with ev->literal_size
 * set; reply "<tag> NO [TOOBIG] ..." (or BAD) and keep feeding: for "{n}" the client sends
 * nothing more for this command, for "{n+}" the parser discards the n bytes and the rest of
 * the command as they arrive (a caller may also close the connection: RFC 7888 §4).
 * Otherwise the result is IMAP_PARSE_LITERAL and, before feeding again, the caller:
 *   - for ev->literal_sync, sends "+ Ready for literal" unless it refuses the literal;
 *   - may call imap_parser_literal_stream() to receive the bytes as LITERAL_DATA events
 *     instead of in memory (APPEND of a large message): the argument is then STREAMED;
 *   - may call imap_parser_literal_reject() and send a tagged NO/BAD (sync: the client sends
 *     no literal; non-sync: the parser discards it and the rest of the command).
 * ev->tag and ev->name tell which command the literal belongs to.
 */
int imap_parser_feed(struct imap_parser *p, const char *data, size_t len, size_t *used_out,
                     struct imap_parser_event *ev);

/* After IMAP_PARSE_LITERAL: deliver this literal's bytes as LITERAL_DATA events. */
void imap_parser_literal_stream(struct imap_parser *p);
/* After IMAP_PARSE_LITERAL: refuse this literal; the command is dropped (see feed). */
void imap_parser_literal_reject(struct imap_parser *p);
/* Between commands: the next line is returned raw as IMAP_PARSE_LINE (IDLE's "DONE",
 * AUTHENTICATE responses); max_line applies. */
void imap_parser_expect_line(struct imap_parser *p);
/* True when no partial command, literal or skipped text is pending. */
bool imap_parser_is_idle(const struct imap_parser *p);

/* ---- argument helpers --------------------------------------------------------------- */

/* True for an ATOM (or NIL) equal to word, ASCII case-insensitively. */
bool imap_arg_atom_eq(const struct imap_arg *a, const char *word);
/* astring: ATOM, NIL (as the atom "NIL"), STRING or LITERAL. */
bool imap_arg_get_astring(const struct imap_arg *a, const char **s_out, size_t *len_out);
/* string: STRING or LITERAL only. */
bool imap_arg_get_string(const struct imap_arg *a, const char **s_out, size_t *len_out);
/* nstring: NIL gives *s_out NULL; else as imap_arg_get_string. */
bool imap_arg_get_nstring(const struct imap_arg *a, const char **s_out, size_t *len_out);

#endif
