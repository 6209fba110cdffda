/*
 * fs — the file operations of an FTP session, each confined beneath the session's root: the
 * engine hands absolute virtual paths ("/a/b", never with "."/".."), and every open goes
 * through openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so neither ".." nor a symbolic
 * link (absolute, or climbing out) can reach outside the root; links inside it still work.
 * Operations on a name (mkdir, unlink, rename) open its parent that way and act on the last
 * component alone. Blocking, but metadata only (a directory listing reads one directory).
 */
#include "ftp/service/service_int.h"

#include "ftp/path.h"

#include "core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Entries of one listing at most: a larger directory is cut (and logged by the caller). */
#define LIST_MAX_ENTRIES 100000

int ftp_fs_result(int err)
{
    switch (err) {
    case ENOENT:
        return FTP_FS_NOENT;
    case EEXIST:
        return FTP_FS_EXIST;
    case EACCES:
    case EPERM:
    case EROFS:
    case EXDEV: /* RESOLVE_BENEATH: the path would leave the root */
    case ELOOP:
        return FTP_FS_PERM;
    case ENOTDIR:
        return FTP_FS_NOTDIR;
    case EISDIR:
    case ENXIO: /* a FIFO without a reader, a socket: not a plain file */
        return FTP_FS_ISDIR;
    case ENOTEMPTY:
        return FTP_FS_NOTEMPTY;
    case ENOSPC:
    case EDQUOT:
        return FTP_FS_NOSPACE;
    case ENAMETOOLONG:
        return FTP_FS_BADNAME;
    default:
        log_warn("ftp: file operation failed: %s", strerror(err));
        return FTP_FS_IO;
    }
}

/* Opens rel beneath root. Never waits: a FIFO (or a device) in the tree is opened
 * O_NONBLOCK, as vsftpd does (a FIFO's open waits for the other end, on the worker), and
 * the callers refuse anything but a plain file or a directory; a plain file's descriptor
 * is made blocking again for its I/O on the pool (splice(2) would take the flag for its
 * own). Writing to a FIFO without a reader: ENXIO. */
static int beneath(int root, const char *rel, int flags, unsigned mode)
{
    bool path = flags & O_PATH;
    struct open_how how = {
        /* openat2 refuses flags that O_PATH does not take (O_NOCTTY, O_NONBLOCK) */
        .flags = (uint64_t)(flags | O_CLOEXEC | (path ? 0 : O_NOCTTY | O_NONBLOCK)),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd;
    do
        fd = syscall(SYS_openat2, root, rel, &how, sizeof how);
    while (fd < 0 && errno == EINTR);
    struct stat sb;
    int fl;
    if (fd >= 0 && !path && fstat((int)fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        (fl = fcntl((int)fd, F_GETFL)) >= 0)
        (void)fcntl((int)fd, F_SETFL, fl & ~O_NONBLOCK);
    return (int)fd;
}

int ftp_fs_open(int root, const char *vpath, int flags, unsigned mode, int *fd_out)
{
    int fd = beneath(root, ftp_path_rel(vpath), flags, mode);
    if (fd < 0)
        return ftp_fs_result(errno);
    *fd_out = fd;
    return 0;
}

void ftp_fs_stat_of(const void *statbuf, struct ftp_stat *out)
{
    const struct stat *sb = statbuf;
    *out = (struct ftp_stat){
        .is_dir = S_ISDIR(sb->st_mode),
        .is_file = S_ISREG(sb->st_mode),
        .size = (uint64_t)sb->st_size,
        .mtime = (int64_t)sb->st_mtime,
        .mode = (unsigned)sb->st_mode & 0777,
        .nlink = (unsigned)sb->st_nlink,
        .dev = (uint64_t)sb->st_dev,
        .ino = (uint64_t)sb->st_ino,
    };
}

int ftp_fs_stat(int root, const char *vpath, struct ftp_stat *out)
{
    int fd = beneath(root, ftp_path_rel(vpath), O_PATH, 0);
    if (fd < 0)
        return ftp_fs_result(errno);
    struct stat sb;
    int rc = fstat(fd, &sb);
    int e = errno;
    close(fd);
    if (rc < 0)
        return ftp_fs_result(e);
    ftp_fs_stat_of(&sb, out);
    return 0;
}

/* The parent directory of vpath, opened beneath root; *base: the last component. */
static int open_parent(int root, const char *vpath, const char **base)
{
    char parent[FTP_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", vpath);
    char *slash = strrchr(parent, '/');
    if (!slash || slash[1] == '\0') {
        errno = EPERM; /* the root itself has no parent to act in */
        return -1;
    }
    *slash = '\0';
    *base = vpath + (slash - parent) + 1;
    return beneath(root, parent[0] ? ftp_path_rel(parent) : ".", O_PATH | O_DIRECTORY, 0);
}

int ftp_fs_mkdir(int root, const char *vpath)
{
    const char *base;
    int dir = open_parent(root, vpath, &base);
    if (dir < 0)
        return ftp_fs_result(errno);
    int rc = mkdirat(dir, base, 0755);
    int e = errno;
    close(dir);
    return rc < 0 ? ftp_fs_result(e) : 0;
}

static int unlink_in_parent(int root, const char *vpath, int flags)
{
    const char *base;
    int dir = open_parent(root, vpath, &base);
    if (dir < 0)
        return ftp_fs_result(errno);
    int rc = unlinkat(dir, base, flags);
    int e = errno;
    close(dir);
    if (rc < 0 && e == EEXIST)
        e = ENOTEMPTY; /* rmdir of a non-empty directory may say either */
    return rc < 0 ? ftp_fs_result(e) : 0;
}

int ftp_fs_rmdir(int root, const char *vpath)
{
    return unlink_in_parent(root, vpath, AT_REMOVEDIR);
}

int ftp_fs_unlink(int root, const char *vpath)
{
    struct stat sb;
    const char *base;
    int dir = open_parent(root, vpath, &base);
    if (dir < 0)
        return ftp_fs_result(errno);
    int rc = fstatat(dir, base, &sb, AT_SYMLINK_NOFOLLOW);
    if (rc == 0 && S_ISDIR(sb.st_mode)) {
        close(dir);
        return FTP_FS_ISDIR;
    }
    rc = rc < 0 ? rc : unlinkat(dir, base, 0);
    int e = errno;
    close(dir);
    return rc < 0 ? ftp_fs_result(e) : 0;
}

int ftp_fs_set_mtime(int root, const char *vpath, int64_t mtime)
{
    const char *base;
    int dir = open_parent(root, vpath, &base);
    if (dir < 0)
        return ftp_fs_result(errno);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {(time_t)mtime, 0}};
    int rc = utimensat(dir, base, ts, AT_SYMLINK_NOFOLLOW);
    int e = errno;
    close(dir);
    return rc < 0 ? ftp_fs_result(e) : 0;
}

int ftp_fs_rename(int root, const char *from, const char *to)
{
    const char *fbase, *tbase;
    int fdir = open_parent(root, from, &fbase);
    if (fdir < 0)
        return ftp_fs_result(errno);
    int tdir = open_parent(root, to, &tbase);
    if (tdir < 0) {
        int e = errno;
        close(fdir);
        return ftp_fs_result(e);
    }
    int rc = renameat(fdir, fbase, tdir, tbase);
    int e = errno;
    close(fdir);
    close(tdir);
    return rc < 0 ? ftp_fs_result(e) : 0;
}

/* What NLST puts before a listed directory's entry names: the directory as the client wrote
 * it, up to its last '/' (len octets of shown), "" for none. */
static void name_prefix(const char *shown, size_t len, char *out, size_t cap)
{
    while (len > 1 && shown[len - 1] == '/')
        len--;
    if (len == 0 || (len == 1 && shown[0] == '.') || len + 2 > cap) {
        out[0] = '\0';
        return;
    }
    snprintf(out, cap, "%.*s%s", (int)len, shown, shown[len - 1] == '/' ? "" : "/");
}

/* The entries of directory dfd (those matching pattern, if not NULL: fnmatch, a leading
 * dot matched only by a dot), NLST's names after prefix. */
static void list_dir(int dfd, enum ftp_list_fmt fmt, bool ro, unsigned facts, int64_t now,
                     const char *prefix, const char *pattern, struct str *out)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct stat sb;
    struct ftp_stat st;
    if (fmt == FTP_LIST_MLSX && fstat(dirfd(d), &sb) == 0) {
        ftp_fs_stat_of(&sb, &st);
        ftp_list_append(out, fmt, &st, ".", FTP_MLSX_CDIR, ro, now, facts);
    }
    unsigned n = 0;
    struct dirent *e;
    char named[FTP_PATH_MAX + 256];
    while ((e = readdir(d)) && n < LIST_MAX_ENTRIES) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (pattern && fnmatch(pattern, e->d_name, FNM_PERIOD) != 0)
            continue;
        /* A link is shown as itself: following it could describe a file outside the tree. */
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        ftp_fs_stat_of(&sb, &st);
        const char *name = e->d_name;
        if (fmt == FTP_LIST_NAMES && prefix[0]) {
            snprintf(named, sizeof named, "%s%s", prefix, e->d_name);
            name = named;
        }
        ftp_list_append(out, fmt, &st, name, FTP_MLSX_ENTRY, ro, now, facts);
        n++;
    }
    closedir(d);
}

/* LIST/NLST of "dir/PATTERN" where no such name exists and PATTERN has *, ? or [: the
 * entries of dir that match it, as every Unix server expands it (tnftp's and Windows ftp's
 * mget send the pattern in NLST). Never across a '/'. */
static int list_glob(int root, const char *vpath, const char *shown, enum ftp_list_fmt fmt,
                     bool ro, unsigned facts, int64_t now, struct str *out)
{
    char dir[FTP_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", vpath);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return FTP_FS_NOENT;
    const char *pattern = vpath + (slash - dir) + 1;
    slash[slash == dir ? 1 : 0] = '\0'; /* "/a/b/x*" → "/a/b"; "/x*" → "/" */
    int fd = beneath(root, ftp_path_rel(dir), O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return ftp_fs_result(errno);
    const char *cut = strrchr(shown, '/');
    char prefix[FTP_PATH_MAX + 2];
    if (cut == shown)
        snprintf(prefix, sizeof prefix, "/");
    else
        name_prefix(shown, cut ? (size_t)(cut - shown) : 0, prefix, sizeof prefix);
    list_dir(fd, fmt, ro, facts, now, prefix, pattern, out);
    return 0;
}

int ftp_fs_list(int root, const char *vpath, const char *shown, enum ftp_list_fmt fmt,
                bool read_only, unsigned facts, struct str *out)
{
    int64_t now = (int64_t)time(NULL);
    int fd = beneath(root, ftp_path_rel(vpath), O_RDONLY, 0);
    if (fd < 0 && errno == ENOENT && fmt != FTP_LIST_MLSX &&
        strpbrk(ftp_path_base(vpath), "*?["))
        return list_glob(root, vpath, shown, fmt, read_only, facts, now, out);
    if (fd < 0)
        return ftp_fs_result(errno);
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int e = errno;
        close(fd);
        return ftp_fs_result(e);
    }
    if (S_ISDIR(sb.st_mode)) {
        char prefix[FTP_PATH_MAX + 2];
        name_prefix(shown, strlen(shown), prefix, sizeof prefix);
        list_dir(fd, fmt, read_only, facts, now, prefix, NULL, out);
        return 0;
    }
    close(fd);
    if (fmt == FTP_LIST_MLSX)
        return FTP_FS_NOTDIR; /* RFC 3659 §7.1: MLSD lists directories only */
    struct ftp_stat st;
    ftp_fs_stat_of(&sb, &st);
    ftp_list_append(out, fmt, &st,
                    fmt != FTP_LIST_NAMES ? ftp_path_base(vpath) : shown[0] ? shown : vpath,
                    FTP_MLSX_ENTRY, read_only, now, facts);
    return 0;
}

int ftp_fs_create_unique(int root, const char *vpath, unsigned mode, int *fd_out, char *name_out,
                         size_t cap)
{
    for (unsigned i = 0; i < 100; i++) {
        char name[FTP_PATH_MAX + 16];
        if (i == 0)
            snprintf(name, sizeof name, "%s", vpath);
        else
            snprintf(name, sizeof name, "%s.%u", vpath, i);
        int fd = beneath(root, ftp_path_rel(name), O_WRONLY | O_CREAT | O_EXCL, mode);
        if (fd >= 0) {
            *fd_out = fd;
            snprintf(name_out, cap, "%s", name);
            return 0;
        }
        if (errno != EEXIST)
            return ftp_fs_result(errno);
    }
    return FTP_FS_EXIST;
}
