/*
 * config_check — what pigeond rejects at start beyond one key's syntax, shared by pigeond
 * (at start and with -t) and `pigeon check-config` so that all three say the same thing.
 */
#ifndef PIGEON_HOST_CONFIG_CHECK_H
#define PIGEON_HOST_CONFIG_CHECK_H

#include "conf/config.h"

/* Two services on one address and port (TCP, and UDP for [dns]/[resolver]; a wildcard
 * address overlaps every address of its family), over the built-in sections and every
 * section a service declares. 0 or ERR_CONFIG with "file:line: [section] listen ADDR: ..."
 * in err. */
int config_check_listen(const struct config *cfg, struct str *err);
/* The files the services read at start: every primary zone file (and every secondary's file
 * that exists), tls_cert with tls_key, root_hints. Blocks on file reads. 0 or < 0 with the
 * same message pigeond would stop with. */
int config_check_files(const struct config *cfg, struct str *err);

#endif
