/* http service — see service.h: start-up, what handlers borrow, the access log. */
#include "http/service/service.h"

#include "http/cookie.h"
#include "http/handler/fcache.h"
#include "http/service/config.h"
#include "http/service/sites.h"
#include "http/site.h"
#include "http/static.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/reload_report.h"
#include "core/tls_reload.h"
#include "core/xmalloc.h"
#include "conf/snapshot.h"
#include "host/confgen.h"
#include "host/host.h"
#include "host/login.h"
#include "net/conn.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- what handlers borrow ---- */

struct auth_job {
    struct http_exchange *x;
    http_auth_cb cb;
};

static void auth_result(void *vj, bool ok, const char *user)
{
    struct auth_job *j = vj;
    if (!ok) /* the form the shipped fail2ban filter reads (etc/fail2ban/filter.d/pigeon.conf) */
        log_info("http " LOG_ID " auth failed from %s user=%s", LOG_IDV(j->x->id), j->x->peer,
                 user);
    j->cb(j->x, ok, user);
    free(j);
}

static void host_auth(struct http_exchange *x, const char *user, const char *pass, http_auth_cb cb)
{
    struct auth_job *j = xmalloc(sizeof *j);
    j->x = x;
    j->cb = cb;
    host_login(x->conn, user, pass, auth_result, j); /* conn_resume follows the callback */
}

struct work_job {
    struct http_exchange *x;
    struct conn *c;
    void (*work)(void *arg);
    http_work_done done;
    void *arg;
};

static void work_finish(void *vj)
{
    struct work_job *j = vj;
    struct conn *c = j->c;
    j->done(j->x, j->arg);
    free(j);
    conn_resume(c);
}

static void work_run(void *tctx, void *vj)
{
    struct work_job *j = vj;
    j->work(j->arg);
    loop_post_send(conn_worker(j->c)->host.post, work_finish, j);
}

static void host_blocking(struct http_exchange *x, void (*work)(void *arg), http_work_done done,
                          void *arg)
{
    struct http_service *svc = host_state(conn_worker(x->conn)->d, &http_service_def);
    struct work_job *j = xmalloc(sizeof *j);
    *j = (struct work_job){x, x->conn, work, done, arg};
    pool_submit(svc->pool, work_run, j);
}

static void host_random(void *buf, size_t n)
{
    if (RAND_bytes(buf, (int)n) != 1)
        abort(); /* no unpredictable session ids, no sessions */
}

static void count_entry(void *ctx, const struct store_queue_entry *e)
{
    ++*(uint64_t *)ctx;
}

/* Read on the worker's own store handle when /metrics is asked for: always current. */
static void host_gauges(struct http_exchange *x, struct str *out)
{
    struct worker *w = conn_worker(x->conn);
    uint64_t queued = 0;
    if (store_queue_list(w->store, count_entry, &queued) == 0)
        str_appendf(out, "# HELP pigeon_queue_length Entries (message, remote recipient) in the "
                         "outgoing queue\n# TYPE pigeon_queue_length gauge\n"
                         "pigeon_queue_length %llu\n",
                    (unsigned long long)queued);
    str_appendf(out, "# HELP pigeon_http_login_sessions Web login sessions alive\n"
                     "# TYPE pigeon_http_login_sessions gauge\npigeon_http_login_sessions %u\n",
                http_logins_count(x->host->logins));
}

/* ---- TLS: ALPN (RFC 7301) ---- */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    const struct http_service *svc = arg;
    static const unsigned char h2[] = "\x02h2\x08http/1.1";
    static const unsigned char h1[] = "\x08http/1.1";
    const unsigned char *ours = svc->cfg->h2 ? h2 : h1;
    unsigned ourlen = svc->cfg->h2 ? sizeof h2 - 1 : sizeof h1 - 1;
    if (SSL_select_next_proto((unsigned char **)out, outlen, ours, ourlen, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    /* No common protocol: carry on without ALPN (mail clients of the same context). */
    return SSL_TLSEXT_ERR_NOACK;
}

/* ---- start, stop ---- */

static struct http_mime *load_mime(const char *path)
{
    struct str text = STR_INIT;
    FILE *f = path ? fopen(path, "r") : NULL;
    char buf[8192];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
        str_append(&text, buf, n);
    if (f)
        fclose(f);
    else if (path)
        log_warn("http: cannot read %s (%s): built-in media types only", path, strerror(errno));
    struct http_mime *m = http_mime_new(text.ptr, text.len);
    str_clear(&text);
    return m;
}

static const struct http_config *config_of(const struct daemon *d)
{
    struct http_config *const *hc = config_section(&d->cfg, "http");
    return hc ? *hc : NULL;
}

/* Sites with their own certificate: offered by SNI on every TLS listener of the process (a
 * name is one site's, whichever port it is asked on), re-read on SIGHUP with the others. */
static int add_site_certs(struct daemon *d, const struct http_config *hc)
{
    for (unsigned i = 0; i < hc->nsites; i++) {
        const struct http_site *s = hc->sites[i];
        if (!s->tls_cert)
            continue;
        struct str err = STR_INIT;
        if (!d->tls_reload || tls_reload_add(d->tls_reload, s->tls_cert, s->tls_key, &err) < 0) {
            log_err("http: [http %s] %s", s->name, d->tls_reload ? str_cstr(&err) : "no TLS");
            str_clear(&err);
            return -1;
        }
        log_info("http: site %s: certificate %s offered by SNI", s->name, s->tls_cert);
    }
    return 0;
}

static int http_service_open(struct daemon *d, void **state_out)
{
    const struct http_config *hc = config_of(d);
    if (!hc || (!hc->plain.enabled && !hc->tls.enabled && !hc->metrics.enabled))
        return 0;
    struct http_service *svc = xcalloc(1, sizeof *svc);
    *state_out = svc;
    svc->d = d;
    svc->cfg = hc;
    svc->log_fd = -1;
    svc->mime = load_mime(hc->mime_types);
    svc->lim = (struct http_limits){hc->max_request_line, hc->max_header_size, hc->max_body_size};
    svc->host = (struct http_host){host_auth, host_blocking, host_random,
                                   http_logins_new(hc->max_sessions), host_gauges, NULL};
    pthread_mutex_init(&svc->sites_lock, NULL);
    if (!(svc->sites = http_siteset_open(hc, svc->mime, NULL, NULL)))
        return -1;
    if (hc->access_log) {
        svc->log_fd = open(hc->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (svc->log_fd < 0) {
            log_err("http: access_log %s: %s", hc->access_log, strerror(errno));
            return -1;
        }
    }
    svc->pool = pool_new(2, NULL, NULL, NULL);
    if (hc->tls.enabled && d->tls)
        SSL_CTX_set_alpn_select_cb(d->tls, alpn_select, svc);
    if (add_site_certs(d, hc) < 0)
        return -1;
    for (unsigned i = 0; i < hc->nsites; i++)
        log_info("http: site %s (%s %s)", hc->sites[i]->name,
                 hc->sites[i]->root ? "root" : "proxy_to",
                 hc->sites[i]->root ? hc->sites[i]->root : hc->sites[i]->proxy_to);
    if (host_listen_tcp(d, "http", &http_proto, svc, &hc->plain, false) < 0 ||
        host_listen_tcp(d, "https", &http_proto, svc, &hc->tls, true) < 0 ||
        host_listen_tcp(d, "metrics", &http_proto, &svc->metrics_tag, &hc->metrics, false) < 0)
        return -1;
    return 0;
}

static void http_service_close(struct daemon *d, void *state)
{
    struct http_service *svc = state;
    if (!svc)
        return;
    if (svc->pool)
        pool_free(svc->pool);
    http_siteset_put(svc->sites); /* connections are gone: the last reference */
    pthread_mutex_destroy(&svc->sites_lock);
    if (svc->log_fd >= 0)
        close(svc->log_fd);
    http_logins_free(svc->host.logins);
    http_mime_free(svc->mime);
    free(svc);
}

/* Reload: requests that start from now on are answered from the new [http NAME] sites (new
 * roots, names, redirects, features; sites added or removed), and new connections take the
 * new per-address limit and timeouts. A site whose root cannot be opened keeps the old set.
 * Listen addresses, certificates and the other [http] keys need a restart. */
static void http_key_changed(void *vchanged, const char *section, const char *key)
{
    if (http_config_owns(section))
        *(bool *)vchanged = true;
}

static void http_service_reload(struct daemon *d, void *state, const struct config *next)
{
    struct http_service *svc = state;
    struct http_config *const *hcp = config_section(next, "http");
    const struct http_config *hc = hcp ? *hcp : NULL;
    bool changed = false;
    if (svc) /* the sites stay as they are when no [http], [http NAME] or [metrics] key moved */
        conf_snapshot_diff(host_config_main(d)->written, next->written, http_key_changed,
                           &changed);
    if (!changed)
        return;
    if (!hc || hc->nsites == 0) {
        reload_report_add(d->reloading, true, "http: the file has no [http NAME] site; the "
                                              "running sites stay until a restart");
        return;
    }
    struct host_confgen *gen = host_confgen_hold(d);
    struct http_siteset *set = http_siteset_open(hc, svc->mime, gen, d->reloading);
    if (!set) {
        host_confgen_drop(gen);
        return;
    }
    host_relisten(d, "http", svc, &hc->plain);
    host_relisten(d, "https", svc, &hc->tls);
    host_relisten(d, "metrics", &svc->metrics_tag, &hc->metrics);
    http_siteset_install(svc, set);
    log_info("http: %u sites in force", hc->nsites);
}

/* The keys http_service_reload applies: a site's but listen, listen_tls and its
 * certificate; the connection limits of [http]. (proxy_to: the proxy's reload hook.) */
static const char *const http_reload_keys[] = {
    "max_connections_per_ip", "idle_timeout", "session_timeout", "name", "root", "index",
    "autoindex", "default", "upload", "max_upload_size", "plaintext_auth", "login",
    "session_ttl", "redirect", "cache", "compress", "compress_min_size",
    "proxy_to", "proxy_preserve_host", /* proxy/service/site.c: proxy_sites_reload */ NULL,
};

/* The config loader hands every [http], [http NAME] and [metrics] line to config.c; the
 * section's struct holds the pointer it builds. */
static int sections_parse(void *sec, const char *section, const char *key, const char *value,
                          const char **why)
{
    return http_config_key(sec, section, key, value, why);
}

static int sections_check(void *sec, const struct config *cfg, struct str *err)
{
    return http_config_check(*(struct http_config **)sec, cfg->path, err);
}

static void sections_free(void *sec)
{
    http_config_free(*(struct http_config **)sec);
}

static unsigned sections_services(const void *sec, const struct conf_service **out,
                                  const char **names, unsigned cap)
{
    const struct http_config *hc = *(struct http_config *const *)sec;
    if (!hc || cap < 3)
        return 0;
    out[0] = &hc->plain, names[0] = "http";
    out[1] = &hc->tls, names[1] = "https";
    out[2] = &hc->metrics, names[2] = "metrics";
    return 3;
}

static const struct conf_section http_sections[] = {
    {.name = "http", .size = sizeof(struct http_config *), .service_offset = CONF_NOT_SERVICE,
     .check = sections_check, .free = sections_free, .owns = http_config_owns,
     .parse = sections_parse, .services = sections_services, .reload_keys = http_reload_keys},
    {.name = NULL},
};

static void *http_service_attach(struct worker *w, void *state)
{
    if (!state)
        return NULL;
    const struct http_service *svc = state;
    struct http_worker *hw = xcalloc(1, sizeof *hw);
    hw->files = http_fcache_new(svc->cfg->open_file_cache, svc->cfg->open_file_cache_valid * 1000);
    return hw;
}

static void http_service_detach(struct worker *w, void *wstate)
{
    struct http_worker *hw = wstate;
    if (hw)
        http_fcache_free(hw->files);
    free(wstate);
}

const struct service_def http_service_def = {
    .name = "http",
    .sections = http_sections,
    .open = http_service_open,
    .attach = http_service_attach,
    .detach = http_service_detach,
    .reload = http_service_reload,
    .close = http_service_close,
};

/* ---- access log: the combined format ---- */

static void quoted(struct str *out, const struct slice *v)
{
    if (!v || v->len == 0) {
        str_appends(out, "\"-\"");
        return;
    }
    str_appendc(out, '"');
    for (size_t i = 0; i < v->len && i < 1024; i++) {
        unsigned char c = (unsigned char)v->p[i];
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
            str_appendf(out, "\\x%02x", c);
        else
            str_appendc(out, (char)c);
    }
    str_appendc(out, '"');
}

void http_service_log(struct http_service *svc, const char *peer, const struct http_request *req,
                      int status, uint64_t bytes, const char *user)
{
    http_metrics_count(status);
    if (svc->log_fd < 0)
        return;
    char when[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    struct str line = STR_INIT;
    str_appendf(&line, "%s - %s [%s] ", peer, user && user[0] ? user : "-", when);
    if (req) {
        struct str rl = STR_INIT;
        str_appendf(&rl, "%.*s %.*s HTTP/%s", (int)req->method_name.len, req->method_name.p,
                    (int)req->target.len, req->target.p,
                    req->version == 20 ? "2.0" : req->version == 10 ? "1.0" : "1.1");
        struct slice s = slice_make(rl.ptr, rl.len);
        quoted(&line, &s);
        str_clear(&rl);
    } else {
        str_appends(&line, "\"-\"");
    }
    str_appendf(&line, " %d %llu ", status, (unsigned long long)bytes);
    quoted(&line, req ? http_request_header(req, "Referer") : NULL);
    str_appendc(&line, ' ');
    quoted(&line, req ? http_request_header(req, "User-Agent") : NULL);
    str_appendc(&line, '\n');
    /* One write per line with O_APPEND: lines of different workers never interleave. */
    if (write(svc->log_fd, line.ptr, line.len) < 0)
        log_warn("http: access log write failed: %s", strerror(errno));
    str_clear(&line);
}
