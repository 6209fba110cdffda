/*
 * listener — accepting on shared listening sockets from one event loop: every loop of the
 * process watches every listener (the sockets are bound once by the main thread, not with
 * SO_REUSEPORT), and hands each accepted socket to conn_accept on its own host.
 */
#ifndef PIGEON_NET_LISTENER_H
#define PIGEON_NET_LISTENER_H

#include "net/conn.h"

/* Starts accepting on ls[0..n) from h's loop (h->accepting). ls must outlive the watchers.
 * Call on the loop's thread, or before it runs. */
void listener_watch(struct conn_host *h, const struct listener *ls, unsigned n);
/* Stops accepting (idempotent). */
void listener_unwatch(struct conn_host *h);

#endif
