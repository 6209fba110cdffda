/* path — see path.h. */
#include "ftp/path.h"

#include "core/err.h"

#include <string.h>

/* Drops the last component of out[0..*len) ("/a/b" → "/a", "/a" → "/", "/" stays). */
static void pop_component(char *out, size_t *len)
{
    while (*len > 1 && out[*len - 1] != '/')
        (*len)--;
    if (*len > 1)
        (*len)--;
    out[*len] = '\0';
}

static int push_component(char *out, size_t *len, size_t cap, const char *p, size_t n)
{
    size_t need = (*len > 1 ? 1 : 0) + n;
    if (*len + need + 1 > cap)
        return ERR_RANGE;
    if (*len > 1)
        out[(*len)++] = '/';
    memcpy(out + *len, p, n);
    *len += n;
    out[*len] = '\0';
    return 0;
}

static int walk(char *out, size_t *len, size_t cap, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && p[i] == '/')
            i++;
        size_t start = i;
        while (i < n && p[i] != '/')
            i++;
        size_t c = i - start;
        if (c == 0 || (c == 1 && p[start] == '.'))
            continue;
        if (c == 2 && p[start] == '.' && p[start + 1] == '.') {
            pop_component(out, len);
            continue;
        }
        if (push_component(out, len, cap, p + start, c) < 0)
            return ERR_RANGE;
    }
    return 0;
}

int ftp_path_resolve(const char *cwd, struct slice arg, char *out, size_t cap)
{
    if (cap < 2 || memchr(arg.p, '\0', arg.len))
        return ERR_PARSE;
    out[0] = '/';
    out[1] = '\0';
    size_t len = 1;
    if (!(arg.len > 0 && arg.p[0] == '/') && walk(out, &len, cap, cwd, strlen(cwd)) < 0)
        return ERR_RANGE;
    return walk(out, &len, cap, arg.p, arg.len);
}

const char *ftp_path_rel(const char *vpath)
{
    while (*vpath == '/')
        vpath++;
    return *vpath ? vpath : ".";
}

const char *ftp_path_base(const char *vpath)
{
    const char *slash = strrchr(vpath, '/');
    return slash ? slash + 1 : vpath;
}

bool ftp_path_within(const char *vpath, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(vpath, dir, n) == 0 && (vpath[n] == '\0' || vpath[n] == '/');
}

bool ftp_path_in_dir(const char *vpath, const char *dir)
{
    const char *slash = strrchr(vpath, '/');
    size_t n = strlen(dir);
    return slash && (size_t)(slash - vpath) == n && strncmp(vpath, dir, n) == 0 && slash[1];
}
