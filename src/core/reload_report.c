/* reload_report — the lines one reload produced, from every thread that took part. */
#include "core/reload_report.h"

#include "core/loop_post.h"
#include "core/str.h"
#include "core/xmalloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>

#define REPORT_MAX_LINES 256 /* more failures than this are counted, not kept */

struct report_line {
    bool error;
    char *text;
};

struct reload_report {
    pthread_mutex_t lock;
    unsigned refs;
    struct loop_post *post;
    reload_report_done_fn done;
    void *arg;
    struct report_line *lines;
    size_t nlines, errors;
};

struct reload_report *reload_report_new(struct loop_post *post, reload_report_done_fn done,
                                        void *arg)
{
    struct reload_report *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->refs = 1;
    r->post = post;
    r->done = done;
    r->arg = arg;
    return r;
}

void reload_report_hold(struct reload_report *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->refs++;
    pthread_mutex_unlock(&r->lock);
}

static void report_complete(void *vr)
{
    struct reload_report *r = vr;
    r->done(r->arg, r);
}

void reload_report_release(struct reload_report *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last)
        loop_post_send(r->post, report_complete, r);
}

void reload_report_add(struct reload_report *r, bool error, const char *fmt, ...)
{
    if (!r)
        return;
    struct str s = STR_INIT;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&s, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == '\n' || s.ptr[i] == '\r')
            s.ptr[i] = ' ';
    pthread_mutex_lock(&r->lock);
    if (error)
        r->errors++;
    if (r->nlines < REPORT_MAX_LINES) {
        r->lines = xrealloc(r->lines, (r->nlines + 1) * sizeof *r->lines);
        r->lines[r->nlines++] = (struct report_line){error, str_steal(&s)};
    }
    pthread_mutex_unlock(&r->lock);
    str_clear(&s);
}

size_t reload_report_errors(const struct reload_report *r)
{
    return r->errors;
}

size_t reload_report_lines(const struct reload_report *r)
{
    return r->nlines;
}

const char *reload_report_line(const struct reload_report *r, size_t i, bool *error_out)
{
    *error_out = r->lines[i].error;
    return r->lines[i].text;
}

void reload_report_free(struct reload_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nlines; i++)
        free(r->lines[i].text);
    free(r->lines);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
