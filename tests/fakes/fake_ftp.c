#include "fakes/fake_ftp.h"

#include "ftp/path.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void io_write(void *vf, const char *p, size_t n)
{
    str_append(&((struct fake_ftp *)vf)->out, p, n);
}

static void io_starttls(void *vf)
{
    ((struct fake_ftp *)vf)->tls_requested = true;
}

static const struct ftp_io fake_io = {io_write, io_starttls};

struct fake_ftp_file *fake_ftp_find(struct fake_ftp *f, const char *path)
{
    for (size_t i = 0; i < f->nfiles; i++)
        if (strcmp(f->files[i].path, path) == 0)
            return &f->files[i];
    return NULL;
}

static void add(struct fake_ftp *f, const char *path, bool dir, uint64_t size)
{
    if (f->nfiles == FAKE_FTP_MAX_FILES)
        return;
    struct fake_ftp_file *e = &f->files[f->nfiles++];
    snprintf(e->path, sizeof e->path, "%s", path);
    e->dir = dir;
    e->size = size;
}

static void auth(void *vf, struct ftp_session *s, const char *user, const char *pass,
                 bool anonymous)
{
    struct fake_ftp *f = vf;
    f->anonymous_login = anonymous;
    f->pending_auth_ok = anonymous || ((strcasecmp(user, "bob") == 0 ||
                                        strcasecmp(user, "bob@hamburger.edu") == 0) &&
                                       strcmp(pass, "hungry") == 0);
    f->pending_auth = true;
    if (!f->hold)
        fake_ftp_complete(f);
}

static int fs_stat(void *vf, const char *path, struct ftp_stat *out)
{
    struct fake_ftp_file *e = fake_ftp_find(vf, path);
    if (!e)
        return FTP_FS_NOENT;
    *out = (struct ftp_stat){.is_dir = e->dir, .is_file = !e->dir, .size = e->size,
                             .mtime = e->mtime ? e->mtime : 1700000000, .mode = e->dir ? 0755 : 0644, .nlink = 1,
                             .dev = 1, .ino = (uint64_t)(e - ((struct fake_ftp *)vf)->files)};
    return 0;
}

/* The parent of path must exist and be a directory. */
static int parent_ok(struct fake_ftp *f, const char *path)
{
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash)
        return FTP_FS_NOENT;
    if (slash == parent)
        slash[1] = '\0';
    else
        *slash = '\0';
    struct fake_ftp_file *p = fake_ftp_find(f, parent);
    return !p ? FTP_FS_NOENT : !p->dir ? FTP_FS_NOTDIR : 0;
}

static int fs_mkdir(void *vf, const char *path)
{
    struct fake_ftp *f = vf;
    if (fake_ftp_find(f, path))
        return FTP_FS_EXIST;
    int rc = parent_ok(f, path);
    if (rc < 0)
        return rc;
    add(f, path, true, 0);
    return 0;
}

static void remove_entry(struct fake_ftp *f, struct fake_ftp_file *e)
{
    *e = f->files[--f->nfiles];
}

static int fs_rmdir(void *vf, const char *path)
{
    struct fake_ftp *f = vf;
    struct fake_ftp_file *e = fake_ftp_find(f, path);
    if (!e)
        return FTP_FS_NOENT;
    if (!e->dir)
        return FTP_FS_NOTDIR;
    size_t n = strlen(path);
    for (size_t i = 0; i < f->nfiles; i++)
        if (strncmp(f->files[i].path, path, n) == 0 && f->files[i].path[n] == '/')
            return FTP_FS_NOTEMPTY;
    remove_entry(f, e);
    return 0;
}

static int fs_unlink(void *vf, const char *path)
{
    struct fake_ftp *f = vf;
    struct fake_ftp_file *e = fake_ftp_find(f, path);
    if (!e)
        return FTP_FS_NOENT;
    if (e->dir)
        return FTP_FS_ISDIR;
    remove_entry(f, e);
    return 0;
}

static int fs_rename(void *vf, const char *from, const char *to)
{
    struct fake_ftp *f = vf;
    struct fake_ftp_file *e = fake_ftp_find(f, from);
    if (!e)
        return FTP_FS_NOENT;
    int rc = parent_ok(f, to);
    if (rc < 0)
        return rc;
    struct fake_ftp_file *t = fake_ftp_find(f, to);
    if (t && t->dir)
        return FTP_FS_EXIST;
    if (t) {
        remove_entry(f, t);
        e = fake_ftp_find(f, from);
    }
    snprintf(e->path, sizeof e->path, "%s", to);
    return 0;
}

static int fs_list(void *vf, const char *path, enum ftp_list_fmt fmt, struct str *out)
{
    struct ftp_stat st;
    int rc = fs_stat(vf, path, &st);
    if (rc < 0)
        return rc;
    ftp_list_append(out, fmt, &st, ftp_path_base(path), FTP_MLSX_ENTRY, false,
                    1700000000, FACT_ALL);
    return 0;
}

static int passive(void *vf, bool extended, struct ftp_hostport *out)
{
    struct fake_ftp *f = vf;
    if (f->passive_fail)
        return -1;
    out->family = 4;
    snprintf(out->addr, sizeof out->addr, "127.0.0.1");
    out->port = 50000;
    f->have_active = false;
    return 0;
}

static void active(void *vf, const struct ftp_hostport *to)
{
    struct fake_ftp *f = vf;
    f->active = *to;
    f->have_active = true;
}

static void xfer(void *vf, struct ftp_session *s, const struct ftp_xfer *x)
{
    struct fake_ftp *f = vf;
    f->last = *x;
    snprintf(f->last_path, sizeof f->last_path, "%s", x->path);
    f->last.path = f->last_path;
    f->pending_xfer = true;
    f->xfers++;
    if (!f->hold)
        fake_ftp_complete(f);
}

static void xabort(void *vf)
{
    struct fake_ftp *f = vf;
    if (f->pending_xfer)
        f->aborts++;
    f->pending_xfer = false;
}

static uint64_t xfer_bytes(void *vf)
{
    return 42;
}

static int fs_set_mtime(void *vf, const char *path, int64_t mtime)
{
    struct fake_ftp_file *e = fake_ftp_find(vf, path);
    if (!e)
        return FTP_FS_NOENT;
    e->mtime = mtime;
    return 0;
}

static const struct ftp_session_ops fake_ops = {
    auth, fs_stat, fs_mkdir, fs_rmdir, fs_unlink, fs_rename, fs_list,
    passive, active, xfer, xabort, xfer_bytes, fs_set_mtime,
};

void fake_ftp_init(struct fake_ftp *f, bool tls, bool plaintext_ok, const char *peer)
{
    memset(f, 0, sizeof *f);
    str_init(&f->out);
    add(f, "/", true, 0);
    add(f, "/docs", true, 0);
    add(f, "/docs/a.txt", false, 5);
    add(f, "/hello.txt", false, 13);
    add(f, "/incoming", true, 0);
    add(f, "/incoming/dropped.bin", false, 7);
    struct ftp_server_config cfg = {.tls_available = true, .plaintext_ok = plaintext_ok,
                                    .anonymous = true, .anon_upload = "/incoming",
                                    .max_errors = 20, .max_login_failures = 3};
    struct ftp_peer p = {peer ? peer : "127.0.0.1", "127.0.0.1:2121", tls};
    f->s = ftp_session_new(&cfg, &fake_io, f, &fake_ops, f, &p, 1);
    ftp_session_start(f->s);
}

void fake_ftp_free(struct fake_ftp *f)
{
    ftp_session_free(f->s);
    str_clear(&f->out);
}

void fake_ftp_complete(struct fake_ftp *f)
{
    if (f->pending_auth) {
        f->pending_auth = false;
        ftp_session_auth_done(f->s, f->pending_auth_ok ? FTP_AUTH_OK : FTP_AUTH_FAIL,
                              f->anonymous_login ? "anonymous" : "bob@hamburger.edu",
                              f->anonymous_login);
    }
    if (f->pending_xfer) {
        f->pending_xfer = false;
        if (f->xfer_fail_conn)
            return ftp_session_xfer_done(f->s, FTP_XFER_NOCONN, 0);
        struct fake_ftp_file *e = fake_ftp_find(f, f->last_path);
        bool reading = f->last.kind == FTP_XFER_RETR;
        if (reading && (!e || e->dir))
            return ftp_session_xfer_done(f->s, FTP_XFER_FS, e ? FTP_FS_ISDIR : FTP_FS_NOENT);
        ftp_session_xfer_open(f->s, reading ? (int64_t)e->size : -1,
                              f->last.kind == FTP_XFER_STOU ? "/ftp.upload" : NULL);
        if (f->last.kind == FTP_XFER_STOR && !e)
            add(f, f->last_path, false, 0);
        ftp_session_xfer_done(f->s, FTP_XFER_OK, 0);
    }
}

size_t fake_ftp_feed(struct fake_ftp *f, const char *p, size_t n)
{
    size_t used = ftp_session_feed(f->s, p, n);
    if (f->tls_requested) {
        f->tls_requested = false;
        ftp_session_tls_started(f->s, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
        used += ftp_session_feed(f->s, p + used, n - used);
    }
    return used;
}

size_t fake_ftp_feeds(struct fake_ftp *f, const char *cstr)
{
    return fake_ftp_feed(f, cstr, strlen(cstr));
}
