/*
 * session_int — the IMAP session's private state, shared by session.c (framing, replies,
 * command lifecycle), view.c (the selected mailbox and its updates), flags.c and the
 * cmd_*.c handlers. Not for use outside src/imap.
 */
#ifndef PIGEON_IMAP_SESSION_INT_H
#define PIGEON_IMAP_SESSION_INT_H

#include "core/str.h"
#include "imap/parser.h"
#include "imap/search_parse.h"
#include "imap/seqset.h"
#include "imap/session.h"

#define IMAP_SEND_BURST (256 * 1024) /* output written per burst before waiting for writable */
#define IMAP_CHUNK 128               /* messages per cache / \Seen round of FETCH and SEARCH */
#define IMAP_PREAUTH_LITERAL 8192    /* largest literal accepted before login */
/* A refused non-synchronizing literal up to this size is read and discarded (the session goes
 * on); a larger one gets BAD [TOOBIG] and the connection closes (RFC 7888 §4), so that a
 * "{9223372036854775807+}" cannot make the server swallow the rest of the connection. */
#define IMAP_LITERAL_SKIP_MAX (1u << 20)
#define IMAP_SEARCH_BODY_MAX (4u << 20) /* decoded body text SEARCH looks at, per message */

enum imap_state {
    IS_NOT_AUTH = 1, /* RFC 3501 §3.1 */
    IS_AUTH = 2,     /* §3.2 */
    IS_SELECTED = 4, /* §3.3 */
    IS_LOGOUT = 8,   /* §3.4 */
};

/* What input is expected next. */
enum imap_mode {
    IM_COMMAND, /* commands */
    IM_SASL,    /* AUTHENTICATE sent "+ ": one response line */
    IM_IDLE,    /* IDLE: the line "DONE" */
};

/* One message of the selected mailbox, in uid order: index i is sequence number i + 1. */
struct imap_msg {
    uint32_t uid;
    uint8_t flags; /* enum imap_msg_flag, \Recent included */
    bool expunged; /* gone from the store; its EXPUNGE is not sent yet (§7.4.1) */
    uint64_t modseq;
    uint64_t size;
    int64_t internal_date;
    int16_t internal_tz; /* minutes east of UTC, as APPEND gave it */
    char *keywords;      /* space-separated, NULL when none */
    char blob[IMAP_BLOB_ID_MAX];
};

struct imap_view {
    int64_t id;
    char *name;
    bool read_only;
    uint32_t uidvalidity, uidnext;
    uint64_t highestmodseq;
    uint32_t notify_from; /* NOTIFY's MessageNew FETCH: first uid not yet sent (cmd_notify.c) */
    struct imap_msg *msgs;
    size_t n, cap;
    size_t pending_expunges;
    char **keywords; /* keywords in use: the FLAGS response */
    size_t nkeywords;
};

struct imap_fetch;      /* cmd_fetch.c */
struct imap_search_run; /* cmd_search.c */
struct list_opts;       /* cmd_list.c */

/* The command in progress. */
struct imap_cmdstate {
    bool active;
    bool uid;        /* the UID form */
    bool no_expunge; /* FETCH, STORE, SEARCH: untagged EXPUNGE must wait (§7.4.1) */
    struct str tag;
    struct str tagged;                    /* "OK ..." waiting for the end-of-command sync */
    void (*cont)(struct imap_session *s); /* runs when the request is done */
    /* request inputs the engine owns */
    struct str name, name2, flags;
    uint32_t *uids;
    size_t nuids;
    /* per-command data */
    struct imap_fetch *fetch;
    struct imap_search_run *search;
    struct list_opts *list;
    bool silent; /* STORE .SILENT */
    uint64_t unchangedsince_set;
    /* APPEND: the messages and their canonical flags */
    struct imap_append_part *parts;
    struct str *part_flags;
    size_t nparts;
    struct imap_catenate *cat;  /* CATENATE (cmd_catenate.c); NULL when none */
    struct imap_meta_cmd *meta; /* GETMETADATA/SETMETADATA (cmd_metadata.c) */
    struct imap_urlauth *ua;    /* GENURLAUTH, URLFETCH, URLAUTH checks (cmd_urlauth.c) */
    /* SELECT (QRESYNC ...) and UID FETCH (... VANISHED), RFC 7162 §3.2.5-6 */
    bool qresync;
    uint32_t qr_uidvalidity;
    uint64_t qr_modseq;
    struct imap_seqset known; /* known-uids, or the UID FETCH set; empty: all */
};

struct imap_session {
    struct imap_server_config cfg;
    SESSION_BASE_MEMBER; /* id, peer_addr, listener, tls, closing, errors, io_arg */
    const struct imap_io *io;
    const struct imap_session_ops *ops;
    void *ops_ctx;

    struct imap_parser *parser;
    enum imap_state state;
    enum imap_mode mode;
    bool tls_pending;      /* STARTTLS answered; input paused until TLS starts */
    bool compressed;       /* COMPRESS DEFLATE is on (RFC 4978) */
    bool compress_pending; /* COMPRESS answered: no more input in this feed call */
    bool compress_on;      /* the connection was told to switch */
    bool shutdown;
    bool waiting;      /* an ops call is outstanding */
    bool requesting;   /* inside imap_request's loop (answers in place are queued) */
    bool answered;     /* a request was answered in place: its continuation is due */
    bool sending;      /* FETCH output in bursts: wants writable */
    bool condstore;    /* CONDSTORE enabled (RFC 7162 §3.1) */
    bool qresync;      /* QRESYNC enabled (RFC 7162 §3.2): VANISHED instead of EXPUNGE */
    bool utf8;         /* UTF8=ACCEPT enabled (RFC 6855): mailbox names in UTF-8 */
    bool rev2;         /* IMAP4rev2 enabled (RFC 9051): no \Recent, ESEARCH, UTF-8 names */
    bool dirty;        /* the store changed: sync before the next tagged reply */
    bool idle_syncing; /* IDLE: a sync started by a notification */
    char user[256];    /* canonical user once authenticated */
    uint32_t *saved;   /* SEARCHRES "$": the saved uids, ascending (RFC 5182) */
    size_t nsaved;
    /* RFC 5267 contexts (cmd_context.c): updating searches of the selected mailbox */
    struct imap_context *ctx[8];
    size_t nctx, ctx_next;
    void (*ctx_then)(struct imap_session *s); /* after the contexts are brought up to date */
    uint64_t view_gen;          /* bumped by every change of the view's messages (view.c) */
    struct imap_notify *notify; /* NOTIFY (RFC 5465, cmd_notify.c); NULL: not set */

    struct imap_cmdstate cmd;
    struct imap_req req;
    struct imap_view view;
    struct str out; /* scratch for building replies */
};

/* ---- session.c ---- */
void imap_write(struct imap_session *s, const char *p, size_t n);
void imap_writes(struct imap_session *s, const char *cstr);
void imap_printf(struct imap_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ends the command: "<tag> <text>" after the end-of-command sync. */
void imap_done(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the command with BAD and counts an error (closes after too many). */
void imap_bad(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NO for a failed request: the response code and text that fit rc. */
void imap_done_rc(struct imap_session *s, int rc, const char *what);
/* Sends req to the daemon; cont(s) runs when it is done (s->req holds the results). */
void imap_request(struct imap_session *s, enum imap_req_kind kind,
                  void (*cont)(struct imap_session *s));
void imap_close(struct imap_session *s);
/* The capability list for the current state (without "CAPABILITY "). */
void imap_capabilities(struct imap_session *s, struct str *out);
bool imap_can_login(const struct imap_session *s);
/* A CONDSTORE-enabling command (RFC 7162 §3.1): CONDSTORE on, "* OK [HIGHESTMODSEQ n]" when
 * it was off and a mailbox is selected. */
void imap_condstore_on(struct imap_session *s);
/* ENABLE IMAP4rev2 (RFC 9051 §6.3.1): UTF-8 mailbox names, no \Recent from now on. */
void imap_rev2_on(struct imap_session *s);
/* Decodes a mailbox argument to stored form into out; BAD/NO and false on error. */
bool imap_arg_mailbox(struct imap_session *s, const struct imap_arg *a, struct str *out);
/* Writes the mailbox name in wire form as an IMAP string. */
void imap_write_mailbox(struct imap_session *s, struct str *out, const char *name);

/* ---- cmd_mailbox.c: STATUS, shared with LIST-STATUS ---- */
/* Parses a STATUS item list into one letter per item (false: unknown item or empty). */
bool imap_status_items(struct imap_session *s, const struct imap_arg *list, struct str *out);
/* "* STATUS name (...)" for the items, from the STATUS request's answer in s->req. */
void imap_status_write(struct imap_session *s, const char *name, const struct str *items);

/* ---- flags.c ---- */
/* Parses canonical flag text into system-flag bits and a keyword string (NULL if none). */
unsigned imap_flags_from_text(const char *text, char **keywords_out);
/* Appends "(\Seen kw ...)" for bits (\Recent included when set) and keywords. */
void imap_flags_write(struct str *out, unsigned bits, const char *keywords);
/* Parses a flag list argument (a list, or one atom) into canonical text for the store.
 * allow_recent: \Recent is accepted and dropped. false with *err_out on bad input. */
bool imap_flags_parse_args(const struct imap_arg *args, size_t n, struct str *canon,
                           const char **err_out);
bool imap_keyword_in(const char *keywords, const char *kw, size_t len);

/* ---- view.c ---- */
void imap_view_clear(struct imap_view *v);
/* Takes SELECT rows (ownership of their strings) as the view's messages. */
void imap_view_load(struct imap_session *s, struct imap_req *req, bool read_only);
/* Applies a SYNC result: FETCH for flag changes, EXISTS/RECENT for new messages; expunges are
 * marked, and sent before the EXISTS when expunge_now (the command allows EXPUNGE responses:
 * a MOVE into the selected mailbox shows "* n EXPUNGE" then the new "* m EXISTS", as Dovecot
 * does), else reported later by imap_view_flush_expunges. */
void imap_view_apply_sync(struct imap_session *s, struct imap_req *req, bool expunge_now);
/* The same without the flag changes of messages already shown (NOTIFY without FlagChange,
 * RFC 5465 §5.3): they stay unapplied, and the view's HIGHESTMODSEQ where it was, so the next
 * command's sync reports them as IMAP4rev1 does. */
void imap_view_apply_sync_counts(struct imap_session *s, struct imap_req *req, bool expunge_now);
/* Sends the EXPUNGE responses waiting (highest first) and removes those messages. */
void imap_view_flush_expunges(struct imap_session *s, bool silent);
/* Marks uid expunged (after our own EXPUNGE/MOVE). */
void imap_view_mark_expunged(struct imap_session *s, uint32_t uid);
/* Index of uid, or SIZE_MAX. */
size_t imap_view_find(const struct imap_view *v, uint32_t uid);
/* Sets a message's flags from canonical text; tracks new keywords ("* FLAGS" when asked). */
void imap_view_set_flags(struct imap_session *s, struct imap_msg *m, const char *text,
                         bool announce);
/* "* n EXISTS", and "* m RECENT" unless IMAP4rev2 is on (RFC 9051 removed \Recent). */
void imap_view_write_exists(struct imap_session *s);
/* The uid above which messages are \Recent for this session: none under IMAP4rev2. */
uint32_t imap_view_recent_before(const struct imap_session *s, const struct imap_req *req);
/* "* FLAGS (...)" of the view. */
void imap_view_write_flags(struct imap_session *s);
/*
 * Resolves a sequence set argument (message numbers, or uids when uid) to view indices in
 * ascending order (malloc'd into *idx_out). Replies BAD and returns false when it is invalid.
 */
bool imap_view_resolve(struct imap_session *s, const struct imap_arg *a, bool uid, size_t **idx_out,
                       size_t *n_out);
/* "* VANISHED [(EARLIER)] set" of uids[0..n) (any order); nothing when n is 0. */
void imap_write_vanished(struct imap_session *s, const uint32_t *uids, size_t n, bool earlier);
/* "* n FETCH (FLAGS (...) UID u [MODSEQ (m)])" for message index i. */
void imap_view_write_fetch_flags(struct imap_session *s, size_t i, bool with_flags);

/* ---- handlers (cmd_*.c): run(s, cmd) starts a command; it ends with imap_done/imap_bad ---- */
typedef void imap_cmd_fn(struct imap_session *s, const struct imap_cmd *cmd);
imap_cmd_fn imap_cmd_compress, imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_id,
    imap_cmd_enable, imap_cmd_namespace, imap_cmd_starttls, imap_cmd_login, imap_cmd_authenticate,
    imap_cmd_unauthenticate, imap_cmd_select, imap_cmd_examine, imap_cmd_create, imap_cmd_delete,
    imap_cmd_rename, imap_cmd_subscribe, imap_cmd_unsubscribe, imap_cmd_list, imap_cmd_lsub,
    imap_cmd_status, imap_cmd_append, imap_cmd_check, imap_cmd_close, imap_cmd_unselect,
    imap_cmd_expunge, imap_cmd_search, imap_cmd_fetch, imap_cmd_store, imap_cmd_copy, imap_cmd_move,
    imap_cmd_idle, imap_cmd_getquotaroot, imap_cmd_getquota, imap_cmd_setquota, imap_cmd_sort,
    imap_cmd_thread, imap_cmd_getmetadata, imap_cmd_setmetadata, imap_cmd_cancelupdate,
    imap_cmd_notify, imap_cmd_genurlauth, imap_cmd_resetkey, imap_cmd_urlfetch;

/* cmd_auth.c: one SASL response line (mode IM_SASL). */
void imap_sasl_line(struct imap_session *s, const char *line, size_t len);
/* cmd_idle.c: the line ending IDLE; a notification while idling. */
void imap_idle_line(struct imap_session *s, const char *line, size_t len);
void imap_idle_notify(struct imap_session *s);
/* cmd_idle.c: a notice in IDLE: sync the selected mailbox, scan NOTIFY's others. */
void imap_idle_heard(struct imap_session *s);
/* cmd_catenate.c: a CATENATE list building APPEND part `part` (false after BAD); looking up
 * its URLs once every part is parsed (then(s) when the parts are built, else a NO). */
bool imap_catenate_parse(struct imap_session *s, const struct imap_arg *list, size_t part,
                         size_t max_parts);
void imap_catenate_run(struct imap_session *s, void (*then)(struct imap_session *s));
void imap_catenate_free(struct imap_session *s);
void imap_metadata_free(struct imap_session *s);
struct imap_url;
/* "NO [BADURL url] text", the URL made TEXT-CHARs without "]" (RFC 4469 §6). */
void imap_badurl(struct imap_session *s, const char *url, size_t len, const char *text);
/* cmd_urlauth.c: checks the URLAUTH-authorized URL raw[0..len) for this session (access,
 * key, token, expiry, UIDVALIDITY); then(s, ok) runs with s->req.rows[0] the message when
 * ok, and imap_urlauth_url(s) the URL parsed. Freeing. */
void imap_urlauth_check(struct imap_session *s, const char *raw, size_t len,
                        void (*then)(struct imap_session *s, bool ok));
const struct imap_url *imap_urlauth_url(const struct imap_session *s);
void imap_urlauth_free(struct imap_session *s);
/* cmd_context.c: true when a context has not seen the view's last change; brings every
 * context up to date (ESEARCH ADDTO/REMOVEFROM), then runs then(s); tells the removal of
 * expunged messages (view.c, before their EXPUNGE; silent: not told, as the EXPUNGEs are
 * not); frees them all (leaving the mailbox). */
bool imap_contexts_stale(const struct imap_session *s);
void imap_contexts_update(struct imap_session *s, void (*then)(struct imap_session *s));
void imap_contexts_expunging(struct imap_session *s, bool silent);
void imap_contexts_free(struct imap_session *s);
/* cmd_notify.c: a notice came (remember it); between commands, tell what NOTIFY asks for
 * (selected mailbox sync, STATUS/LIST of the others); in IDLE, scan the other mailboxes when
 * a notice is pending, then(s) after; freeing. */
void imap_notify_heard(struct imap_session *s);
void imap_notify_idle(struct imap_session *s);
void imap_notify_in_idle(struct imap_session *s, void (*then)(struct imap_session *s));
void imap_notify_free(struct imap_session *s);
/* cmd_fetch.c: next burst; freeing. */
void imap_fetch_pump(struct imap_session *s);
void imap_fetch_free(struct imap_session *s);
/* FETCH responses (with UID) for the view messages idx[0..n) (ascending; idx taken) outside
 * any command, as NOTIFY's MessageNew asks (RFC 5465 §5.2); atts are borrowed and must live
 * until then(s) runs at the end (no tagged reply). */
struct imap_fetch_atts;
void imap_fetch_unsolicited(struct imap_session *s, const struct imap_fetch_atts *atts,
                            size_t *idx, size_t n, void (*then)(struct imap_session *s));
/* cmd_search.c, cmd_list.c */
void imap_search_free(struct imap_session *s);
void imap_list_free(struct imap_session *s);
/* cmd_select.c: leaves the selected mailbox (no responses). */
void imap_unselect(struct imap_session *s);

#endif
