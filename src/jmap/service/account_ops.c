/*
 * jmap service, account settings ops — the engine's sieve_read/sieve_write
 * (VacationResponse, jmap/vacation.c) on the user's scripts in the store (store/sieve.h),
 * the same scripts ManageSieve and delivery use; a script is parsed with the Sieve engine
 * before it is written, so JMAP never stores one that delivery would refuse to run. And
 * identities_read/write (Identity/set): one JSON file per user, DATA/jmap-identities-u<id>.json,
 * written durably (temporary file, fsync, rename, directory fsync). And the EmailSubmission
 * records (store/jmap_submissions.h).
 */
#include "jmap/service/service_int.h"

#include "core/err.h"
#include "core/file.h"
#include "sieve/sieve.h"
#include "store/jmap_submissions.h"
#include "store/sieve.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct active_ctx {
    char *name;
};

static void active_cb(void *vctx, const char *name, bool active, size_t size)
{
    struct active_ctx *a = vctx;
    if (active && !a->name)
        a->name = strdup(name);
}

static int op_sieve_read(void *vctx, const char *name, char **text_out, char **active_out)
{
    struct jmap_store_ctx *ctx = vctx;
    *text_out = *active_out = NULL;
    int64_t uid;
    if (store_user_lookup(ctx->st, ctx->user, &uid) != 0)
        return ERR_NOTFOUND;
    struct active_ctx a = {NULL};
    int rc = store_sieve_list(ctx->st, uid, active_cb, &a);
    if (rc != 0)
        return rc;
    size_t len;
    rc = store_sieve_get(ctx->st, uid, name, text_out, &len);
    if (rc == ERR_NOTFOUND) {
        *text_out = NULL;
        rc = 0;
    }
    if (rc != 0) {
        free(a.name);
        return rc;
    }
    *active_out = a.name;
    return 0;
}

static int op_sieve_write(void *vctx, const char *name, const char *text, const char *activate)
{
    struct jmap_store_ctx *ctx = vctx;
    int64_t uid;
    if (store_user_lookup(ctx->st, ctx->user, &uid) != 0)
        return ERR_NOTFOUND;
    struct sieve_limits lim;
    sieve_limits_default(&lim);
    struct sieve_script *sc = NULL;
    struct str err = STR_INIT;
    int rc = sieve_script_parse(text, strlen(text), &lim, &sc, &err);
    sieve_script_free(sc);
    str_clear(&err);
    if (rc != 0)
        return ERR_PARSE;
    rc = store_sieve_put(ctx->st, uid, name, text, strlen(text));
    if (rc == 0 && activate)
        rc = store_sieve_activate(ctx->st, uid, activate);
    return rc;
}

#define IDENTITIES_MAX (1u << 20)

static int identities_path(struct jmap_store_ctx *ctx, char *out, size_t cap)
{
    int64_t uid;
    if (store_user_lookup(ctx->st, ctx->user, &uid) != 0)
        return ERR_NOTFOUND;
    snprintf(out, cap, "%s/jmap-identities-u%lld.json", store_data_dir(ctx->st), (long long)uid);
    return 0;
}

static int op_identities_read(void *vctx, struct str *out)
{
    char path[4096];
    int rc = identities_path(vctx, path, sizeof path);
    if (rc != 0)
        return rc;
    rc = file_read_all(path, IDENTITIES_MAX, out);
    return rc == ERR_NOTFOUND ? 0 : rc; /* none written yet: "" */
}

static int op_identities_write(void *vctx, const char *json)
{
    char path[4096];
    int rc = identities_path(vctx, path, sizeof path);
    size_t n = strlen(json);
    if (rc == 0 && n > IDENTITIES_MAX)
        rc = ERR_LIMIT;
    return rc ? rc : store_durable_write(path, json, n);
}

static int op_submission_put(void *vctx, const char *id, const char *json)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_jmap_submission_put(ctx->st, ctx->user, id, json);
}

static int op_submissions(void *vctx, void (*cb)(void *arg, const char *json), void *arg,
                          struct str *state_out)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_jmap_submissions(ctx->st, ctx->user, cb, arg, state_out);
}

static int op_submission_del(void *vctx, const char *id)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_jmap_submission_del(ctx->st, ctx->user, id);
}

static int op_submission_changes(void *vctx, int64_t since,
                                 void (*cb)(void *arg, const char *id, int64_t seq, bool gone),
                                 void *arg, int64_t *now_out)
{
    struct jmap_store_ctx *ctx = vctx;
    return store_jmap_submission_changes(ctx->st, ctx->user, since, cb, arg, now_out);
}

void jmap_store_account_ops(struct jmap_ops *ops)
{
    ops->submission_changes = op_submission_changes;
    ops->submission_put = op_submission_put;
    ops->submissions = op_submissions;
    ops->submission_del = op_submission_del;
    ops->sieve_read = op_sieve_read;
    ops->sieve_write = op_sieve_write;
    ops->identities_read = op_identities_read;
    ops->identities_write = op_identities_write;
}
