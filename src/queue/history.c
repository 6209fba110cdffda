/* history — the daily record files of the mail reports (see history.h). */
#include "queue/history.h"

#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void history_day(int64_t t, char out[11], int64_t *begin)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    *begin = t - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
}

void history_path(const char *data_dir, const char *kind, const char *day, const char *ext,
                  struct str *out)
{
    str_appendf(out, "%s/%s/%s%s", data_dir, kind, day, ext);
}

void history_append(const char *data_dir, const char *kind, int64_t now, const char *line,
                    size_t len)
{
    struct str path = STR_INIT;
    char day[11];
    int64_t begin;
    history_day(now, day, &begin);
    str_appendf(&path, "%s/%s", data_dir, kind);
    if (mkdir(path.ptr, 0750) != 0 && errno != EEXIST)
        log_err("%s: cannot make %s: %s", kind, path.ptr, strerror(errno));
    str_reset(&path);
    history_path(data_dir, kind, day, "", &path);
    int fd = open(path.ptr, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 || write(fd, line, len) != (ssize_t)len)
        log_err("%s: cannot append to %s: %s", kind, path.ptr, strerror(errno));
    if (fd >= 0)
        close(fd);
    str_clear(&path);
}

void history_mark_sent(const char *data_dir, const char *kind, const char *day)
{
    struct str path = STR_INIT;
    history_path(data_dir, kind, day, ".sent", &path);
    int fd = open(path.ptr, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        log_err("%s: cannot write %s: %s", kind, path.ptr, strerror(errno));
    else
        close(fd);
    str_clear(&path);
}

bool history_was_sent(const char *data_dir, const char *kind, const char *day)
{
    struct str path = STR_INIT;
    history_path(data_dir, kind, day, ".sent", &path);
    bool sent = access(path.ptr, F_OK) == 0;
    str_clear(&path);
    return sent;
}

int64_t history_day_start(const char *day)
{
    struct tm tm = {0};
    strptime(day, "%Y-%m-%d", &tm);
    return (int64_t)timegm(&tm);
}

int history_each(const char *data_dir, const char *kind, const char *day,
                 void (*fn)(void *ctx, const char *line, size_t len), void *ctx)
{
    struct str path = STR_INIT;
    history_path(data_dir, kind, day, "", &path);
    FILE *f = fopen(path.ptr, "r");
    str_clear(&path);
    if (!f)
        return ERR_NOTFOUND;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0)
        fn(ctx, line, (size_t)n);
    free(line);
    fclose(f);
    return 0;
}
