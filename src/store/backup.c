#include "store/backup.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "store/db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reason of the last failure (the tool is single-threaded; paths need room). */
static char why_buf[768];

static int fail(const char **why, int rc, const char *fmt, const char *a, const char *b)
{
    snprintf(why_buf, sizeof why_buf, fmt, a, b ? b : "");
    *why = why_buf;
    return rc;
}

/* dir must be absent (created) or an empty directory. */
static int dir_fresh(const char *dir, const char **why)
{
    if (mkdir(dir, 0750) == 0)
        return 0;
    if (errno != EEXIST)
        return fail(why, ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d)
        return fail(why, ERR_IO, "cannot read %s: %s", dir, strerror(errno));
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty ? 0 : fail(why, ERR_EXISTS, "%s is not empty%s", dir, NULL);
}

/* Creates the parent directories of the relative path rel under root ("blobs/ab/..."). */
static int parents_make(const char *root, const char *rel)
{
    struct str p = STR_INIT;
    str_appends(&p, root);
    int rc = 0;
    for (const char *s = rel; rc == 0 && (s = strchr(s, '/')); s++) {
        str_reset(&p);
        str_appendf(&p, "%s/%.*s", root, (int)(s - rel), rel);
        rc = db_mkdir(str_cstr(&p));
    }
    str_clear(&p);
    return rc;
}

/* Copies src to a new file dst (0640), fsynced. Bytes copied, or < 0 (errno set). */
static int64_t file_copy(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return ERR_NOTFOUND;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out < 0) {
        close(in);
        return ERR_IO;
    }
    char buf[65536];
    int64_t total = 0;
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR) {
                n = -1;
                break;
            }
            off += w > 0 ? w : 0;
        }
        if (n < 0)
            break;
        total += n;
    }
    int err = errno;
    int rc = n < 0 || fsync(out) != 0 ? ERR_IO : 0;
    close(in);
    if (close(out) != 0)
        rc = ERR_IO;
    errno = err;
    return rc < 0 ? rc : total;
}

/* SQLite's online backup of the main database of src into a new file at dst. */
static int db_copy(sqlite3 *src, const char *dst, const char **why)
{
    sqlite3 *d = NULL;
    if (sqlite3_open_v2(dst, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        sqlite3_close(d);
        return fail(why, ERR_DB, "cannot create %s%s", dst, NULL);
    }
    sqlite3_backup *b = sqlite3_backup_init(d, "main", src, "main");
    int rc = b ? SQLITE_OK : sqlite3_errcode(d);
    /* All pages in one step: one read transaction, so one snapshot; BUSY/LOCKED: retry. */
    while (b && ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED))
        sqlite3_sleep(20);
    if (b)
        sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE) /* one self-contained file: no -wal beside it */
        rc = sqlite3_exec(d, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    int out = rc == SQLITE_OK ? 0 : fail(why, ERR_DB, "database copy failed: %s%s",
                                         sqlite3_errstr(rc), NULL);
    sqlite3_close(d);
    return out;
}

struct blob_ref {
    char *id, *path;
};

/* Every (id, path) of the blobs table of db. */
static int blobs_list(sqlite3 *db, struct blob_ref **out, size_t *n_out)
{
    sqlite3_stmt *s;
    *out = NULL;
    *n_out = 0;
    if (sqlite3_prepare_v2(db, "SELECT id, path FROM blobs", -1, &s, NULL) != SQLITE_OK)
        return ERR_DB;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n_out == cap) {
            cap = cap ? 2 * cap : 256;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n_out)++] = (struct blob_ref){xstrdup((const char *)sqlite3_column_text(s, 0)),
                                               xstrdup((const char *)sqlite3_column_text(s, 1))};
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : ERR_DB;
}

static void blobs_free(struct blob_ref *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].id), free(v[i].path);
    free(v);
}

/* Takes the rows of a blob whose file is gone out of the copy. */
static int blob_drop(sqlite3 *db, const char *id)
{
    static const char *const sql[] = {
        "DELETE FROM messages WHERE blob_id = ?1", "DELETE FROM queue WHERE blob_id = ?1",
        "DELETE FROM parse_cache WHERE blob_id = ?1", "DELETE FROM blobs WHERE id = ?1"};
    for (size_t i = 0; i < 4; i++) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, sql[i], -1, &s, NULL) != SQLITE_OK)
            return ERR_DB;
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            return ERR_DB;
    }
    return 0;
}

static int64_t count(sqlite3 *db, const char *table)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *s;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* Copies the files of refs from src_root to dst_root; a missing one is dropped from db when
 * db is given (backup), an error otherwise (restore). */
static int files_copy(const char *src_root, const char *dst_root, struct blob_ref *refs,
                      size_t n, sqlite3 *db, struct store_backup_stats *stats, const char **why)
{
    struct str a = STR_INIT, b = STR_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        str_reset(&a);
        str_reset(&b);
        str_appendf(&a, "%s/%s", src_root, refs[i].path);
        str_appendf(&b, "%s/%s", dst_root, refs[i].path);
        if (strstr(refs[i].path, "..") || refs[i].path[0] == '/') {
            rc = fail(why, ERR_PARSE, "bad file name in the database: %s%s", refs[i].path, NULL);
            break;
        }
        if (parents_make(dst_root, refs[i].path) != 0) {
            rc = fail(why, ERR_IO, "cannot create the directory of %s: %s", str_cstr(&b),
                      strerror(errno));
            break;
        }
        int64_t got = file_copy(str_cstr(&a), str_cstr(&b));
        if (got == ERR_NOTFOUND && db) {
            stats->dropped++;
            rc = blob_drop(db, refs[i].id);
            if (rc < 0)
                fail(why, rc, "cannot update the copied database%s%s", "", NULL);
        } else if (got < 0) {
            rc = fail(why, ERR_IO, "cannot copy %s: %s", str_cstr(&a),
                      got == ERR_NOTFOUND ? "missing" : strerror(errno));
        } else {
            stats->files++;
            stats->bytes += got;
        }
    }
    str_clear(&a);
    str_clear(&b);
    return rc;
}

/* fsyncs root/blobs/00 .. ff that exist: the new files' directory entries. */
static int blob_dirs_sync(const char *root, const char **why)
{
    struct str p = STR_INIT;
    int rc = 0;
    for (unsigned xx = 0; rc == 0 && xx < 256; xx++) {
        str_reset(&p);
        str_appendf(&p, "%s/blobs/%02x", root, xx);
        if (access(str_cstr(&p), F_OK) == 0 && db_fsync_dir(str_cstr(&p)) != 0)
            rc = fail(why, ERR_IO, "cannot sync %s: %s", str_cstr(&p), strerror(errno));
    }
    str_clear(&p);
    return rc;
}

/* What the data directory holds besides the database and the message files (which go their
 * own way) is the daemons' state, copied whole: the generated certificate (tls/), the zones'
 * journals and DNSSEC keys, the DKIM keys (dkim/), the SRS secret, global Sieve scripts, the
 * DHCP leases, JMAP identities, the resolver's negative and RFC 5011 anchors, DMARC and
 * TLS-RPT report records, torrents... Not copied: these names at the top (the running
 * daemon's files, temporary files, the Web cache), names starting with '.' and "*.tmp"
 * files anywhere (a durable write under way), and what is neither a file nor a directory. */
static const char *const not_state[] = {
    "pigeon.db",   "pigeon.db-wal", "pigeon.db-shm", "pigeon.db-journal", "pigeon.db.restoring",
    "blobs",       "tmp",           "pigeond.pid",   "pigeond.ctl",       "proxy-cache",
    NULL,
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !memcmp(s + n - k, suffix, k);
}

static bool is_sqlite(const char *path)
{
    char head[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool yes = fd >= 0 && read(fd, head, sizeof head) == (ssize_t)sizeof head &&
               !memcmp(head, "SQLite format 3", sizeof head);
    if (fd >= 0)
        close(fd);
    return yes;
}

/* One file of the state, keeping its mode (keys are 0600). An SQLite database (the DHCP
 * leases) goes through SQLite's online backup, so a copy taken while pigeond writes is one
 * snapshot and self-contained: its -wal, -shm and -journal files are not copied. A journal
 * entry appended during the copy is a torn tail, which the server cuts off at load. */
static int state_file_copy(const char *src, const char *dst, mode_t mode, const char **why)
{
    if (ends_with(src, "-wal") || ends_with(src, "-shm") || ends_with(src, "-journal"))
        return 0;
    int rc = 0;
    if (is_sqlite(src)) {
        sqlite3 *db = NULL;
        if (sqlite3_open_v2(src, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
            rc = fail(why, ERR_DB, "cannot open %s%s", src, NULL);
        if (rc == 0)
            rc = db_copy(db, dst, why);
        sqlite3_close(db);
    } else if (file_copy(src, dst) < 0) {
        rc = fail(why, ERR_IO, "cannot copy %s: %s", src, strerror(errno));
    }
    if (rc == 0 && chmod(dst, mode & 0777) != 0)
        rc = fail(why, ERR_IO, "cannot set the mode of %s: %s", dst, strerror(errno));
    return rc;
}

/* Copies the state under src into dst (which exists), depth levels of directories at most;
 * skip: the names left out at this level (NULL: none). Each directory keeps its mode and is
 * fsynced. */
static int state_tree_copy(const char *src, const char *dst, const char *const *skip,
                           unsigned depth, const char **why)
{
    DIR *d = opendir(src);
    if (!d)
        return errno == ENOENT ? 0 : fail(why, ERR_IO, "cannot read %s: %s", src, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        bool left_out = e->d_name[0] == '.' || ends_with(e->d_name, ".tmp");
        for (size_t i = 0; skip && skip[i] && !left_out; i++)
            left_out = !strcmp(e->d_name, skip[i]);
        if (left_out)
            continue;
        struct str f = STR_INIT, t = STR_INIT;
        str_appendf(&f, "%s/%s", src, e->d_name);
        str_appendf(&t, "%s/%s", dst, e->d_name);
        struct stat st;
        if (lstat(str_cstr(&f), &st) != 0) {
            rc = fail(why, ERR_IO, "cannot read %s: %s", str_cstr(&f), strerror(errno));
        } else if (S_ISREG(st.st_mode)) {
            rc = state_file_copy(str_cstr(&f), str_cstr(&t), st.st_mode, why);
        } else if (S_ISDIR(st.st_mode) && depth == 0) {
            rc = fail(why, ERR_LIMIT, "%s: directories nested too deep%s", str_cstr(&f), NULL);
        } else if (S_ISDIR(st.st_mode)) {
            if (mkdir(str_cstr(&t), st.st_mode & 0777) != 0 ||
                chmod(str_cstr(&t), st.st_mode & 0777) != 0)
                rc = fail(why, ERR_IO, "cannot create %s: %s", str_cstr(&t), strerror(errno));
            if (rc == 0)
                rc = state_tree_copy(str_cstr(&f), str_cstr(&t), NULL, depth - 1, why);
        }
        str_clear(&f);
        str_clear(&t);
    }
    closedir(d);
    if (rc == 0 && db_fsync_dir(dst) != 0)
        rc = fail(why, ERR_IO, "cannot sync %s: %s", dst, strerror(errno));
    return rc;
}

static int state_copy(const char *src_root, const char *dst_root, const char **why)
{
    return state_tree_copy(src_root, dst_root, not_state, 8, why);
}

static void stats_count(sqlite3 *db, struct store_backup_stats *stats)
{
    stats->messages = count(db, "messages");
    stats->queued = count(db, "queue");
}

int store_backup(struct store *st, const char *dir, struct store_backup_stats *stats,
                 const char **why)
{
    *stats = (struct store_backup_stats){0};
    int rc = dir_fresh(dir, why);
    if (rc < 0)
        return rc;
    struct str dbp = STR_INIT;
    str_appendf(&dbp, "%s/pigeon.db", dir);
    rc = db_copy(st->db, str_cstr(&dbp), why);
    sqlite3 *copy = NULL;
    if (rc == 0 && sqlite3_open_v2(str_cstr(&dbp), &copy, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        rc = fail(why, ERR_DB, "cannot open %s%s", str_cstr(&dbp), NULL);
    struct blob_ref *refs = NULL;
    size_t n = 0;
    if (rc == 0 && blobs_list(copy, &refs, &n) < 0)
        rc = fail(why, ERR_DB, "cannot read the copied database%s%s", "", NULL);
    if (rc == 0)
        rc = sqlite3_exec(copy, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : ERR_DB;
    if (rc == 0)
        rc = files_copy(st->data_dir, dir, refs, n, copy, stats, why);
    if (rc == 0 && sqlite3_exec(copy, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = fail(why, ERR_DB, "cannot update the copied database%s%s", "", NULL);
    if (rc == 0)
        rc = blob_dirs_sync(dir, why);
    if (rc == 0)
        rc = state_copy(st->data_dir, dir, why);
    if (rc == 0)
        stats_count(copy, stats);
    blobs_free(refs, n);
    sqlite3_close(copy);
    if (rc == 0 && db_fsync_dir(dir) != 0)
        rc = fail(why, ERR_IO, "cannot sync %s: %s", dir, strerror(errno));
    str_clear(&dbp);
    return rc;
}

/* integrity_check of the backup's database. */
static int db_check(sqlite3 *db, const char *path, const char **why)
{
    sqlite3_stmt *s;
    int ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
             sqlite3_step(s) == SQLITE_ROW &&
             !strcmp((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    return ok ? 0 : fail(why, ERR_DB, "%s fails SQLite's integrity check%s", path, NULL);
}

int store_restore(const char *dir, const char *data_dir, struct store_backup_stats *stats,
                  const char **why)
{
    *stats = (struct store_backup_stats){0};
    struct str src = STR_INIT, tmp = STR_INIT, dst = STR_INIT;
    str_appendf(&src, "%s/pigeon.db", dir);
    str_appendf(&tmp, "%s/pigeon.db.restoring", data_dir);
    str_appendf(&dst, "%s/pigeon.db", data_dir);
    sqlite3 *b = NULL;
    int rc = 0;
    if (sqlite3_open_v2(str_cstr(&src), &b, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        rc = fail(why, ERR_NOTFOUND, "%s: not a Pigeon backup (no readable pigeon.db)%s", dir,
                  NULL);
    if (rc == 0)
        rc = db_check(b, str_cstr(&src), why);
    struct blob_ref *refs = NULL;
    size_t n = 0;
    if (rc == 0 && blobs_list(b, &refs, &n) < 0)
        rc = fail(why, ERR_DB, "%s: not a Pigeon backup (no blobs table)%s", dir, NULL);
    if (rc == 0)
        rc = dir_fresh(data_dir, why);
    if (rc == 0)
        rc = files_copy(dir, data_dir, refs, n, NULL, stats, why);
    if (rc == 0)
        rc = blob_dirs_sync(data_dir, why);
    if (rc == 0)
        rc = state_copy(dir, data_dir, why);
    /* The database last: a restore cut short leaves no pigeon.db, never one without its
     * files. */
    if (rc == 0)
        rc = db_copy(b, str_cstr(&tmp), why);
    if (rc == 0 && rename(str_cstr(&tmp), str_cstr(&dst)) != 0)
        rc = fail(why, ERR_IO, "cannot rename %s: %s", str_cstr(&tmp), strerror(errno));
    if (rc == 0 && db_fsync_dir(data_dir) != 0)
        rc = fail(why, ERR_IO, "cannot sync %s: %s", data_dir, strerror(errno));
    if (rc == 0)
        stats_count(b, stats);
    blobs_free(refs, n);
    sqlite3_close(b);
    str_clear(&src);
    str_clear(&tmp);
    str_clear(&dst);
    return rc;
}
