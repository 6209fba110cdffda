/*
 * sdnotify — systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram
 * "READY=1", "RELOADING=1", "STOPPING=1" or "STATUS=..." to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Does nothing when the
 * variable is unset (not started by systemd with Type=notify). Thread-safe; never blocks.
 */
#ifndef PIGEON_CORE_SDNOTIFY_H
#define PIGEON_CORE_SDNOTIFY_H

/* Sends state (e.g. "READY=1\nSTATUS=serving"). 1 sent, 0 no $NOTIFY_SOCKET, < 0 error. */
int sdnotify_send(const char *state);

#endif
