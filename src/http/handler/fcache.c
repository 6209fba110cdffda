/* http/handler/fcache — see fcache.h: the file handler's open-file cache. */
#include "http/handler/fcache.h"

#include "core/xmalloc.h"
#include "http/response.h"
#include "http/static.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FCACHE_BUCKETS 256
#define FCACHE_SMALL (16 * 1024) /* files up to this size are kept in memory whole */
/* A write, a truncation, new attributes or link count (a file replaced by rename, or deleted),
 * a move of the file itself. */
#define FCACHE_WATCH (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVE_SELF | IN_DELETE_SELF)

struct fentry {
    struct fentry *next; /* in its bucket */
    uint32_t hash;
    int root_fd;
    char *rel;
    int fd;
    int wd;              /* its inotify watch */
    struct stat st;
    char *data;          /* the whole file when small, else NULL */
    uint64_t checked_ms; /* when it was last found by path */
    uint64_t used;       /* the cache's tick at its last use (least recently used goes) */
    char etag[64];       /* the validators, formatted once (a hot file is asked for often) */
    char last_modified[30];
};

struct http_fcache {
    int ifd; /* inotify, non-blocking */
    unsigned max, n;
    unsigned valid_ms;
    uint64_t tick;
    bool batched; /* told of input (http_fcache_input): drains once per input, not per look-up */
    bool drained; /* ... and has drained since the last input */
    struct fentry *bucket[FCACHE_BUCKETS];
};

static int open_beneath(int root, const char *rel)
{
    struct open_how how = {0};
    /* O_NONBLOCK: a FIFO under the root opens at once (and is refused as not a regular
     * file) instead of blocking the worker until a writer comes; files ignore it. */
    how.flags = (uint64_t)(O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root, rel[0] ? rel : ".", &how, sizeof how);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t key_hash(int root_fd, const char *rel)
{
    uint32_t h = 2166136261u ^ (uint32_t)root_fd; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

struct http_fcache *http_fcache_new(unsigned max_entries, unsigned valid_ms)
{
    if (max_entries == 0)
        return NULL;
    int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd < 0)
        return NULL;
    struct http_fcache *fc = xcalloc(1, sizeof *fc);
    fc->ifd = ifd;
    fc->max = max_entries;
    fc->valid_ms = valid_ms;
    return fc;
}

/* Unlinks and frees e; its watch goes unless another entry shares the inode's (inotify gives
 * one watch per inode). */
static void entry_drop(struct http_fcache *fc, struct fentry *e)
{
    struct fentry **pp = &fc->bucket[e->hash % FCACHE_BUCKETS];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    fc->n--;
    bool shared = false;
    for (unsigned b = 0; b < FCACHE_BUCKETS && !shared && e->wd >= 0; b++)
        for (struct fentry *o = fc->bucket[b]; o && !shared; o = o->next)
            shared = o->wd == e->wd;
    if (e->wd >= 0 && !shared)
        inotify_rm_watch(fc->ifd, e->wd);
    close(e->fd);
    free(e->data);
    free(e->rel);
    free(e);
}

/* Drops every entry of watch wd (-1: every entry, after a queue overflow). */
static void drop_watch(struct http_fcache *fc, int wd)
{
    for (unsigned b = 0; b < FCACHE_BUCKETS; b++)
        for (struct fentry *e = fc->bucket[b], *next; e; e = next) {
            next = e->next;
            if (wd < 0 || e->wd == wd) {
                if (wd >= 0)
                    e->wd = -1; /* the kernel's watch is gone or about to be removed here */
                entry_drop(fc, e);
            }
        }
    if (wd >= 0)
        inotify_rm_watch(fc->ifd, wd); /* EINVAL after IN_IGNORED: harmless */
}

/* Whatever changed since the last look-up leaves the cache. */
static void drain_events(struct http_fcache *fc)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(fc->ifd, buf, sizeof buf);
        if (n <= 0)
            return;
        for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
            drop_watch(fc, (ev->mask & IN_Q_OVERFLOW) ? -1 : ev->wd);
            off += (ssize_t)sizeof *ev + ev->len;
        }
    }
}

static struct fentry *lookup(struct http_fcache *fc, int root_fd, const char *rel, uint32_t h)
{
    for (struct fentry *e = fc->bucket[h % FCACHE_BUCKETS]; e; e = e->next)
        if (e->hash == h && e->root_fd == root_fd && strcmp(e->rel, rel) == 0)
            return e;
    return NULL;
}

static void evict_one(struct http_fcache *fc)
{
    struct fentry *old = NULL;
    for (unsigned b = 0; b < FCACHE_BUCKETS; b++)
        for (struct fentry *e = fc->bucket[b]; e; e = e->next)
            if (!old || e->used < old->used)
                old = e;
    if (old)
        entry_drop(fc, old);
}

/* Reads a small file whole; false if it did not read as its stat said. */
static bool read_whole(struct fentry *e)
{
    size_t size = (size_t)e->st.st_size, got = 0;
    e->data = xmalloc(size ? size : 1);
    while (got < size) {
        ssize_t n = pread(e->fd, e->data + got, size - got, (off_t)got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* Keeps the just opened regular file fd (watched first, then stat'ed and read). NULL when it
 * cannot be watched or read; fd stays the caller's then. */
static struct fentry *insert(struct http_fcache *fc, int root_fd, const char *rel, uint32_t h,
                             int fd)
{
    char proc[40];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int wd = inotify_add_watch(fc->ifd, proc, FCACHE_WATCH);
    if (wd < 0)
        return NULL;
    struct fentry *e = xcalloc(1, sizeof *e);
    e->fd = fd;
    e->wd = wd;
    if (fstat(fd, &e->st) < 0 || !S_ISREG(e->st.st_mode) ||
        (e->st.st_size <= FCACHE_SMALL && !read_whole(e))) {
        free(e->data);
        free(e);
        return NULL; /* the watch stays until its inode goes: harmless */
    }
    if (fc->n >= fc->max)
        evict_one(fc);
    struct http_file_meta meta = {(uint64_t)e->st.st_size, e->st.st_mtim.tv_sec,
                                  e->st.st_mtim.tv_nsec, (uint64_t)e->st.st_ino};
    http_etag(&meta, e->etag);
    http_date_format(e->st.st_mtim.tv_sec, e->last_modified);
    e->hash = h;
    e->root_fd = root_fd;
    e->rel = xstrdup(rel);
    e->checked_ms = now_ms();
    e->next = fc->bucket[h % FCACHE_BUCKETS];
    fc->bucket[h % FCACHE_BUCKETS] = e;
    fc->n++;
    return e;
}

static void ref_entry(struct http_fcache *fc, struct fentry *e, struct http_file_ref *out)
{
    e->used = ++fc->tick;
    out->fd = e->fd;
    out->borrowed = true;
    out->data = e->data;
    out->etag = e->etag;
    out->last_modified = e->last_modified;
    out->st = e->st;
}

/* Whether the path still names the cached inode (the directories above may have moved). */
static bool still_there(const struct fentry *e, const struct stat *st)
{
    return st->st_dev == e->st.st_dev && st->st_ino == e->st.st_ino &&
           st->st_size == e->st.st_size && st->st_mtim.tv_sec == e->st.st_mtim.tv_sec &&
           st->st_mtim.tv_nsec == e->st.st_mtim.tv_nsec;
}

void http_fcache_input(struct http_fcache *fc)
{
    if (!fc)
        return;
    fc->batched = true;
    fc->drained = false;
}

int http_fcache_open(struct http_fcache *fc, int root_fd, const char *rel,
                     struct http_file_ref *out)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    uint32_t h = 0;
    struct fentry *e = NULL;
    if (fc) {
        if (!fc->batched || !fc->drained) {
            drain_events(fc);
            fc->drained = true;
        }
        h = key_hash(root_fd, rel);
        e = lookup(fc, root_fd, rel, h);
        if (e && now_ms() - e->checked_ms < fc->valid_ms) {
            ref_entry(fc, e, out);
            return 0;
        }
    }
    int fd = open_beneath(root_fd, rel);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    if (e && still_there(e, &st)) { /* revalidated: the same file, unchanged */
        close(fd);
        e->checked_ms = now_ms();
        ref_entry(fc, e, out);
        return 0;
    }
    if (e)
        entry_drop(fc, e);
    if (fc && S_ISREG(st.st_mode) && (e = insert(fc, root_fd, rel, h, fd))) {
        ref_entry(fc, e, out);
        return 0;
    }
    out->fd = fd;
    out->st = st;
    return 0;
}

int http_file_ref_take_fd(struct http_file_ref *f)
{
    if (f->fd < 0)
        return -1;
    if (f->borrowed)
        return fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
    int fd = f->fd;
    f->fd = -1;
    return fd;
}

void http_file_ref_clear(struct http_file_ref *f)
{
    if (f->fd >= 0 && !f->borrowed)
        close(f->fd);
    f->fd = -1;
    f->data = NULL;
}

void http_fcache_free(struct http_fcache *fc)
{
    if (!fc)
        return;
    for (unsigned b = 0; b < FCACHE_BUCKETS; b++)
        while (fc->bucket[b])
            entry_drop(fc, fc->bucket[b]);
    close(fc->ifd);
    free(fc);
}
