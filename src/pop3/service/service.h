/*
 * pop3 service — the POP3 engine (pop3/session.h) served on [pop3] (STLS) and [pop3s]
 * (implicit TLS): the service's config sections, its listeners, its connections (conn.c) and
 * the engine's ops on the store and the shared login check (ops.c).
 */
#ifndef PIGEON_POP3_SERVICE_SERVICE_H
#define PIGEON_POP3_SERVICE_SERVICE_H

#include "host/host.h"

extern const struct service_def pop3_service;

#endif
