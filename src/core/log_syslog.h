/*
 * log_syslog — the syslog(3) side of core/log, in a file of its own because <syslog.h>
 * defines LOG_ERR, LOG_INFO and LOG_DEBUG as macros that clash with enum log_level.
 * Priorities are syslog's numbers: 3 err, 4 warning, 6 info, 7 debug.
 */
#ifndef PIGEON_CORE_LOG_SYSLOG_H
#define PIGEON_CORE_LOG_SYSLOG_H

/* openlog("pigeond", LOG_PID | LOG_NDELAY, LOG_MAIL). */
void log_syslog_open(void);
/* One message at priority prio; text without time stamp or newline. Thread-safe. */
void log_syslog_write(int prio, const char *text);

#endif
