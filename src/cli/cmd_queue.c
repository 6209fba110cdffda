/* cmd_queue — `pigeon queue list|show|flush|delete|hold|release`: the outgoing queue, one line
 * per (message, recipient). A message is named by its queue ID, the one its SMTP 250 reply,
 * its Received: field and the daemon's log show; a command on an ID acts on every recipient of
 * that message, or on one when RECIPIENT is given. The daemon rescans the queue by itself
 * (within scan_interval), so flush and release take effect without talking to it. */
#include "cli/cli.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "2026-11-22 16:20:01", UTC (the header says so, as the log's times are UTC too). */
static void time_format(int64_t unix_secs, char *out, size_t cap)
{
    time_t t = (time_t)unix_secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(out, cap, "@%lld", (long long)unix_secs);
}

/* One printed row, copied out of the store's callback. */
struct queue_row {
    char *id, *arrived, *state, *sender, *recipient, *error;
    int attempts;
};

struct queue_rows {
    struct queue_row *v;
    size_t n, cap;
    size_t messages; /* distinct queue IDs (rows of one message are adjacent: ORDER BY id) */
};

static void row_collect(void *vctx, const struct store_queue_entry *e)
{
    struct queue_rows *r = vctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->v = xrealloc(r->v, r->cap * sizeof *r->v);
    }
    char when[32];
    time_format(e->arrived, when, sizeof when);
    struct str sender = STR_INIT, rcpt = STR_INIT;
    str_appendf(&sender, "<%s>", e->sender ? e->sender : "");
    str_appendf(&rcpt, "<%s>", e->recipient ? e->recipient : "");
    if (r->n == 0 || strcmp(r->v[r->n - 1].id, e->msg_id) != 0)
        r->messages++;
    r->v[r->n++] = (struct queue_row){
        .id = xstrdup(e->msg_id),
        .arrived = xstrdup(when),
        .state = xstrdup(e->state ? e->state : ""),
        .sender = str_steal(&sender),
        .recipient = str_steal(&rcpt),
        .error = xstrdup(e->last_error && e->last_error[0] ? e->last_error : "-"),
        .attempts = e->attempts,
    };
}

static void rows_free(struct queue_rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct queue_row *w = &r->v[i];
        free(w->id), free(w->arrived), free(w->state), free(w->sender), free(w->recipient);
        free(w->error);
    }
    free(r->v);
}

static int width(const struct queue_rows *r, size_t off, const char *title)
{
    size_t w = strlen(title);
    for (size_t i = 0; i < r->n; i++) {
        size_t n = strlen(*(char **)((char *)&r->v[i] + off));
        w = n > w ? n : w;
    }
    return (int)w;
}

/* Columns separated by two spaces, aligned; the last error goes last (it has spaces). */
int cli_queue_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    struct queue_rows r = {0};
    int rc = store_queue_list(st, row_collect, &r);
    if (rc < 0) {
        rows_free(&r);
        return cli_fail("cannot list the queue: %s (%s)", err_str(rc), store_errmsg(st));
    }
    if (r.n == 0) {
        printf("queue is empty\n");
        return CLI_OK;
    }
    int wid = width(&r, offsetof(struct queue_row, id), "QUEUE ID");
    int wst = width(&r, offsetof(struct queue_row, state), "STATE");
    int wse = width(&r, offsetof(struct queue_row, sender), "SENDER");
    int wrc = width(&r, offsetof(struct queue_row, recipient), "RECIPIENT");
    printf("%-*s  %-19s  %-*s  %5s  %-*s  %-*s  %s\n", wid, "QUEUE ID", "ARRIVED (UTC)", wst,
           "STATE", "TRIES", wse, "SENDER", wrc, "RECIPIENT", "LAST ERROR");
    for (size_t i = 0; i < r.n; i++) {
        const struct queue_row *w = &r.v[i];
        printf("%-*s  %-19s  %-*s  %5d  %-*s  %-*s  %s\n", wid, w->id, w->arrived, wst, w->state,
               w->attempts, wse, w->sender, wrc, w->recipient, w->error);
    }
    printf("%zu message%s, %zu recipient%s\n", r.messages, r.messages == 1 ? "" : "s", r.n,
           r.n == 1 ? "" : "s");
    rows_free(&r);
    return CLI_OK;
}

/* ---- commands on one message (or one of its recipients) ---- */

struct target {
    const char *msg_id;    /* as printed by `queue list` */
    const char *recipient; /* NULL: every recipient of the message */
    int64_t *rows;         /* the matching queue rows */
    size_t n;
    bool show;             /* queue show: print each match */
};

static bool rcpt_matches(const char *want, const char *have)
{
    size_t n = strlen(want);
    if (n >= 2 && want[0] == '<' && want[n - 1] == '>') /* "<bob@x>" as printed */
        return strlen(have) == n - 2 && strncasecmp(want + 1, have, n - 2) == 0;
    return strcasecmp(want, have) == 0;
}

static void show_entry(const struct store_queue_entry *e)
{
    char arrived[32], next[32];
    time_format(e->arrived, arrived, sizeof arrived);
    time_format(e->next_attempt, next, sizeof next);
    /* RFC 8689: what the sender asked of the delivery's TLS */
    const char *tls = (e->flags & STORE_QF_REQUIRETLS)     ? "REQUIRETLS"
                      : (e->flags & STORE_QF_TLS_OPTIONAL) ? "TLS-Required: No"
                                                           : "-";
    printf("queue id: %s\nsender: <%s>\nrecipient: <%s>\nstate: %s\n"
           "arrived: %s UTC\nattempts: %d\nnext attempt: %s UTC\nlast error: %s\nsize: %lld\n"
           "tls: %s\nfile: %s\n\n",
           e->msg_id, e->sender, e->recipient, e->state, arrived, e->attempts, next,
           e->last_error[0] ? e->last_error : "-", (long long)e->size, tls, e->blob_path);
    FILE *f = e->blob_path[0] ? fopen(e->blob_path, "rb") : NULL;
    char line[1024];
    while (f && fgets(line, sizeof line, f) && strcmp(line, "\r\n") != 0 &&
           strcmp(line, "\n") != 0)
        fputs(line, stdout); /* the message's header block */
    if (f)
        fclose(f);
}

static void target_match(void *vctx, const struct store_queue_entry *e)
{
    struct target *t = vctx;
    if (strcasecmp(e->msg_id, t->msg_id) != 0 ||
        (t->recipient && !rcpt_matches(t->recipient, e->recipient)))
        return;
    t->rows = xrealloc(t->rows, (t->n + 1) * sizeof *t->rows);
    t->rows[t->n++] = e->id;
    if (t->show)
        show_entry(e);
}

/* Finds the rows named by argv ("ID [RECIPIENT]"). 0 with t filled, or CLI_FAIL. */
static int target_find(struct store *st, int argc, char **argv, struct target *t)
{
    t->msg_id = argv[0];
    t->recipient = argc > 1 ? argv[1] : NULL;
    int rc = store_queue_list(st, target_match, t);
    if (rc < 0)
        return cli_fail("cannot read the queue: %s", err_str(rc));
    if (t->n == 0 && t->recipient)
        return cli_fail("no recipient %s of queue ID %s (see pigeon queue list)", t->recipient,
                        t->msg_id);
    if (t->n == 0)
        return cli_fail("no queue ID %s (see pigeon queue list)", t->msg_id);
    return 0;
}

int cli_queue_show(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    struct target t = {.show = true};
    int rc = target_find(st, argc, argv, &t);
    free(t.rows);
    return rc;
}

/* Applies op to every row of the target, or to the whole queue (id 0) when argc == 0. */
static int queue_admin(struct cli_ctx *ctx, int argc, char **argv,
                       int (*op)(struct store *, int64_t), const char *done)
{
    struct store *st;
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    if (argc == 0 || (argc == 1 && !strcmp(argv[0], "all"))) {
        int rc = op(st, 0);
        if (rc == ERR_NOTFOUND)
            return cli_fail("no queue entry this applies to");
        if (rc < 0)
            return cli_fail("cannot change the queue: %s", err_str(rc));
        printf("%s\n", done);
        return CLI_OK;
    }
    struct target t = {0};
    if (target_find(st, argc, argv, &t) != 0)
        return CLI_FAIL;
    size_t changed = 0;
    int rc = 0;
    for (size_t i = 0; i < t.n && (rc == 0 || rc == ERR_NOTFOUND); i++) {
        rc = op(st, t.rows[i]);
        changed += rc == 0;
    }
    free(t.rows);
    if (rc < 0 && rc != ERR_NOTFOUND)
        return cli_fail("cannot change the queue: %s", err_str(rc));
    if (changed == 0)
        return cli_fail("queue ID %s: no recipient in a state this applies to", argv[0]);
    printf("%s: %zu recipient%s\n", done, changed, changed == 1 ? "" : "s");
    return CLI_OK;
}

static int flush_now(struct store *st, int64_t id)
{
    return store_queue_flush(st, id, (int64_t)time(NULL));
}

int cli_queue_flush(struct cli_ctx *ctx, int argc, char **argv)
{
    return queue_admin(ctx, argc, argv, flush_now, "due now: the daemon delivers at its next scan");
}

int cli_queue_delete(struct cli_ctx *ctx, int argc, char **argv)
{
    return queue_admin(ctx, argc, argv, store_queue_delete, "deleted (no bounce is sent)");
}

int cli_queue_hold(struct cli_ctx *ctx, int argc, char **argv)
{
    return queue_admin(ctx, argc, argv, store_queue_hold, "held");
}

int cli_queue_release(struct cli_ctx *ctx, int argc, char **argv)
{
    return queue_admin(ctx, argc, argv, store_queue_release, "released");
}
