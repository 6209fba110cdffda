/* list — see list.h. */
#include "ftp/list.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SIX_MONTHS (182LL * 24 * 3600)

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void ftp_time_val(int64_t t, char out[15])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm))
        tm = (struct tm){.tm_year = 70, .tm_mday = 1};
    char buf[64];
    snprintf(buf, sizeof buf, "%04u%02u%02u%02u%02u%02u", (unsigned)(tm.tm_year + 1900) % 10000,
             (unsigned)(tm.tm_mon + 1) % 100, (unsigned)tm.tm_mday % 100,
             (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
    memcpy(out, buf, 14);
    out[14] = '\0';
}

static void perms(char out[11], const struct ftp_stat *st)
{
    static const char rwx[] = "rwxrwxrwx";
    out[0] = st->is_dir ? 'd' : st->is_file ? '-' : '?';
    for (int i = 0; i < 9; i++)
        out[1 + i] = (st->mode & (0400u >> i)) ? rwx[i] : '-';
    out[10] = '\0';
}

static void list_long(struct str *out, const struct ftp_stat *st, const char *name, int64_t now)
{
    char p[11], when[64];
    perms(p, st);
    struct tm tm;
    time_t tt = (time_t)st->mtime;
    if (!gmtime_r(&tt, &tm))
        tm = (struct tm){.tm_year = 70, .tm_mday = 1};
    int64_t age = now - st->mtime;
    if (age < SIX_MONTHS && age > -SIX_MONTHS)
        snprintf(when, sizeof when, "%.3s %2d %02d:%02d", months[tm.tm_mon % 12], tm.tm_mday,
                 tm.tm_hour, tm.tm_min);
    else
        snprintf(when, sizeof when, "%.3s %2d  %4d", months[tm.tm_mon % 12], tm.tm_mday,
                 (tm.tm_year + 1900) % 10000);
    str_appendf(out, "%s %3u ftp      ftp      %12llu %s %s\r\n", p, st->nlink ? st->nlink : 1,
                (unsigned long long)st->size, when, name);
}

void ftp_mlsx_facts(struct str *out, const struct ftp_stat *st, enum ftp_mlsx_type type,
                    bool read_only, unsigned facts)
{
    char t[15];
    ftp_time_val(st->mtime, t);
    const char *ty = type == FTP_MLSX_CDIR ? "cdir"
                     : type == FTP_MLSX_PDIR ? "pdir"
                     : st->is_dir            ? "dir"
                     : st->is_file           ? "file"
                                             : "OS.unix=special";
    /* RFC 3659 §7.5.5: a = APPE, d = DELE, f = RNFR, r = RETR, w = STOR on files; c = STOU
     * and STOR inside, e = CWD, l = LIST, m = MKD, p = delete entries on directories. */
    const char *perm = st->is_dir ? (read_only ? "el" : "flcdmpe") : (read_only ? "r" : "adfrw");
    if (facts & FACT_TYPE)
        str_appendf(out, "type=%s;", ty);
    if ((facts & FACT_SIZE) && !st->is_dir)
        str_appendf(out, "size=%llu;", (unsigned long long)st->size);
    if (facts & FACT_MODIFY)
        str_appendf(out, "modify=%s;", t);
    if (facts & FACT_PERM)
        str_appendf(out, "perm=%s;", perm);
    if (facts & FACT_UNIQUE)
        str_appendf(out, "unique=%llxU%llx;", (unsigned long long)st->dev,
                    (unsigned long long)st->ino);
    str_appendc(out, ' ');
}

void ftp_list_append(struct str *out, enum ftp_list_fmt fmt, const struct ftp_stat *st,
                     const char *name, enum ftp_mlsx_type type, bool read_only, int64_t now,
                     unsigned facts)
{
    switch (fmt) {
    case FTP_LIST_LONG:
        list_long(out, st, name, now);
        break;
    case FTP_LIST_NAMES:
        str_appendf(out, "%s\r\n", name);
        break;
    case FTP_LIST_MLSX:
        ftp_mlsx_facts(out, st, type, read_only, facts);
        str_appendf(out, "%s\r\n", name);
        break;
    }
}
