/*
 * imap service — the IMAP engine (imap/session.h) served on [imap] (STARTTLS) and [imaps]
 * (implicit TLS): the service's config sections, its listeners, the IMAP writer (group
 * commit of every IMAP write, store/imap_writer.h), its connections and the per-worker list
 * of sessions that mailbox-change notices reach (conn.c), and the engine's ops on the store
 * (ops.c).
 */
#ifndef PIGEON_IMAP_SERVICE_SERVICE_H
#define PIGEON_IMAP_SERVICE_SERVICE_H

#include "host/host.h"

extern const struct service_def imap_service;

#endif
