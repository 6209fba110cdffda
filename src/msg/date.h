/*
 * date — calendar dates for mail: RFC 5322 §3.3 Date: fields (parsed leniently, with the
 * obsolete forms of §4.3), IMAP date and date-time (RFC 3501 §9: "1-Feb-1994",
 * "17-Jul-1996 02:44:25 -0700"), and conversion to and from Unix time without the process's
 * time zone. Pure functions: no I/O, no locale, no TZ; nothing allocated.
 */
#ifndef PIGEON_MSG_DATE_H
#define PIGEON_MSG_DATE_H

#include <stddef.h>
#include <stdint.h>

struct msg_date {
    int year;   /* four digits */
    int month;  /* 1..12 */
    int day;    /* 1..31, valid for the month */
    int hour;   /* 0..23 */
    int min;    /* 0..59 */
    int sec;    /* 0..60 (a leap second is kept as written) */
    int tz_min; /* offset of local time east of UTC, minutes (-0700 gives -420) */
};

/*
 * Parses an RFC 5322 date-time (the value of a Date: field): optional day of week, one- or
 * two-digit day, month name in any case, 2-, 3- or 4-digit year (§4.3: < 50 is 20xx, else
 * 19xx for 2 and 3 digits), time with or without seconds, zone as +hhmm/-hhmm, UT/GMT/Z, the
 * US zones EST..PDT, or military letters and absence (both taken as +0000). Comments and
 * trailing text after the zone are ignored. Returns 0, or ERR_PARSE / ERR_RANGE.
 */
int msg_date_parse_rfc5322(const char *s, size_t n, struct msg_date *out);

/* Parses an IMAP date ("1-Feb-1994" or "01-Feb-1994", RFC 3501 date-text; no quotes).
 * Time fields and tz_min are set to 0. Returns 0 or ERR_PARSE / ERR_RANGE. */
int msg_date_parse_imap_date(const char *s, size_t n, struct msg_date *out);

/* Parses an IMAP date-time ("17-Jul-1996 02:44:25 -0700"; the day may be " 7" or "07" or
 * "7"; no quotes). Returns 0 or ERR_PARSE / ERR_RANGE. */
int msg_date_parse_imap_datetime(const char *s, size_t n, struct msg_date *out);

/* Writes the IMAP date-time of d ("07-Jul-1996 02:44:25 -0700", two-digit day) into buf
 * (cap >= 27), NUL-terminated; returns the length (26). */
size_t msg_date_format_imap_datetime(const struct msg_date *d, char *buf, size_t cap);

/* Seconds since the epoch (UTC) of the instant d names (its tz_min applied). */
int64_t msg_date_to_unix(const struct msg_date *d);
/* Days since 1970-01-01 of a proleptic Gregorian date y-m-d (m 1-12). */
int64_t msg_days_from_civil(int64_t y, int m, int d);
/* The broken-down form of instant t in the zone tz_min minutes east of UTC. */
void msg_date_from_unix(int64_t t, int tz_min, struct msg_date *out);

/* Compares the calendar days of a and b as written (time and zone disregarded, as SEARCH
 * SENTBEFORE/ON/SINCE and BEFORE/ON/SINCE require): < 0, 0, > 0. */
int msg_date_cmp_day(const struct msg_date *a, const struct msg_date *b);

#endif
