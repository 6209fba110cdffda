/*
 * sieve internals: the parsed tree (parse.c), the command and test table that checks it
 * (grammar.c), matching (match.c), variables (vars.c) and the interpreter (run.c, tests.c).
 * Every node and string of a script lives in the script's arena.
 */
#ifndef PIGEON_SIEVE_SIEVE_INT_H
#define PIGEON_SIEVE_SIEVE_INT_H

#include "msg/arena.h"
#include "sieve/sieve.h"

enum sieve_arg_type { SIEVE_ARG_TAG, SIEVE_ARG_NUM, SIEVE_ARG_STR };

struct sieve_arg {
    enum sieve_arg_type type;
    unsigned line;
    const char *tag;    /* TAG: without the colon, lower-cased */
    uint64_t num;       /* NUM: K/M/G applied */
    const char **strs;  /* STR: one string, or a bracketed list */
    size_t nstrs;
    bool list;          /* written in brackets */
};

struct sieve_node {
    const char *name; /* lower-cased identifier */
    unsigned line;
    int id;           /* index into the grammar table, set by the check */
    struct sieve_arg *args;
    size_t nargs;
    struct sieve_node *tests; /* a command's test, a test's tests (allof/anyof/not) */
    size_t ntests;
    bool test_list;           /* tests were written in parentheses */
    struct sieve_node *block; /* a command's block */
    size_t nblock;
    bool has_block;
};

struct sieve_script {
    struct msg_arena arena;
    struct sieve_node *cmds;
    size_t ncmds;
    unsigned caps; /* enum sieve_cap: what require declared */
};

/* The commands and tests a script may name (grammar.c's table index). */
enum sieve_id {
    SIEVE_REQUIRE,
    SIEVE_IF,
    SIEVE_ELSIF,
    SIEVE_ELSE,
    SIEVE_STOP,
    SIEVE_KEEP,
    SIEVE_DISCARD,
    SIEVE_FILEINTO,
    SIEVE_REDIRECT,
    SIEVE_REJECT,
    SIEVE_EREJECT,
    SIEVE_SETFLAG,
    SIEVE_ADDFLAG,
    SIEVE_REMOVEFLAG,
    SIEVE_SET,
    SIEVE_VACATION,
    SIEVE_INCLUDE,
    SIEVE_RETURN,
    SIEVE_GLOBAL,
    /* tests */
    SIEVE_T_ADDRESS,
    SIEVE_T_ENVELOPE,
    SIEVE_T_HEADER,
    SIEVE_T_EXISTS,
    SIEVE_T_SIZE,
    SIEVE_T_TRUE,
    SIEVE_T_FALSE,
    SIEVE_T_NOT,
    SIEVE_T_ALLOF,
    SIEVE_T_ANYOF,
    SIEVE_T_BODY,
    SIEVE_T_STRING,
    SIEVE_T_HASFLAG,
    SIEVE_T_DATE,
    SIEVE_T_CURRENTDATE,
    SIEVE_T_MAILBOXEXISTS,
};

/* grammar.c: checks one tree against the tables; 0 or ERR_PARSE with "line N: ..." in err. */
int sieve_check(struct sieve_script *s, struct str *err);
/* encoded.c: decodes "${hex:..}" / "${unicode:..}" in n's string arguments (RFC 5228
 * §2.4.2.4); 0 or ERR_PARSE with "line N: ..." in err. */
int sieve_decode_encoded(struct sieve_script *s, struct sieve_node *n, struct str *err);
/* The capability bit of a require name (0: unknown). */
unsigned sieve_cap_from_name(const char *name);

/* Finds tag `name` among a node's arguments; its value argument (if any) follows it. */
const struct sieve_arg *sieve_tag(const struct sieve_node *n, const char *name);
/* The i-th positional (non-tag, non-tag-value) argument, or NULL. */
const struct sieve_arg *sieve_pos(const struct sieve_node *n, size_t i);
size_t sieve_npos(const struct sieve_node *n);

/* ---- matching (match.c) ---- */

enum sieve_cmp { SIEVE_CMP_CASEMAP, SIEVE_CMP_OCTET, SIEVE_CMP_NUMERIC };
enum sieve_mt { SIEVE_MT_IS, SIEVE_MT_CONTAINS, SIEVE_MT_MATCHES, SIEVE_MT_REGEX,
                SIEVE_MT_COUNT, SIEVE_MT_VALUE };
enum sieve_rel { SIEVE_REL_GT, SIEVE_REL_GE, SIEVE_REL_LT, SIEVE_REL_LE, SIEVE_REL_EQ,
                 SIEVE_REL_NE };

#define SIEVE_MATCH_VARS 10

struct sieve_matcher {
    enum sieve_cmp cmp;
    enum sieve_mt mt;
    enum sieve_rel rel;
    /* Filled by a successful :matches / :regex: ${0}..${9}. */
    struct str vars[SIEVE_MATCH_VARS];
    bool captured;
};

/* Reads :comparator, the match type and the relation of node n. 0, or ERR_PARSE. */
int sieve_matcher_init(struct sieve_matcher *m, const struct sieve_node *n);
void sieve_matcher_clear(struct sieve_matcher *m);
/* Does value match key? For :matches and :regex, fills m->vars on success. < 0: bad regex. */
int sieve_match_one(struct sieve_matcher *m, const char *value, size_t vlen, const char *key);
/* :count: compares count with key under the relation (i;ascii-numeric). */
bool sieve_match_count(const struct sieve_matcher *m, size_t count, const char *key);
/* i;ascii-numeric value of s: leading digits; *inf set when there are none. */
uint64_t sieve_numeric(const char *s, size_t n, bool *inf);

/* ---- variables (vars.c) ---- */

struct sieve_var {
    char *name; /* lower-cased */
    struct str value;
};

struct sieve_vars {
    struct sieve_var *v;
    size_t n;
    struct str match[SIEVE_MATCH_VARS];
    size_t nmatch;
    const struct sieve_limits *lim;
};

void sieve_vars_clear(struct sieve_vars *vs);
/* Sets name to value (cut to lim->max_var_size). ERR_LIMIT past max_variables. */
int sieve_vars_set(struct sieve_vars *vs, const char *name, const char *value, size_t len);
/* Appends s with every ${name} / ${N} replaced (RFC 5229 §3) to out. */
void sieve_vars_expand(const struct sieve_vars *vs, const char *s, struct str *out);
/* Applies set's modifiers (:lower, :upper, :lowerfirst, :upperfirst, :quotewildcard,
 * :length) of node n to value, in the RFC 5229 §4.1 order. */
void sieve_vars_modify(const struct sieve_node *n, struct str *value);
/* True for a valid variable name (identifier) a script may set. */
bool sieve_var_name_ok(const char *name);

/* ---- the interpreter (run.c, tests.c) ---- */

struct sieve_run {
    const struct sieve_env *env;
    const struct sieve_limits *lim;
    struct sieve_result *res;
    struct str *err;
    struct sieve_vars vars;
    struct str flags;        /* imap4flags' internal variable */
    bool implicit_keep;
    bool stopped;            /* stop (also ends the scripts that included this one) */
    bool returned;           /* return: ends the current script */
    unsigned caps;           /* of the script being run */
    unsigned includes;
    unsigned redirects;
    const char **once;       /* scripts already included with :once */
    size_t nonce;
    struct sieve_script **owned; /* included scripts, freed at the end */
    size_t nowned;
    int rc;                  /* first error */
};

/* The string s, variables expanded when the script required them; in a scratch str. */
const char *sieve_expand(struct sieve_run *r, const char *s, struct str *scratch);
/* Evaluates test t: 1 true, 0 false, < 0 error (r->rc set). */
int sieve_test_eval(struct sieve_run *r, const struct sieve_node *t);
/* Runs a block of commands. */
void sieve_block_run(struct sieve_run *r, const struct sieve_node *cmds, size_t n);
/* Records an error (the first one wins) and stops the run. */
void sieve_fail(struct sieve_run *r, int rc, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A new action in the result; NULL (and the run failed) past max_actions. */
struct sieve_action *sieve_action_new(struct sieve_run *r, enum sieve_action_kind k,
                                      unsigned line);
/* vacation.c: the vacation command. */
void sieve_vacation_cmd(struct sieve_run *r, const struct sieve_node *c);

/* imap4flags: adds / removes the space-separated flags in list to / from set (no duplicates,
 * system flags case-insensitive). */
void sieve_flags_add(struct str *set, const char *list);
void sieve_flags_remove(struct str *set, const char *list);

#endif
