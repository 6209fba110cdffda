/*
 * gc — reclaims blob files that no messages or queue row references any more, and stale
 * temporary files. Safe beside a running daemon: only files older than the minimum age are
 * considered (a blob renamed into place is committed within moments), and the reference check
 * and row deletion run under the write lock, so no transaction can add a reference meanwhile.
 * Files are unlinked only after that COMMIT: a crash in between leaves an orphan file, which
 * the next run removes, never a row without its file.
 */
#include "store/db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"

/* Names of candidate files in one directory (owned). */
struct names {
    char **v;
    size_t n, cap;
};

static void names_push(struct names *ns, const char *name)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 16;
        ns->v = xrealloc(ns->v, ns->cap * sizeof ns->v[0]);
    }
    ns->v[ns->n++] = xstrdup(name);
}

static void names_clear(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    memset(ns, 0, sizeof *ns);
}

/* A blob file name: 32 lowercase hex digits, optionally followed by ".q". */
static bool is_blob_name(const char *name)
{
    size_t n = strlen(name);
    if (n != 32 && !(n == 34 && strcmp(name + 32, ".q") == 0))
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

/* Lists the regular files of path last modified at or before cutoff, blob names only when
 * blobs_only. A missing directory lists nothing. */
static int list_old(const char *path, int64_t cutoff, bool blobs_only, struct names *out)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : ERR_IO;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat sb;
        if (de->d_name[0] == '.' || (blobs_only && !is_blob_name(de->d_name)))
            continue;
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* vanished meanwhile */
        if (S_ISREG(sb.st_mode) && (int64_t)sb.st_mtime <= cutoff)
            names_push(out, de->d_name);
    }
    closedir(d);
    return 0;
}

/* Under the write lock: drops the rows of every unreferenced candidate and adds its name to
 * doomed (the files to unlink once committed). */
static int drop_unreferenced(struct store *st, const struct names *cand, struct names *doomed)
{
    sqlite3_stmt *ref = NULL, *pc = NULL, *del = NULL;
    int rc = db_prepare(st,
                        "SELECT EXISTS(SELECT 1 FROM messages WHERE blob_id = ?1) OR "
                        "EXISTS(SELECT 1 FROM queue WHERE blob_id = ?1)",
                        &ref);
    if (rc == 0)
        rc = db_prepare(st, "DELETE FROM parse_cache WHERE blob_id = ?", &pc);
    if (rc == 0)
        rc = db_prepare(st, "DELETE FROM blobs WHERE id = ?", &del);
    for (size_t i = 0; rc == 0 && i < cand->n; i++) {
        const char *name = cand->v[i];
        int src = db_bind_text(ref, 1, name) ? SQLITE_ERROR : db_step(st, ref, "gc ref");
        bool used = src == SQLITE_ROW && sqlite3_column_int(ref, 0) != 0;
        sqlite3_reset(ref);
        if (src != SQLITE_ROW) {
            rc = db_err(src);
            break;
        }
        if (used)
            continue;
        if (db_bind_text(pc, 1, name) || db_step(st, pc, "gc cache") != SQLITE_DONE ||
            db_bind_text(del, 1, name) || db_step(st, del, "gc blob") != SQLITE_DONE)
            rc = ERR_DB;
        sqlite3_reset(pc);
        sqlite3_reset(del);
        names_push(doomed, name);
    }
    sqlite3_finalize(ref);
    sqlite3_finalize(pc);
    sqlite3_finalize(del);
    return rc;
}

/* Unlinks dir/name for each name; adds the number removed to *removed. */
static void unlink_all(const char *dir, const struct names *ns, int64_t *removed)
{
    struct str p = STR_INIT;
    for (size_t i = 0; i < ns->n; i++) {
        str_reset(&p);
        str_appendf(&p, "%s/%s", dir, ns->v[i]);
        if (unlink(str_cstr(&p)) == 0)
            (*removed)++;
        else if (errno != ENOENT)
            log_warn("store: gc: unlink %s: %s", str_cstr(&p), strerror(errno));
    }
    str_clear(&p);
}

/* Collects, checks and removes the orphans of DATA/blobs/<xx>; adds to *removed. */
static int gc_blob_dir(struct store *st, unsigned xx, int64_t cutoff, int64_t *removed)
{
    struct str dir = STR_INIT;
    struct names cand = {0}, doomed = {0};
    str_appendf(&dir, "%s/blobs/%02x", st->data_dir, xx);
    int rc = list_old(str_cstr(&dir), cutoff, true, &cand);
    if (rc == 0 && cand.n > 0) {
        rc = db_begin(st);
        if (rc == 0) {
            rc = drop_unreferenced(st, &cand, &doomed);
            if (rc == 0)
                rc = db_commit(st);
            else
                db_rollback(st);
        }
        if (rc == 0)
            unlink_all(str_cstr(&dir), &doomed, removed);
    }
    if (rc != 0)
        log_err("store: gc of %s failed", str_cstr(&dir));
    names_clear(&cand);
    names_clear(&doomed);
    str_clear(&dir);
    return rc;
}

/* DATA/tmp holds only files being written right now, so anything older is debris of a crash.
 * Always STORE_GC_MIN_AGE: a writer thread may be filling a fresh one. */
static int gc_tmp(struct store *st, int64_t now, int64_t *removed)
{
    struct str dir = STR_INIT;
    struct names old = {0};
    str_appendf(&dir, "%s/tmp", st->data_dir);
    int rc = list_old(str_cstr(&dir), now - STORE_GC_MIN_AGE, false, &old);
    if (rc == 0)
        unlink_all(str_cstr(&dir), &old, removed);
    names_clear(&old);
    str_clear(&dir);
    return rc;
}

int store_gc_older(struct store *st, int64_t min_age, int64_t *removed_out)
{
    int64_t now = db_now(), removed = 0;
    int rc = 0;
    for (unsigned xx = 0; xx < 256; xx++) {
        int r = gc_blob_dir(st, xx, now - min_age, &removed);
        if (rc == 0)
            rc = r; /* go on: one bad directory should not stop the others */
    }
    int r = gc_tmp(st, now, &removed);
    if (rc == 0)
        rc = r;
    if (removed > 0)
        log_info("store: gc removed %lld files", (long long)removed);
    if (removed_out)
        *removed_out = removed;
    return rc;
}

int store_gc(struct store *st, int64_t *removed_out)
{
    return store_gc_older(st, STORE_GC_MIN_AGE, removed_out);
}
