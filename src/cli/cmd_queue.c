/* cmd_queue — `pigeon queue list`: the outgoing queue, one line per (message, recipient). */
#include "cli/cli.h"

#include "core/err.h"
#include "store/store.h"

#include <stdio.h>
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
