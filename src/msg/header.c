/*
 * header — header-block boundaries and field lookup (RFC 5322 §2.2, §3.6), and the date
 * format of RFC 5322 §3.3. Works on raw bytes; tolerates bare LF line ends.
 */
#include "msg/header.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Offset of the byte after the next LF at or after i, or len. */
static size_t line_next(const char *msg, size_t len, size_t i)
{
    const char *lf = memchr(msg + i, '\n', len - i);
    return lf ? (size_t)(lf - msg) + 1 : len;
}

size_t msg_header_end(const char *msg, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* RFC 5322 §2.1: the header ends at the first empty line. */
        if (msg[i] == '\n')
            return i + 1;
        if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')
            return i + 2;
        i = line_next(msg, len, i);
    }
    return len;
}

/* True when the line at hdr[i..) starts with "name" [WSP] ":" (RFC 5322 §4.5.1 obs-optional). */
static bool line_is_field(const char *hdr, size_t len, size_t i, const char *name, size_t nlen)
{
    if (len - i < nlen || strncasecmp(hdr + i, name, nlen) != 0)
        return false;
    for (i += nlen; i < len && (hdr[i] == ' ' || hdr[i] == '\t'); i++)
        ;
    return i < len && hdr[i] == ':';
}

bool msg_header_has(const char *hdr, size_t hdr_len, const char *name)
{
    size_t nlen = strlen(name);
    size_t end = msg_header_end(hdr, hdr_len);
    if (nlen == 0)
        return false;
    /* Continuation lines start with WSP, which no field name does, so they never match. */
    for (size_t i = 0; i < end; i = line_next(hdr, end, i))
        if (line_is_field(hdr, end, i, name, nlen))
            return true;
    return false;
}

size_t msg_date_format(time_t t, char *buf, size_t cap)
{
    /* English names whatever the locale: RFC 5322 §3.3 day-name and month-name. */
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    if (!localtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
        tm.tm_mon > 11)
        return 0;
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    int n = snprintf(buf, cap, "%s, %02d %s %04lld %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday],
                     tm.tm_mday, months[tm.tm_mon], (long long)tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
