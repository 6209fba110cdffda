#include "core/log_syslog.h"

#include <syslog.h>

void log_syslog_open(void)
{
    /* LOG_NDELAY: connect to /dev/log now, before a chroot or privilege drop could hide it. */
    openlog("pigeond", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_syslog_write(int prio, const char *text)
{
    syslog(LOG_MAKEPRI(LOG_MAIL, prio), "%s", text);
}
