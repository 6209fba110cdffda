/*
 * jmap service — JMAP (RFC 8620/8621) and the webmail on the HTTP service's sites: the
 * `[jmap]` section, the handler it adds to the HTTP service (/.well-known/jmap, /jmap/api/,
 * /jmap/upload/, /jmap/download/, /mail/), and the engine's store operations, which run on
 * the mail-access store pool. A no-op without `[jmap] enabled = yes` or without `[http]`.
 */
#ifndef PIGEON_JMAP_SERVICE_SERVICE_H
#define PIGEON_JMAP_SERVICE_SERVICE_H

#include "host/host.h"

extern const struct service_def jmap_service_def;

#endif
