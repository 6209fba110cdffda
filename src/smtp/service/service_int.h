/* smtp service internals: its section struct, the connection glue (conn.c), the ops (ops.c). */
#ifndef PIGEON_SMTP_SERVICE_SERVICE_INT_H
#define PIGEON_SMTP_SERVICE_SERVICE_INT_H

#include "conf/keys.h"
#include "net/conn.h"
#include "smtp/session.h"

#include <stdbool.h>
#include <stdint.h>

#define SMTP_QUOTA_WARNINGS_MAX 4

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
    unsigned char quota_warnings[SMTP_QUOTA_WARNINGS_MAX]; /* percentages, ascending */
    unsigned n_quota_warnings;
};

/* conn.c: the engine behind [smtp] and [submission] listeners. */
extern const struct proto_ops smtp_proto;

struct worker;
struct sieve_plan;
/* quota_warn.c: after a delivery of size octets to users[0..n), a warning message for each
 * user whose usage crossed one of cfg's percentages of its limit (octets or messages), added
 * to plan's replies (sent like Sieve's replies). Small reads on the worker's store. */
void smtp_quota_warn(struct worker *w, const struct config_smtp *cfg, const int64_t *users,
                     size_t n, int64_t size, struct sieve_plan *plan);

/* burl.c: the ops' burl_fetch (RFC 4468) from this server's IMAP store. */
int smtp_burl_fetch(void *conn, struct smtp_session *s, const char *url, size_t n, const char *user,
                    struct str *out, const char **reply_out);

/* ops.c: the session's ops; their context is the connection. */
const struct smtp_session_ops *smtp_store_ops(void);

#endif
