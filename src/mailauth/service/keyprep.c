/*
 * keyprep — the DKIM keys pigeond will sign with, made ahead on a thread of its own.
 *
 * A new 2048-bit RSA key takes a good fraction of a second to generate (seconds under the
 * sanitizers); made on a worker's loop it would stall every connection of that worker, and a
 * fresh pigeond made its first key there within its first minute. Before each publisher
 * round (publish.c) this thread makes the key of the active selector of every local domain
 * when signing or [mail_dns] publish is on, and the key of the [dmarc_report] email's domain
 * when reports are mailed; the loads that follow on the workers (glue.c, records.c,
 * reports_daily.c) then only read a file. A domain added since the last round and signed for
 * before the next one still gets its key where it is first needed.
 */
#include "mailauth/service/service_int.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "mailauth/dkim_rotate.h"
#include "mailauth/keystore.h"
#include "mailauth/service/dmarc_report.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

struct mailauth_keyprep {
    struct mailauth_glue *g;
    struct pool *pool; /* one thread with its own store handle */
    atomic_bool closing;
};

struct prep_job {
    struct mailauth_keyprep *kp;
    const struct config_dkim *k;
    bool domains; /* every local domain's key, not only the reports' */
    struct loop_post *lp;
    void (*done)(void *arg);
    void *arg;
};

static void make_key(const struct config_dkim *k, const char *domain)
{
    struct dkim_sels sels;
    const char *why = NULL;
    if (dkim_keystore_sels_load(k->key_dir, domain, k->selector, &sels, &why) != 0) {
        log_err("dkim: selectors of %s: %s (no key made ahead)", domain, why);
        return;
    }
    const char *sel = dkim_sels_active(&sels)->name;
    bool made = false;
    if (dkim_keystore_make(k->key_dir, domain, sel, (enum dkim_alg)k->algorithm, &made, &why))
        log_err("dkim: cannot make the key of %s, selector %s: %s", domain, sel, why);
    else if (made)
        log_info("dkim: made the %s key of %s, selector %s",
                 k->algorithm == DKIM_ED25519_SHA256 ? "ed25519" : "rsa", domain, sel);
}

static void one_domain(void *ctx, const char *domain)
{
    struct prep_job *j = ctx;
    if (!atomic_load(&j->kp->closing))
        make_key(j->k, domain);
}

static void work(void *tctx, void *arg)
{
    struct prep_job *j = arg;
    struct store *st = tctx;
    struct mailauth_glue *g = j->kp->g;
    if (!atomic_load(&j->kp->closing)) {
        if (j->domains && st && store_domain_list(st, one_domain, j) != 0)
            log_err("dkim: cannot list the local domains (no key made ahead)");
        const struct config_dmarc_report *drep = atomic_load(&g->drep);
        const char *at = strrchr(drep->email, '@');
        if (at && ((drep->send && g->psl) || g->tlsrpt_send))
            make_key(j->k, at + 1);
    }
    loop_post_send(j->lp, j->done, j->arg);
    free(j);
}

struct mailauth_keyprep *mailauth_keyprep_new(struct daemon *d, struct mailauth_glue *g)
{
    struct mailauth_keyprep *kp = xcalloc(1, sizeof *kp);
    kp->g = g;
    atomic_init(&kp->closing, false);
    kp->pool = pool_new(1, host_store_thread_init, host_store_thread_fini, d);
    return kp;
}

void mailauth_keyprep_run(struct mailauth_keyprep *kp, bool publish, struct loop_post *lp,
                          void (*done)(void *arg), void *arg)
{
    struct prep_job *j = xcalloc(1, sizeof *j);
    j->kp = kp;
    j->k = atomic_load(&kp->g->cfg);
    j->domains = j->k->sign || publish;
    j->lp = lp;
    j->done = done;
    j->arg = arg;
    pool_submit(kp->pool, work, j);
}

void mailauth_keyprep_stop(struct mailauth_keyprep *kp)
{
    if (!kp || !kp->pool)
        return;
    atomic_store(&kp->closing, true);
    pool_free(kp->pool); /* jobs still queued only post their done */
    kp->pool = NULL;
}

bool mailauth_keyprep_closing(const struct mailauth_keyprep *kp)
{
    return atomic_load(&kp->closing);
}

void mailauth_keyprep_free(struct mailauth_keyprep *kp)
{
    if (!kp)
        return;
    mailauth_keyprep_stop(kp);
    free(kp);
}
