/*
 * listen — binds a numeric address:port for a server: TCP (listening, backlog 1024) or UDP,
 * non-blocking and close-on-exec, IPv6 sockets v6-only, SO_REUSEADDR for TCP. No DNS.
 */
#ifndef PIGEON_CORE_LISTEN_H
#define PIGEON_CORE_LISTEN_H

#include "core/str.h"

/* socktype: SOCK_STREAM or SOCK_DGRAM. Returns the fd, or -1 with "what: reason" in err. */
int listen_bind(const char *host, const char *port, int socktype, const char *what,
                struct str *err);

#endif
