/* report_mail — the mail of an aggregate report (see report_mail.h). */
#include "mailauth/report_mail.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/base64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static void base64_lines(const unsigned char *p, size_t n, struct str *out)
{
    char line[80];
    for (size_t i = 0; i < n; i += 57) {
        size_t k = base64_encode(p + i, n - i < 57 ? n - i : 57, line);
        str_append(out, line, k);
        str_appends(out, "\r\n");
    }
}

void mailauth_report_mail(const struct report_mail *m, struct str *out)
{
    char date[64];
    time_t t = (time_t)m->now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    str_appendf(out,
                "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
                "Subject: Report Domain: %s\r\n Submitter: %s\r\n Report-ID: <%s>\r\n"
                "Message-ID: <%s>\r\n%sMIME-Version: 1.0\r\n"
                "Content-Type: multipart/%s; boundary=\"=_pigeon_report\"\r\n\r\n"
                "--=_pigeon_report\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                "%s\r\n\r\n--=_pigeon_report\r\nContent-Type: %s; name=\"%s\"\r\n"
                "Content-Disposition: attachment; filename=\"%s\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n",
                m->from, m->to, date, m->domain, m->submitter, m->report_id, m->report_id,
                m->extra_headers ? m->extra_headers : "", m->multipart, m->text, m->attach_type,
                m->filename, m->filename);
    base64_lines(m->data, m->len, out);
    str_appends(out, "\r\n--=_pigeon_report--\r\n");
}

int mailauth_gzip(const void *data, size_t len, struct str *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return ERR_IO;
    uLong bound = deflateBound(&z, (uLong)len);
    unsigned char *buf = xmalloc(bound + 32);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)(bound + 32);
    int rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END)
        str_append(out, (const char *)buf, z.total_out);
    deflateEnd(&z);
    free(buf);
    return rc == Z_STREAM_END ? 0 : ERR_IO;
}
