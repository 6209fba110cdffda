/* session_base — see session_base.h. */
#include "core/session_base.h"

#include "core/log.h"
#include "core/str.h"

#include <stdio.h>

void session_base_init(struct session_base *b, const char *proto, const struct session_peer *peer,
                       uint64_t id, session_write_fn write, void *io_arg, unsigned max_errors)
{
    b->proto = proto;
    b->id = id;
    snprintf(b->peer_addr, sizeof b->peer_addr, "%s", peer->addr);
    snprintf(b->listener, sizeof b->listener, "%s", peer->listener ? peer->listener : "");
    b->tls = peer->tls;
    b->closing = false;
    b->errors = 0;
    b->max_errors = max_errors ? max_errors : 1;
    b->write = write;
    b->io_arg = io_arg;
}

void session_base_vreply(struct session_base *b, char *buf, size_t cap, const char *fmt, va_list ap)
{
    b->write(b->io_arg, buf, line_vformat(buf, cap, fmt, ap));
}

bool session_base_error(struct session_base *b)
{
    if (++b->errors < b->max_errors || b->closing)
        return false;
    log_info("%s " LOG_ID " too many errors from %s", b->proto, LOG_IDV(b->id), b->peer_addr);
    return true;
}

void session_base_log_connect(const struct session_base *b)
{
    log_info("%s " LOG_ID " connect from %s to %s%s", b->proto, LOG_IDV(b->id), b->peer_addr,
             b->listener, b->tls ? " (tls)" : "");
}

void session_base_log_refused(const struct session_base *b, const char *reply)
{
    log_info("%s " LOG_ID " refused %s: %s", b->proto, LOG_IDV(b->id), b->peer_addr, reply);
}
