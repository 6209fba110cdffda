/*
 * jmap_int — what the engine's files share (not a public header): the per-request context,
 * the account snapshot the methods read, the method table and small JSON helpers.
 */
#ifndef PIGEON_JMAP_JMAP_INT_H
#define PIGEON_JMAP_JMAP_INT_H

#include "jmap/jmap.h"

#include <jansson.h>

#define JMAP_CAP_CORE "urn:ietf:params:jmap:core"
#define JMAP_CAP_MAIL "urn:ietf:params:jmap:mail"
#define JMAP_CAP_SUBMISSION "urn:ietf:params:jmap:submission"
#define JMAP_CAP_VACATION "urn:ietf:params:jmap:vacationresponse"
#define JMAP_CAP_WEBSOCKET "urn:ietf:params:jmap:websocket"

/* A mailbox and a message row as the engine keeps them for one request. */
struct jmap_box {
    int64_t id, total, unread, modseq, uidnext;
    char *name;
    char role[16]; /* "inbox", "sent", ... or "" */
    bool subscribed;
};

struct jmap_row {
    int64_t mailbox_id, uid, modseq, size, received, thread_id;
    char *flags;
    char blob[33];
};

/* The account as read at the start of a method (reloaded after a write). */
struct jmap_snap {
    bool loaded;
    struct jmap_box *boxes; /* name order */
    size_t nboxes;
    struct jmap_row *rows;  /* (mailbox id, uid) order */
    size_t nrows;
    size_t *by_thread;      /* row indexes by (thread, receivedAt, id); NULL until built */
};

struct jmap_ctx {
    struct jmap_env *env;
    struct jmap_snap snap;
    json_t *created_ids; /* creation id -> id, for "#ref" ids (RFC 8620 §5.3) */
    json_t *extra;       /* responses a method adds after its own (implicit Email/set) */
    json_t *err;         /* the method error set by jmap_method_error */
    const char *call_id;
};

typedef json_t *(*jmap_method_fn)(struct jmap_ctx *c, json_t *args);

struct jmap_method {
    const char *name;
    const char *capability; /* the "using" entry it needs */
    jmap_method_fn fn;
};

/* ---- request.c ---- */
/* Sets the method error (type, description may be NULL) and returns NULL. */
json_t *jmap_method_error(struct jmap_ctx *c, const char *type, const char *desc);
/* A SetError object (RFC 8620 §5.3). */
json_t *jmap_set_error(const char *type, const char *desc);
/* Checks accountId; NULL when right, else the method error already set. */
bool jmap_account_ok(struct jmap_ctx *c, json_t *args);
/* An id argument that may be "#creationId" (resolved through created_ids), or NULL. */
const char *jmap_resolve_id(struct jmap_ctx *c, const char *id);

/* Checks a /changes or /queryChanges call's accountId, its old state (argument `since`) and
 * maxChanges; the limit (0: none) out, or false with the method error set (changes.c). */
bool jmap_changes_args(struct jmap_ctx *c, json_t *args, const char *since, size_t *max_out);
/* A Filter of RFC 8620 §5.5: a FilterOperator (AND, OR, NOT over conditions, nested up to 16
 * deep) or a FilterCondition, which cond decides. 1 match, 0 none, -1 not a valid filter or
 * a condition cond does not know (request.c). A NULL or null filter matches. */
int jmap_filter_eval(json_t *f, int (*cond)(void *arg, json_t *condition), void *arg);

/* ---- snap.c ---- */
int jmap_snap_load(struct jmap_ctx *c);
void jmap_snap_clear(struct jmap_snap *s);
/* After a write: the next jmap_snap_load reads the store again. */
void jmap_snap_invalidate(struct jmap_ctx *c);
const struct jmap_box *jmap_box_by_id(const struct jmap_snap *s, int64_t id);
const struct jmap_box *jmap_box_by_name(const struct jmap_snap *s, const char *name);
const struct jmap_box *jmap_box_by_role(const struct jmap_snap *s, const char *role);
const struct jmap_row *jmap_row_find(const struct jmap_snap *s, int64_t mailbox_id, int64_t uid);
/* Threads: builds s->by_thread once; the rows of thread t are by_thread[*first ..
 * *first + count), oldest first (RFC 8621 §3: emailIds in receivedAt order). */
void jmap_snap_threads(struct jmap_snap *s);
size_t jmap_thread_rows(struct jmap_snap *s, int64_t t, size_t *first);
json_t *jmap_thread_id_json(int64_t t);
int jmap_thread_id_parse(const char *id, int64_t *out);
/* "m12" -> 12; "e12-34" -> 12, 34. 0 or ERR_PARSE. */
int jmap_mbox_id_parse(const char *id, int64_t *out);
int jmap_email_id_parse(const char *id, int64_t *mbox_out, int64_t *uid_out);
json_t *jmap_mbox_id_json(int64_t id);
json_t *jmap_email_id_json(int64_t mbox, int64_t uid, char prefix);
/* The account's state string (state.c). */
void jmap_state_write(const struct jmap_snap *s, struct str *out);
json_t *jmap_state_json(struct jmap_ctx *c);

/* State strings (state.c): the mailboxes' (id, modseq, uidnext) at some time. */
struct jmap_state_ent {
    int64_t id, modseq, uidnext;
};
struct jmap_state {
    uint32_t names; /* hash of names, roles and subscriptions */
    struct jmap_state_ent *ent;
    size_t n;
};
int jmap_state_parse(const char *s, struct jmap_state *out);
void jmap_state_clear(struct jmap_state *st);
const struct jmap_state_ent *jmap_state_find(const struct jmap_state *st, int64_t id);

/* ---- flags.c: IMAP flags <-> JMAP keywords ---- */
json_t *jmap_keywords_from_flags(const char *flags);
/* Canonical IMAP flag text from a keywords object; -1 when a keyword is not valid. */
int jmap_flags_from_keywords(json_t *kw, struct str *out);
bool jmap_flags_has(const char *flags, const char *flag);

/* ---- the methods (one file each group) ---- */
json_t *jmap_mailbox_get(struct jmap_ctx *c, json_t *args);
json_t *jmap_mailbox_changes(struct jmap_ctx *c, json_t *args);
json_t *jmap_mailbox_query(struct jmap_ctx *c, json_t *args);
json_t *jmap_mailbox_query_changes(struct jmap_ctx *c, json_t *args);
json_t *jmap_mailbox_set(struct jmap_ctx *c, json_t *args);
json_t *jmap_email_get(struct jmap_ctx *c, json_t *args);
json_t *jmap_email_changes(struct jmap_ctx *c, json_t *args);
json_t *jmap_email_query(struct jmap_ctx *c, json_t *args);
json_t *jmap_email_query_changes(struct jmap_ctx *c, json_t *args);
json_t *jmap_email_set(struct jmap_ctx *c, json_t *args);
json_t *jmap_email_import(struct jmap_ctx *c, json_t *args);
json_t *jmap_email_parse(struct jmap_ctx *c, json_t *args);
json_t *jmap_thread_get(struct jmap_ctx *c, json_t *args);
json_t *jmap_thread_changes(struct jmap_ctx *c, json_t *args);
json_t *jmap_snippet_get(struct jmap_ctx *c, json_t *args);
/* identity.c */
json_t *jmap_identity_get(struct jmap_ctx *c, json_t *args);
json_t *jmap_identity_set(struct jmap_ctx *c, json_t *args);
json_t *jmap_identity_changes(struct jmap_ctx *c, json_t *args);
bool jmap_identity_exists(struct jmap_ctx *c, const char *id);
/* vacation.c */
json_t *jmap_vacation_get(struct jmap_ctx *c, json_t *args);
json_t *jmap_vacation_set(struct jmap_ctx *c, json_t *args);
/* The Sieve script for a VacationResponse object (its JSON on the first line), running the
 * script `include` (may be NULL) after the vacation action. */
void jmap_vacation_script(json_t *obj, const char *include, struct str *out);
json_t *jmap_submission_set(struct jmap_ctx *c, json_t *args);
json_t *jmap_submission_get(struct jmap_ctx *c, json_t *args);
/* Every kept submission (*list_out, new, creation order) and the state (appended); false
 * with the method error set. */
bool jmap_submissions_read(struct jmap_ctx *c, json_t **list_out, struct str *state);
/* submission_query.c */
json_t *jmap_submission_changes(struct jmap_ctx *c, json_t *args);
json_t *jmap_submission_query(struct jmap_ctx *c, json_t *args);
json_t *jmap_submission_query_changes(struct jmap_ctx *c, json_t *args);
json_t *jmap_core_echo(struct jmap_ctx *c, json_t *args);

/* Changes of Emails between a state and the snapshot (changes.c), shared by Email/changes,
 * Thread/changes and Email/queryChanges. */
struct jmap_ref {
    int64_t mailbox_id, uid;
};
struct jmap_delta {
    struct jmap_ref *created, *updated, *destroyed;
    size_t nc, nu, nd;
};
/* Loads the snapshot and fills d: 0, or -1 with the method error set (cannotCalculateChanges
 * when since is no state of this store that can still be compared). */
int jmap_delta_since(struct jmap_ctx *c, const char *since, struct jmap_delta *d);
void jmap_delta_clear(struct jmap_delta *d);
/* The distinct threads the delta's created and destroyed (and updated) Emails are in
 * (malloc'd, *out); their number. */
size_t jmap_delta_threads(struct jmap_ctx *c, const struct jmap_delta *d, bool updated,
                          int64_t **out);

/* ---- email_body.c: an Email object from message bytes ---- */
struct jmap_body_opts {
    json_t *properties;       /* array of names, NULL for the default set */
    json_t *body_properties;  /* array, NULL: default */
    bool text_values, html_values, all_values;
    uint64_t max_value_bytes; /* 0: no limit */
    char *sig;                /* the options as text: the memo's key (email_get.c) */
};
/* Adds the properties computed from the message text to email (header, body ones). */
void jmap_email_from_message(const char *msg, size_t len, const char *blob_id,
                             const struct jmap_body_opts *o, json_t *email);
/* Whether a property needs the message text (not only the row). */
bool jmap_email_prop_needs_text(const char *prop);
/* Builds an RFC 5322 message from an Email object for Email/set create; NULL with *err_out
 * (SetError description) when it cannot. */
char *jmap_email_build(struct jmap_ctx *c, json_t *email, size_t *len_out, const char **err_out);

/* ---- json helpers ---- */
/* args[name] when it is a string, else NULL. */
const char *jmap_str_arg(json_t *args, const char *name);

#endif
