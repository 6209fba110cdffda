/* http/response — see response.h. */
#include "http/response.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void http_response_init(struct http_response *r, int status)
{
    memset(r, 0, offsetof(struct http_response, seg)); /* 1 KiB of segments not cleared */
    r->status = status;
    r->fd = -1;
}

void http_response_clear(struct http_response *r)
{
    str_clear(&r->fields);
    str_clear(&r->mem);
    if (r->fd >= 0)
        close(r->fd);
    /* The source is taken out first: its free may clear this very response again (a
     * proxy_to site's answer owns the response that owns its source). */
    struct http_body_source src = r->src;
    http_response_init(r, 0);
    if (src.free)
        src.free(src.arg);
}

void http_response_move(struct http_response *dst, struct http_response *src)
{
    memcpy(dst, src, offsetof(struct http_response, seg));
    memcpy(dst->seg, src->seg, src->nseg * sizeof src->seg[0]); /* only the segments in use */
    http_response_init(src, 0);
}

/* The value appended from vstart on ends the field: cut at a line break (response splitting:
 * a value never carries one). */
static void field_end(struct http_response *r, size_t vstart)
{
    for (size_t i = vstart; i < r->fields.len; i++)
        if (r->fields.ptr[i] == '\r' || r->fields.ptr[i] == '\n' || r->fields.ptr[i] == '\0') {
            r->fields.len = i;
            break;
        }
    str_append(&r->fields, "\r\n", 2);
}

void http_response_header(struct http_response *r, const char *name, const char *fmt, ...)
{
    str_appends(&r->fields, name);
    str_append(&r->fields, ": ", 2);
    size_t vstart = r->fields.len;
    va_list ap;
    va_start(ap, fmt);
    str_vappendf(&r->fields, fmt, ap);
    va_end(ap);
    field_end(r, vstart);
}

void http_response_field(struct http_response *r, const char *name, const char *value)
{
    /* One reservation and three copies: a file response writes several of these. */
    size_t n = strlen(name), v = strcspn(value, "\r\n"); /* cut at a line break, as above */
    struct str *f = &r->fields;
    str_reserve(f, n + v + 4);
    char *o = f->ptr + f->len;
    memcpy(o, name, n);
    memcpy(o + n, ": ", 2);
    memcpy(o + n + 2, value, v);
    memcpy(o + n + 2 + v, "\r\n", 3);
    f->len += n + v + 4;
}

int http_response_body(struct http_response *r, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (r->nseg && !r->seg[r->nseg - 1].file &&
        r->seg[r->nseg - 1].off + r->seg[r->nseg - 1].len == r->mem.len) {
        str_append(&r->mem, p, n); /* extends the last memory segment */
        r->seg[r->nseg - 1].len += n;
        return 0;
    }
    if (r->nseg == HTTP_MAX_SEGS)
        return -1;
    r->seg[r->nseg++] = (struct http_seg){false, r->mem.len, n};
    str_append(&r->mem, p, n);
    return 0;
}

int http_response_file(struct http_response *r, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (r->nseg == HTTP_MAX_SEGS)
        return -1;
    r->seg[r->nseg++] = (struct http_seg){true, off, len};
    return 0;
}

uint64_t http_response_length(const struct http_response *r)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < r->nseg; i++)
        n += r->seg[i].len;
    return n;
}

void http_response_stream(struct http_response *r, struct http_body_source src)
{
    r->src = src;
}

void http_response_stream_length(struct http_response *r, uint64_t len)
{
    r->src_sized = true;
    r->src_len = len;
}

void http_response_stream_waiting(struct http_response *r, struct http_body_source src,
                                  http_body_set_wake set_wake)
{
    http_response_stream(r, src);
    r->src_set_wake = set_wake;
}

/* RFC 9110 §15 and the IANA registry's others in use (WebDAV, RFC 6585, 7725, 8297, 8470):
 * a proxy relays any of them with its phrase, never "Unknown". */
static const struct {
    int code;
    const char *text;
} reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {103, "Early Hints"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {208, "Already Reported"},
    {226, "IM Used"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {506, "Variant Also Negotiates"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {511, "Network Authentication Required"},
};

const char *http_status_reason(int status)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == status)
            return reasons[i].text;
    return "Unknown";
}

bool http_status_bodyless(int status)
{
    return status < 200 || status == 204 || status == 304;
}

void http_html_escape(struct str *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': str_appends(out, "&amp;"); break;
        case '<': str_appends(out, "&lt;"); break;
        case '>': str_appends(out, "&gt;"); break;
        case '"': str_appends(out, "&quot;"); break;
        case '\'': str_appends(out, "&#39;"); break;
        default: str_appendc(out, s[i]);
        }
    }
}

void http_response_error(struct http_response *r, int status, const char *detail)
{
    http_response_clear(r);
    http_response_init(r, status);
    struct str page = STR_INIT;
    const char *reason = http_status_reason(status);
    str_appendf(&page, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
                       "<body><h1>%d %s</h1>\n",
                status, reason, status, reason);
    if (detail) {
        str_appends(&page, "<p>");
        http_html_escape(&page, detail, strlen(detail));
        str_appends(&page, "</p>\n");
    }
    str_appends(&page, "</body></html>\n");
    http_response_header(r, "Content-Type", "text/html; charset=utf-8");
    if (!http_status_bodyless(status))
        http_response_body(r, page.ptr, page.len);
    str_clear(&page);
}

static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void http_date_format(time_t t, char out[30])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    int year = tm.tm_year + 1900;
    year = year < 0 ? 0 : year > 9999 ? 9999 : year; /* the format has four digits */
    char buf[64];
    snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
             tm.tm_mday, months[tm.tm_mon % 12], year, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(out, buf, 29);
    out[29] = '\0';
}

const char *http_date_cached(struct http_date_cache *dc, time_t now)
{
    if (now != dc->t || !dc->text[0]) {
        http_date_format(now, dc->text);
        dc->t = now;
    }
    return dc->text;
}

static int month_index(const char *m)
{
    for (int i = 0; i < 12; i++)
        if (memcmp(m, months[i], 3) == 0)
            return i;
    return -1;
}

int http_date_parse(struct slice s, time_t *out)
{
    char buf[64], mon[4] = {0}, wd[16] = {0};
    if (s.len == 0 || s.len >= sizeof buf)
        return -1;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    struct tm tm = {0};
    int n = 0, year;
    /* IMF-fixdate, then RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT"), then asctime. */
    if (sscanf(buf, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wd, &tm.tm_mday, mon,
               &year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 7 &&
        (size_t)n == s.len) {
    } else if (sscanf(buf, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wd, &tm.tm_mday,
                      mon, &year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 7 &&
               (size_t)n == s.len) {
        year += year < 70 ? 2000 : 1900; /* RFC 9110 §5.6.7: 50-year rule, simplified */
    } else if (sscanf(buf, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wd, mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &year, &n) == 7 &&
               (size_t)n == s.len) {
    } else {
        return -1;
    }
    tm.tm_mon = month_index(mon);
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60 || year < 1900)
        return -1;
    tm.tm_year = year - 1900;
    *out = timegm(&tm);
    return 0;
}
