/* cmd_queue — `pigeon queue list|show|flush|delete|hold|release`: the outgoing queue, one line
 * per (message, recipient). The daemon rescans the queue by itself (within scan_interval), so
 * flush and release take effect without talking to it. */
#include "cli/cli.h"

#include "core/err.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct queue_print_ctx {
    size_t count;
};

/* "2026-11-22T16:20:01Z" */
static void time_format(int64_t unix_secs, char *out, size_t cap)
{
    time_t t = (time_t)unix_secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "@%lld", (long long)unix_secs);
}

/* Tab-separated: id, arrived, sender (<> for the null reverse-path), recipient, attempts,
 * state, last error ("-" when none). The error is last because it may contain spaces. */
static void queue_entry_print(void *vctx, const struct store_queue_entry *e)
{
    struct queue_print_ctx *ctx = vctx;
    char when[32];
    time_format(e->arrived, when, sizeof when);
    const char *sender = e->sender && e->sender[0] ? e->sender : "<>";
    const char *error = e->last_error && e->last_error[0] ? e->last_error : "-";
    printf("%lld\t%s\t%s\t%s\t%d\t%s\t%s\n", (long long)e->id, when, sender,
           e->recipient ? e->recipient : "", e->attempts, e->state ? e->state : "", error);
    ctx->count++;
}

int cli_queue_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    struct queue_print_ctx pc = {0};
    int rc = store_queue_list(st, queue_entry_print, &pc);
    if (rc < 0)
        return cli_fail("cannot list the queue: %s (%s)", err_str(rc), store_errmsg(st));
    if (pc.count == 0)
        printf("queue is empty\n");
    else
        printf("%zu messages queued\n", pc.count);
    return CLI_OK;
}

/* "ID" (a positive number), or "all"/absent meaning every entry (0). */
static int parse_id(int argc, char **argv, bool required, int64_t *id)
{
    *id = 0;
    if (argc < 1 || (!required && strcmp(argv[0], "all") == 0))
        return required ? cli_fail("an entry ID is required (see pigeon queue list)") : 0;
    char *end;
    long long v = strtoll(argv[0], &end, 10);
    if (*end || v <= 0)
        return cli_fail("invalid queue entry ID: %s", argv[0]);
    *id = v;
    return 0;
}

struct show_ctx {
    int64_t id;
    bool found;
};

static void show_entry(void *vctx, const struct store_queue_entry *e)
{
    struct show_ctx *c = vctx;
    if (e->id != c->id)
        return;
    c->found = true;
    char arrived[32], next[32];
    time_format(e->arrived, arrived, sizeof arrived);
    time_format(e->next_attempt, next, sizeof next);
    printf("id: %lld\nmessage: %s\nsender: <%s>\nrecipient: <%s>\nstate: %s\n"
           "arrived: %s\nattempts: %d\nnext attempt: %s\nlast error: %s\nsize: %lld\n"
           "file: %s\n\n",
           (long long)e->id, e->msg_id, e->sender, e->recipient, e->state, arrived,
           e->attempts, next, e->last_error[0] ? e->last_error : "-", (long long)e->size,
           e->blob_path);
    FILE *f = e->blob_path[0] ? fopen(e->blob_path, "rb") : NULL;
    char line[1024];
    while (f && fgets(line, sizeof line, f) && strcmp(line, "\r\n") != 0 &&
           strcmp(line, "\n") != 0)
        fputs(line, stdout); /* the message's header block */
    if (f)
        fclose(f);
}

int cli_queue_show(struct cli_ctx *ctx, int argc, char **argv)
{
    struct store *st;
    struct show_ctx sc = {0, false};
    if (parse_id(argc, argv, true, &sc.id) != 0 || cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int rc = store_queue_list(st, show_entry, &sc);
    if (rc < 0)
        return cli_fail("cannot read the queue: %s", err_str(rc));
    return sc.found ? CLI_OK : cli_fail("no queue entry %lld", (long long)sc.id);
}

static int queue_admin(struct cli_ctx *ctx, int argc, char **argv, bool required,
                       int (*op)(struct store *, int64_t), const char *done)
{
    struct store *st;
    int64_t id;
    if (parse_id(argc, argv, required, &id) != 0 || cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int rc = op(st, id);
    if (rc == ERR_NOTFOUND)
        return cli_fail(id ? "no queue entry %lld in a state this applies to"
                           : "no queue entry this applies to%.0lld", (long long)id);
    if (rc < 0)
        return cli_fail("cannot change the queue: %s", err_str(rc));
    printf("%s\n", done);
    return CLI_OK;
}

static int flush_now(struct store *st, int64_t id)
{
    return store_queue_flush(st, id, (int64_t)time(NULL));
}

int cli_queue_flush(struct cli_ctx *ctx, int argc, char **argv)
{
    return queue_admin(ctx, argc, argv, false, flush_now,
                       "due now: the daemon delivers at its next scan");
}

int cli_queue_delete(struct cli_ctx *ctx, int argc, char **argv)
{
    return queue_admin(ctx, argc, argv, true, store_queue_delete, "deleted (no bounce is sent)");
}

int cli_queue_hold(struct cli_ctx *ctx, int argc, char **argv)
{
    return queue_admin(ctx, argc, argv, false, store_queue_hold, "held");
}

int cli_queue_release(struct cli_ctx *ctx, int argc, char **argv)
{
    return queue_admin(ctx, argc, argv, false, store_queue_release, "released");
}
