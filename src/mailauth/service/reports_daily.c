/*
 * reports_daily — pigeond mails yesterday's reports: DMARC aggregate reports ([dmarc_report]
 * send) and SMTP TLS reports ([dmarc_report] tlsrpt_send). On worker 0, every check_interval
 * (an hour by default; the first look a minute after the start, or sooner with a shorter
 * interval), for each kind whose DATA/KIND/YESTERDAY exists and is not marked sent, the reports
 * are built (dmarc_report.c, tlsrpt_report.c) and each mail goes through the committer into
 * the outgoing queue, DKIM-signed with the key of the [dmarc_report] email's domain. The day
 * is marked sent when every mail of it was queued.
 */
#include "mailauth/service/service_int.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/xmalloc.h"
#include "mailauth/service/dmarc_report.h"
#include "mailauth/service/tlsrpt_report.h"
#include "queue/history.h"
#include "queue/runner.h"
#include "store/committer.h"
#include "store/store.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* One kind of report and its current run. */
struct daily_kind {
    struct mailauth_daily *dl;
    const char *name;
    int (*send)(const struct dmarc_run_params *p);
    bool on, running, listed;
    int queued, failed;
    char day[11];
};

struct mailauth_daily {
    struct mailauth_glue *g;
    struct worker *w;
    struct event *ev;
    struct daily_kind k[2];
};

struct daily_mail {
    struct daily_kind *k;
    struct store_msg msg;
    struct str body;
    char from[320], to[320];
    const char *rcpts[1];
};

static void run_end(struct daily_kind *k)
{
    if (!k->listed || k->queued > 0)
        return;
    if (k->failed == 0)
        history_mark_sent(k->dl->g->data_dir, k->name, k->day);
    k->running = false;
}

static void mail_stored(void *arg)
{
    struct daily_mail *m = arg;
    struct daily_kind *k = m->k;
    if (m->msg.result != 0) {
        log_err("%s: the report to %s was not queued: %d", k->name, m->to, m->msg.result);
        k->failed++;
    } else {
        queue_runner_kick(k->dl->w->d->runner);
    }
    str_clear(&m->body);
    free(m);
    k->queued--;
    run_end(k);
}

static void mail_committed(struct store_msg *msg, void *arg)
{
    struct daily_mail *m = arg;
    loop_post_send(m->k->dl->w->host.post, mail_stored, m);
}

static void queue_mail(void *ctx, const char *from, const char *to, struct str *body)
{
    struct daily_kind *k = ctx;
    struct daily_mail *m = xcalloc(1, sizeof *m);
    m->k = k;
    str_append(&m->body, body->ptr, body->len);
    snprintf(m->from, sizeof m->from, "%s", from);
    snprintf(m->to, sizeof m->to, "%s", to);
    m->rcpts[0] = m->to;
    m->msg = (struct store_msg){.sender = m->from, .body = m->body.ptr,
                                .body_len = m->body.len, .remote_rcpts = m->rcpts,
                                .n_remote = 1, .received_at = (int64_t)time(NULL)};
    k->queued++;
    committer_submit(k->dl->w->d->committer, &m->msg, mail_committed, m);
}

static void run_done(void *ctx, size_t queued, size_t skipped)
{
    struct daily_kind *k = ctx;
    log_info("%s: %s: %zu report(s) queued, %zu destination(s) skipped", k->name, k->day,
             queued, skipped);
    k->listed = true;
    run_end(k);
}

static void run_kind(struct daily_kind *k)
{
    struct mailauth_glue *g = k->dl->g;
    int64_t begin;
    if (!k->on || k->running)
        return;
    history_day((int64_t)time(NULL) - 86400, k->day, &begin);
    if (history_was_sent(g->data_dir, k->name, k->day))
        return;
    const char *at = strrchr(g->drep->email, '@');
    struct dmarc_run_params p = {.data_dir = g->data_dir, .day = k->day, .psl = g->psl,
                                 .org_name = g->drep->org_name, .email = g->drep->email,
                                 .submitter = g->hostname, .now = (int64_t)time(NULL),
                                 .stub = k->dl->w->stub,
                                 .signer = at ? mailauth_glue_signer(g, at + 1) : NULL,
                                 .queue = queue_mail, .done = run_done, .ctx = k};
    k->running = true;
    k->listed = false;
    k->failed = 0;
    if (k->send(&p) != 0)
        k->running = false; /* no history that day */
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    struct mailauth_daily *dl = arg;
    struct timeval next = {(time_t)dl->g->drep->check_interval, 0};
    event_add(dl->ev, &next);
    if (!dl->w->stub)
        return;
    for (size_t i = 0; i < 2; i++)
        run_kind(&dl->k[i]);
}

struct mailauth_daily *mailauth_daily_new(struct mailauth_glue *g, struct worker *w)
{
    bool dmarc = g->drep->send && g->psl, tlsrpt = g->tlsrpt_send;
    if (!dmarc && !tlsrpt)
        return NULL;
    struct mailauth_daily *dl = xcalloc(1, sizeof *dl);
    dl->g = g;
    dl->w = w;
    dl->k[0] = (struct daily_kind){.dl = dl, .name = "dmarc", .send = mailauth_dmarc_send,
                                   .on = dmarc};
    dl->k[1] = (struct daily_kind){.dl = dl, .name = "tlsrpt", .send = mailauth_tlsrpt_send,
                                   .on = tlsrpt};
    dl->ev = evtimer_new(w->host.base, tick, dl);
    unsigned first = g->drep->check_interval < 60 ? g->drep->check_interval : 60;
    struct timeval start = {(time_t)first, 0};
    event_add(dl->ev, &start);
    return dl;
}

void mailauth_daily_stop(struct mailauth_daily *dl)
{
    if (dl && dl->ev) {
        event_free(dl->ev);
        dl->ev = NULL;
    }
}
