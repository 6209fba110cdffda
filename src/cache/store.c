/* cache/store — the index, budgets, eviction and writers; see store.h. */
#include "cache/store_int.h"

#include "core/metrics.h"
#include "core/xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct metric m_objects = METRIC_GAUGE("pigeon_cache_objects", "Objects in the cache");
static struct metric m_disk =
    METRIC_GAUGE("pigeon_cache_disk_bytes", "Octets of the cache's object files");
static struct metric m_mem =
    METRIC_GAUGE("pigeon_cache_memory_bytes", "Octets of bodies the cache keeps in memory");
static struct metric m_stored = METRIC("pigeon_cache_stored_total", "Responses stored");
static struct metric m_evicted =
    METRIC("pigeon_cache_evictions_total", "Objects evicted to keep the byte budgets");

/* The gauges follow the index (under the store's lock). */
static void publish(const struct cache_store *s)
{
    metric_set(&m_objects, s->st.objects);
    metric_set(&m_disk, s->st.disk_bytes);
    metric_set(&m_mem, s->st.mem_bytes);
}

struct cache_writer {
    struct cache_store *s;
    struct cache_obj *o; /* not indexed yet */
    int fd;
    char tmp[64];
    struct str mem; /* the body while it is small enough for memory */
    bool failed;
    bool unstorable; /* past max_object: still written for its readers, never stored */
};

static unsigned bucket(const char *key)
{
    unsigned h = 5381;
    for (const char *p = key; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return h % CACHE_BUCKETS;
}

static void lru_unlink(struct cache_store *s, struct cache_obj *o)
{
    if (o->lru_prev)
        o->lru_prev->lru_next = o->lru_next;
    else
        s->lru_head = o->lru_next;
    if (o->lru_next)
        o->lru_next->lru_prev = o->lru_prev;
    else
        s->lru_tail = o->lru_prev;
    o->lru_prev = o->lru_next = NULL;
}

static void lru_front(struct cache_store *s, struct cache_obj *o)
{
    o->lru_next = s->lru_head;
    o->lru_prev = NULL;
    if (s->lru_head)
        s->lru_head->lru_prev = o;
    s->lru_head = o;
    if (!s->lru_tail)
        s->lru_tail = o;
}

/* Frees an unreferenced object's memory copy (its file stays). */
static void drop_mem(struct cache_store *s, struct cache_obj *o)
{
    if (!o->mem || o->refs)
        return;
    s->st.mem_bytes -= o->body_len;
    free(o->mem);
    o->mem = NULL;
}

/* Takes o out of the index (under the lock). The file is unlinked when unlink_file. */
static void index_remove(struct cache_store *s, struct cache_obj *o, bool unlink_file)
{
    struct cache_obj **pp = &s->buckets[bucket(o->key)];
    while (*pp && *pp != o)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = o->hnext;
    lru_unlink(s, o);
    s->st.objects--;
    s->st.disk_bytes -= o->file_len;
    if (o->mem)
        s->st.mem_bytes -= o->body_len; /* freed with o */
    if (unlink_file)
        unlinkat(s->dirfd, o->path, 0);
    publish(s);
    o->dead = true;
    if (o->refs == 0)
        cache_obj_free(o);
}

static struct cache_obj *find_path(struct cache_store *s, const struct cache_obj *like)
{
    for (struct cache_obj *o = s->buckets[bucket(like->key)]; o; o = o->hnext)
        if (!strcmp(o->path, like->path))
            return o;
    return NULL;
}

void cache_index_insert(struct cache_store *s, struct cache_obj *o)
{
    struct cache_obj *old = find_path(s, o);
    if (old)
        index_remove(s, old, false); /* the new file has replaced it at the same path */
    unsigned b = bucket(o->key);
    o->hnext = s->buckets[b];
    s->buckets[b] = o;
    lru_front(s, o);
    s->st.objects++;
    s->st.disk_bytes += o->file_len;
    if (o->mem)
        s->st.mem_bytes += o->body_len;
    publish(s);
}

/* LFU: of the few least recently used, the least often asked for (the oldest of equals). */
#define LFU_SAMPLE 8
static struct cache_obj *victim(struct cache_store *s)
{
    if (!s->sketch)
        return s->lru_tail;
    struct cache_obj *best = NULL;
    unsigned best_f = ~0u, n = 0;
    for (struct cache_obj *o = s->lru_tail; o && n < LFU_SAMPLE; o = o->lru_prev, n++) {
        unsigned f = cache_sketch_estimate(s->sketch, cache_sketch_hash(o->key));
        if (f < best_f)
            best = o, best_f = f;
    }
    return best;
}

void cache_index_evict(struct cache_store *s)
{
    while (s->st.disk_bytes > s->b.disk_bytes && s->lru_tail) {
        index_remove(s, victim(s), true);
        s->st.evicted++;
        metric_inc(&m_evicted);
    }
    for (struct cache_obj *o = s->lru_tail; o && s->st.mem_bytes > s->b.mem_bytes; o = o->lru_prev)
        drop_mem(s, o);
    publish(s);
}

static int mkdirat_p(int dfd, const char *name)
{
    return mkdirat(dfd, name, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

struct cache_store *cache_store_open(const char *dir, const struct cache_budget *b,
                                     const char **err_out)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        *err_out = "cannot create the cache directory";
        return NULL;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || mkdirat_p(dfd, "objects") || mkdirat_p(dfd, "tmp")) {
        if (dfd >= 0)
            close(dfd);
        *err_out = "cannot use the cache directory";
        return NULL;
    }
    struct cache_store *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->dirfd = dfd;
    s->b = *b;
    if (b->policy == CACHE_LFU) /* a slot per 4 KiB of the disk budget, 64 Ki at least */
        s->sketch = cache_sketch_new((uint32_t)(b->disk_bytes / 4096 > (1u << 26)
                                                    ? (1u << 26)
                                                    : b->disk_bytes / 4096 + 65536));
    /* A temporary file left by a crash belongs to nobody. */
    int tfd = openat(dfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *td = tfd >= 0 ? fdopendir(tfd) : NULL;
    if (td) {
        struct dirent *de;
        while ((de = readdir(td)))
            if (de->d_name[0] != '.')
                unlinkat(dirfd(td), de->d_name, 0);
        closedir(td);
    } else if (tfd >= 0) {
        close(tfd);
    }
    cache_store_scan(s);
    return s;
}

void cache_store_close(struct cache_store *s)
{
    if (!s)
        return;
    while (s->lru_head) {
        struct cache_obj *o = s->lru_head;
        lru_unlink(s, o);
        cache_obj_free(o);
    }
    close(s->dirfd);
    cache_sketch_free(s->sketch);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

struct cache_obj *cache_store_lookup(struct cache_store *s, const char *key,
                                     bool (*match)(const struct cache_obj *o, void *arg), void *arg)
{
    pthread_mutex_lock(&s->lock);
    if (s->sketch) /* every request counts, hit or miss: that is what admission weighs */
        cache_sketch_add(s->sketch, cache_sketch_hash(key));
    struct cache_obj *found = NULL;
    for (struct cache_obj *o = s->buckets[bucket(key)]; o && !found; o = o->hnext)
        if (!strcmp(o->key, key) && match(o, arg))
            found = o;
    if (found) {
        found->refs++;
        found->hits++;
        lru_unlink(s, found);
        lru_front(s, found);
        s->st.hits++;
    } else {
        s->st.misses++;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

bool cache_store_has(struct cache_store *s, const char *key)
{
    pthread_mutex_lock(&s->lock);
    bool any = false;
    for (struct cache_obj *o = s->buckets[bucket(key)]; o && !any; o = o->hnext)
        any = !strcmp(o->key, key);
    pthread_mutex_unlock(&s->lock);
    return any;
}

void cache_obj_unref(struct cache_store *s, struct cache_obj *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&s->lock);
    if (--o->refs == 0 && o->dead)
        cache_obj_free(o);
    pthread_mutex_unlock(&s->lock);
}

/* Reads a small body into memory when the budget has room (on a hit). */
static void warm(struct cache_store *s, struct cache_obj *o, int fd)
{
    if (o->body_len == 0 || o->body_len > s->b.mem_max_object || o->body_len > s->b.mem_bytes)
        return;
    char *m = xmalloc(o->body_len);
    if (pread(fd, m, o->body_len, (off_t)o->body_off) != (ssize_t)o->body_len) {
        free(m);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (!o->mem && !o->dead) {
        o->mem = m;
        m = NULL;
        s->st.mem_bytes += o->body_len;
        cache_index_evict(s);
    }
    pthread_mutex_unlock(&s->lock);
    free(m);
}

int cache_obj_body(struct cache_store *s, struct cache_obj *o, const char **mem_out)
{
    *mem_out = NULL;
    pthread_mutex_lock(&s->lock);
    const char *m = o->mem;
    pthread_mutex_unlock(&s->lock);
    if (m) {
        *mem_out = m; /* freed only once o's references are gone */
        return -1;
    }
    int fd = openat(s->dirfd, o->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || st.st_ino != o->ino || (uint64_t)st.st_size != o->file_len) {
        close(fd); /* replaced by a newer response since o was looked up */
        return -1;
    }
    warm(s, o, fd);
    return fd;
}

/* ---- writing ---- */

struct cache_writer *cache_writer_new(struct cache_store *s, const char *key, const char *vary,
                                      int status, struct slice fields, time_t request_time,
                                      time_t response_time)
{
    struct cache_writer *w = xcalloc(1, sizeof *w);
    w->s = s;
    w->o = cache_obj_make(key, vary, status, fields, request_time, response_time);
    pthread_mutex_lock(&s->lock);
    uint64_t seq = ++s->tmp_seq;
    pthread_mutex_unlock(&s->lock);
    snprintf(w->tmp, sizeof w->tmp, "tmp/%d.%llu", (int)getpid(), (unsigned long long)seq);
    w->fd = openat(s->dirfd, w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    long hl = w->fd >= 0 ? cache_file_write_head(w->fd, w->o) : -1;
    if (hl < 0) {
        cache_writer_abort(w);
        return NULL;
    }
    w->o->body_off = (uint64_t)hl;
    return w;
}

int cache_writer_write(struct cache_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return -1;
    const char *c = p;
    if (w->o->body_len + n > w->s->b.max_object && !w->unstorable) {
        w->unstorable = true; /* the readers following the file still get the rest */
        str_clear(&w->mem);
    }
    if (w->o->body_len + n > cache_store_spool_limit(w->s)) {
        w->failed = true;
        return -1;
    }
    w->o->body_len += n;
    if (!w->unstorable && w->o->body_len <= w->s->b.mem_max_object)
        str_append(&w->mem, p, n);
    else
        str_clear(&w->mem);
    while (n) {
        ssize_t r = write(w->fd, c, n);
        if (r <= 0) {
            w->failed = true;
            return -1;
        }
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

uint64_t cache_store_spool_limit(const struct cache_store *s)
{
    return s->b.disk_bytes > s->b.max_object ? s->b.disk_bytes : s->b.max_object;
}

int cache_writer_reader(struct cache_writer *w, uint64_t *body_off_out)
{
    if (w->failed)
        return -1;
    *body_off_out = w->o->body_off;
    return openat(w->s->dirfd, w->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

uint64_t cache_writer_body_len(const struct cache_writer *w)
{
    return w->o->body_len;
}

static void writer_free(struct cache_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    str_clear(&w->mem);
    cache_obj_free(w->o);
    free(w);
}

void cache_writer_abort(struct cache_writer *w)
{
    if (!w)
        return;
    unlinkat(w->s->dirfd, w->tmp, 0);
    writer_free(w);
}

/* Rewrites the object's header line now that the body length is known (the line has the
 * same width: the length is written with a fixed number of digits). */
static bool fix_head(struct cache_writer *w)
{
    char line[200];
    int n = cache_file_head_line(w->o, line, sizeof line);
    return n > 0 && pwrite(w->fd, line, (size_t)n, 0) == n;
}

/* LFU admission (under the lock): o may go in when it fits, replaces its own older copy, or
 * was asked for more often than the object it would push out. */
static bool admit(struct cache_store *s, struct cache_obj *o, uint64_t file_len)
{
    if (!s->sketch || s->st.disk_bytes + file_len <= s->b.disk_bytes || find_path(s, o))
        return true;
    struct cache_obj *v = victim(s);
    return !v || cache_sketch_estimate(s->sketch, cache_sketch_hash(o->key)) >
                     cache_sketch_estimate(s->sketch, cache_sketch_hash(v->key));
}

static struct cache_obj *install(struct cache_store *s, struct cache_obj *o, const char *tmp)
{
    char dir[80];
    memcpy(dir, o->path, 11); /* "objects/xx" */
    dir[10] = '\0';
    mkdirat_p(s->dirfd, dir);
    struct stat st;
    int fd = openat(s->dirfd, tmp, O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && fstat(fd, &st) == 0;
    if (fd >= 0)
        close(fd);
    if (ok) {
        pthread_mutex_lock(&s->lock);
        ok = admit(s, o, (uint64_t)st.st_size);
        if (!ok)
            s->st.refused++;
        pthread_mutex_unlock(&s->lock);
    }
    if (!ok || renameat(s->dirfd, tmp, s->dirfd, o->path) != 0) {
        unlinkat(s->dirfd, tmp, 0);
        cache_obj_free(o);
        return NULL;
    }
    o->ino = st.st_ino;
    o->file_len = (uint64_t)st.st_size;
    pthread_mutex_lock(&s->lock);
    cache_index_insert(s, o);
    o->refs++;
    s->st.stored++;
    metric_inc(&m_stored);
    cache_index_evict(s);
    pthread_mutex_unlock(&s->lock);
    return o;
}

struct cache_obj *cache_writer_commit(struct cache_writer *w)
{
    struct cache_store *s = w->s;
    if (w->failed || w->unstorable || w->o->body_len + w->o->body_off > s->b.disk_bytes ||
        !fix_head(w)) {
        cache_writer_abort(w);
        return NULL;
    }
    close(w->fd);
    w->fd = -1;
    struct cache_obj *o = w->o;
    w->o = NULL;
    if (w->mem.len == o->body_len && o->body_len && o->body_len <= s->b.mem_bytes) {
        o->mem = str_steal(&w->mem);
    }
    char tmp[64];
    memcpy(tmp, w->tmp, sizeof tmp);
    writer_free(w);
    return install(s, o, tmp);
}

struct cache_obj *cache_store_refresh(struct cache_store *s, struct cache_obj *o,
                                      struct slice fields, time_t request_time,
                                      time_t response_time)
{
    const char *mem;
    int src = cache_obj_body(s, o, &mem);
    if (src < 0 && !mem)
        return NULL;
    struct cache_writer *w =
        cache_writer_new(s, o->key, o->vary, o->status, fields, request_time, response_time);
    bool ok = w != NULL;
    if (ok && mem) {
        ok = cache_writer_write(w, mem, o->body_len) == 0;
    } else if (ok) {
        char buf[65536];
        for (uint64_t off = 0; ok && off < o->body_len;) {
            size_t want = o->body_len - off < sizeof buf ? (size_t)(o->body_len - off) : sizeof buf;
            ssize_t r = pread(src, buf, want, (off_t)(o->body_off + off));
            ok = r > 0 && cache_writer_write(w, buf, (size_t)r) == 0;
            off += r > 0 ? (uint64_t)r : 0;
        }
    }
    if (src >= 0)
        close(src);
    if (!ok) {
        cache_writer_abort(w);
        return NULL;
    }
    return cache_writer_commit(w);
}

unsigned cache_store_purge(struct cache_store *s, const char *key, bool prefix)
{
    size_t kl = strlen(key);
    unsigned n = 0;
    pthread_mutex_lock(&s->lock);
    for (struct cache_obj *o = s->lru_head, *next; o; o = next) {
        next = o->lru_next;
        if (prefix ? !strncmp(o->key, key, kl) : !strcmp(o->key, key)) {
            index_remove(s, o, true);
            n++;
        }
    }
    s->st.purged += n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void cache_store_stats(struct cache_store *s, struct cache_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->st;
    pthread_mutex_unlock(&s->lock);
}
