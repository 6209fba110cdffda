/* http service config — see config.h. */
#include "http/service/config.h"

#include "core/err.h"
#include "core/tls.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

bool http_config_owns(const char *section)
{
    return !strcmp(section, "http") || !strncmp(section, "http ", 5) ||
           !strcmp(section, "metrics");
}

static struct http_config *config_new(void)
{
    struct http_config *hc = xcalloc(1, sizeof *hc);
    hc->plain.max_connections_per_ip = 64; /* browsers open 6+ per host; be generous */
    hc->plain.idle_timeout = 60;           /* keep-alive between requests */
    hc->plain.session_timeout = 3600;
    hc->plain.max_errors = 20;
    hc->max_request_line = 8192;
    hc->max_header_size = 32768;
    hc->max_body_size = 1024u * 1024 * 1024;   /* streamed bodies go to files, not memory */
    hc->max_buffered_body = 8u * 1024 * 1024;  /* forms, small POSTs: held in memory */
    hc->header_timeout = 20;
    hc->h2 = true;
    hc->h2c = true;
    hc->mime_types = xstrdup("/etc/mime.types");
    hc->max_sessions = 10000;
    hc->open_file_cache = 128;
    hc->open_file_cache_valid = 1;
    hc->metrics.max_connections_per_ip = 16;
    hc->metrics.idle_timeout = 30;
    hc->metrics.session_timeout = 600;
    hc->metrics.max_errors = 20;
    return hc;
}

static struct http_site *site_new(const char *name)
{
    struct http_site *s = xcalloc(1, sizeof *s);
    s->name = xstrdup(name);
    s->root_fd = -1;
    s->index = xstrdup("index.html");
    s->max_upload = 16u * 1024 * 1024;
    s->plaintext_auth = 1;
    s->session_ttl = 3600;
    s->compress = true;
    s->compress_min = 1024; /* below a packet, compression saves no round trip */
    return s;
}

/* Adds l to svc unless it is there already (several sites share one address). */
static int add_listen(struct conf_service *svc, const char *value, const char **why)
{
    struct conf_listen l;
    if (conf_parse_listen(value, &l, why) < 0)
        return ERR_CONFIG;
    for (unsigned i = 0; i < svc->n_listen; i++)
        if (!strcmp(svc->listen[i].host, l.host) && !strcmp(svc->listen[i].port, l.port))
            return 0;
    if (svc->n_listen == CONF_MAX_LISTEN) {
        *why = "too many listen addresses for the HTTP service";
        return ERR_CONFIG;
    }
    svc->listen[svc->n_listen++] = l;
    svc->enabled = true;
    return 0;
}

static int set_str(char **field, const char *value)
{
    free(*field);
    *field = *value ? xstrdup(value) : NULL;
    return 0;
}

static int set_uint(unsigned *field, const char *value, unsigned long long min,
                    unsigned long long max, const char **why)
{
    unsigned long long x;
    if (slice_to_u64(slice_cstr(value), max, &x) < 0 || x < min) {
        *why = "value must be a number in range";
        return ERR_CONFIG;
    }
    *field = (unsigned)x;
    return 0;
}

static int set_bool(bool *field, const char *value, const char **why)
{
    if (conf_parse_bool(value, field) < 0) {
        *why = "value must be yes or no";
        return ERR_CONFIG;
    }
    return 0;
}

static int set_size(uint64_t *field, const char *value, const char **why)
{
    unsigned long long x;
    if (conf_parse_size(value, &x) < 0 || x == 0) {
        *why = "value must be a size (e.g. 16M)";
        return ERR_CONFIG;
    }
    *field = x;
    return 0;
}

/* "name = a.example b.example" */
static int set_names(struct http_site *s, const char *value, const char **why)
{
    char *copy = xstrdup(value), *save = NULL;
    for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
        if (s->nnames == HTTP_SITE_MAX_NAMES) {
            free(copy);
            *why = "too many host names for one site";
            return ERR_CONFIG;
        }
        size_t n = strlen(t);
        if (n && t[n - 1] == '.')
            t[--n] = '\0';
        ascii_lower(t, n);
        s->names[s->nnames++] = xstrdup(t);
    }
    free(copy);
    return 0;
}

/* "cache = /images/ 86400" */
static int add_cache(struct http_site *s, const char *value, const char **why)
{
    const char *sp = strpbrk(value, " \t");
    unsigned long long age;
    if (!sp || value[0] != '/' || slice_to_u64(slice_trim(slice_cstr(sp)), 365u * 86400, &age) < 0) {
        *why = "cache must be a path prefix and seconds, e.g. \"/images/ 86400\"";
        return ERR_CONFIG;
    }
    if (s->ncache == HTTP_SITE_MAX_CACHE) {
        *why = "too many cache rules for one site";
        return ERR_CONFIG;
    }
    s->cache[s->ncache++] = (struct http_cache_rule){xstrndup(value, (size_t)(sp - value)),
                                                      (unsigned)age};
    return 0;
}

static int plaintext(struct http_site *s, const char *value, const char **why)
{
    static const char *const names[] = {"no", "loopback", "yes"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(value, names[i])) {
            s->plaintext_auth = i;
            return 0;
        }
    *why = "plaintext_auth must be no, loopback or yes";
    return ERR_CONFIG;
}

static int site_key(struct http_config *hc, struct http_site *s, const char *key,
                    const char *value, const char **why)
{
    if (!strcmp(key, "listen"))
        return add_listen(&hc->plain, value, why);
    if (!strcmp(key, "listen_tls"))
        return add_listen(&hc->tls, value, why);
    if (!strcmp(key, "name"))
        return set_names(s, value, why);
    if (!strcmp(key, "root"))
        return set_str(&s->root, value);
    if (!strcmp(key, "index"))
        return strchr(value, '/') ? (*why = "index is a file name", ERR_CONFIG)
                                  : set_str(&s->index, value);
    if (!strcmp(key, "autoindex"))
        return set_bool(&s->autoindex, value, why);
    if (!strcmp(key, "default"))
        return set_bool(&s->is_default, value, why);
    if (!strcmp(key, "upload"))
        return value[0] == '/' ? set_str(&s->upload, value)
                               : (*why = "upload must be a path prefix like /uploads/", ERR_CONFIG);
    if (!strcmp(key, "max_upload_size"))
        return set_size(&s->max_upload, value, why);
    if (!strcmp(key, "plaintext_auth"))
        return plaintext(s, value, why);
    if (!strcmp(key, "login"))
        return set_bool(&s->login, value, why);
    if (!strcmp(key, "session_ttl"))
        return set_uint(&s->session_ttl, value, 1, 30u * 86400, why);
    if (!strcmp(key, "redirect"))
        return !strncmp(value, "https://", 8) || !strncmp(value, "http://", 7)
                   ? set_str(&s->redirect, value)
                   : (*why = "redirect must be a URL base like https://host:8443", ERR_CONFIG);
    if (!strcmp(key, "cache"))
        return add_cache(s, value, why);
    if (!strcmp(key, "tls_cert"))
        return set_str(&s->tls_cert, value);
    if (!strcmp(key, "tls_key"))
        return set_str(&s->tls_key, value);
    if (!strcmp(key, "compress"))
        return set_bool(&s->compress, value, why);
    if (!strcmp(key, "compress_min_size"))
        return set_size(&s->compress_min, value, why);
    if (!strcmp(key, "proxy_to")) /* checked by the proxy service */
        return set_str(&s->proxy_to, value);
    if (!strcmp(key, "proxy_preserve_host"))
        return set_bool(&s->proxy_preserve_host, value, why);
    *why = "unknown key in this section";
    return ERR_CONFIG;
}

static int service_key(struct http_config *hc, const char *key, const char *value,
                       const char **why)
{
    struct conf_service *p = &hc->plain;
    if (!strcmp(key, "max_connections_per_ip"))
        return set_uint(&p->max_connections_per_ip, value, 1, 1000000, why);
    if (!strcmp(key, "idle_timeout"))
        return set_uint(&p->idle_timeout, value, 1, 86400, why);
    if (!strcmp(key, "session_timeout"))
        return set_uint(&p->session_timeout, value, 1, 7 * 86400, why);
    if (!strcmp(key, "header_timeout"))
        return set_uint(&hc->header_timeout, value, 1, 3600, why);
    if (!strcmp(key, "max_request_line"))
        return set_uint(&hc->max_request_line, value, 256, 1u << 20, why);
    if (!strcmp(key, "max_header_size"))
        return set_uint(&hc->max_header_size, value, 1024, 1u << 22, why);
    if (!strcmp(key, "max_body_size"))
        return set_size(&hc->max_body_size, value, why);
    if (!strcmp(key, "max_buffered_body"))
        return set_size(&hc->max_buffered_body, value, why);
    if (!strcmp(key, "access_log"))
        return set_str(&hc->access_log, value);
    if (!strcmp(key, "mime_types"))
        return set_str(&hc->mime_types, value);
    if (!strcmp(key, "http2"))
        return set_bool(&hc->h2, value, why);
    if (!strcmp(key, "h2c"))
        return set_bool(&hc->h2c, value, why);
    if (!strcmp(key, "max_sessions"))
        return set_uint(&hc->max_sessions, value, 1, 10000000, why);
    if (!strcmp(key, "open_file_cache"))
        return set_uint(&hc->open_file_cache, value, 0, 100000, why);
    if (!strcmp(key, "open_file_cache_valid"))
        return set_uint(&hc->open_file_cache_valid, value, 0, 3600, why);
    *why = "unknown key in this section";
    return ERR_CONFIG;
}

int http_config_key(struct http_config **phc, const char *section, const char *key,
                    const char *value, const char **why)
{
    if (!*phc)
        *phc = config_new();
    struct http_config *hc = *phc;
    if (!strcmp(section, "metrics")) {
        if (!key)
            return 0;
        if (!strcmp(key, "listen"))
            return add_listen(&hc->metrics, value, why);
        *why = "unknown key in this section";
        return ERR_CONFIG;
    }
    if (!strcmp(section, "http"))
        return key ? service_key(hc, key, value, why) : 0;
    const char *name = section + 5;
    if (!key) {
        for (unsigned i = 0; i < hc->nsites; i++)
            if (!strcmp(hc->sites[i]->name, name)) {
                *why = "site defined twice";
                return ERR_CONFIG;
            }
        hc->sites = xrealloc(hc->sites, (hc->nsites + 1) * sizeof *hc->sites);
        hc->sites[hc->nsites++] = site_new(name);
        return 0;
    }
    return site_key(hc, hc->sites[hc->nsites - 1], key, value, why);
}

/* A site's own certificate and key load and match (what a start would refuse). */
static int check_pair(const struct http_site *s, const char *path, struct str *err)
{
    struct str why = STR_INIT;
    SSL_CTX *ctx = tls_server_ctx_new(s->tls_cert, s->tls_key, &why);
    if (ctx)
        SSL_CTX_free(ctx);
    else
        str_appendf(err, "%s: [http %s] %s", path, s->name, str_cstr(&why));
    str_clear(&why);
    return ctx ? 0 : ERR_CONFIG;
}

int http_config_check(struct http_config *hc, const char *path, struct str *err)
{
    if (!hc)
        return 0;
    hc->tls.max_connections_per_ip = hc->plain.max_connections_per_ip;
    hc->tls.idle_timeout = hc->plain.idle_timeout;
    hc->tls.session_timeout = hc->plain.session_timeout;
    hc->tls.max_errors = hc->plain.max_errors;
    for (unsigned i = 0; i < hc->nsites; i++) {
        struct http_site *s = hc->sites[i];
        if (!s->root && !s->proxy_to) {
            str_appendf(err, "%s: [http %s] needs a root directory or proxy_to", path, s->name);
            return ERR_CONFIG;
        }
        if (!s->tls_cert != !s->tls_key) {
            str_appendf(err, "%s: [http %s] tls_cert and tls_key must be set together", path,
                        s->name);
            return ERR_CONFIG;
        }
        if (s->tls_cert && check_pair(s, path, err) < 0)
            return ERR_CONFIG;
        if (s->upload && s->max_upload > hc->max_body_size)
            s->max_upload = hc->max_body_size;
    }
    if ((hc->plain.enabled || hc->tls.enabled) && hc->nsites == 0) {
        str_appendf(err, "%s: the HTTP service has listeners but no [http NAME] site", path);
        return ERR_CONFIG;
    }
    return 0;
}

void http_config_free(struct http_config *hc)
{
    if (!hc)
        return;
    for (unsigned i = 0; i < hc->nsites; i++) {
        struct http_site *s = hc->sites[i];
        free(s->name);
        for (unsigned j = 0; j < s->nnames; j++)
            free(s->names[j]);
        free(s->root);
        free(s->index);
        free(s->upload);
        free(s->redirect);
        free(s->tls_cert);
        free(s->tls_key);
        free(s->proxy_to);
        for (unsigned j = 0; j < s->ncache; j++)
            free(s->cache[j].prefix);
        free(s);
    }
    free(hc->sites);
    free(hc->access_log);
    free(hc->mime_types);
    free(hc);
}
