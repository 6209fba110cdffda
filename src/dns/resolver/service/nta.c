/* nta — see nta.h. */
#include "dns/resolver/service/nta.h"

#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/resolver/nta.h"
#include "dns/resolver/resolver.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void file_path(const char *data_dir, struct str *out)
{
    str_appendf(out, "%s/%s", data_dir, RESOLVER_NTA_FILE);
}

/* The live NTAs (heap array, *n_out of them) and the resolver clock's reading. */
static struct dns_nta *list_all(struct dns_resolver_shared *sh, size_t *n_out, uint64_t *now_out)
{
    struct dns_nta *v = xmalloc(DNS_NTAS_MAX * sizeof *v);
    *n_out = dns_resolver_nta_list(sh, v, DNS_NTAS_MAX, now_out);
    return v;
}

/* Rewrites DATA/resolver.nta with the run-time NTAs, their expiry in wall-clock seconds. */
static int save(struct dns_resolver_shared *sh, const char *data_dir)
{
    size_t n;
    uint64_t now;
    struct dns_nta *v = list_all(sh, &n, &now);
    struct str text = STR_INIT, path = STR_INIT;
    str_appends(&text, "# negative trust anchors added with `pigeon dnssec nta add`: NAME EXPIRY "
                       "(Unix time)\n");
    int64_t wall = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        if (v[i].expires_ms == DNS_NTA_PERMANENT)
            continue; /* the config's: it says them again at the next start */
        char name[DNS_NAME_TEXT_MAX];
        dns_name_to_text(v[i].name, name, sizeof name);
        str_appendf(&text, "%s %" PRId64 "\n", name,
                    wall + (int64_t)((v[i].expires_ms - now + 999) / 1000));
    }
    file_path(data_dir, &path);
    int rc = store_durable_write(str_cstr(&path), text.ptr, text.len);
    if (rc != 0)
        log_err("resolver: %s: %s", str_cstr(&path), strerror(errno));
    free(v);
    str_clear(&text);
    str_clear(&path);
    return rc;
}

/* One "NAME EXPIRY" line of the file; false when it is not one. */
static bool restore_line(struct dns_resolver_shared *sh, char *line, int64_t wall)
{
    char *save_p = NULL, *name = strtok_r(line, " \t", &save_p);
    char *exp = strtok_r(NULL, " \t", &save_p), *end = NULL;
    if (!name || !exp || strtok_r(NULL, " \t", &save_p))
        return false;
    errno = 0;
    long long until = strtoll(exp, &end, 10);
    uint8_t wire[DNS_NAME_MAXLEN];
    size_t wl;
    const char *why;
    if (errno || *end || dns_name_from_text(name, strlen(name), NULL, wire, &wl, &why) < 0)
        return false;
    if (until > wall && until - wall <= RESOLVER_NTA_MAX_LIFETIME)
        dns_resolver_nta_add(sh, wire, (uint64_t)(until - wall) * 1000);
    return true;
}

void resolver_nta_restore(struct dns_resolver_shared *sh, const char *data_dir)
{
    struct str path = STR_INIT, text = STR_INIT;
    file_path(data_dir, &path);
    int rc = file_read_all(str_cstr(&path), 1 << 20, &text);
    if (rc != 0 && rc != ERR_NOTFOUND)
        log_warn("resolver: %s: %s", str_cstr(&path), err_str(rc));
    int64_t wall = (int64_t)time(NULL);
    char *save_p = NULL;
    for (char *l = rc == 0 ? strtok_r(text.ptr, "\n", &save_p) : NULL; l;
         l = strtok_r(NULL, "\n", &save_p)) {
        if (l[0] != '#' && !restore_line(sh, l, wall))
            log_warn("resolver: %s: a line that is not \"NAME EXPIRY\" skipped", str_cstr(&path));
    }
    str_clear(&path);
    str_clear(&text);
}

static int name_arg(const char *text, uint8_t *wire, struct str *out)
{
    size_t wl;
    const char *why;
    if (text && dns_name_from_text(text, strlen(text), NULL, wire, &wl, &why) == 0)
        return 0;
    str_appendf(out, "error bad name '%s': %s\n", text ? text : "", text ? why : "missing");
    return -1;
}

static unsigned do_add(struct dns_resolver_shared *sh, const char *data_dir, const char *name,
                       const char *secs, struct str *out)
{
    uint8_t wire[DNS_NAME_MAXLEN];
    if (name_arg(name, wire, out) < 0)
        return 1;
    char *end = NULL;
    errno = 0;
    unsigned long s = secs ? strtoul(secs, &end, 10) : 0;
    if (!secs || errno || *end || s == 0 || s > RESOLVER_NTA_MAX_LIFETIME) {
        str_appendf(out, "error the lifetime must be 1 to %d seconds\n", RESOLVER_NTA_MAX_LIFETIME);
        return 1;
    }
    if (dns_resolver_nta_add(sh, wire, (uint64_t)s * 1000) != 0) {
        str_appendf(out, "error there are %d negative trust anchors already\n", DNS_NTAS_MAX);
        return 1;
    }
    char text[DNS_NAME_TEXT_MAX];
    dns_name_to_text(wire, text, sizeof text);
    log_info("resolver: negative trust anchor %s for %lu s", text, s);
    str_appendf(out, "note %s is not validated for %lu s\n", text, s);
    return save(sh, data_dir) == 0 ? 0 : 1;
}

static unsigned do_remove(struct dns_resolver_shared *sh, const char *data_dir, const char *name,
                          struct str *out)
{
    uint8_t wire[DNS_NAME_MAXLEN];
    if (name_arg(name, wire, out) < 0)
        return 1;
    char text[DNS_NAME_TEXT_MAX];
    dns_name_to_text(wire, text, sizeof text);
    if (!dns_resolver_nta_remove(sh, wire)) {
        str_appendf(out, "error %s has no negative trust anchor\n", text);
        return 1;
    }
    log_info("resolver: negative trust anchor %s removed", text);
    str_appendf(out, "note %s is validated again\n", text);
    return save(sh, data_dir) == 0 ? 0 : 1;
}

static void do_list(struct dns_resolver_shared *sh, struct str *out)
{
    size_t n;
    uint64_t now;
    struct dns_nta *v = list_all(sh, &n, &now);
    for (size_t i = 0; i < n; i++) {
        char text[DNS_NAME_TEXT_MAX];
        dns_name_to_text(v[i].name, text, sizeof text);
        if (v[i].expires_ms == DNS_NTA_PERMANENT)
            str_appendf(out, "note %s permanent\n", text);
        else
            str_appendf(out, "note %s %" PRIu64 "\n", text, (v[i].expires_ms - now + 999) / 1000);
    }
    free(v);
}

unsigned resolver_nta_request(struct dns_resolver_shared *sh, const char *data_dir,
                              const char *args, struct str *out)
{
    char *copy = xstrdup(args), *save_p = NULL;
    char *w[4] = {0};
    size_t n = 0;
    for (char *t = strtok_r(copy, " ", &save_p); t; t = strtok_r(NULL, " ", &save_p), n++)
        if (n < 4)
            w[n] = t; /* more than 3 words fits no request */
    unsigned failed = 0;
    if (n == 3 && !strcmp(w[0], "add"))
        failed = do_add(sh, data_dir, w[1], w[2], out);
    else if (n == 2 && !strcmp(w[0], "remove"))
        failed = do_remove(sh, data_dir, w[1], out);
    else if (n == 1 && !strcmp(w[0], "list"))
        do_list(sh, out);
    else {
        str_appends(out, "error the nta requests are: add NAME SECONDS, remove NAME, list\n");
        failed = 1;
    }
    free(copy);
    return failed;
}
