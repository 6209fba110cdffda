/*
 * ftp service — the FTP engine (ftp/session.h) served on [ftp] (AUTH TLS on the control
 * connection) and [ftps] (implicit TLS): its config sections, listeners and fsync pool
 * (service.c), its control connections (conn.c), the engine's ops on the user's file tree
 * (ops.c, fs.c) and its data connections and transfers (data.c, xfer.c).
 */
#ifndef PIGEON_FTP_SERVICE_SERVICE_H
#define PIGEON_FTP_SERVICE_SERVICE_H

#include "host/host.h"

extern const struct service_def ftp_service;

#endif
