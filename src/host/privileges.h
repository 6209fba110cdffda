/*
 * privileges — pigeond started as root gives root up once its sockets are bound and its keys
 * and zone files read: the data directory's state (database, its WAL files, blobs/, tmp/,
 * tls/) is handed to [server] user, then the whole process (every thread: glibc applies
 * setuid to all of them) becomes that user with its groups. Worker threads, which handle all
 * network input, start only after this. Started unprivileged (systemd with
 * AmbientCapabilities=CAP_NET_BIND_SERVICE), it does nothing.
 */
#ifndef PIGEON_HOST_PRIVILEGES_H
#define PIGEON_HOST_PRIVILEGES_H

#include "conf/config.h"

/* 0 when running unprivileged afterwards (or left root on purpose: user = root, or the
 * default user "pigeon" does not exist, both logged as warnings); < 0 after logging why. */
int privileges_drop(const struct config *cfg);

/* For the pigeon tool run as root: becomes [server] user (when it exists) before the store
 * is opened, so the files it creates belong to the daemon's user. 0, or < 0 with *why. */
int privileges_become_user(const struct config *cfg, const char **why);

/* As root, with [server] user existing: gives every file under dir to that user (restore).
 * 0 (also when there is nothing to do), or < 0 with *why. */
int privileges_give_tree(const struct config *cfg, const char *dir, const char **why);

#endif
