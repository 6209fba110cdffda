/*
 * jnlfile — a zone's journal file on disk (the format is dns/xfr/journal.h): read with a torn
 * tail cut off, appended and fsynced, rewritten whole, set aside when unusable, and replayed
 * onto a version of the zone. Two journals use it: the unsigned zone's (DATA/journal/ZONE.jnl,
 * what UPDATE, transfers and reloads changed) and a signed zone's (DATA/dnssec/ZONE.sjnl, the
 * differences between signed versions: sign.c). Blocking file I/O: control thread only.
 */
#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/str.h"
#include "dns/server/service/service_int.h"
#include "dns/xfr/journal.h"
#include "dns/xfr/rrvec.h"
#include "dns/xfr/xfr.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads and decodes path; a torn tail is cut off the file. Missing file: no entries. */
int dns_jnl_read(const char *path, struct dns_zdiff ***diffs, size_t *n)
{
    *diffs = NULL;
    *n = 0;
    struct str data = STR_INIT;
    int rc = file_read_all(path, (size_t)1 << 30, &data);
    if (rc != 0) {
        str_clear(&data);
        return rc == ERR_NOTFOUND ? 0 : ERR_IO;
    }
    size_t valid;
    rc = dns_journal_decode((const uint8_t *)data.ptr, data.len, diffs, n, &valid);
    if (rc == 0 && valid < data.len) {
        log_warn("dns: journal %s: %zu bytes of a torn entry at the end ignored", path,
                 data.len - valid);
        if (truncate(path, (off_t)valid) != 0)
            log_warn("dns: journal %s: truncate: %s", path, strerror(errno));
    }
    str_clear(&data);
    return rc;
}

/* Appends entries and fsyncs: an UPDATE is answered only after this. */
int dns_jnl_append(const char *path, struct dns_zdiff *const *d, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return ERR_IO;
    struct stat st;
    struct str out = STR_INIT;
    if (fstat(fd, &st) == 0 && st.st_size == 0)
        dns_journal_header(&out);
    for (size_t i = 0; i < n; i++)
        dns_journal_encode(d[i], &out);
    int rc = 0;
    size_t off = 0;
    while (off < out.len) {
        ssize_t w = write(fd, out.ptr + off, out.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = ERR_IO;
            break;
        }
        off += (size_t)w;
    }
    if (rc == 0 && fdatasync(fd) != 0)
        rc = ERR_IO;
    if (rc != 0 && ftruncate(fd, st.st_size) != 0)
        log_warn("dns: journal %s: cannot undo a partial write", path);
    close(fd);
    str_clear(&out);
    return rc;
}

/* Replaces the journal with exactly the history h (temp file, fsync, rename). */
int dns_jnl_rewrite(const char *path, const struct dns_xfr_hist *h)
{
    struct str out = STR_INIT;
    dns_journal_header(&out);
    for (size_t i = 0; h && i < h->n; i++)
        dns_journal_encode(h->d[i], &out);
    int rc = store_durable_write(path, out.ptr, out.len);
    str_clear(&out);
    return rc;
}

void dns_jnl_set_aside(const char *path, const char *why)
{
    char bad[4200];
    snprintf(bad, sizeof bad, "%s.bad", path);
    log_warn("dns: journal %s %s: moved to %s", path, why, bad);
    if (rename(path, bad) != 0)
        log_warn("dns: rename %s: %s", path, strerror(errno));
}

/* The history made of the chain of diffs (broken links restart it). */
struct dns_xfr_hist *dns_jnl_hist(struct dns_zdiff **d, size_t n)
{
    struct dns_xfr_hist *h = NULL;
    for (size_t i = 0; i < n; i++) {
        struct dns_xfr_hist *next = dns_xfr_hist_append(h, d[i], DNS_HIST_MAX);
        dns_xfr_hist_unref(h);
        h = next;
    }
    return h;
}

int dns_jnl_apply(const struct dns_zone *z, struct dns_zdiff *const *d, size_t n,
                  const uint8_t *origin, struct dns_zone **out, struct str *err)
{
    struct dns_rrvec v;
    dns_rrvec_init(&v);
    dns_rrvec_from_zone(&v, z);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = dns_zdiff_apply(d[i], &v, origin);
    if (rc != 0)
        str_appends(err, "a difference does not apply");
    else
        rc = dns_rrvec_to_zone(&v, origin, out, err);
    dns_rrvec_clear(&v);
    return rc;
}
