/*
 * The Received: trace header (RFC 5321 §4.4) that the server prepends to every message,
 * with the WITH protocol name of RFC 3848 / RFC 6531.
 */
#include "smtp/session_int.h"

#include "msg/header.h"

#include <string.h>

static const char *with_protocol(const struct smtp_session *s)
{
    static const char *const names[2][2][2] = {
        /* [utf8][tls][auth] */
        {{"ESMTP", "ESMTPA"}, {"ESMTPS", "ESMTPSA"}},
        {{"UTF8SMTP", "UTF8SMTPA"}, {"UTF8SMTPS", "UTF8SMTPSA"}},
    };
    if (!s->esmtp)
        return "SMTP";
    return names[s->txn.smtputf8][s->tls][s->authenticated];
}

void smtp_received_header(struct str *out, const struct smtp_session *s, time_t now)
{
    char date[64];
    msg_date_format(now, date, sizeof date);
    bool v6 = strchr(s->peer_addr, ':') != NULL;
    str_appendf(out, "Received: from %s (%s[%s%s])\r\n\tby %s (Pigeon) with %s id %s", s->helo,
                "", v6 ? "IPv6:" : "", s->peer_addr, s->cfg.hostname, with_protocol(s), s->txn.id);
    if (s->tls && s->tls_desc[0])
        str_appendf(out, "\r\n\t(using %s)", s->tls_desc);
    if (s->txn.nrcpt == 1)
        str_appendf(out, "\r\n\tfor <%s>", s->txn.rcpts[0].addr);
    str_appendf(out, "; %s\r\n", date);
}
