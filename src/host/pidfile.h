/*
 * pidfile — DATA/pigeond.pid, so scripts can signal the running daemon (`pigeon reload`
 * talks to DATA/pigeond.ctl instead). Written once the daemon is ready to serve, removed
 * when it exits cleanly.
 */
#ifndef PIGEON_HOST_PIDFILE_H
#define PIGEON_HOST_PIDFILE_H

#include <sys/types.h>

#define PIDFILE_NAME "pigeond.pid"

/* Writes our pid to data_dir/pigeond.pid (durably). 0, or -1 after logging why. */
int pidfile_write(const char *data_dir);
/* Removes it (only when it still holds our pid). */
void pidfile_remove(const char *data_dir);
/* The pid in data_dir/pigeond.pid when that process is alive, else -1. */
pid_t pidfile_read(const char *data_dir);

#endif
