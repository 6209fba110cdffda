/*
 * keystore — per-domain DKIM keys on disk (DIR/DOMAIN/SELECTOR.pem, 0600).
 */
#include "mailauth/keystore.h"

#include "core/err.h"
#include "core/file.h"
#include "core/str.h"
#include "mailauth/dkim_rotate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dkim_alg_parse(const char *name, enum dkim_alg *out)
{
    if (!strcmp(name, "rsa"))
        *out = DKIM_RSA_SHA256;
    else if (!strcmp(name, "ed25519"))
        *out = DKIM_ED25519_SHA256;
    else
        return ERR_PARSE;
    return 0;
}

/* A domain or selector that is safe as one path component. */
static bool safe_name(const char *s)
{
    if (!s[0] || s[0] == '.' || strlen(s) > 253)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
              *s == '_'))
            return false;
    return true;
}

/* A new temporary file DIRPATH/.PREFIX.XXXXXX (mode 0600) of its own, its name in tmp: two
 * threads (the key thread and a worker signing) or two processes never share one. fd or -1. */
static int tmp_open(const char *dirpath, const char *prefix, char *tmp, size_t cap)
{
    int n = snprintf(tmp, cap, "%s/.%s.XXXXXX", dirpath, prefix);
    if (n <= 0 || (size_t)n >= cap)
        return -1;
    return mkostemp(tmp, O_CLOEXEC);
}

/* Writes pem to a temporary file, fsyncs it and links it to path (never replacing). */
static int write_new(const char *dirpath, const char *path, const struct str *pem)
{
    char tmp[4200];
    int fd = tmp_open(dirpath, "new", tmp, sizeof tmp);
    if (fd < 0)
        return ERR_IO;
    bool ok = write(fd, pem->ptr, pem->len) == (ssize_t)pem->len && fsync(fd) == 0;
    close(fd);
    int rc = ok && (link(tmp, path) == 0 || errno == EEXIST) ? 0 : ERR_IO;
    unlink(tmp);
    int dfd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return rc;
}

/* mkdir -p with mode 0700 for the parts that are missing. */
static int make_dirs(const char *path)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int create_key(const char *dirpath, const char *path, enum dkim_alg alg,
                      const char **err_out)
{
    if (make_dirs(dirpath) != 0) {
        *err_out = "cannot create the key directory";
        return ERR_IO;
    }
    struct str pem = STR_INIT;
    int rc = dkim_key_generate(alg, &pem);
    if (rc == 0)
        rc = write_new(dirpath, path, &pem);
    str_clear(&pem);
    if (rc)
        *err_out = "cannot write the new key";
    return rc;
}

/* DIR/DOMAIN (lower case) into dirpath and DIR/DOMAIN/SELECTOR.pem into path; the
 * domain's lower-case form into dom. 0 or ERR_PARSE. */
static int key_paths(const char *dir, const char *domain, const char *selector, char dom[254],
                     char dirpath[4096], char path[4200], const char **err_out)
{
    snprintf(dom, 254, "%s", domain);
    ascii_lower(dom, strlen(dom));
    if (!safe_name(dom) || !safe_name(selector)) {
        *err_out = "domain or selector is not a plain DNS name";
        return ERR_PARSE;
    }
    snprintf(dirpath, 4096, "%s/%s", dir, dom);
    snprintf(path, 4200, "%s/%s.pem", dirpath, selector);
    return 0;
}

int dkim_keystore_load(const char *dir, const char *domain, const char *selector,
                       enum dkim_alg alg, bool create, struct dkim_signer **out,
                       const char **err_out)
{
    *err_out = NULL;
    char dom[254], dirpath[4096], path[4200];
    if (key_paths(dir, domain, selector, dom, dirpath, path, err_out) != 0)
        return ERR_PARSE;
    struct str pem = STR_INIT;
    int rc = file_read_all(path, 65536, &pem);
    if (rc == ERR_NOTFOUND && create) {
        rc = create_key(dirpath, path, alg, err_out);
        if (rc == 0)
            rc = file_read_all(path, 65536, &pem);
    }
    if (rc == 0)
        rc = dkim_signer_new(pem.ptr ? pem.ptr : "", pem.len, dom, selector, out, err_out);
    else if (rc == ERR_LIMIT)
        *err_out = "key file too large";
    else if (rc == ERR_NOTFOUND)
        *err_out = "no key";
    else if (!*err_out)
        *err_out = strerror(errno);
    str_clear(&pem);
    return rc;
}

int dkim_keystore_make(const char *dir, const char *domain, const char *selector,
                       enum dkim_alg alg, bool *made, const char **err_out)
{
    *err_out = NULL;
    *made = false;
    char dom[254], dirpath[4096], path[4200];
    if (key_paths(dir, domain, selector, dom, dirpath, path, err_out) != 0)
        return ERR_PARSE;
    struct stat sb;
    if (stat(path, &sb) == 0)
        return 0;
    if (errno != ENOENT) {
        *err_out = strerror(errno);
        return ERR_IO;
    }
    int rc = create_key(dirpath, path, alg, err_out);
    *made = rc == 0;
    return rc;
}

/* DIR/DOMAIN (lower case) into out; false when the domain is not a plain name. */
static bool domain_dir(const char *dir, const char *domain, char *out, size_t cap)
{
    char dom[254];
    snprintf(dom, sizeof dom, "%s", domain);
    ascii_lower(dom, strlen(dom));
    if (!safe_name(dom))
        return false;
    snprintf(out, cap, "%s/%s", dir, dom);
    return true;
}

int dkim_keystore_sels_load(const char *dir, const char *domain, const char *dflt,
                            struct dkim_sels *out, const char **err_out)
{
    char dirpath[4096], path[4200];
    *err_out = NULL;
    if (!domain_dir(dir, domain, dirpath, sizeof dirpath))
        return *err_out = "domain is not a plain DNS name", ERR_PARSE;
    snprintf(path, sizeof path, "%s/selectors", dirpath);
    struct str text = STR_INIT;
    int rc = file_read_all(path, 65536, &text);
    if (rc == ERR_NOTFOUND) {
        dkim_sels_default(out, dflt);
        rc = 0;
    } else if (rc == 0)
        rc = dkim_sels_parse(text.ptr ? text.ptr : "", text.len, out, err_out);
    else
        *err_out = "cannot read the selector list";
    str_clear(&text);
    return rc;
}

int dkim_keystore_sels_save(const char *dir, const char *domain, const struct dkim_sels *sels)
{
    char dirpath[4096], path[4200], tmp[4300];
    if (!domain_dir(dir, domain, dirpath, sizeof dirpath) || make_dirs(dirpath) != 0)
        return ERR_IO;
    snprintf(path, sizeof path, "%s/selectors", dirpath);
    struct str text = STR_INIT;
    dkim_sels_format(sels, &text);
    int fd = tmp_open(dirpath, "selectors", tmp, sizeof tmp);
    bool ok = fd >= 0 && write(fd, text.ptr, text.len) == (ssize_t)text.len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    str_clear(&text);
    if (!ok || rename(tmp, path) != 0) {
        if (fd >= 0)
            unlink(tmp);
        return ERR_IO;
    }
    int dfd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
