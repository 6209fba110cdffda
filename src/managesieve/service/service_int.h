/* managesieve service internals: the connection glue (conn.c) and the engine's ops (ops.c). */
#ifndef PIGEON_MANAGESIEVE_SERVICE_SERVICE_INT_H
#define PIGEON_MANAGESIEVE_SERVICE_SERVICE_INT_H

#include "managesieve/session.h"
#include "net/conn.h"

#define MANAGESIEVE_MAX_SCRIPTS 32 /* per user */

/* conn.c: the engine behind [managesieve] listeners. */
extern const struct proto_ops managesieve_proto;

/* ops.c: the session's ops; their context is the connection. */
const struct managesieve_session_ops *managesieve_store_ops(void);

#endif
