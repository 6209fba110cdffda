/*
 * server — pigeond's listeners, worker threads, signals and shutdown sequence, and the
 * lifecycle of the services in the registry (services/services.h).
 */
#ifndef PIGEON_DAEMON_SERVER_H
#define PIGEON_DAEMON_SERVER_H

#include "host/host.h"

/* Opens every service (main thread, after the shared state exists): binds their
 * listeners. 0, or -1 after logging why. */
int server_open_services(struct daemon *d);
/* Starts the workers, waits for SIGTERM/SIGINT (SIGHUP reloads), shuts down. */
int server_run(struct daemon *d);
/* Closes every service (after server_run, or after a failed start). */
void server_close_services(struct daemon *d);

#endif
