/*
 * cmd_fetch — FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with CHANGEDSINCE and MODSEQ
 * (RFC 7162 §3.1.4-5).
 *
 * Messages go in chunks of IMAP_CHUNK: for each chunk, (1) when ENVELOPE/BODY/BODYSTRUCTURE
 * is asked, one CACHE request brings the parsed structures from the store's parse cache;
 * (2) when a body is fetched without PEEK, one STORE request sets \Seen on the chunk's unseen
 * messages (RFC 3501 §6.4.5); (3) the responses are written in bursts (fetch_write.c), the
 * next burst when the connection's output has drained. Memory stays bounded by one chunk's
 * structures and one mapped message, whatever the size of the set.
 */
#include "imap/fetch_int.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static void next_chunk(struct imap_session *s);

void imap_fetch_free(struct imap_session *s)
{
    struct imap_fetch *f = s->cmd.fetch;
    if (!f)
        return;
    imap_fetch_msg_release(s, f);
    if (!f->borrowed)
        imap_fetch_atts_clear(&f->atts);
    str_clear(&f->obuf);
    free(f->idx);
    free(f->blobs);
    free(f->flags_changed);
    if (f->cache) {
        struct imap_req tmp = {.cache = f->cache, .nblobs = f->end - f->pos};
        imap_req_clear(&tmp);
    }
    free(f);
    s->cmd.fetch = NULL;
    s->sending = false;
}

static void finish(struct imap_session *s)
{
    bool failed = s->cmd.fetch->failed, unknown_cte = s->cmd.fetch->unknown_cte;
    void (*then)(struct imap_session *) = s->cmd.fetch->then;
    s->sending = false;
    imap_fetch_free(s);
    if (then) { /* between commands: no tagged reply, and nothing of it outlives it */
        free(s->cmd.uids);
        s->cmd.uids = NULL;
        imap_req_clear(&s->req);
        if (failed || unknown_cte)
            imap_writes(s, "* NO Some new messages could not be read for NOTIFY\r\n");
        return then(s);
    }
    if (unknown_cte) /* RFC 3516 §4.2 */
        return imap_done(s, "NO [UNKNOWN-CTE] A part's content transfer encoding is unknown");
    if (failed)
        return imap_done(s, "NO [SERVERBUG] Some messages could not be read");
    imap_done(s, "OK FETCH completed");
}

void imap_fetch_pump(struct imap_session *s)
{
    struct imap_fetch *f = s->cmd.fetch;
    if (!f || s->closing)
        return;
    s->sending = true;
    if (!imap_fetch_write_chunk(s, f))
        return; /* more once the output has drained */
    s->sending = false;
    if (f->cache) {
        struct imap_req tmp = {.cache = f->cache, .nblobs = f->end - f->pos};
        imap_req_clear(&tmp);
        f->cache = NULL;
    }
    f->pos = f->end;
    next_chunk(s);
}

static void after_seen(struct imap_session *s)
{
    struct imap_fetch *f = s->cmd.fetch;
    if (s->req.rc == 0) {
        for (size_t k = 0; k < s->req.nrows; k++) {
            const struct imap_row *r = &s->req.rows[k];
            size_t i = imap_view_find(&s->view, r->uid);
            if (i == SIZE_MAX || r->failed)
                continue;
            s->view.msgs[i].modseq = r->modseq;
            imap_view_set_flags(s, &s->view.msgs[i], r->flags, true);
            for (size_t c = f->pos; c < f->end; c++)
                if (f->idx[c] == i)
                    f->flags_changed[c - f->pos] = true;
        }
    }
    imap_fetch_pump(s);
}

/* RFC 3501 §6.4.5: BODY[...] without PEEK sets \Seen. */
static void set_seen(struct imap_session *s)
{
    struct imap_fetch *f = s->cmd.fetch;
    s->cmd.nuids = 0;
    for (size_t c = f->pos; c < f->end; c++) {
        const struct imap_msg *m = &s->view.msgs[f->idx[c]];
        if (!(m->flags & IMAP_MSGF_SEEN) && !m->expunged)
            s->cmd.uids[s->cmd.nuids++] = m->uid;
    }
    if (s->cmd.nuids == 0)
        return imap_fetch_pump(s);
    s->req.mailbox_id = s->view.id;
    s->req.in_uids = s->cmd.uids;
    s->req.n_in_uids = s->cmd.nuids;
    s->req.store_op = IMAP_STORE_ADD;
    s->req.flags = "\\Seen";
    s->req.unchangedsince = -1;
    imap_request(s, IMAP_REQ_STORE, after_seen);
}

static void after_cache(struct imap_session *s)
{
    struct imap_fetch *f = s->cmd.fetch;
    if (s->req.rc == 0 && s->req.cache) {
        f->cache = s->req.cache;
        s->req.cache = NULL;
    } else {
        f->cache = xcalloc(f->end - f->pos, sizeof *f->cache);
    }
    if (f->set_seen)
        return set_seen(s);
    imap_fetch_pump(s);
}

static void next_chunk(struct imap_session *s)
{
    struct imap_fetch *f = s->cmd.fetch;
    if (f->pos >= f->n)
        return finish(s);
    f->end = f->pos + IMAP_CHUNK < f->n ? f->pos + IMAP_CHUNK : f->n;
    f->emit = f->pos;
    memset(f->flags_changed, 0, IMAP_CHUNK * sizeof *f->flags_changed);
    if (f->need_cache) {
        for (size_t c = f->pos; c < f->end; c++)
            f->blobs[c - f->pos] = s->view.msgs[f->idx[c]].blob;
        s->req.blobs = f->blobs;
        s->req.nblobs = f->end - f->pos;
        unsigned fl = f->atts.flags;
        s->req.cache_fields = (fl & IMAP_FETCH_ENVELOPE ? IMAP_CACHE_ENVELOPE : 0) |
                              (fl & IMAP_FETCH_BODY ? IMAP_CACHE_BODY : 0) |
                              (fl & IMAP_FETCH_BODYSTRUCTURE ? IMAP_CACHE_BODYSTRUCTURE : 0);
        return imap_request(s, IMAP_REQ_CACHE, after_cache);
    }
    if (f->set_seen)
        return set_seen(s);
    imap_fetch_pump(s);
}

/* The FETCH state for idx[0..n) (view indices, ascending; taken) with atts. */
static struct imap_fetch *fetch_new(struct imap_session *s, size_t *idx, size_t n)
{
    struct imap_fetch *f = s->cmd.fetch;
    f->with_modseq = f->atts.flags & IMAP_FETCH_MODSEQ;
    f->need_cache =
        f->atts.flags & (IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE);
    f->set_seen = f->atts.sets_seen && !s->view.read_only;
    f->idx = idx;
    f->n = n;
    f->blobs = xcalloc(IMAP_CHUNK, sizeof *f->blobs);
    f->flags_changed = xcalloc(IMAP_CHUNK, sizeof *f->flags_changed);
    s->cmd.uids = xcalloc(IMAP_CHUNK, sizeof *s->cmd.uids);
    return f;
}

void imap_fetch_unsolicited(struct imap_session *s, const struct imap_fetch_atts *atts,
                            size_t *idx, size_t n, void (*then)(struct imap_session *s))
{
    struct imap_fetch *f = xcalloc(1, sizeof *f);
    s->cmd.fetch = f;
    f->atts = *atts;
    f->atts.flags |= IMAP_FETCH_UID;
    f->borrowed = true;
    f->then = then;
    fetch_new(s, idx, n);
    next_chunk(s);
}

/* (CHANGEDSINCE n [VANISHED]): RFC 7162 §3.1.4, §3.2.6. */
static bool parse_modifiers(const struct imap_arg *a, uint64_t *since, bool *vanished)
{
    bool changed = false;
    *vanished = false;
    if (a->type != IMAP_ARG_LIST)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const struct imap_arg *x = &a->list[i];
        unsigned long long v;
        if (imap_arg_atom_eq(x, "VANISHED") && !*vanished) {
            *vanished = true;
        } else if (imap_arg_atom_eq(x, "CHANGEDSINCE") && !changed && i + 1 < a->count &&
                   a->list[i + 1].type == IMAP_ARG_ATOM &&
                   slice_to_u64(slice_make(a->list[i + 1].str, a->list[i + 1].len), INT64_MAX,
                                &v) == 0) {
            changed = true;
            *since = v;
            i++;
        } else {
            return false;
        }
    }
    return changed; /* VANISHED alone is an error too (§3.2.6) */
}

/* UID FETCH ... (VANISHED): the uids of the set expunged since CHANGEDSINCE, first. */
static void vanished_done(struct imap_session *s)
{
    if (s->req.rc == 0) {
        size_t k = 0;
        for (size_t i = 0; i < s->req.nuids; i++)
            if (imap_seqset_contains(&s->cmd.known, s->req.uids[i]))
                s->req.uids[k++] = s->req.uids[i];
        imap_write_vanished(s, s->req.uids, k, true);
    }
    next_chunk(s);
}

void imap_cmd_fetch(struct imap_session *s, const struct imap_cmd *cmd)
{
    if (cmd->nargs < 2 || cmd->nargs > 3)
        return imap_bad(s, "FETCH needs a message set and data items");
    struct imap_fetch *f = xcalloc(1, sizeof *f);
    s->cmd.fetch = f;
    const char *err = "Invalid data items";
    if (imap_fetch_atts_parse(&cmd->args[1], &f->atts, &err) != 0)
        return imap_bad(s, "%s", err);
    uint64_t since = 0;
    bool changedsince = cmd->nargs == 3, vanished = false;
    if (changedsince && !parse_modifiers(&cmd->args[2], &since, &vanished))
        return imap_bad(s, "Invalid FETCH modifier");
    if (vanished && (!s->cmd.uid || !s->qresync))
        return imap_bad(s, "VANISHED needs UID FETCH and QRESYNC enabled");
    if (s->cmd.uid)
        f->atts.flags |= IMAP_FETCH_UID;
    if (changedsince || (f->atts.flags & IMAP_FETCH_MODSEQ))
        imap_condstore_on(s); /* RFC 7162 §3.1: CONDSTORE-enabling */
    size_t *idx, n, kept = 0;
    if (!imap_view_resolve(s, &cmd->args[0], s->cmd.uid, &idx, &n))
        return;
    for (size_t k = 0; k < n; k++)
        if (!changedsince || s->view.msgs[idx[k]].modseq > since)
            idx[kept++] = idx[k];
    fetch_new(s, idx, kept);
    f->with_modseq |= changedsince;
    if (vanished) {
        const struct imap_arg *set = &cmd->args[0];
        const char *why = NULL;
        if (imap_seqset_parse(set->str, set->len, 0, &s->cmd.known, &why) == 0) {
            const struct imap_view *v = &s->view;
            /* "*": every uid given out so far, expunged ones included */
            imap_seqset_resolve(&s->cmd.known, v->uidnext > 1 ? v->uidnext - 1 : 0);
            s->req.mailbox_id = v->id;
            s->req.since_modseq = since;
            return imap_request(s, IMAP_REQ_VANISHED, vanished_done);
        }
    }
    next_chunk(s);
}
