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

#endif
