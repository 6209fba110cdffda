/*
 * connlimit — counts open connections per (service, client address) so that one address
 * cannot take every slot. Thread-safe; shared by all workers.
 */
#ifndef PIGEON_CORE_CONNLIMIT_H
#define PIGEON_CORE_CONNLIMIT_H

#include <stdbool.h>

struct connlimit;

struct connlimit *connlimit_new(void);
void connlimit_free(struct connlimit *cl);
/* Counts one more connection for key unless it already has `max`; false when refused. */
bool connlimit_acquire(struct connlimit *cl, const char *key, unsigned max);
void connlimit_release(struct connlimit *cl, const char *key);

#endif
