/*
 * sieve — the Sieve mail filtering language (RFC 5228) as a pure engine: a script's text is
 * parsed and checked into a tree (sieve_script_parse), and the tree is run against one message
 * (sieve_run), which yields the list of actions to carry out. Extensions: fileinto, reject and
 * ereject (RFC 5429), envelope, imap4flags (RFC 5232), vacation (RFC 5230), copy (RFC 3894),
 * body (RFC 5173), variables (RFC 5229), relational (RFC 5231), subaddress (RFC 5233), include
 * (RFC 6609), regex (draft-ietf-sieve-regex, POSIX extended), date (RFC 5260) and the
 * i;ascii-numeric comparator (RFC 4790).
 *
 * Performs no I/O and keeps no global state: the message, the envelope, the clock and the
 * scripts an include names all come from the caller (struct sieve_env). Carrying out the
 * actions (storing, forwarding, answering, remembering vacation replies) is the caller's job.
 *
 * Memory: a script is owned by the caller (sieve_script_free); a result by the caller
 * (sieve_result_clear). Errors are text with the line number ("line 3: unknown test
 * \"hedaer\"") in a caller-owned struct str.
 */
#ifndef PIGEON_SIEVE_SIEVE_H
#define PIGEON_SIEVE_SIEVE_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The extensions, as "require" names them; sieve_capabilities() lists them for ManageSieve's
 * SIEVE capability. */
enum sieve_cap {
    SIEVE_CAP_FILEINTO = 1u << 0,
    SIEVE_CAP_REJECT = 1u << 1,
    SIEVE_CAP_EREJECT = 1u << 2,
    SIEVE_CAP_ENVELOPE = 1u << 3,
    SIEVE_CAP_IMAP4FLAGS = 1u << 4,
    SIEVE_CAP_VACATION = 1u << 5,
    SIEVE_CAP_COPY = 1u << 6,
    SIEVE_CAP_BODY = 1u << 7,
    SIEVE_CAP_VARIABLES = 1u << 8,
    SIEVE_CAP_RELATIONAL = 1u << 9,
    SIEVE_CAP_SUBADDRESS = 1u << 10,
    SIEVE_CAP_INCLUDE = 1u << 11,
    SIEVE_CAP_REGEX = 1u << 12,
    SIEVE_CAP_DATE = 1u << 13,
    SIEVE_CAP_NUMERIC = 1u << 14,          /* comparator-i;ascii-numeric */
    SIEVE_CAP_VACATION_SECONDS = 1u << 15, /* RFC 6131 */
    SIEVE_CAP_ENCODED_CHAR = 1u << 16,     /* RFC 5228 §2.4.2.4 */
    SIEVE_CAP_MAILBOX = 1u << 17,          /* RFC 5490 §3: fileinto :create, mailboxexists */
};

/* "fileinto reject ..." : the space-separated capability names (static). */
const char *sieve_capabilities(void);

struct sieve_limits {
    size_t max_script_size; /* octets of one script */
    unsigned max_nesting;   /* blocks and tests inside each other */
    unsigned max_actions;   /* actions one run may collect */
    unsigned max_redirects; /* redirect actions per message */
    unsigned max_includes;  /* include commands run per message (depth and count) */
    unsigned max_variables; /* distinct variables */
    size_t max_var_size;    /* octets of one variable's value (longer values are cut) */
};
/* Fills l with the defaults (64 KiB, 32, 32, 4, 8, 128, 4096). */
void sieve_limits_default(struct sieve_limits *l);

struct sieve_script;

/*
 * Parses and checks text[0..len) (RFC 5228 §8 grammar; every command, test, tag and argument
 * checked against what "require" declared). Returns 0 with *out set, or ERR_PARSE / ERR_LIMIT
 * with the reason appended to err ("line N: ..."). Never reads past len.
 */
int sieve_script_parse(const char *text, size_t len, const struct sieve_limits *lim,
                       struct sieve_script **out, struct str *err);
void sieve_script_free(struct sieve_script *s);

/* ---- running ---- */

enum sieve_action_kind {
    SIEVE_ACT_KEEP,     /* store in the default mailbox (INBOX) */
    SIEVE_ACT_FILEINTO, /* store in mailbox */
    SIEVE_ACT_REDIRECT, /* send the message unchanged to address */
    SIEVE_ACT_REJECT,   /* refuse with reason (reject and ereject alike) */
    SIEVE_ACT_VACATION, /* send the reply in `reply` to `to` unless `handle` answered them */
};

struct sieve_action {
    enum sieve_action_kind kind;
    unsigned line;   /* the command's line in its script */
    char *mailbox;   /* FILEINTO */
    char *flags;     /* KEEP, FILEINTO: IMAP flags, space-separated ("" none) */
    bool create;     /* FILEINTO :create (RFC 5490 §3.2): make the mailbox when missing */
    char *address;   /* REDIRECT: the target; VACATION: the reply's recipient */
    char *reason;    /* REJECT */
    /* VACATION: */
    char *handle;    /* identifies this vacation text (RFC 5230 §4.2) */
    unsigned days;   /* answer one sender at most once in this many days (:days) */
    uint64_t period; /* the same in seconds (:days, or :seconds of RFC 6131; 0: every time) */
    char *from;      /* the reply's From: address */
    char *subject;   /* the reply's Subject: (UTF-8) */
    char *body;      /* the reason; with mime, a MIME entity (header and body) */
    bool mime;
};

struct sieve_result {
    struct sieve_action *v;
    size_t n;
    struct str log; /* notes worth logging (a vacation not sent and why), one per line */
};
void sieve_result_clear(struct sieve_result *r);

/* The message and its envelope, and how to reach included scripts. */
struct sieve_env {
    const char *msg; /* the message as it will be stored (header and body) */
    size_t len;
    const char *env_from; /* envelope sender; "" for <> */
    const char *env_to;   /* the envelope recipient this run is for ("user+detail@domain") */
    const char *const *user_addresses; /* the user's own addresses (vacation), may be NULL */
    size_t n_user_addresses;
    char delimiter;       /* subaddress separator, e.g. '+' ('\0': none) */
    int64_t now;          /* unix seconds, for currentdate */
    int tz_min;           /* local zone, minutes east of UTC (date tests' default zone) */
    /* include: the text of script name (personal or global). 0 with *text_out malloc'd, or
     * ERR_NOTFOUND. NULL: include always fails. */
    int (*include)(void *ctx, const char *name, bool global, char **text_out, size_t *len_out);
    void *include_ctx;
    /* mailboxexists (RFC 5490 §3.1): whether the user's mailbox name exists. NULL: none does. */
    bool (*mailbox_exists)(void *ctx, const char *name);
    void *mailbox_ctx;
};

/*
 * Runs script s for one message. Returns 0 with the actions in *out (an implicit keep, when
 * no action cancelled it, is there as a SIEVE_ACT_KEEP), or ERR_PARSE (an include failed to
 * parse), ERR_LIMIT or ERR_BUSY_STATE (incompatible actions) with the reason in err — the
 * caller then keeps the message (RFC 5228 §2.10.6). out is always initialised.
 */
int sieve_run(const struct sieve_script *s, const struct sieve_env *env,
              const struct sieve_limits *lim, struct sieve_result *out, struct str *err);

/*
 * Builds the vacation reply of action a (RFC 5230 §5, RFC 3834): header (From, To, Subject,
 * Date, Message-ID, In-Reply-To/References from the original, Auto-Submitted: auto-replied,
 * MIME fields) and body, CRLF line ends, appended to out. date is an RFC 5322 date, msgid a
 * "<...>" Message-ID; both come from the caller (no clock, no randomness here).
 */
void sieve_vacation_build(const struct sieve_action *a, const struct sieve_env *env,
                          const char *date, const char *msgid, struct str *out);

/*
 * Builds the notice a reject sends when the refusal cannot be an SMTP reply (RFC 5429 §2.1.1):
 * an MDN (RFC 8098) to env->env_from saying the message to `recipient` was deleted, with the
 * reason and the original header. mailer is the From: address ("MAILER-DAEMON@domain").
 */
void sieve_reject_build(const char *reason, const char *recipient, const struct sieve_env *env,
                        const char *mailer, const char *date, const char *msgid,
                        struct str *out);

#endif
