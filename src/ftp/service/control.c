/*
 * ftp service, control — `pigeon ftp sessions`: the sessions of every worker, each with its
 * client address, user, working directory and the transfer in progress, answered on the
 * control socket (host.h: service_def.control, on the main thread).
 *
 * The sessions live on the workers; each keeps a copy of what is shown (struct ftp_show),
 * written on its worker under ftp_state.lock when it changes (after a command, a login, the
 * start and end of a transfer), so the main thread reads only that copy. The octets of a
 * transfer are an atomic counter the transfer stores as it goes.
 */
#include "ftp/service/service_int.h"

#include "ftp/service/service.h"

#include "host/host.h"

#include "core/str.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void ftp_show_register(struct ftp_state *st, struct ftp_conn *fc)
{
    fc->show.since = (int64_t)time(NULL);
    pthread_mutex_lock(&st->lock);
    fc->next = st->sessions;
    if (st->sessions)
        st->sessions->prev = fc;
    st->sessions = fc;
    pthread_mutex_unlock(&st->lock);
}

void ftp_show_unregister(struct ftp_state *st, struct ftp_conn *fc)
{
    pthread_mutex_lock(&st->lock);
    if (fc->prev)
        fc->prev->next = fc->next;
    else
        st->sessions = fc->next;
    if (fc->next)
        fc->next->prev = fc->prev;
    fc->prev = fc->next = NULL;
    pthread_mutex_unlock(&st->lock);
}

void ftp_show_update(struct ftp_conn *fc)
{
    const char *user = ftp_session_user(fc->s), *cwd = ftp_session_cwd(fc->s);
    struct ftp_show *v = &fc->show;
    if (strncmp(v->user, user, sizeof v->user - 1) == 0 &&
        strncmp(v->cwd, cwd, sizeof v->cwd - 1) == 0)
        return;
    pthread_mutex_lock(&fc->st->lock);
    snprintf(v->user, sizeof v->user, "%s", user);
    snprintf(v->cwd, sizeof v->cwd, "%s", cwd);
    pthread_mutex_unlock(&fc->st->lock);
}

void ftp_show_xfer(struct ftp_conn *fc, const char *verb, const char *path)
{
    struct ftp_show *v = &fc->show;
    pthread_mutex_lock(&fc->st->lock);
    snprintf(v->xfer, sizeof v->xfer, "%s", verb ? verb : "");
    snprintf(v->path, sizeof v->path, "%s", verb ? path : "");
    v->xfer_since = (int64_t)time(NULL);
    atomic_store_explicit(&v->bytes, 0, memory_order_relaxed);
    pthread_mutex_unlock(&fc->st->lock);
}

/* A field of a tab-separated line: control characters (a tab, a CR a client sent in a path)
 * as '?', so a note stays one line of fields. */
static void field(struct str *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        str_appendc(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
}

static void show_one(struct str *out, const struct ftp_conn *fc, int64_t now)
{
    const struct ftp_show *v = &fc->show;
    str_appendf(out, "note %llu\t%s\t", (unsigned long long)fc->id, fc->peer);
    field(out, v->user[0] ? v->user : "-");
    str_appendf(out, "\t%lld\t", (long long)(now - v->since));
    field(out, v->user[0] ? v->cwd : "-");
    str_appendc(out, '\t');
    if (v->xfer[0]) {
        str_appendf(out, "%s ", v->xfer);
        field(out, v->path);
        str_appendf(out, " %llu octets %lld s",
                    (unsigned long long)atomic_load_explicit(&v->bytes, memory_order_relaxed),
                    (long long)(now - v->xfer_since));
    } else {
        str_appendc(out, '-');
    }
    str_appendc(out, '\n');
}

int ftp_control(struct daemon *d, void *state, const char *line, struct str *answer)
{
    if (strncmp(line, "ftp", 3) != 0 || (line[3] != ' ' && line[3] != '\0'))
        return -1;
    struct ftp_state *st = state;
    if (strcmp(line, "ftp sessions") != 0) {
        str_appends(answer, "error usage: ftp sessions\n");
        return 1;
    }
    if (!st) {
        str_appends(answer, "error FTP does not run (no [ftp] or [ftps] listen address)\n");
        return 1;
    }
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&st->lock);
    for (const struct ftp_conn *fc = st->sessions; fc; fc = fc->next)
        show_one(answer, fc, now);
    pthread_mutex_unlock(&st->lock);
    return 0;
}
