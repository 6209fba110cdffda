/*
 * sieve reject — the rejection notice of RFC 5429 §2.1.1 for a message that was already
 * accepted: a multipart/report MDN (RFC 8098 §3) with the reason, a disposition of
 * "automatic-action/MDN-sent-automatically; deleted" and the original header.
 */
#include "sieve/sieve_int.h"

#include "msg/header.h"
#include "msg/mime.h"

#include <string.h>

/* Appends text with its line ends made CRLF. */
static void crlf(struct str *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r')
            continue;
        if (s[i] == '\n')
            str_append(out, "\r\n", 2);
        else
            str_appendc(out, s[i]);
    }
}

void sieve_reject_build(const char *reason, const char *recipient, const struct sieve_env *env,
                        const char *mailer, const char *date, const char *msgid, struct str *out)
{
    size_t hl = msg_header_end(env->msg, env->len);
    struct mime_field f;
    struct str orig_id = STR_INIT;
    if (mime_header_find(env->msg, hl, "Message-ID", &f))
        mime_header_unfold(f.raw.p, f.raw.len, &orig_id);
    const char *b = "=_pigeon_reject";
    str_appendf(out,
                "From: Mail Delivery Subsystem <%s>\r\nTo: <%s>\r\n"
                "Subject: Message rejected by the recipient's filter\r\n"
                "Date: %s\r\nMessage-ID: %s\r\nAuto-Submitted: auto-replied (rejected)\r\n"
                "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
                "report-type=disposition-notification; boundary=\"%s\"\r\n\r\n"
                "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                "Your message to <%s> was rejected by the recipient's mail filter:\r\n\r\n",
                mailer, env->env_from, date, msgid, b, b, recipient);
    crlf(out, reason, strlen(reason));
    str_appendf(out,
                "\r\n\r\n--%s\r\nContent-Type: message/disposition-notification\r\n\r\n"
                "Reporting-UA: pigeon; Sieve\r\nFinal-Recipient: rfc822; %s\r\n",
                b, recipient);
    if (orig_id.len && orig_id.len < 900 && !memchr(orig_id.ptr, '\n', orig_id.len))
        str_appendf(out, "Original-Message-ID: %s\r\n", str_cstr(&orig_id));
    str_appendf(out,
                "Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n"
                "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n",
                b);
    crlf(out, env->msg, hl);
    str_appendf(out, "\r\n--%s--\r\n", b);
    str_clear(&orig_id);
}
