#include "core/log.h"

#include "core/err.h"
#include "core/log_syslog.h"
#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The log level and target are process-wide configuration set once at start; atomics keep
 * readers in worker threads well-defined. */
static _Atomic int current_level = LOG_INFO;

enum log_target { TARGET_STDERR, TARGET_SYSLOG, TARGET_FILE };
static _Atomic int target = TARGET_STDERR;
static int file_fd = -1;    /* TARGET_FILE: replaced in place by log_reopen (dup2) */
static char *file_path;     /* TARGET_FILE: for log_reopen */

void log_set_level(enum log_level level)
{
    atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&current_level);
}

int log_level_parse(const char *name)
{
    static const char *const names[] = {"err", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    if (strcmp(name, "error") == 0)
        return LOG_ERR;
    return -1;
}

static int file_open(const char *path, struct str *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 && err)
        str_appendf(err, "cannot open log file %s: %s", path, strerror(errno));
    return fd;
}

int log_open(const char *where, struct str *err)
{
    if (!where || !strcmp(where, "stderr")) {
        atomic_store(&target, TARGET_STDERR);
        return 0;
    }
    if (!strcmp(where, "syslog")) {
        log_syslog_open();
        atomic_store(&target, TARGET_SYSLOG);
        return 0;
    }
    if (where[0] != '/') {
        str_appendf(err, "log file %s must be an absolute path", where);
        return ERR_CONFIG;
    }
    int fd = file_open(where, err);
    if (fd < 0)
        return ERR_IO;
    if (file_fd >= 0) { /* a reload: a thread may be writing to it, so it is replaced in place */
        int rc = dup2(fd, file_fd) < 0 ? ERR_IO : 0;
        close(fd);
        if (rc != 0)
            return rc;
    } else {
        file_fd = fd; /* read by other threads only once target says FILE */
    }
    free(file_path);
    file_path = strdup(where);
    atomic_store(&target, TARGET_FILE);
    return 0;
}

int log_reopen(void)
{
    if (atomic_load(&target) != TARGET_FILE)
        return 0;
    struct str err = STR_INIT;
    int fd = file_open(file_path, &err);
    if (fd < 0) {
        log_err("%s", str_cstr(&err)); /* still goes to the old file */
        str_clear(&err);
        return ERR_IO;
    }
    /* dup2 swaps the open file under the same number: a thread writing now gets one file or
     * the other, never a closed or reused descriptor. */
    int rc = dup2(fd, file_fd) < 0 ? ERR_IO : 0;
    close(fd);
    return rc;
}

char *log_sanitize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; in && in[n] && n + 1 < cap; n++) {
        unsigned char c = (unsigned char)in[n];
        out[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (cap)
        out[n] = '\0';
    return out;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const tags[] = {"error", "warn", "info", "debug"};
    static const int syslog_prio[] = {3, 4, 6, 7};
    if ((int)level > atomic_load(&current_level))
        return;
    int where = atomic_load(&target);
    char line[2048];
    size_t n = 0;
    if (where != TARGET_SYSLOG) { /* syslog stamps its own time */
        struct timeval tv;
        gettimeofday(&tv, NULL);
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, ".%03dZ ", (int)(tv.tv_usec / 1000));
    }
    n += (size_t)snprintf(line + n, sizeof line - n, "%s ", tags[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    /* Keep one event on one line whatever the text holds. */
    for (size_t i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    if (where == TARGET_SYSLOG) {
        line[n] = '\0';
        log_syslog_write(syslog_prio[level], line);
        return;
    }
    line[n++] = '\n';
    ssize_t w = write(where == TARGET_FILE ? file_fd : STDERR_FILENO, line, n);
    (void)w;
}
