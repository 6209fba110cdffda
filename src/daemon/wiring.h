/*
 * wiring — the one place that connects protocol engines to storage, authentication and
 * policy: the SMTP session's recipient check, password check and durable commit.
 */
#ifndef PIGEON_DAEMON_WIRING_H
#define PIGEON_DAEMON_WIRING_H

#include "smtp/session.h"


#include <stdbool.h>

struct conn;

const struct smtp_session_ops *wiring_smtp_ops(void);

/*
 * Checks a password for any protocol: the hash is verified on the auth pool, failures are
 * counted per client address and answered after the throttle's delay. cb(arg, ok,
 * canonical_user) runs on the connection's worker; conn_resume(c) follows it.
 */
typedef void (*wiring_auth_cb)(void *arg, bool ok, const char *canonical_user);
void wiring_auth(struct conn *c, const char *user, const char *pass, wiring_auth_cb cb, void *arg);

#endif
