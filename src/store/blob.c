/*
 * blob — durable, immutable message files: written to DATA/tmp, fsynced, renamed into
 * DATA/blobs/xx/ (xx = first two hex digits of the id). The fsync of DATA/blobs/xx itself is
 * deferred to store_blobs_sync() so a batch of messages pays for each directory once.
 *
 * Thread-safe: no database access. The set of directories awaiting an fsync is the module's
 * one unavoidable global (a mutex-protected registry keyed by data directory, since
 * store_blob_write and store_blobs_sync take a path, not a handle). An entry exists only while
 * some directory of its data dir is dirty, so nothing remains allocated at exit.
 */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"

/* ---- registry of directories renamed into but not yet fsynced ---- */

struct dirty_dirs {
    struct dirty_dirs *next;
    char *data_dir;   /* owned, without trailing slashes */
    uint64_t bits[4]; /* bit i: DATA/blobs/<i as %02x> */
};

static pthread_mutex_t dirty_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dirty_dirs *dirty_head;
/*
 * Held for a whole store_blobs_sync: when two callers share a data dir, the second must not
 * return (and commit) while the first is still fsyncing directories the second's blobs are in.
 */
static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;

/* Length of dir without trailing slashes, so "d" and "d/" name one registry entry. */
static size_t dir_len(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return n;
}

/* Finds the entry of data_dir; caller holds dirty_mu. link_out (optional) gets the link to it. */
static struct dirty_dirs *dirty_find(const char *data_dir, struct dirty_dirs ***link_out)
{
    size_t n = dir_len(data_dir);
    struct dirty_dirs **link = &dirty_head;
    for (; *link; link = &(*link)->next) {
        const char *d = (*link)->data_dir;
        if (strlen(d) == n && memcmp(d, data_dir, n) == 0)
            break;
    }
    if (link_out)
        *link_out = link;
    return *link;
}

static void dirty_mark(const char *data_dir, unsigned dir)
{
    pthread_mutex_lock(&dirty_mu);
    struct dirty_dirs *e = dirty_find(data_dir, NULL);
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->data_dir = xstrndup(data_dir, dir_len(data_dir));
        e->next = dirty_head;
        dirty_head = e;
    }
    e->bits[dir / 64] |= UINT64_C(1) << (dir % 64);
    pthread_mutex_unlock(&dirty_mu);
}

/* Takes (and clears) data_dir's dirty set into bits[4]. */
static void dirty_take(const char *data_dir, uint64_t bits[4])
{
    memset(bits, 0, 4 * sizeof bits[0]);
    pthread_mutex_lock(&dirty_mu);
    struct dirty_dirs **link;
    struct dirty_dirs *e = dirty_find(data_dir, &link);
    if (e) {
        memcpy(bits, e->bits, sizeof e->bits);
        *link = e->next;
        free(e->data_dir);
        free(e);
    }
    pthread_mutex_unlock(&dirty_mu);
}

/*
 * A failed directory fsync fails the whole batch: after an fsync error Linux may drop the
 * dirty state, so retrying could report success for entries that never reached the disk.
 */
int store_blobs_sync(const char *data_dir)
{
    uint64_t bits[4];
    pthread_mutex_lock(&sync_mu);
    dirty_take(data_dir, bits);
    struct str p = STR_INIT;
    int rc = 0;
    for (unsigned i = 0; i < 256; i++) {
        if (!(bits[i / 64] & (UINT64_C(1) << (i % 64))))
            continue;
        str_reset(&p);
        str_appendf(&p, "%s/blobs/%02x", data_dir, i);
        if (db_fsync_dir(str_cstr(&p)) != 0) {
            log_err("store: fsync %s: %s", str_cstr(&p), strerror(errno));
            rc = ERR_IO;
        }
    }
    pthread_mutex_unlock(&sync_mu);
    str_clear(&p);
    return rc;
}

/* ---- file writing ---- */

/* Writes every byte of iov[0..n) to fd (consumes iov). 0 or ERR_IO. */
static int writev_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ERR_IO;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* Creates path (must not exist), writes iov, fsyncs, closes. Unlinks it on failure. */
static int write_synced(const char *path, struct iovec *iov, int n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return ERR_IO;
    int rc = writev_all(fd, iov, n);
    if (rc == 0 && fsync(fd) != 0)
        rc = ERR_IO;
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = ERR_IO;
        saved = errno;
    }
    if (rc != 0)
        unlink(path);
    errno = saved;
    return rc;
}

/* rename(from, to); when DATA/blobs/xx was removed by hand, recreates it durably first. */
static int rename_into(const char *from, const char *to)
{
    if (rename(from, to) == 0)
        return 0;
    if (errno != ENOENT)
        return ERR_IO;
    char *dir = xstrdup(to);
    *strrchr(dir, '/') = '\0';
    int rc = db_mkdir(dir);
    if (rc == 0) {
        *strrchr(dir, '/') = '\0'; /* DATA/blobs gained an entry */
        rc = db_fsync_dir(dir);
    }
    free(dir);
    if (rc == 0 && rename(from, to) != 0)
        rc = ERR_IO;
    return rc;
}

/* ---- the public durable-write helper ---- */

int store_durable_write(const char *path, const void *data, size_t len)
{
    struct str tmp = STR_INIT;
    unsigned char r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return ERR_IO;
    str_appendf(&tmp, "%s.tmp.%02x%02x%02x%02x%02x%02x%02x%02x", path, r[0], r[1], r[2], r[3], r[4],
                r[5], r[6], r[7]);
    struct iovec iov = {(void *)data, len};
    int rc = write_synced(str_cstr(&tmp), &iov, 1);
    if (rc == 0 && rename(str_cstr(&tmp), path) != 0) {
        rc = ERR_IO;
        int saved = errno;
        unlink(str_cstr(&tmp));
        errno = saved;
    }
    if (rc == 0) {
        char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[slash == dir ? 1 : 0] = '\0';
        rc = db_fsync_dir(slash ? dir : ".");
        free(dir);
    }
    str_clear(&tmp);
    return rc;
}

/* ---- blobs ---- */

/* 32 lowercase hex digits from the kernel's CSPRNG. */
static int new_blob_id(char id[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0 && errno != EINTR)
            return ERR_IO;
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof r; i++) {
        id[2 * i] = hex[r[i] >> 4];
        id[2 * i + 1] = hex[r[i] & 15];
    }
    id[32] = '\0';
    return 0;
}

/* Writes DATA/tmp/<name>, then renames it to DATA/blobs/<xx>/<name>; marks xx dirty. */
static int blob_put(const char *data_dir, const char *name, unsigned xx, struct iovec *iov, int n)
{
    struct str tmp = STR_INIT, dst = STR_INIT;
    str_appendf(&tmp, "%s/tmp/%s", data_dir, name);
    str_appendf(&dst, "%s/blobs/%02x/%s", data_dir, xx, name);
    int rc = write_synced(str_cstr(&tmp), iov, n);
    if (rc == 0) {
        rc = rename_into(str_cstr(&tmp), str_cstr(&dst));
        if (rc != 0) {
            int saved = errno;
            unlink(str_cstr(&tmp));
            errno = saved;
        }
    }
    if (rc == 0)
        dirty_mark(data_dir, xx);
    else
        log_err("store: blob %s: %s", name, strerror(errno));
    str_clear(&tmp);
    str_clear(&dst);
    return rc;
}

/* Removes DATA/blobs/<xx>/<name> (undoing blob_put after a later failure). */
static void blob_unlink(const char *data_dir, const char *name, unsigned xx)
{
    struct str p = STR_INIT;
    str_appendf(&p, "%s/blobs/%02x/%s", data_dir, xx, name);
    unlink(str_cstr(&p));
    str_clear(&p);
}

static bool blob_id_valid(const char *id)
{
    for (size_t i = 0; i < 32; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    return id[32] == '\0';
}

int store_blob_write(const char *data_dir, struct store_msg *msg)
{
    /* A caller's id is 128 random bits, like ours. */
    int rc = blob_id_valid(msg->id) ? 0 : new_blob_id(msg->id);
    if (rc != 0) {
        msg->id[0] = '\0';
        return rc;
    }
    unsigned xx = (unsigned)strtoul((char[3]){msg->id[0], msg->id[1], '\0'}, NULL, 16);
    bool local = msg->n_local > 0 || msg->n_targets > 0;
    if (local) {
        struct iovec iov[2] = {{(void *)msg->local_prefix, msg->local_prefix_len},
                               {(void *)msg->body, msg->body_len}};
        rc = blob_put(data_dir, msg->id, xx, iov, 2);
    }
    if (rc == 0 && msg->n_remote > 0) {
        char qname[40];
        memcpy(qname, msg->id, 32);
        memcpy(qname + 32, ".q", 3);
        struct iovec iov[2] = {{(void *)msg->remote_prefix, msg->remote_prefix_len},
                               {(void *)msg->body, msg->body_len}};
        rc = msg->remote_prefix_len ? blob_put(data_dir, qname, xx, iov, 2)
                                    : blob_put(data_dir, qname, xx, iov + 1, 1);
        if (rc != 0 && local)
            blob_unlink(data_dir, msg->id, xx);
    }
    return rc;
}
