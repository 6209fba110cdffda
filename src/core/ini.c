#include "core/ini.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INI_LINE_MAX 4096
#define INI_NAME_MAX 64

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

static bool is_name(struct slice s)
{
    if (s.len == 0 || s.len > INI_NAME_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_name_char(s.p[i]))
            return false;
    return true;
}

/* Parses one non-empty, non-comment line; updates section. */
static int ini_line(struct slice ln, char *section, ini_cb cb, void *ctx, unsigned lineno,
                    const char **why)
{
    if (ln.p[0] == '[') {
        if (ln.p[ln.len - 1] != ']') {
            *why = "section header must end with ']'";
            return ERR_PARSE;
        }
        struct slice name = slice_trim(slice_make(ln.p + 1, ln.len - 2));
        /* "[zone example.com]": a name and one argument, kept as "zone example.com". */
        const char *sp = memchr(name.p, ' ', name.len);
        struct slice head = sp ? slice_make(name.p, (size_t)(sp - name.p)) : name;
        struct slice arg = sp ? slice_trim(slice_make(sp, name.len - head.len)) : slice_make("", 0);
        bool arg_ok = arg.len <= 255;
        for (size_t i = 0; i < arg.len; i++)
            if (!is_name_char(arg.p[i]) && arg.p[i] != ':' && arg.p[i] != '/')
                arg_ok = false;
        if (!is_name(head) || !arg_ok || (sp && arg.len == 0)) {
            *why = "invalid section name";
            return ERR_PARSE;
        }
        memcpy(section, head.p, head.len);
        section[head.len] = '\0';
        if (arg.len) {
            section[head.len] = ' ';
            memcpy(section + head.len + 1, arg.p, arg.len);
            section[head.len + 1 + arg.len] = '\0';
        }
        return cb(ctx, section, NULL, NULL, lineno, why);
    }
    const char *eq = memchr(ln.p, '=', ln.len);
    if (!eq) {
        *why = "expected 'key = value'";
        return ERR_PARSE;
    }
    struct slice key = slice_trim(slice_make(ln.p, (size_t)(eq - ln.p)));
    struct slice val = slice_trim(slice_make(eq + 1, ln.len - (size_t)(eq - ln.p) - 1));
    if (!is_name(key)) {
        *why = "invalid key name";
        return ERR_PARSE;
    }
    if (val.len >= 2 && val.p[0] == '"' && val.p[val.len - 1] == '"')
        val = slice_make(val.p + 1, val.len - 2);
    for (size_t i = 0; i < val.len; i++) {
        if ((unsigned char)val.p[i] < 0x20 && val.p[i] != '\t') {
            *why = "control character in value";
            return ERR_PARSE;
        }
    }
    char k[INI_NAME_MAX + 1];
    memcpy(k, key.p, key.len);
    k[key.len] = '\0';
    char *v = slice_dup(val);
    int rc = cb(ctx, section, k, v, lineno, why);
    free(v);
    return rc;
}

int ini_parse_text(const char *name, const char *text, size_t len, ini_cb cb, void *ctx,
                   struct str *err_out)
{
    char section[INI_NAME_MAX + 258] = "";
    unsigned lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        struct slice ln = slice_make(text + pos, end - pos);
        pos = nl ? end + 1 : len;
        if (ln.len && ln.p[ln.len - 1] == '\r')
            ln.len--;
        const char *why = "invalid line";
        if (ln.len > INI_LINE_MAX) {
            str_appendf(err_out, "%s:%u: line too long", name, lineno);
            return ERR_PARSE;
        }
        ln = slice_trim(ln);
        if (ln.len == 0 || ln.p[0] == '#' || ln.p[0] == ';')
            continue;
        if (memchr(ln.p, '\0', ln.len)) {
            str_appendf(err_out, "%s:%u: NUL byte in line", name, lineno);
            return ERR_PARSE;
        }
        int rc = ini_line(ln, section, cb, ctx, lineno, &why);
        if (rc < 0) {
            str_appendf(err_out, "%s:%u: %s", name, lineno, why);
            return rc;
        }
    }
    return 0;
}

int ini_parse_file(const char *path, ini_cb cb, void *ctx, struct str *err_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        str_appendf(err_out, "%s: cannot open: %s", path, strerror(errno));
        return ERR_IO;
    }
    struct str text = STR_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        str_append(&text, chunk, n);
        if (text.len > (16u << 20)) {
            fclose(f);
            str_clear(&text);
            str_appendf(err_out, "%s: file too large", path);
            return ERR_RANGE;
        }
    }
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err) {
        str_clear(&text);
        str_appendf(err_out, "%s: read error", path);
        return ERR_IO;
    }
    int rc = ini_parse_text(path, str_cstr(&text), text.len, cb, ctx, err_out);
    str_clear(&text);
    return rc;
}
