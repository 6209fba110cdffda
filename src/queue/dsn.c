#include "queue/dsn.h"

#include "msg/header.h"

#include <stdio.h>
#include <string.h>

void dsn_status_from_reply(int code, const char *text, char *out, size_t cap)
{
    /* "550 5.1.1 text": take the enhanced code when its class matches the reply's. */
    const char *t = text ? text : "";
    if (strlen(t) > 4 && (t[3] == ' ' || t[3] == '-'))
        t += 4;
    int a, b, c, n = 0;
    if (sscanf(t, "%1d.%3d.%3d%n", &a, &b, &c, &n) == 3 && a == code / 100 && n > 0) {
        snprintf(out, cap, "%d.%d.%d", a, b, c);
        return;
    }
    snprintf(out, cap, "%d.0.0", code / 100 == 2 ? 2 : code / 100 == 4 ? 4 : 5);
}

/* Diagnostic-Code and Remote-MTA values must be one logical line (RFC 3464 §2.3.6): fold. */
static void append_folded(struct str *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n') {
            if (p[1])
                str_append(out, "\r\n ", 3);
            continue;
        }
        str_appendc(out, *p);
    }
}

static void human_part(struct str *out, const struct dsn_info *in)
{
    str_appendf(out, "This is the mail system at host %s.\r\n\r\n", in->reporting_mta);
    str_appends(out, "I'm sorry to have to inform you that your message could not\r\n"
                     "be delivered to one or more recipients. It's attached below.\r\n\r\n");
    for (size_t i = 0; i < in->n; i++) {
        str_appendf(out, "<%s>: ", in->rcpts[i].recipient);
        if (in->rcpts[i].remote_mta)
            str_appendf(out, "host %s said: ", in->rcpts[i].remote_mta);
        append_folded(out, in->rcpts[i].diagnostic);
        str_append(out, "\r\n\r\n", 4);
    }
}

static void status_part(struct str *out, const struct dsn_info *in)
{
    char date[64];
    msg_date_format(in->arrival, date, sizeof date);
    str_appendf(out, "Reporting-MTA: dns; %s\r\nArrival-Date: %s\r\n", in->reporting_mta, date);
    for (size_t i = 0; i < in->n; i++) {
        const struct dsn_rcpt *r = &in->rcpts[i];
        str_appendf(out, "\r\nFinal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n",
                    r->recipient, r->action, r->status);
        if (r->remote_mta)
            str_appendf(out, "Remote-MTA: dns; %s\r\n", r->remote_mta);
        str_appends(out, r->remote_mta ? "Diagnostic-Code: smtp; " : "Diagnostic-Code: X-Pigeon; ");
        append_folded(out, r->diagnostic);
        str_append(out, "\r\n", 2);
    }
}

void dsn_build(struct str *out, const struct dsn_info *in)
{
    char date[64], boundary[160];
    msg_date_format(in->now, date, sizeof date);
    snprintf(boundary, sizeof boundary, "%s/%s", in->boundary_seed, in->reporting_mta);
    str_appendf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", in->reporting_mta);
    str_appendf(out, "To: <%s>\r\n", in->sender);
    str_appends(out, "Subject: Undelivered Mail Returned to Sender\r\n");
    str_appendf(out, "Date: %s\r\n", date);
    str_appendf(out, "Message-ID: <%s.dsn@%s>\r\n", in->boundary_seed, in->reporting_mta);
    str_appends(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
    str_appendf(out, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                     "\tboundary=\"%s\"\r\n\r\n", boundary);
    str_appends(out, "This is a MIME-encapsulated message.\r\n\r\n");
    str_appendf(out, "--%s\r\nContent-Description: Notification\r\n"
                     "Content-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
    human_part(out, in);
    str_appendf(out, "--%s\r\nContent-Description: Delivery report\r\n"
                     "Content-Type: message/delivery-status\r\n\r\n", boundary);
    status_part(out, in);
    size_t hdr = msg_header_end(in->original, in->original_len);
    bool whole = in->original_len <= in->max_return;
    str_appendf(out, "\r\n--%s\r\nContent-Description: %s\r\nContent-Type: %s\r\n\r\n", boundary,
                whole ? "Undelivered Message" : "Undelivered Message Headers",
                whole ? "message/rfc822" : "text/rfc822-headers");
    str_append(out, in->original, whole ? in->original_len : hdr);
    if (out->len >= 2 && memcmp(out->ptr + out->len - 2, "\r\n", 2) != 0)
        str_append(out, "\r\n", 2);
    str_appendf(out, "\r\n--%s--\r\n", boundary);
}
