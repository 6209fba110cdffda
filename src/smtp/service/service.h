/*
 * smtp service — the SMTP engine (smtp/session.h) served on [smtp] (the MX role: mail for
 * local domains, SPF) and [submission] (authenticated users, any destination): the
 * service's config sections, its listeners, its connections (conn.c) and the engine's ops on
 * the store, the committer, the queue runner, SPF and the shared login check (ops.c).
 */
#ifndef PIGEON_SMTP_SERVICE_SERVICE_H
#define PIGEON_SMTP_SERVICE_SERVICE_H

#include "host/host.h"

extern const struct service_def smtp_service;

#endif
