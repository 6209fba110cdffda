/*
 * imap_cache — the parse cache (store/imap.h): ENVELOPE, BODYSTRUCTURE, BODY and decoded
 * header text of a message file, computed once per blob with msg/mime.h and kept in the
 * parse_cache table. Filled lazily: the first FETCH or SEARCH that needs an entry parses the
 * file (delivery stays as fast as it was); every later one, from any session or mailbox the
 * same file is in, reads the row. Blob files are immutable, so an entry never goes stale; it
 * goes with its blob (ON DELETE CASCADE).
 */
#include "store/imap.h"

#include "store/db.h"
#include "store/imap_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "msg/mime.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void store_imap_cache_compute(const char *msg, size_t len, struct store_imap_cache *out)
{
    struct mime_tree *t = mime_parse(msg, len, NULL);
    struct str s = STR_INIT;
    mime_envelope_write(msg + t->root->hdr_off, t->root->hdr_len, &s);
    out->envelope = str_steal(&s);
    mime_bodystructure_write(t, t->root, MIME_BS_EXTENSIONS, &s);
    out->bodystructure = str_steal(&s);
    mime_bodystructure_write(t, t->root, 0, &s);
    out->body = str_steal(&s);
    mime_text_header(msg + t->root->hdr_off, t->root->hdr_len, NULL, &s);
    out->search_headers = str_steal(&s);
    mime_tree_free(t);
}

void store_imap_cache_free(struct store_imap_cache *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].envelope);
        free(c[i].bodystructure);
        free(c[i].body);
        free(c[i].search_headers);
    }
}

/* Parses the file of blob_id into out; false when it cannot be read. */
static bool compute_from_file(struct store *st, const char *blob_id, struct store_imap_cache *out)
{
    struct str path = STR_INIT;
    store_imap_blob_path(st->data_dir, blob_id, &path);
    int fd = open(str_cstr(&path), O_RDONLY | O_CLOEXEC);
    str_clear(&path);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        log_warn("store: parse cache: cannot read blob %s", blob_id);
        return false;
    }
    size_t len = (size_t)sb.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (map == MAP_FAILED)
        return false;
    store_imap_cache_compute(len ? map : "", len, out);
    if (len)
        munmap(map, len);
    return true;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const char *v = (const char *)sqlite3_column_text(s, i);
    return v ? xstrdup(v) : NULL;
}

/* Looks blob_id up; 1 found (out filled), 0 missing, < 0 error. */
static int cache_read(struct store *st, sqlite3_stmt *sel, const char *blob_id,
                      struct store_imap_cache *out)
{
    sqlite3_reset(sel);
    if (db_bind_text(sel, 1, blob_id))
        return ERR_DB;
    int src = db_step(st, sel, "read parse cache");
    if (src == SQLITE_DONE)
        return 0;
    if (src != SQLITE_ROW)
        return db_err(src);
    out->envelope = col_dup(sel, 0);
    out->bodystructure = col_dup(sel, 1);
    out->body = col_dup(sel, 2);
    out->search_headers = col_dup(sel, 3);
    if (!out->envelope || !out->bodystructure || !out->body || !out->search_headers) {
        store_imap_cache_free(out, 1); /* an incomplete row (older writer): recompute */
        memset(out, 0, sizeof *out);
        return 0;
    }
    return 1;
}

struct cache_misses {
    const char *const *ids;
    struct store_imap_cache *c;
    const size_t *miss;
    size_t nmiss;
};

static int cache_write_txn(struct store *st, void *vm)
{
    const struct cache_misses *m = vm;
    bool nested;
    sqlite3_stmt *s = NULL;
    int rc = imap_op_begin(st, &nested);
    if (rc != 0)
        return rc;
    rc = db_prepare(st,
                    "INSERT OR REPLACE INTO parse_cache(blob_id, envelope, bodystructure, "
                    "body, search_headers, created) SELECT ?1, ?2, ?3, ?4, ?5, ?6 "
                    "WHERE EXISTS (SELECT 1 FROM blobs WHERE id = ?1)",
                    &s);
    for (size_t k = 0; rc == 0 && k < m->nmiss; k++) {
        const struct store_imap_cache *e = &m->c[m->miss[k]];
        if (!e->envelope)
            continue;
        sqlite3_reset(s);
        if (db_bind_text(s, 1, m->ids[m->miss[k]]) || db_bind_text(s, 2, e->envelope) ||
            db_bind_text(s, 3, e->bodystructure) || db_bind_text(s, 4, e->body) ||
            db_bind_text(s, 5, e->search_headers) || db_bind_int64(s, 6, db_now()) ||
            db_step(st, s, "write parse cache") != SQLITE_DONE)
            rc = ERR_DB;
    }
    sqlite3_finalize(s);
    return imap_op_end(st, rc, nested);
}

/* Stores the entries computed for the misses in one transaction, without a WAL fsync (the
 * cache can always be recomputed); a failure only costs speed. */
static void cache_write(struct store *st, const char *const *ids, struct store_imap_cache *c,
                        const size_t *miss, size_t nmiss)
{
    struct cache_misses m = {ids, c, miss, nmiss};
    if (nmiss)
        (void)imap_op_relaxed(st, cache_write_txn, &m);
}

int store_imap_cache_get(struct store *st, const char *const *blob_ids, size_t n,
                         struct store_imap_cache *out)
{
    memset(out, 0, n * sizeof *out);
    sqlite3_stmt *sel;
    int rc = db_prepare(st,
                        "SELECT envelope, bodystructure, body, search_headers FROM parse_cache "
                        "WHERE blob_id = ?",
                        &sel);
    if (rc != 0)
        return rc;
    size_t *miss = xcalloc(n ? n : 1, sizeof *miss), nmiss = 0;
    rc = db_exec(st, "BEGIN");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int r = cache_read(st, sel, blob_ids[i], &out[i]);
        if (r == 0)
            miss[nmiss++] = i;
        else if (r < 0)
            rc = r;
    }
    sqlite3_finalize(sel);
    if (rc == 0)
        rc = db_exec(st, "COMMIT");
    if (rc != 0) {
        db_rollback(st);
        store_imap_cache_free(out, n);
        memset(out, 0, n * sizeof *out);
        free(miss);
        return rc;
    }
    for (size_t k = 0; k < nmiss; k++)
        compute_from_file(st, blob_ids[miss[k]], &out[miss[k]]);
    cache_write(st, blob_ids, out, miss, nmiss);
    free(miss);
    return 0;
}
