/*
 * cmd_notify — NOTIFY (RFC 5465): the client names mailboxes (SELECTED, SELECTED-DELAYED,
 * INBOXES, PERSONAL, SUBSCRIBED, SUBTREE, MAILBOXES) and events (MessageNew, MessageExpunge,
 * FlagChange, MailboxName, SubscriptionChange); the server then tells them without being
 * asked, also between commands:
 *
 *   - the selected mailbox: its EXISTS and EXPUNGE (MessageNew, MessageExpunge) and FETCH
 *     FLAGS (FlagChange) as soon as the change is heard of (as in IDLE; SELECTED-DELAYED keeps
 *     expunges for the next command's end); a change of an event not named waits for the next
 *     command, as without NOTIFY. MessageNew's fetch attributes (RFC 5465 §5.2, only for
 *     SELECTED and SELECTED-DELAYED, as Dovecot and MailKit have it) give one FETCH response
 *     (with UID) per new message after its EXISTS, between commands and in IDLE;
 *   - other mailboxes: STATUS (MESSAGES UIDNEXT UIDVALIDITY for MessageNew, MESSAGES for
 *     MessageExpunge, UIDVALIDITY HIGHESTMODSEQ for FlagChange);
 *   - MailboxName / SubscriptionChange: LIST responses for mailboxes that came, went
 *     (\NonExistent) or were (un)subscribed.
 *
 * How: the daemon tells the session of every change to any of the user's mailboxes (ops->
 * notify_all); on such a notice, between commands or in IDLE, the session lists the user's
 * mailboxes (one LIST request), STATUSes each watched one (one indexed read each, at most
 * IMAP_NOTIFY_MAX_BOXES) and compares with what it told before. A change made by this
 * session itself is not reported to it (it saw its own command's answer).
 */
#include "imap/session_int.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "imap/fetch_att.h"
#include "imap/mailbox_name.h"
#include "imap/notify_meta.h"

#include <stdlib.h>
#include <string.h>

#define IMAP_NOTIFY_MAX_BOXES 200 /* mailboxes watched for STATUS */
#define IMAP_NOTIFY_MAX_GROUPS 16

enum {
    NE_NEW = 1 << 0,
    NE_EXPUNGE = 1 << 1,
    NE_FLAGS = 1 << 2,
    NE_NAME = 1 << 3,
    NE_SUBSCRIPTION = 1 << 4,
    NE_MBMETA = 1 << 5,  /* MailboxMetadataChange */
    NE_SRVMETA = 1 << 6, /* ServerMetadataChange */
    NE_MESSAGE = NE_NEW | NE_EXPUNGE | NE_FLAGS,
};

enum nf_kind {
    NF_SELECTED,
    NF_SELECTED_DELAYED,
    NF_INBOXES,
    NF_PERSONAL,
    NF_SUBSCRIBED,
    NF_SUBTREE,
    NF_MAILBOXES
};

struct nf_group {
    enum nf_kind kind;
    unsigned events;
    char **names; /* SUBTREE, MAILBOXES: stored form */
    size_t nnames;
};

struct nf_box { /* what the client was last told of a mailbox */
    char *name;
    bool exists, subscribed, watched, seen;
    uint32_t messages, uidnext, uidvalidity;
    uint64_t highestmodseq;
    struct imap_notify_meta meta; /* MailboxMetadataChange */
};

struct imap_notify {
    struct nf_group groups[IMAP_NOTIFY_MAX_GROUPS];
    size_t ngroups;
    unsigned selected_events; /* SELECTED / SELECTED-DELAYED */
    bool delayed;
    unsigned name_events; /* MailboxName / SubscriptionChange, any group */
    struct nf_box *boxes;
    size_t nboxes;
    bool pending;     /* a notice came: scan when the session is free */
    bool scanning;    /* a scan is running */
    bool tell_status; /* NOTIFY SET STATUS: the first scan tells every watched mailbox */
    bool first;       /* the scan of NOTIFY SET: sets the baseline */
    bool server_meta;  /* ServerMetadataChange in some group */
    bool server_done;  /* this scan looked at the server's metadata */
    struct imap_notify_meta server;
    struct imap_fetch_atts new_atts; /* MessageNew's fetch attributes (selected mailbox) */
    bool new_fetch;                  /* new_atts were given */
    size_t next;      /* the box being STATUSed */
    void (*then)(struct imap_session *s);
};

static void groups_clear(struct imap_notify *n)
{
    for (size_t g = 0; g < n->ngroups; g++) {
        for (size_t i = 0; i < n->groups[g].nnames; i++)
            free(n->groups[g].names[i]);
        free(n->groups[g].names);
    }
    n->ngroups = 0;
}

static void boxes_clear(struct imap_notify *n)
{
    for (size_t i = 0; i < n->nboxes; i++) {
        free(n->boxes[i].name);
        imap_notify_meta_clear(&n->boxes[i].meta);
    }
    free(n->boxes);
    n->boxes = NULL;
    n->nboxes = 0;
}

static void notify_destroy(struct imap_notify *n)
{
    groups_clear(n);
    boxes_clear(n);
    imap_notify_meta_clear(&n->server);
    imap_fetch_atts_clear(&n->new_atts);
    free(n);
}

void imap_notify_free(struct imap_session *s)
{
    if (!s->notify)
        return;
    notify_destroy(s->notify);
    s->notify = NULL;
}

/* ---- NOTIFY SET parsing ---- */

static const struct {
    const char *name;
    unsigned bit;
} event_names[] = {
    {"MessageNew", NE_NEW},   {"MessageExpunge", NE_EXPUNGE},          {"FlagChange", NE_FLAGS},
    {"MailboxName", NE_NAME}, {"SubscriptionChange", NE_SUBSCRIPTION},
    {"MailboxMetadataChange", NE_MBMETA}, {"ServerMetadataChange", NE_SRVMETA},
};

#define N_EVENT_NAMES (sizeof event_names / sizeof event_names[0])

/* MessageNew's fetch-att list (a->list[*i + 1]), into n->new_atts when atts_ok. */
static bool parse_new_atts(struct imap_notify *n, const struct imap_arg *list, bool atts_ok,
                           const char **err)
{
    if (!atts_ok) { /* RFC 5465 §5.2 */
        *err = "MessageNew takes fetch attributes only for SELECTED and SELECTED-DELAYED";
        return false;
    }
    if (list->count == 0 || n->new_fetch) {
        *err = "Invalid MessageNew fetch attributes";
        return false;
    }
    n->new_fetch = true;
    return imap_fetch_atts_parse(list, &n->new_atts, err) == 0;
}

/*
 * events: NONE or (event ...); false with *err ("BADEVENT" for an unknown event). A list after
 * MessageNew is its fetch attributes (atts_ok: the selected mailbox's group). RFC 5465 §5:
 * MessageNew and MessageExpunge come together, and FlagChange needs them (else BAD).
 */
static bool parse_events(struct imap_notify *n, const struct imap_arg *a, unsigned *out,
                         bool atts_ok, const char **err)
{
    *out = 0;
    if (imap_arg_atom_eq(a, "NONE"))
        return true;
    if (a->type != IMAP_ARG_LIST || a->count == 0) {
        *err = "Events must be NONE or a list";
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        const struct imap_arg *e = &a->list[i];
        size_t k = 0;
        while (k < N_EVENT_NAMES && !imap_arg_atom_eq(e, event_names[k].name))
            k++;
        if (k == N_EVENT_NAMES) {
            *err = e->type == IMAP_ARG_ATOM ? "BADEVENT" : "Invalid NOTIFY event";
            return false;
        }
        *out |= event_names[k].bit;
        if (event_names[k].bit == NE_NEW && i + 1 < a->count &&
            a->list[i + 1].type == IMAP_ARG_LIST && !parse_new_atts(n, &a->list[++i], atts_ok, err))
            return false;
    }
    unsigned both = *out & (NE_NEW | NE_EXPUNGE);
    if (both && both != (NE_NEW | NE_EXPUNGE)) {
        *err = "MessageNew and MessageExpunge must be given together";
        return false;
    }
    if ((*out & NE_FLAGS) && !both) {
        *err = "FlagChange needs MessageNew and MessageExpunge";
        return false;
    }
    return true;
}

static bool parse_names(struct imap_session *s, const struct imap_arg *a, struct nf_group *g)
{
    const struct imap_arg *v = a->type == IMAP_ARG_LIST ? a->list : a;
    size_t n = a->type == IMAP_ARG_LIST ? a->count : 1;
    if (n == 0 || n > IMAP_NOTIFY_MAX_BOXES)
        return false;
    g->names = xcalloc(n, sizeof *g->names);
    struct str name = STR_INIT;
    for (size_t i = 0; i < n; i++) {
        const char *p, *err;
        size_t len;
        str_reset(&name);
        if (!imap_arg_get_astring(&v[i], &p, &len) ||
            imap_mailbox_name_from_wire(p, len, s->utf8, &name, &err) != 0) {
            str_clear(&name);
            return false;
        }
        g->names[g->nnames++] = xstrdup(str_cstr(&name));
    }
    str_clear(&name);
    return true;
}

/* One (filter events) group; false with *err. */
static bool parse_group(struct imap_session *s, struct imap_notify *n, const struct imap_arg *a,
                        struct nf_group *g, const char **err)
{
    static const char *const kinds[] = {"SELECTED",   "SELECTED-DELAYED", "INBOXES",  "PERSONAL",
                                        "SUBSCRIBED", "SUBTREE",          "MAILBOXES"};
    *err = "Invalid NOTIFY event group";
    if (a->type != IMAP_ARG_LIST || a->count < 2)
        return false;
    size_t k = 0;
    while (k < 7 && !imap_arg_atom_eq(&a->list[0], kinds[k]))
        k++;
    if (k == 7)
        return false;
    g->kind = (enum nf_kind)k;
    size_t at = 1;
    if (g->kind == NF_SUBTREE || g->kind == NF_MAILBOXES) {
        if (a->count != 3 || !parse_names(s, &a->list[1], g)) {
            *err = "Invalid mailbox names in NOTIFY";
            return false;
        }
        at = 2;
    }
    if (a->count != at + 1)
        return false;
    bool selected = g->kind == NF_SELECTED || g->kind == NF_SELECTED_DELAYED;
    if (!parse_events(n, &a->list[at], &g->events, selected, err))
        return false;
    /* RFC 5465 §5: mailbox events make no sense for the selected mailbox alone */
    if ((g->kind == NF_SELECTED || g->kind == NF_SELECTED_DELAYED) &&
        (g->events & (NE_NAME | NE_SUBSCRIPTION | NE_MBMETA | NE_SRVMETA))) {
        *err = "BADEVENT";
        return false;
    }
    return true;
}

/* ---- which mailboxes a group names ---- */

static bool group_has(const struct nf_group *g, const struct imap_mailbox_info *m)
{
    switch (g->kind) {
    case NF_SELECTED:
    case NF_SELECTED_DELAYED:
        return false;
    case NF_INBOXES: /* where mail is delivered: INBOX (Sieve may file elsewhere) */
        return strcmp(m->name, "INBOX") == 0;
    case NF_PERSONAL:
        return true;
    case NF_SUBSCRIBED:
        return m->subscribed;
    case NF_SUBTREE:
    case NF_MAILBOXES:
        for (size_t i = 0; i < g->nnames; i++) {
            size_t n = strlen(g->names[i]);
            if (strcmp(m->name, g->names[i]) == 0 ||
                (g->kind == NF_SUBTREE && strncmp(m->name, g->names[i], n) == 0 &&
                 m->name[n] == IMAP_MAILBOX_DELIM))
                return true;
        }
        return false;
    }
    return false;
}

/* The message events that apply to mailbox m (0: not watched); the selected one has its own. */
static unsigned box_events(const struct imap_session *s, const struct imap_mailbox_info *m)
{
    const struct imap_notify *n = s->notify;
    if (s->state == IS_SELECTED && s->view.name && strcmp(s->view.name, m->name) == 0)
        return 0;
    for (size_t g = 0; g < n->ngroups; g++)
        if (group_has(&n->groups[g], m)) /* RFC 5465 §6: the first group that names it */
            return n->groups[g].events;
    return 0;
}

static struct nf_box *box_find(struct imap_notify *n, const char *name)
{
    for (size_t i = 0; i < n->nboxes; i++)
        if (strcmp(n->boxes[i].name, name) == 0)
            return &n->boxes[i];
    return NULL;
}

/* ---- the scan ---- */

static void scan_status(struct imap_session *s);
static void box_meta_got(struct imap_session *s);

static void scan_end(struct imap_session *s)
{
    struct imap_notify *n = s->notify;
    n->scanning = false;
    n->first = false;
    n->tell_status = false;
    void (*then)(struct imap_session *) = n->then;
    n->then = NULL;
    if (then)
        then(s);
}

static void write_list(struct imap_session *s, const char *name, const char *attrs)
{
    struct str o = STR_INIT;
    str_appendf(&o, "* LIST (%s) \"/\" ", attrs);
    imap_write_mailbox(s, &o, name);
    str_appends(&o, "\r\n");
    imap_write(s, o.ptr, o.len);
    str_clear(&o);
}

/* MailboxName / SubscriptionChange (RFC 5465 §5.4-5.5) from the new LIST. */
static void tell_names(struct imap_session *s, const struct imap_req *r, unsigned ev)
{
    struct imap_notify *n = s->notify;
    for (size_t i = 0; i < r->nmailboxes; i++) {
        const struct imap_mailbox_info *m = &r->mailboxes[i];
        struct nf_box *b = box_find(n, m->name);
        bool was = b && b->exists, sub = b && b->subscribed;
        if ((ev & NE_NAME) && m->exists && !was)
            write_list(s, m->name, m->subscribed ? "\\Subscribed" : "");
        else if ((ev & NE_SUBSCRIPTION) && b && sub != m->subscribed)
            write_list(s, m->name, m->subscribed ? "\\Subscribed" : "");
    }
    for (size_t i = 0; (ev & NE_NAME) && i < n->nboxes; i++) {
        bool still = false;
        for (size_t k = 0; k < r->nmailboxes && !still; k++)
            still = r->mailboxes[k].exists && strcmp(r->mailboxes[k].name, n->boxes[i].name) == 0;
        if (n->boxes[i].exists && !still)
            write_list(s, n->boxes[i].name, "\\NonExistent");
    }
}

/* The new LIST: tell names, then make the new box table (keeping known counts). */
static void listed(struct imap_session *s)
{
    struct imap_notify *n = s->notify;
    if (s->req.rc != 0 || s->closing)
        return scan_end(s);
    if (!n->first)
        tell_names(s, &s->req, n->name_events);
    size_t cnt = s->req.nmailboxes;
    struct nf_box *nb = xcalloc(cnt ? cnt : 1, sizeof *nb);
    size_t watched = 0;
    for (size_t i = 0; i < cnt; i++) {
        const struct imap_mailbox_info *m = &s->req.mailboxes[i];
        struct nf_box *old = box_find(n, m->name);
        bool same = old && old->exists == m->exists;
        nb[i] = same ? *old : (struct nf_box){0};
        if (same)
            old->meta = (struct imap_notify_meta){NULL, 0, false}; /* moved to nb[i] */
        nb[i].seen = same && old->seen;
        nb[i].name = xstrdup(m->name);
        nb[i].exists = m->exists;
        nb[i].subscribed = m->subscribed;
        nb[i].watched = m->exists && box_events(s, m) && watched < IMAP_NOTIFY_MAX_BOXES;
        watched += nb[i].watched;
    }
    boxes_clear(n);
    n->boxes = nb;
    n->nboxes = cnt;
    n->next = 0;
    scan_status(s);
}

static unsigned events_of(const struct imap_session *s, const struct nf_box *b)
{
    struct imap_mailbox_info m = {b->name, "", b->subscribed, b->exists};
    return box_events(s, &m);
}

/* STATUS items to tell for a change (letters of imap_status_items). */
static const char *items_for(unsigned ev, const struct nf_box *b,
                             const struct imap_mailbox_state *now, bool all)
{
    bool count = all || now->messages != b->messages || now->uidnext != b->uidnext ||
                 now->uidvalidity != b->uidvalidity;
    bool flags = all || now->highestmodseq != b->highestmodseq;
    bool grew = now->uidnext != b->uidnext || now->uidvalidity != b->uidvalidity;
    if ((ev & NE_NEW) && count && (all || grew))
        return (ev & NE_FLAGS) && flags ? "acdf" : "acd";
    if ((ev & NE_EXPUNGE) && count)
        return (ev & NE_FLAGS) && flags ? "adf" : "a";
    if ((ev & NE_FLAGS) && flags)
        return "df";
    return NULL;
}

/* MailboxMetadataChange: the box's entries, compared with what the client was told. */
static void box_meta_got(struct imap_session *s)
{
    struct imap_notify *n = s->notify;
    struct nf_box *b = &n->boxes[n->next];
    imap_notify_meta_update(s, b->name, &b->meta, !n->first);
    n->next++;
    scan_status(s);
}

static void server_meta_got(struct imap_session *s)
{
    imap_notify_meta_update(s, NULL, &s->notify->server, !s->notify->first);
    scan_status(s);
}

static void statused(struct imap_session *s)
{
    struct imap_notify *n = s->notify;
    struct nf_box *b = &n->boxes[n->next];
    const struct imap_mailbox_state *now = &s->req.mailbox;
    if (s->req.rc == 0) {
        const char *items =
            b->seen || n->tell_status ? items_for(events_of(s, b), b, now, !b->seen) : NULL;
        if (items) {
            struct str it = STR_INIT;
            str_appends(&it, items);
            imap_status_write(s, b->name, &it);
            str_clear(&it);
        }
        b->messages = now->messages;
        b->uidnext = now->uidnext;
        b->uidvalidity = now->uidvalidity;
        b->highestmodseq = now->highestmodseq;
        b->seen = true;
    }
    if (events_of(s, b) & NE_MBMETA)
        return imap_notify_meta_ask(s, b->name, box_meta_got);
    n->next++;
    scan_status(s);
}

static void scan_status(struct imap_session *s)
{
    struct imap_notify *n = s->notify;
    while (n->next < n->nboxes && !n->boxes[n->next].watched)
        n->next++;
    if (n->next >= n->nboxes && n->server_meta && !n->server_done && !s->closing) {
        n->server_done = true; /* ServerMetadataChange: the server's entries, last */
        return imap_notify_meta_ask(s, NULL, server_meta_got);
    }
    if (n->next >= n->nboxes || s->closing)
        return scan_end(s);
    s->req.name = n->boxes[n->next].name;
    imap_request(s, IMAP_REQ_STATUS, statused);
}

/* Starts a scan; then(s) runs at its end. */
static void scan(struct imap_session *s, void (*then)(struct imap_session *s))
{
    struct imap_notify *n = s->notify;
    n->pending = false;
    n->scanning = true;
    n->server_done = false;
    n->then = then;
    imap_request(s, IMAP_REQ_LIST, listed);
}

/* ---- the selected mailbox between commands ---- */

static void selected_synced(struct imap_session *s)
{
    if (s->req.rc == ERR_NOTFOUND) {
        imap_writes(s, "* BYE Selected mailbox was deleted, have to disconnect\r\n");
        return imap_close(s);
    }
    if (s->req.rc == 0 && (s->notify->selected_events & NE_FLAGS))
        imap_view_apply_sync(s, &s->req, !s->notify->delayed);
    else if (s->req.rc == 0)
        imap_view_apply_sync_counts(s, &s->req, !s->notify->delayed);
    imap_req_clear(&s->req);
    imap_notify_idle(s);
}

/* MessageNew's FETCH for the messages shown since the last one (true: started, then(s) at its
 * end). Messages that were there when the mailbox was selected, or when NOTIFY was set, are
 * not new. */
static bool fetch_new(struct imap_session *s, void (*then)(struct imap_session *s))
{
    struct imap_view *v = &s->view;
    if (!s->notify->new_fetch || s->state != IS_SELECTED || v->n == 0 ||
        v->msgs[v->n - 1].uid < v->notify_from)
        return false;
    size_t first = v->n;
    while (first > 0 && v->msgs[first - 1].uid >= v->notify_from)
        first--;
    size_t *idx = xcalloc(v->n - first, sizeof *idx), n = 0;
    for (size_t i = first; i < v->n; i++)
        if (!v->msgs[i].expunged)
            idx[n++] = i;
    v->notify_from = v->msgs[v->n - 1].uid + 1;
    if (n == 0) {
        free(idx);
        return false;
    }
    imap_fetch_unsolicited(s, &s->notify->new_atts, idx, n, then);
    return true;
}

void imap_notify_idle(struct imap_session *s)
{
    struct imap_notify *n = s->notify;
    if (!n || n->scanning || s->waiting || s->sending || s->closing || s->cmd.active)
        return;
    if (s->dirty && s->state == IS_SELECTED && n->selected_events) {
        s->dirty = false;
        s->req.mailbox_id = s->view.id;
        s->req.since_modseq = s->view.highestmodseq;
        s->req.read_only = s->view.read_only;
        return imap_request(s, IMAP_REQ_SYNC, selected_synced);
    }
    if (fetch_new(s, imap_notify_idle))
        return;
    if (n->pending)
        scan(s, imap_notify_idle);
}

void imap_notify_heard(struct imap_session *s)
{
    if (s->notify)
        s->notify->pending = true;
}

void imap_notify_in_idle(struct imap_session *s, void (*then)(struct imap_session *s))
{
    if (!s->notify || s->notify->scanning || s->waiting || s->sending || s->closing)
        return;
    if (fetch_new(s, then))
        return;
    if (s->notify->pending)
        scan(s, then);
}

/* ---- NOTIFY NONE | NOTIFY SET [STATUS] group... ---- */

static void set_scanned(struct imap_session *s)
{
    imap_done(s, "OK NOTIFY completed");
}

void imap_cmd_notify(struct imap_session *s, const struct imap_cmd *cmd)
{
    const struct imap_arg *a = cmd->args;
    size_t nargs = cmd->nargs;
    if (nargs == 1 && imap_arg_atom_eq(&a[0], "NONE")) {
        imap_notify_free(s);
        s->ops->notify_all(s->ops_ctx, false);
        return imap_done(s, "OK NOTIFY completed");
    }
    if (nargs < 2 || !imap_arg_atom_eq(&a[0], "SET"))
        return imap_bad(s, "NOTIFY takes NONE or SET");
    size_t i = 1;
    bool status = imap_arg_atom_eq(&a[i], "STATUS");
    i += status;
    if (i == nargs || nargs - i > IMAP_NOTIFY_MAX_GROUPS)
        return imap_bad(s, "NOTIFY SET needs one to %d event groups", IMAP_NOTIFY_MAX_GROUPS);
    struct imap_notify *n = xcalloc(1, sizeof *n);
    const char *err = NULL;
    bool selected = false;
    for (; i < nargs; i++) {
        struct nf_group *g = &n->groups[n->ngroups++];
        if (!parse_group(s, n, &a[i], g, &err))
            break;
        if (g->kind == NF_SELECTED || g->kind == NF_SELECTED_DELAYED) {
            if (selected) {
                err = "Only one SELECTED or SELECTED-DELAYED group";
                break;
            }
            selected = true;
            n->selected_events = g->events;
            n->delayed = g->kind == NF_SELECTED_DELAYED;
        }
        n->name_events |= g->events & (NE_NAME | NE_SUBSCRIPTION);
        n->server_meta |= (g->events & NE_SRVMETA) != 0;
    }
    if (i < nargs) {
        notify_destroy(n);
        if (err && strcmp(err, "BADEVENT") == 0) /* RFC 5465 §5 */
            return imap_done(s, "NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName "
                                "SubscriptionChange MailboxMetadataChange ServerMetadataChange)] "
                                "Unsupported event");
        return imap_bad(s, "%s", err ? err : "Invalid NOTIFY");
    }
    imap_notify_free(s);
    s->notify = n;
    if (s->state == IS_SELECTED) /* what the client was shown is not new */
        s->view.notify_from = s->view.uidnext;
    n->tell_status = status;
    n->first = true;
    s->ops->notify_all(s->ops_ctx, true);
    scan(s, set_scanned);
}
