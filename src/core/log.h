/*
 * log — one line per event: "2026-11-22T16:20:01.123Z info smtp s1f text".
 *
 * The target is stderr (the default), syslog (facility mail, ident "pigeond"; syslog adds its
 * own time stamp, so the line starts at the level) or a file opened for appending, chosen once
 * at start with log_open ([server] log). Each line is formatted into a local buffer and
 * written with one write(2), so lines from different threads never interleave. Callers put
 * the session or query id in the text (see LOG_ID). Credentials are never passed here; text
 * from the network goes through log_sanitize first.
 */
#ifndef PIGEON_CORE_LOG_H
#define PIGEON_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Session ids are printed as "s" followed by lowercase hex. */
#define LOG_ID "s%llx"
#define LOG_IDV(id) ((unsigned long long)(id))

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "err", "warn", "info", "debug"; returns -1 when unknown. */
int log_level_parse(const char *name);

/* Chooses where lines go: "stderr", "syslog", or an absolute file path (created 0640, appended
 * to). At start, and on the main thread during a reload ([server] log changed): a file is
 * opened before lines move to it, one already in use is replaced under the same descriptor,
 * and on failure the old target stays. 0, or < 0 with the reason in err. */
struct str;
int log_open(const char *target, struct str *err);
/* Reopens the log file at the same path (after logrotate moved it); a no-op for stderr and
 * syslog. Safe while other threads log: the new file takes over the same descriptor. */
int log_reopen(void);

/* Copies at most cap-1 bytes of untrusted text into out for a log line: bytes outside
 * printable ASCII become '?', so a client cannot forge or split lines. Returns out. */
char *log_sanitize(const char *in, char *out, size_t cap);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_get_level() >= LOG_DEBUG)                                                          \
            log_msg(LOG_DEBUG, __VA_ARGS__);                                                       \
    } while (0)

#endif
