/*
 * managesieve service — the ManageSieve engine (managesieve/session.h) served on
 * [managesieve] (port 4190 by convention, STARTTLS): its config section, its listeners, its
 * connections (conn.c) and the engine's ops on the shared login check and the script store
 * (ops.c).
 */
#ifndef PIGEON_MANAGESIEVE_SERVICE_SERVICE_H
#define PIGEON_MANAGESIEVE_SERVICE_SERVICE_H

#include "host/host.h"

extern const struct service_def managesieve_service;

#endif
