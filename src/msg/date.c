/* date — see date.h. */
#include "msg/date.h"

#include "core/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char date_months[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
static const char date_months_out[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct date_cur {
    const char *s;
    size_t n;
    size_t i;
};

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    c = lc(c);
    return c >= 'a' && c <= 'z';
}

/* Skips blanks, line breaks and (nested) RFC 5322 comments. */
static void cur_cfws(struct date_cur *c)
{
    int depth = 0;
    while (c->i < c->n) {
        char ch = c->s[c->i];
        if (depth > 0 && ch == '\\' && c->i + 1 < c->n) {
            c->i += 2;
            continue;
        }
        if (ch == '(')
            depth++;
        else if (ch == ')' && depth > 0)
            depth--;
        else if (depth == 0 && ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
            return;
        c->i++;
    }
}

/* Reads 1..maxd digits; returns the digit count (0: none). */
static int cur_num(struct date_cur *c, int maxd, int *out)
{
    int v = 0, k = 0;
    while (c->i < c->n && is_digit(c->s[c->i]) && k < maxd) {
        v = v * 10 + (c->s[c->i] - '0');
        c->i++;
        k++;
    }
    if (k > 0 && c->i < c->n && is_digit(c->s[c->i]))
        return 0; /* too many digits */
    *out = v;
    return k;
}

static int cur_month(struct date_cur *c, int *out)
{
    if (c->n - c->i < 3)
        return ERR_PARSE;
    for (int m = 0; m < 12; m++) {
        const char *p = c->s + c->i;
        if (lc(p[0]) == date_months[m][0] && lc(p[1]) == date_months[m][1] &&
            lc(p[2]) == date_months[m][2]) {
            c->i += 3;
            /* Full names ("February") are a common error; accept the rest of the word. */
            while (c->i < c->n && is_alpha(c->s[c->i]))
                c->i++;
            *out = m + 1;
            return 0;
        }
    }
    return ERR_PARSE;
}

static bool date_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int date_mdays(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && date_is_leap(y) ? 29 : days[m - 1];
}

static int date_check(const struct msg_date *d)
{
    if (d->month < 1 || d->month > 12 || d->day < 1 || d->day > date_mdays(d->year, d->month))
        return ERR_RANGE;
    if (d->hour > 23 || d->min > 59 || d->sec > 60 || d->tz_min < -24 * 60 || d->tz_min > 24 * 60)
        return ERR_RANGE;
    return 0;
}

/* "+hhmm" / "-hhmm" at the cursor. */
static int cur_numeric_zone(struct date_cur *c, int *tz)
{
    char sign = c->s[c->i++];
    int v;
    if (cur_num(c, 4, &v) != 4)
        return ERR_PARSE;
    if (v % 100 > 59)
        return ERR_RANGE;
    *tz = (v / 100 * 60 + v % 100) * (sign == '-' ? -1 : 1);
    return 0;
}

/* RFC 5322 §4.3 obs-zone: names; military letters count as -0000 (unknown), i.e. 0. */
static int cur_zone(struct date_cur *c, int *tz)
{
    static const struct {
        const char *name;
        int off;
    } zones[] = {{"ut", 0},        {"utc", 0},       {"gmt", 0},       {"z", 0},
                 {"est", -5 * 60}, {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60},
                 {"mst", -7 * 60}, {"mdt", -6 * 60}, {"pst", -8 * 60}, {"pdt", -7 * 60}};
    *tz = 0;
    if (c->i >= c->n)
        return 0;
    char ch = c->s[c->i];
    if (ch == '+' || ch == '-')
        return cur_numeric_zone(c, tz);
    size_t start = c->i;
    while (c->i < c->n && is_alpha(c->s[c->i]))
        c->i++;
    size_t len = c->i - start;
    for (size_t k = 0; k < sizeof zones / sizeof zones[0]; k++)
        if (strlen(zones[k].name) == len && strncasecmp(zones[k].name, c->s + start, len) == 0)
            *tz = zones[k].off;
    return 0; /* anything else: unknown zone, taken as UTC */
}

static int cur_time(struct date_cur *c, struct msg_date *d)
{
    if (cur_num(c, 2, &d->hour) == 0 || c->i >= c->n || c->s[c->i] != ':')
        return ERR_PARSE;
    c->i++;
    if (cur_num(c, 2, &d->min) != 2)
        return ERR_PARSE;
    d->sec = 0;
    if (c->i < c->n && c->s[c->i] == ':') {
        c->i++;
        if (cur_num(c, 2, &d->sec) != 2)
            return ERR_PARSE;
    }
    return 0;
}

static int cur_year(struct date_cur *c, int *year)
{
    int k = cur_num(c, 4, year);
    if (k < 2)
        return ERR_PARSE;
    if (k == 2 && *year < 50)
        *year += 2000;
    else if (k <= 3)
        *year += 1900;
    return 0;
}

int msg_date_parse_rfc5322(const char *s, size_t n, struct msg_date *out)
{
    struct date_cur c = {s, n, 0};
    struct msg_date d = {0};
    cur_cfws(&c);
    if (c.i < n && is_alpha(s[c.i])) { /* day-of-week "," (possibly misspelt: skipped) */
        while (c.i < n && is_alpha(s[c.i]))
            c.i++;
        cur_cfws(&c);
        if (c.i < n && s[c.i] == ',')
            c.i++;
        cur_cfws(&c);
    }
    if (cur_num(&c, 2, &d.day) == 0)
        return ERR_PARSE;
    cur_cfws(&c);
    if (c.i < n && s[c.i] == '-')
        c.i++;
    if (cur_month(&c, &d.month) < 0)
        return ERR_PARSE;
    cur_cfws(&c);
    if (c.i < n && s[c.i] == '-')
        c.i++;
    if (cur_year(&c, &d.year) < 0)
        return ERR_PARSE;
    cur_cfws(&c);
    if (cur_time(&c, &d) < 0)
        return ERR_PARSE;
    cur_cfws(&c);
    int r = cur_zone(&c, &d.tz_min);
    if (r < 0)
        return r;
    if ((r = date_check(&d)) < 0)
        return r;
    *out = d;
    return 0;
}

/* day "-" Mon "-" yyyy, with the day as "7", "07" or " 7" (date-day-fixed). */
static int cur_imap_date(struct date_cur *c, struct msg_date *d)
{
    if (c->i < c->n && c->s[c->i] == ' ')
        c->i++;
    if (cur_num(c, 2, &d->day) == 0 || c->i >= c->n || c->s[c->i] != '-')
        return ERR_PARSE;
    c->i++;
    if (c->n - c->i < 4)
        return ERR_PARSE;
    size_t m0 = c->i;
    if (cur_month(c, &d->month) < 0 || c->i - m0 != 3 || c->i >= c->n || c->s[c->i] != '-')
        return ERR_PARSE;
    c->i++;
    if (cur_num(c, 4, &d->year) != 4)
        return ERR_PARSE;
    return 0;
}

int msg_date_parse_imap_date(const char *s, size_t n, struct msg_date *out)
{
    struct date_cur c = {s, n, 0};
    struct msg_date d = {0};
    if (cur_imap_date(&c, &d) < 0 || c.i != n)
        return ERR_PARSE;
    int r = date_check(&d);
    if (r == 0)
        *out = d;
    return r;
}

int msg_date_parse_imap_datetime(const char *s, size_t n, struct msg_date *out)
{
    struct date_cur c = {s, n, 0};
    struct msg_date d = {0};
    if (cur_imap_date(&c, &d) < 0 || c.i >= n || s[c.i++] != ' ')
        return ERR_PARSE;
    if (cur_num(&c, 2, &d.hour) != 2 || c.i >= n || s[c.i++] != ':' ||
        cur_num(&c, 2, &d.min) != 2 || c.i >= n || s[c.i++] != ':' || cur_num(&c, 2, &d.sec) != 2 ||
        c.i >= n || s[c.i++] != ' ')
        return ERR_PARSE;
    if (c.i >= n || (s[c.i] != '+' && s[c.i] != '-'))
        return ERR_PARSE;
    int r = cur_numeric_zone(&c, &d.tz_min);
    if (r < 0)
        return r;
    if (c.i != n)
        return ERR_PARSE;
    if ((r = date_check(&d)) == 0)
        *out = d;
    return r;
}

size_t msg_date_format_imap_datetime(const struct msg_date *d, char *buf, size_t cap)
{
    int tz = d->tz_min < 0 ? -d->tz_min : d->tz_min;
    int m = d->month >= 1 && d->month <= 12 ? d->month - 1 : 0;
    int n = snprintf(buf, cap, "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d", d->day, date_months_out[m],
                     d->year, d->hour, d->min, d->sec, d->tz_min < 0 ? '-' : '+', tz / 60, tz % 60);
    if (n < 0 || cap == 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
int64_t msg_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t msg_date_to_unix(const struct msg_date *d)
{
    int64_t days = msg_days_from_civil(d->year, d->month, d->day);
    return days * 86400 + d->hour * 3600 + d->min * 60 + d->sec - (int64_t)d->tz_min * 60;
}

void msg_date_from_unix(int64_t t, int tz_min, struct msg_date *out)
{
    t += (int64_t)tz_min * 60;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(yoe + era * 400 + (m <= 2));
    out->month = m;
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->hour = (int)(secs / 3600);
    out->min = (int)(secs % 3600 / 60);
    out->sec = (int)(secs % 60);
    out->tz_min = tz_min;
}

int msg_date_cmp_day(const struct msg_date *a, const struct msg_date *b)
{
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return 0;
}
