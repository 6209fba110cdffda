/*
 * reload — what SIGHUP and `pigeon reload` do (main thread): reopen the log, check the
 * configuration file as a start would (a broken file reloads nothing: its file:line reason is
 * the answer), then put it in force as a new configuration generation (host/confgen.h):
 * [server] limits and log_level, the certificates, the zone files, and what each service's
 * reload hook applies. Every key whose lines changed is reported as applied or as needing a
 * restart (conf_key_reloads: listen addresses, paths, workers, ...).
 */
#ifndef PIGEON_HOST_RELOAD_H
#define PIGEON_HOST_RELOAD_H

#include "core/reload_report.h"
#include "host/host.h"

/* report: where the parts say what failed (NULL: nobody waits, a plain SIGHUP). */
void host_reload(struct daemon *d, struct reload_report *report);

#endif
