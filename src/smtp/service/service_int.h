/* smtp service internals: its section struct, the connection glue (conn.c), the ops (ops.c). */
#ifndef PIGEON_SMTP_SERVICE_SERVICE_INT_H
#define PIGEON_SMTP_SERVICE_SERVICE_INT_H

#include "conf/keys.h"
#include "net/conn.h"
#include "smtp/session.h"

#include <stdbool.h>
#include <stdint.h>

enum config_spf { CONFIG_SPF_OFF, CONFIG_SPF_MARK, CONFIG_SPF_REJECT };

/* [smtp] or [submission]. */
struct config_smtp {
    struct conf_service svc;
    bool submission;              /* role: submission requires AUTH for MAIL */
    uint64_t max_message_size;    /* octets; SIZE advertises it */
    unsigned max_recipients;
    bool starttls;                /* offer STARTTLS */
    bool auth;                    /* offer AUTH (only ever after TLS) */
    int spf;                      /* enum config_spf: what an SPF fail does */
    bool reject_bare_line_ends;   /* DATA with a bare CR/LF: 550 5.6.0 rather than normalised */
};

/* conn.c: the engine behind [smtp] and [submission] listeners. */
extern const struct proto_ops smtp_proto;

/* ops.c: the session's ops; their context is the connection. */
const struct smtp_session_ops *smtp_store_ops(void);

#endif
