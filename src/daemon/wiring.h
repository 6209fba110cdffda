/*
 * wiring — the one place that connects protocol engines to storage, authentication and
 * policy: the SMTP session's recipient check, password check and durable commit.
 */
#ifndef PIGEON_DAEMON_WIRING_H
#define PIGEON_DAEMON_WIRING_H

#include "smtp/session.h"

struct smtp_conn;
struct worker;

const struct smtp_session_ops *wiring_smtp_ops(void);

/* smtp_glue.c accessors used by wiring.c */
struct worker *smtp_conn_worker(struct smtp_conn *c);
const char *smtp_conn_peer(const struct smtp_conn *c);
/* Continues a connection after an asynchronous result was handed to its session. */
void smtp_conn_resume(struct smtp_conn *c);

#endif
