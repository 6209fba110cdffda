/*
 * ftp service — see service.h: [ftp] (control connections with AUTH TLS, and every setting
 * of the service) and [ftps] (implicit TLS listeners, its own limits), their listeners, the
 * users' root directory and the pool that fsyncs stored files.
 */
#include "ftp/service/service.h"

#include "ftp/service/service_int.h"

#include "core/log.h"
#include "core/pool.h"
#include "core/reload_report.h"
#include "core/xmalloc.h"
#include "ftp/path.h"
#include "host/confgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FTP(f) offsetof(struct config_ftp, f)

static const char *const plaintext_modes[] = {"no", "loopback", "yes", NULL};

/* "MIN-MAX" passive ports, or "0" for any the kernel picks. */
static int parse_ports(const char *v, void *sec, void *field, const char **why)
{
    struct config_ftp *f = sec;
    unsigned lo, hi;
    char tail;
    if (strcmp(v, "0") == 0) {
        f->pasv_min = f->pasv_max = 0;
        return 0;
    }
    if (sscanf(v, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1024 || hi > 65535 || lo > hi) {
        *why = "pasv_ports must be MIN-MAX within 1024-65535, or 0";
        return -1;
    }
    f->pasv_min = lo;
    f->pasv_max = hi;
    return 0;
}

static const struct conf_key ftp_keys[] = {
    {.name = "plaintext_auth", .type = CONF_ENUM, .offset = FTP(acc.plaintext_auth),
     .names = plaintext_modes, .why = "plaintext_auth must be no, loopback or yes"},
    {.name = "max_connections_per_user", .type = CONF_UINT,
     .offset = FTP(acc.max_connections_per_user), .min = 1, .max = 100000},
    {.name = "root", .type = CONF_STR, .offset = FTP(root)},
    {.name = "anonymous_root", .type = CONF_STR, .offset = FTP(anonymous_root)},
    {.name = "anonymous_upload", .type = CONF_STR, .offset = FTP(anonymous_upload)},
    {.name = "anonymous_upload_max", .type = CONF_SIZE, .offset = FTP(anonymous_upload_max),
     .min = 1, .max = (unsigned long long)1 << 40},
    {.name = "pasv_ports", .type = CONF_CUSTOM, .parse = parse_ports},
    {.name = "pasv_address", .type = CONF_STR, .offset = FTP(pasv_address)},
    {.name = "require_tls", .type = CONF_BOOL, .offset = FTP(require_tls)},
    {.name = "require_tls_reuse", .type = CONF_BOOL, .offset = FTP(require_tls_reuse)},
    {.name = "data_timeout", .type = CONF_UINT, .offset = FTP(data_timeout), .min = 1,
     .max = 86400},
    {.name = "max_login_failures", .type = CONF_UINT, .offset = FTP(max_login_failures),
     .min = 1, .max = 1000},
    {.name = "upload_flush", .type = CONF_SIZE, .offset = FTP(upload_flush), .min = 0,
     .max = (unsigned long long)1 << 40},
    {.name = NULL},
};

static void ftp_defaults(void *sec)
{
    struct config_ftp *f = sec;
    /* RFC 959 sets no idle limit; 15 minutes, as vsftpd's idle_session_timeout default 300
     * is short for interactive clients. 50 sessions from one address must work. */
    conf_access_defaults(&f->acc, false, 900);
    f->acc.plaintext_auth = PLAINTEXT_AUTH_LOOPBACK;
    f->acc.svc.max_connections_per_ip = 64;
    f->acc.max_connections_per_user = 64;
    f->data_timeout = 300;
    f->max_login_failures = 3;
    f->anonymous_upload_max = (uint64_t)256 << 20;
    f->upload_flush = (uint64_t)64 << 20;
}

/* anonymous_upload as the absolute virtual path the engine compares with ("incoming/" →
 * "/incoming"); 0, or -1 with err set. */
static int check_upload_dir(struct config_ftp *f, const struct config *cfg, struct str *err)
{
    char vpath[FTP_PATH_MAX];
    if (!f->anonymous_root) {
        str_appendf(err, "%s: [ftp] anonymous_upload needs anonymous_root", cfg->path);
        return -1;
    }
    if (ftp_path_resolve("/", slice_cstr(f->anonymous_upload), vpath, 256) < 0 ||
        strcmp(vpath, "/") == 0 || strstr(f->anonymous_upload, "..")) {
        str_appendf(err, "%s: [ftp] anonymous_upload must name a directory of the anonymous "
                         "tree, such as incoming",
                    cfg->path);
        return -1;
    }
    free(f->anonymous_upload);
    f->anonymous_upload = xstrdup(vpath);
    return 0;
}

static void ftps_defaults(void *sec)
{
    conf_access_defaults(sec, true, 900);
    ((struct config_access *)sec)->svc.max_connections_per_ip = 64;
}

static int ftp_check(void *sec, const struct config *cfg, struct str *err)
{
    struct config_ftp *f = sec;
    struct in_addr a;
    if (f->pasv_address && inet_pton(AF_INET, f->pasv_address, &a) != 1) {
        str_appendf(err, "%s: [ftp] pasv_address must be an IPv4 address", cfg->path);
        return -1;
    }
    if (f->anonymous_upload && check_upload_dir(f, cfg, err) < 0)
        return -1;
    const struct config_access *s = config_section(cfg, "ftps");
    if ((f->acc.svc.enabled || (s && s->svc.enabled)) && !f->root) {
        str_appendf(err, "%s: [ftp] root is required to serve FTP", cfg->path);
        return -1;
    }
    return 0;
}

/* Every key but listen (ftp_reload: the sessions that start after it). */
static const char *const ftp_reload_keys[] = {
    CONF_SERVICE_RELOAD_KEYS, "plaintext_auth", "max_connections_per_user", "root",
    "anonymous_root", "anonymous_upload", "anonymous_upload_max", "pasv_ports",
    "pasv_address", "require_tls", "require_tls_reuse", "data_timeout", "max_login_failures",
    "upload_flush", NULL,
};

static const struct conf_section ftp_sections[] = {
    {.name = "ftp",
     .size = sizeof(struct config_ftp),
     .service_offset = offsetof(struct config_ftp, acc.svc),
     .keys = ftp_keys,
     .defaults = ftp_defaults,
     .check = ftp_check,
     .reload_keys = ftp_reload_keys},
    CONF_ACCESS_SECTION("ftps", ftps_defaults),
    {.name = NULL},
};

static int open_dir(const char *path, bool create)
{
    if (create && mkdir(path, 0755) < 0 && errno != EEXIST)
        return -1;
    return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* The anonymous drop box, made when it does not exist yet; -1 (logged) when it cannot be. */
static int open_upload_dir(int anon_fd, const struct config_ftp *f)
{
    struct ftp_stat sb;
    int rc = ftp_fs_mkdir(anon_fd, f->anonymous_upload);
    if (rc == 0)
        log_info("ftp: made the anonymous upload directory %s%s", f->anonymous_root,
                 f->anonymous_upload);
    if ((rc == 0 || rc == FTP_FS_EXIST) && ftp_fs_stat(anon_fd, f->anonymous_upload, &sb) == 0 &&
        sb.is_dir)
        return 0;
    log_err("ftp: anonymous_upload %s is not a directory of %s that pigeond can make or use",
            f->anonymous_upload, f->anonymous_root);
    return -1;
}

/* The settings of f (held by gen; NULL: the start configuration), its trees opened. NULL
 * after logging (and reporting into r, in a reload) why. */
static struct ftp_settings *settings_open(const struct config_ftp *f, struct host_confgen *gen,
                                          struct reload_report *r)
{
    if (!f->root) { /* no listener of the new file serves FTP, so it may leave root out */
        reload_report_add(r, true, "ftp: [ftp] root is unset; the running settings stay");
        return NULL;
    }
    int root = open_dir(f->root, true);
    int anon = root >= 0 && f->anonymous_root ? open_dir(f->anonymous_root, false) : -1;
    if (root < 0 || (f->anonymous_root && anon < 0)) {
        const char *key = root < 0 ? "root" : "anonymous_root";
        const char *path = root < 0 ? f->root : f->anonymous_root;
        const char *why = strerror(errno);
        log_err("ftp: %s %s: %s", key, path, why);
        reload_report_add(r, true, "ftp: %s %s: %s; the running settings stay", key, path, why);
        if (root >= 0)
            close(root);
        return NULL;
    }
    if (anon >= 0 && f->anonymous_upload && open_upload_dir(anon, f) < 0) {
        reload_report_add(r, true, "ftp: anonymous_upload %s cannot be used; the running "
                                   "settings stay", f->anonymous_upload);
        close(root);
        close(anon);
        return NULL;
    }
    struct ftp_settings *set = xcalloc(1, sizeof *set);
    atomic_init(&set->refs, 1);
    set->gen = gen;
    set->cfg = f;
    set->root_fd = root;
    set->anon_fd = anon;
    return set;
}

struct ftp_settings *ftp_settings_get(struct ftp_state *st)
{
    pthread_mutex_lock(&st->lock);
    struct ftp_settings *set = st->cur;
    atomic_fetch_add(&set->refs, 1);
    pthread_mutex_unlock(&st->lock);
    return set;
}

void ftp_settings_put(struct ftp_settings *set)
{
    if (!set || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    close(set->root_fd);
    if (set->anon_fd >= 0)
        close(set->anon_fd);
    host_confgen_drop(set->gen);
    free(set);
}

static void state_free(struct ftp_state *st)
{
    if (st->pool)
        pool_free(st->pool);
    ftp_settings_put(st->cur);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static int ftp_open(struct daemon *d, void **state_out)
{
    const struct config_ftp *f = config_section(&d->cfg, "ftp");
    const struct config_access *tls = config_section(&d->cfg, "ftps");
    if (!f->acc.svc.enabled && !tls->svc.enabled)
        return 0;
    struct ftp_state *st = xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->lock, NULL);
    if (!(st->cur = settings_open(f, NULL, NULL))) {
        state_free(st);
        return -1;
    }
    st->pool = pool_new(2, NULL, NULL, NULL);
    *state_out = st;
    if (host_listen_tcp_login(d, "ftp", &ftp_proto, f, &f->acc.svc, false) < 0 ||
        host_listen_tcp_login(d, "ftps", &ftp_proto, tls, &tls->svc, true) < 0)
        return -1;
    return 0;
}

/* Reload: sessions that start from now on take the new [ftp]/[ftps] keys and trees; those
 * already open keep theirs, so a transfer in flight is not touched. A tree that cannot be
 * opened keeps the running settings. listen needs a restart. */
static void ftp_reload(struct daemon *d, void *state, const struct config *next)
{
    static const char *const names[] = {"ftp", "ftps", NULL};
    struct ftp_state *st = state;
    if (!st)
        return;
    /* also when the trees do not open: the listeners must not point into a generation that
     * goes away (their limits and plaintext_auth are the new ones then) */
    host_relisten_sections(d, next, names);
    struct host_confgen *gen = host_confgen_hold(d);
    struct ftp_settings *set = settings_open(ftp_config(next), gen, d->reloading);
    if (!set) {
        host_confgen_drop(gen);
        return;
    }
    pthread_mutex_lock(&st->lock);
    struct ftp_settings *old = st->cur;
    st->cur = set;
    pthread_mutex_unlock(&st->lock);
    ftp_settings_put(old);
}

/* After the workers stopped: the pool posts fsync results to their loops. */
static void ftp_stop(struct daemon *d, void *state)
{
    struct ftp_state *st = state;
    if (st && st->pool) {
        pool_free(st->pool);
        st->pool = NULL;
    }
}

static void ftp_close_state(struct daemon *d, void *state)
{
    if (state)
        state_free(state);
}

const struct service_def ftp_service = {
    .name = "ftp",
    .sections = ftp_sections,
    .open = ftp_open,
    .reload = ftp_reload,
    .control = ftp_control,
    .stop = ftp_stop,
    .close = ftp_close_state,
};
