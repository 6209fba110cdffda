/*
 * unixsock — a local stream socket named DIR/NAME: pigeond's control channel
 * (DATA/pigeond.ctl), which `pigeon reload` connects to.
 *
 * A path longer than sun_path (108 bytes) is reached through an O_PATH descriptor of DIR
 * (/proc/self/fd/N/NAME), so a deep data directory works too. Close-on-exec sockets.
 */
#ifndef PIGEON_CORE_UNIXSOCK_H
#define PIGEON_CORE_UNIXSOCK_H

#include "core/str.h"

/* DATA/pigeond.ctl: pigeond's control channel (protocol in host/control_proto.h). */
#define PIGEOND_CONTROL_SOCKET "pigeond.ctl"

/* Removes a stale DIR/NAME, binds and listens (non-blocking, mode 0600: only the daemon's
 * user and root may connect). The fd, or -1 with the reason in err. */
int unixsock_listen(const char *dir, const char *name, struct str *err);
/* Connects (blocking). The fd, or -1 with errno set (ENOENT, ECONNREFUSED: nobody listens). */
int unixsock_connect(const char *dir, const char *name);
/* Removes DIR/NAME. */
void unixsock_remove(const char *dir, const char *name);

#endif
