#include "host/privileges.h"

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_USER "pigeon"

/* Looks up [server] user (default "pigeon"); *found false when the default does not exist,
 * ERR_CONFIG when a configured one does not. */
static int user_find(const struct config *cfg, struct passwd *pw, char *buf, size_t cap,
                     bool *found)
{
    const char *name = cfg->user ? cfg->user : DEFAULT_USER;
    struct passwd *res = NULL;
    *found = false;
    int e = getpwnam_r(name, pw, buf, cap, &res);
    if (e != 0 || !res) {
        if (cfg->user) {
            log_err("[server] user %s does not exist", name);
            return ERR_CONFIG;
        }
        return 0;
    }
    *found = true;
    return 0;
}

/* chown path to uid:gid unless it is already theirs; a missing path is fine. */
static int own(const char *path, uid_t uid, gid_t gid)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    if (S_ISLNK(sb.st_mode) || (sb.st_uid == uid && sb.st_gid == gid))
        return 0;
    return lchown(path, uid, gid);
}

static int tree_own(const char *dir, uid_t uid, gid_t gid)
{
    if (own(dir, uid, gid) != 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOTDIR ? 0 : -1;
    struct dirent *e;
    int rc = 0;
    struct str p = STR_INIT;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        str_reset(&p);
        str_appendf(&p, "%s/%s", dir, e->d_name);
        rc = e->d_type == DT_DIR ? tree_own(str_cstr(&p), uid, gid) : own(str_cstr(&p), uid, gid);
    }
    str_clear(&p);
    closedir(d);
    return rc;
}

/* The state the daemon writes: the directory, the database files, and the directories new
 * files go into. Message files themselves are only read and unlinked (directory rights). */
static int state_own(const char *dir, uid_t uid, gid_t gid)
{
    static const char *const names[] = {"", "/pigeon.db", "/pigeon.db-wal", "/pigeon.db-shm",
                                        "/tmp", "/blobs", "/tls", "/tls/cert.pem",
                                        "/tls/key.pem", "/pigeond.pid"};
    struct str p = STR_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof names / sizeof names[0]; i++) {
        str_reset(&p);
        str_appendf(&p, "%s%s", dir, names[i]);
        rc = own(str_cstr(&p), uid, gid);
    }
    for (unsigned xx = 0; rc == 0 && xx < 256; xx++) {
        str_reset(&p);
        str_appendf(&p, "%s/blobs/%02x", dir, xx);
        rc = own(str_cstr(&p), uid, gid);
    }
    str_reset(&p);
    str_appendf(&p, "%s/dnssec", dir); /* the zones' signing keys (0600) */
    if (rc == 0 && access(str_cstr(&p), F_OK) == 0)
        rc = tree_own(str_cstr(&p), uid, gid);
    str_reset(&p);
    str_appendf(&p, "%s/journal", dir); /* the zones' journals (dns/xfr/journal.h) */
    if (rc == 0 && access(str_cstr(&p), F_OK) == 0)
        rc = tree_own(str_cstr(&p), uid, gid);
    if (rc != 0)
        log_err("cannot hand %s to uid %u: %s", str_cstr(&p), (unsigned)uid, strerror(errno));
    str_clear(&p);
    return rc;
}

static int become(const struct passwd *pw)
{
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        return -1;
    /* Never back: a process that could regain root is not unprivileged. */
    if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0))
        return -1;
    return 0;
}

int privileges_drop(const struct config *cfg)
{
    if (geteuid() != 0) {
        log_info("running as uid %u (not root: nothing to drop)", (unsigned)geteuid());
        return 0;
    }
    if (cfg->user && !strcmp(cfg->user, "root")) {
        log_warn("[server] user = root: every connection is handled as root");
        return 0;
    }
    struct passwd pw;
    char buf[4096];
    bool found;
    if (user_find(cfg, &pw, buf, sizeof buf, &found) < 0)
        return -1;
    if (!found) {
        log_warn("running as root: user " DEFAULT_USER " does not exist (create it with "
                 "`useradd --system " DEFAULT_USER "` or set [server] user)");
        return 0;
    }
    if (state_own(cfg->data_dir, pw.pw_uid, pw.pw_gid) != 0)
        return -1;
    if (become(&pw) != 0) {
        log_err("cannot become user %s: %s", pw.pw_name, strerror(errno));
        return -1;
    }
    log_info("running as user %s (uid %u)", pw.pw_name, (unsigned)pw.pw_uid);
    return 0;
}

int privileges_give_tree(const struct config *cfg, const char *dir, const char **why)
{
    if (geteuid() != 0 || (cfg->user && !strcmp(cfg->user, "root")))
        return 0;
    struct passwd pw, *res = NULL;
    char buf[4096];
    const char *name = cfg->user ? cfg->user : DEFAULT_USER;
    if (getpwnam_r(name, &pw, buf, sizeof buf, &res) != 0 || !res) {
        *why = cfg->user ? "[server] user does not exist" : NULL;
        return cfg->user ? ERR_CONFIG : 0;
    }
    if (tree_own(dir, pw.pw_uid, pw.pw_gid) != 0) {
        *why = strerror(errno);
        return ERR_IO;
    }
    return 0;
}

int privileges_become_user(const struct config *cfg, const char **why)
{
    if (geteuid() != 0 || (cfg->user && !strcmp(cfg->user, "root")))
        return 0;
    struct passwd pw;
    char buf[4096];
    bool found;
    struct passwd *res = NULL;
    const char *name = cfg->user ? cfg->user : DEFAULT_USER;
    found = getpwnam_r(name, &pw, buf, sizeof buf, &res) == 0 && res;
    if (!found) {
        *why = cfg->user ? "[server] user does not exist" : NULL;
        return cfg->user ? ERR_CONFIG : 0;
    }
    /* The data directory may not exist yet or still be root's (the tool before pigeond). */
    if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
        *why = strerror(errno);
        return ERR_IO;
    }
    if (state_own(cfg->data_dir, pw.pw_uid, pw.pw_gid) != 0 || become(&pw) != 0) {
        *why = strerror(errno);
        return ERR_IO;
    }
    return 0;
}
