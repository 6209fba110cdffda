/*
 * reload — what SIGHUP and `pigeon reload` do (main thread): reopen the log, check the
 * configuration file as a start would (a broken file reloads nothing: its file:line reason is
 * the answer), apply its log_level, then re-read the certificates, the zone files and whatever
 * each service reloads. Other settings changed in the file take effect at the next start.
 */
#ifndef PIGEON_HOST_RELOAD_H
#define PIGEON_HOST_RELOAD_H

#include "core/reload_report.h"
#include "host/host.h"

/* report: where the parts say what failed (NULL: nobody waits, a plain SIGHUP). */
void host_reload(struct daemon *d, struct reload_report *report);

#endif
