/*
 * cache/store_file — the object file format and the scan at start-up.
 *
 * An object file: "PGC1 <keylen> <varylen> <fieldslen> <status> <request_time>
 * <response_time> <bodylen>\n", then the key, the Vary key and the stored head (lengths as
 * given), then the body. A file whose size is not exactly header + body is incomplete and
 * is removed by the scan.
 */
#include "cache/store_int.h"

#include "core/xmalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEAD_LINE_MAX 200
#define KEYS_MAX (1024 * 1024) /* key + vary + fields of one object */

void cache_obj_path(const char *key, const char *vary, char out[80])
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = vary; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(out, 80, "objects/%02x/%016llx", (unsigned)(h >> 56), (unsigned long long)h);
}

struct cache_obj *cache_obj_make(const char *key, const char *vary, int status, struct slice fields,
                                 time_t request_time, time_t response_time)
{
    struct cache_obj *o = xcalloc(1, sizeof *o);
    size_t kl = strlen(key), vl = strlen(vary);
    o->blob = xmalloc(kl + 1 + vl + 1 + fields.len + 1);
    memcpy(o->blob, key, kl + 1);
    memcpy(o->blob + kl + 1, vary, vl + 1);
    memcpy(o->blob + kl + vl + 2, fields.p, fields.len);
    o->blob[kl + vl + 2 + fields.len] = '\0';
    o->key = o->blob;
    o->vary = o->blob + kl + 1;
    o->fields = slice_make(o->blob + kl + vl + 2, fields.len);
    o->status = status;
    o->request_time = request_time;
    o->response_time = response_time;
    cache_obj_path(key, vary, o->path);
    return o;
}

void cache_obj_free(struct cache_obj *o)
{
    if (!o)
        return;
    free(o->blob);
    free(o->mem);
    free(o);
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

int cache_file_head_line(const struct cache_obj *o, char *line, size_t cap)
{
    int n = snprintf(line, cap, CACHE_MAGIC " %zu %zu %zu %d %lld %lld %020llu\n", strlen(o->key),
                     strlen(o->vary), o->fields.len, o->status, (long long)o->request_time,
                     (long long)o->response_time, (unsigned long long)o->body_len);
    return n > 0 && (size_t)n < cap ? n : -1;
}

long cache_file_write_head(int fd, const struct cache_obj *o)
{
    char line[HEAD_LINE_MAX];
    size_t kl = strlen(o->key), vl = strlen(o->vary);
    int n = cache_file_head_line(o, line, sizeof line);
    if (n <= 0)
        return -1;
    if (!write_all(fd, line, (size_t)n) || !write_all(fd, o->key, kl) ||
        !write_all(fd, o->vary, vl) || !write_all(fd, o->fields.p, o->fields.len))
        return -1;
    return (long)((size_t)n + kl + vl + o->fields.len);
}

static bool read_all(int fd, void *p, size_t n, off_t off)
{
    char *c = p;
    while (n) {
        ssize_t r = pread(fd, c, n, off);
        if (r <= 0)
            return false;
        c += r;
        off += r;
        n -= (size_t)r;
    }
    return true;
}

struct cache_obj *cache_file_read_head(int fd, uint64_t file_len)
{
    char line[HEAD_LINE_MAX + 1];
    ssize_t r = pread(fd, line, HEAD_LINE_MAX, 0);
    if (r <= 0)
        return NULL;
    line[r] = '\0';
    char *nl = strchr(line, '\n');
    size_t kl, vl, fl;
    int status;
    long long rq, rs;
    unsigned long long bl;
    int used = 0;
    if (!nl ||
        sscanf(line, CACHE_MAGIC " %zu %zu %zu %d %lld %lld %llu%n", &kl, &vl, &fl, &status, &rq,
               &rs, &bl, &used) != 7 ||
        line + used != nl)
        return NULL;
    size_t hl = (size_t)(nl + 1 - line);
    if (kl == 0 || kl > KEYS_MAX || vl > KEYS_MAX || fl > KEYS_MAX || status < 100 ||
        status > 999 || (uint64_t)hl + kl + vl + fl + bl != file_len)
        return NULL;
    char *buf = xmalloc(kl + vl + fl + 1);
    struct cache_obj *o = NULL;
    if (read_all(fd, buf, kl + vl + fl, (off_t)hl) && !memchr(buf, '\0', kl + vl + fl)) {
        char *key = slice_dup(slice_make(buf, kl));
        char *vary = slice_dup(slice_make(buf + kl, vl));
        o = cache_obj_make(key, vary, status, slice_make(buf + kl + vl, fl), (time_t)rq,
                           (time_t)rs);
        o->body_len = bl;
        o->body_off = hl + kl + vl + fl;
        o->file_len = file_len;
        free(key);
        free(vary);
    }
    free(buf);
    return o;
}

static void scan_file(struct cache_store *s, int dfd, const char *sub, const char *name)
{
    char rel[80];
    snprintf(rel, sizeof rel, "objects/%.2s/%.16s", sub, name);
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    struct cache_obj *o = NULL;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        o = cache_file_read_head(fd, (uint64_t)st.st_size);
    if (fd >= 0)
        close(fd);
    if (!o || strcmp(o->path, rel) != 0) {
        unlinkat(dfd, name, 0); /* torn, foreign or misplaced: never served */
        cache_obj_free(o);
        return;
    }
    o->ino = st.st_ino;
    cache_index_insert(s, o);
}

void cache_store_scan(struct cache_store *s)
{
    int ofd = openat(s->dirfd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ofd < 0)
        return;
    DIR *top = fdopendir(ofd);
    if (!top) {
        close(ofd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(top))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) != 2)
            continue;
        int dfd = openat(ofd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *sub = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!sub) {
            if (dfd >= 0)
                close(dfd);
            continue;
        }
        struct dirent *fe;
        while ((fe = readdir(sub)))
            if (fe->d_name[0] != '.' && strlen(fe->d_name) == 16)
                scan_file(s, dirfd(sub), de->d_name, fe->d_name);
        closedir(sub);
    }
    closedir(top);
    cache_index_evict(s);
}
