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
static int cache_read(struct store *st, sqlite3_stmt *sel, const char *blob_id, unsigned fields,
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
    /* (sel is reset by the next lookup, and by the caller at the end) */
    /* Only the columns asked for are read: the others may sit in overflow pages. */
    char **col[4] = {&out->envelope, &out->bodystructure, &out->body, &out->search_headers};
    bool complete = true;
    for (int i = 0; i < 4; i++) {
        if (!(fields & (1u << i)))
            continue;
        *col[i] = col_dup(sel, i);
        complete = complete && *col[i];
    }
    if (!complete) {
        store_imap_cache_free(out, 1); /* an incomplete row (older writer): recompute */
        memset(out, 0, sizeof *out);
        return 0;
    }
    return 1;
}

struct cache_put {
    const char *const *ids;
    const struct store_imap_cache *c;
    size_t n;
};

static int cache_put_txn(struct store *st, void *vp)
{
    const struct cache_put *p = vp;
    bool nested;
    sqlite3_stmt *s = NULL;
    int rc = imap_op_begin(st, &nested);
    if (rc != 0)
        return rc;
    s = imap_stmt(st, IS_CACHE_PUT,
                  "INSERT OR REPLACE INTO parse_cache(blob_id, envelope, bodystructure, "
                  "body, search_headers, created) SELECT ?1, ?2, ?3, ?4, ?5, ?6 "
                  "WHERE EXISTS (SELECT 1 FROM blobs WHERE id = ?1)");
    rc = s ? 0 : ERR_DB;
    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        const struct store_imap_cache *e = &p->c[i];
        if (!e->envelope || !e->bodystructure || !e->body || !e->search_headers)
            continue;
        sqlite3_reset(s);
        if (db_bind_text(s, 1, p->ids[i]) || db_bind_text(s, 2, e->envelope) ||
            db_bind_text(s, 3, e->bodystructure) || db_bind_text(s, 4, e->body) ||
            db_bind_text(s, 5, e->search_headers) || db_bind_int64(s, 6, db_now()) ||
            db_step(st, s, "write parse cache") != SQLITE_DONE)
            rc = ERR_DB;
    }
    imap_stmt_reset(s);
    return imap_op_end(st, rc, nested);
}

/* Outside a batch without a WAL fsync: the cache can always be recomputed. */
int store_imap_cache_put(struct store *st, const char *const *blob_ids,
                         const struct store_imap_cache *entries, size_t n)
{
    struct cache_put p = {blob_ids, entries, n};
    return n ? imap_op_relaxed(st, cache_put_txn, &p) : 0;
}

int store_imap_cache_get(struct store *st, const char *const *blob_ids, size_t n, unsigned fields,
                         struct store_imap_cache *out, const struct store_imap_cache_fill *fill,
                         size_t *missing_out)
{
    memset(out, 0, n * sizeof *out);
    *missing_out = 0;
    sqlite3_stmt *sel = imap_stmt(st, IS_CACHE_GET,
                                  "SELECT envelope, bodystructure, body, search_headers "
                                  "FROM parse_cache WHERE blob_id = ?");
    if (!sel)
        return ERR_DB;
    size_t *miss = xcalloc(n ? n : 1, sizeof *miss), nmiss = 0;
    int rc = imap_read_begin(st);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int r = cache_read(st, sel, blob_ids[i], fields, &out[i]);
        if (r == 0)
            miss[nmiss++] = i;
        else if (r < 0)
            rc = r;
    }
    imap_stmt_reset(sel);
    rc = imap_read_end(st, rc);
    if (rc != 0) {
        store_imap_cache_free(out, n);
        memset(out, 0, n * sizeof *out);
        free(miss);
        return rc;
    }
    *missing_out = nmiss;
    if (fill) {
        /* Parse the misses and store them, in one write for all of them. */
        const char **ids = xcalloc(nmiss ? nmiss : 1, sizeof *ids);
        struct store_imap_cache *c = xcalloc(nmiss ? nmiss : 1, sizeof *c);
        for (size_t k = 0; k < nmiss; k++) {
            compute_from_file(st, blob_ids[miss[k]], &out[miss[k]]);
            ids[k] = blob_ids[miss[k]];
            c[k] = out[miss[k]];
        }
        if (nmiss && fill->put)
            fill->put(fill->arg, ids, c, nmiss);
        else
            store_imap_cache_put(st, ids, c, nmiss);
        free(ids);
        free(c);
    }
    free(miss);
    return 0;
}
