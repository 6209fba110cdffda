/* torrent/service/storage — see storage.h. */
#include "torrent/service/storage.h"

#include "core/str.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p of every directory above path (path is dir/…/file). */
static int make_parents(char *path)
{
    for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        int rc = mkdir(path, 0755);
        *s = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

int tor_storage_open(struct tor_storage *st, const struct tor_meta *m, const char *dir,
                     const char **why)
{
    st->m = m;
    st->nfds = m->nfiles;
    st->fds = xcalloc(m->nfiles, sizeof *st->fds);
    for (size_t i = 0; i < m->nfiles; i++)
        st->fds[i] = -1;
    for (size_t i = 0; i < m->nfiles; i++) {
        if (m->files[i].pad)
            continue; /* BEP 47: zeros, never on disk */
        struct str p = STR_INIT;
        str_appendf(&p, "%s/", dir);
        if (m->multi)
            str_appendf(&p, "%s/", m->name);
        str_appends(&p, m->files[i].path);
        int fd = -1;
        if (make_parents(p.ptr) == 0)
            fd = open(p.ptr, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        struct stat sb;
        if (fd >= 0 && fstat(fd, &sb) == 0 && (uint64_t)sb.st_size < m->files[i].length &&
            ftruncate(fd, (off_t)m->files[i].length) < 0) {
            close(fd);
            fd = -1;
        }
        str_clear(&p);
        if (fd < 0) {
            *why = strerror(errno);
            tor_storage_close(st);
            return -1;
        }
        st->fds[i] = fd;
    }
    return 0;
}

void tor_storage_close(struct tor_storage *st)
{
    for (size_t i = 0; st->fds && i < st->nfds; i++)
        if (st->fds[i] >= 0)
            close(st->fds[i]);
    free(st->fds);
    st->fds = NULL;
    st->nfds = 0;
}

/* Calls pread or pwrite over [off, off+len) of the torrent's byte stream. */
static int span(const struct tor_storage *st, uint64_t off, uint8_t *buf, size_t len, bool write)
{
    const struct tor_meta *m = st->m;
    for (size_t i = 0; i < m->nfiles && len; i++) {
        const struct tor_file *f = &m->files[i];
        if (off >= f->offset + f->length || f->length == 0)
            continue;
        uint64_t in = off - f->offset;
        size_t n = (size_t)(f->length - in < len ? f->length - in : len);
        if (f->pad && !write)
            memset(buf, 0, n);
        for (size_t done = 0; done < n && !f->pad;) {
            ssize_t r = write ? pwrite(st->fds[i], buf + done, n - done, (off_t)(in + done))
                              : pread(st->fds[i], buf + done, n - done, (off_t)(in + done));
            if (r <= 0)
                return -1;
            done += (size_t)r;
        }
        buf += n;
        off += n;
        len -= n;
    }
    return len ? -1 : 0;
}

int tor_storage_read(const struct tor_storage *st, uint32_t piece, uint32_t begin, uint32_t len,
                     uint8_t *out)
{
    return span(st, (uint64_t)piece * st->m->piece_len + begin, out, len, false);
}

int tor_storage_write(const struct tor_storage *st, uint32_t piece, const uint8_t *data,
                      size_t len)
{
    return span(st, (uint64_t)piece * st->m->piece_len, (uint8_t *)data, len, true);
}

bool tor_storage_hash_ok(const struct tor_meta *m, uint32_t piece, const uint8_t *data,
                         size_t len)
{
    return tor_meta_piece_ok(m, piece, data, len);
}

bool tor_storage_check(const struct tor_storage *st, uint32_t piece, uint8_t *buf)
{
    size_t len = (size_t)tor_meta_piece_size(st->m, piece);
    return tor_storage_read(st, piece, 0, (uint32_t)len, buf) == 0 &&
           tor_storage_hash_ok(st->m, piece, buf, len);
}
