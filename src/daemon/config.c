#include "daemon/config.h"

#include "core/err.h"
#include "core/ini.h"
#include "core/log.h"
#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum key_type { K_STR, K_UINT, K_SIZE, K_BOOL, K_LISTEN, K_LOGLEVEL };

struct key_spec {
    const char *name;
    enum key_type type;
    size_t offset;          /* within struct config, or within struct config_smtp */
    unsigned long long min, max;
};

#define SRV(f) offsetof(struct config, f)
#define SMTP(f) offsetof(struct config_smtp, f)

static const struct key_spec server_keys[] = {
    {"hostname", K_STR, SRV(hostname), 0, 0},
    {"primary_domain", K_STR, SRV(primary_domain), 0, 0},
    {"data_dir", K_STR, SRV(data_dir), 0, 0},
    {"postmaster", K_STR, SRV(postmaster), 0, 0},
    {"tls_cert", K_STR, SRV(tls_cert), 0, 0},
    {"tls_key", K_STR, SRV(tls_key), 0, 0},
    {"recipient_delimiter", K_STR, SRV(recipient_delimiter), 0, 0},
    {"log_level", K_LOGLEVEL, SRV(log_level), 0, 0},
    {"workers", K_UINT, SRV(workers), 1, 64},
    {"max_connections", K_UINT, SRV(max_connections), 1, 1000000},
    {"shutdown_timeout", K_UINT, SRV(shutdown_timeout), 0, 3600},
    {NULL, 0, 0, 0, 0},
};

static const struct key_spec smtp_keys[] = {
    {"listen", K_LISTEN, 0, 0, 0},
    {"max_message_size", K_SIZE, SMTP(max_message_size), 1024, 1ull << 40},
    {"max_recipients", K_UINT, SMTP(max_recipients), 1, 100000},
    {"max_connections_per_ip", K_UINT, SMTP(max_connections_per_ip), 1, 1000000},
    {"idle_timeout", K_UINT, SMTP(idle_timeout), 1, 86400},
    {"session_timeout", K_UINT, SMTP(session_timeout), 1, 7 * 86400},
    {"max_errors", K_UINT, SMTP(max_errors), 1, 10000},
    {"starttls", K_BOOL, SMTP(starttls), 0, 0},
    {"auth", K_BOOL, SMTP(auth), 0, 0},
    {NULL, 0, 0, 0, 0},
};

struct load_ctx {
    struct config *cfg;
};

static void smtp_defaults(struct config_smtp *s, bool submission)
{
    s->submission = submission;
    s->max_message_size = 25u * 1024 * 1024;
    s->max_recipients = 100;
    s->max_connections_per_ip = 20;
    s->idle_timeout = 300;    /* RFC 5321 §4.5.3.2.7: server timeout 5 minutes */
    s->session_timeout = 3600;
    s->max_errors = 20;
    s->starttls = true;
    s->auth = submission;
}

static void defaults(struct config *cfg)
{
    cfg->log_level = LOG_INFO;
    cfg->workers = 2;
    cfg->max_connections = 10000;
    cfg->shutdown_timeout = 30;
    smtp_defaults(&cfg->smtp, false);
    smtp_defaults(&cfg->submission, true);
}

/* Parses "host:port", "[v6]:port"; numeric addresses only, so no DNS at start-up. */
static int parse_listen(const char *v, struct config_listen *out, const char **why)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || !colon[1]) {
        *why = "listen must be address:port (e.g. 127.0.0.1:25 or [::1]:25)";
        return ERR_PARSE;
    }
    struct slice host = slice_make(v, (size_t)(colon - v));
    if (host.p[0] == '[') {
        if (host.len < 3 || host.p[host.len - 1] != ']') {
            *why = "IPv6 listen address must be written [addr]:port";
            return ERR_PARSE;
        }
        host = slice_make(host.p + 1, host.len - 2);
    }
    unsigned long long port;
    if (slice_to_u64(slice_cstr(colon + 1), 65535, &port) < 0 || port == 0) {
        *why = "listen port must be 1-65535";
        return ERR_PARSE;
    }
    if (host.len >= sizeof out->host || strlen(v) >= sizeof out->text) {
        *why = "listen address too long";
        return ERR_RANGE;
    }
    memcpy(out->host, host.p, host.len);
    out->host[host.len] = '\0';
    if (strcmp(out->host, "*") == 0)
        strcpy(out->host, "0.0.0.0");
    unsigned char tmp[16];
    if (inet_pton(AF_INET, out->host, tmp) != 1 && inet_pton(AF_INET6, out->host, tmp) != 1) {
        *why = "listen address must be a numeric IPv4 or IPv6 address";
        return ERR_PARSE;
    }
    snprintf(out->port, sizeof out->port, "%llu", port);
    snprintf(out->text, sizeof out->text, "%s", v);
    return 0;
}

/* Accepts a plain number or one with a K, M or G suffix (powers of 1024). */
static int parse_size(const char *v, unsigned long long *out)
{
    size_t n = strlen(v);
    unsigned long long mult = 1;
    if (n > 1) {
        char c = v[n - 1];
        if (c == 'k' || c == 'K')
            mult = 1024;
        else if (c == 'm' || c == 'M')
            mult = 1024 * 1024;
        else if (c == 'g' || c == 'G')
            mult = 1024ull * 1024 * 1024;
        if (mult > 1)
            n--;
    }
    unsigned long long x;
    int rc = slice_to_u64(slice_make(v, n), (1ull << 50), &x);
    if (rc < 0)
        return rc;
    *out = x * mult;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = false;
    else
        return ERR_PARSE;
    return 0;
}

static int set_key(const struct key_spec *k, char *base, struct config_smtp *smtp, const char *v,
                   const char **why)
{
    void *field = base + k->offset;
    unsigned long long x;
    switch (k->type) {
    case K_STR:
        free(*(char **)field);
        *(char **)field = *v ? xstrdup(v) : NULL;
        return 0;
    case K_UINT:
    case K_SIZE:
        if ((k->type == K_UINT ? slice_to_u64(slice_cstr(v), 0xffffffffu, &x) : parse_size(v, &x)) <
                0 ||
            x < k->min || x > k->max) {
            *why = k->type == K_UINT ? "value must be a number in range" : "value must be a size "
                                                                           "(e.g. 25M) in range";
            return ERR_RANGE;
        }
        if (k->type == K_UINT)
            *(unsigned *)field = (unsigned)x;
        else
            *(uint64_t *)field = x;
        return 0;
    case K_BOOL:
        if (parse_bool(v, (bool *)field) < 0) {
            *why = "value must be yes or no";
            return ERR_PARSE;
        }
        return 0;
    case K_LOGLEVEL: {
        int lv = log_level_parse(v);
        if (lv < 0) {
            *why = "log_level must be err, warn, info or debug";
            return ERR_PARSE;
        }
        *(int *)field = lv;
        return 0;
    }
    case K_LISTEN:
        if (smtp->n_listen >= CONFIG_MAX_LISTEN) {
            *why = "too many listen lines in this section";
            return ERR_LIMIT;
        }
        if (parse_listen(v, &smtp->listen[smtp->n_listen], why) < 0)
            return ERR_PARSE;
        smtp->n_listen++;
        smtp->enabled = true;
        return 0;
    }
    return ERR_PARSE;
}

static int on_key(void *vctx, const char *section, const char *key, const char *value,
                  unsigned line, const char **why)
{
    struct load_ctx *ctx = vctx;
    const struct key_spec *table;
    char *base;
    struct config_smtp *smtp = NULL;
    (void)line;
    if (!strcmp(section, "server")) {
        table = server_keys;
        base = (char *)ctx->cfg;
    } else if (!strcmp(section, "smtp") || !strcmp(section, "submission")) {
        smtp = section[1] == 'm' ? &ctx->cfg->smtp : &ctx->cfg->submission;
        table = smtp_keys;
        base = (char *)smtp;
    } else {
        *why = section[0] ? "unknown section" : "key outside of any [section]";
        return ERR_CONFIG;
    }
    if (!key)
        return 0;
    for (const struct key_spec *k = table; k->name; k++)
        if (!strcmp(k->name, key))
            return set_key(k, base, smtp, value, why);
    *why = "unknown key in this section";
    return ERR_CONFIG;
}

static int check_required(struct config *cfg, struct str *err)
{
    const char *missing = !cfg->hostname         ? "hostname"
                          : !cfg->primary_domain ? "primary_domain"
                          : !cfg->data_dir       ? "data_dir"
                                                 : NULL;
    if (missing) {
        str_appendf(err, "%s: [server] %s is required", cfg->path, missing);
        return ERR_CONFIG;
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        str_appendf(err, "%s: [server] tls_cert and tls_key must be set together", cfg->path);
        return ERR_CONFIG;
    }
    if (cfg->data_dir[0] != '/') { /* one meaning for every later path, whatever the cwd */
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd)) {
            str_appendf(err, "%s: cannot resolve data_dir: getcwd failed", cfg->path);
            return ERR_CONFIG;
        }
        struct str abs = STR_INIT;
        str_appendf(&abs, "%s/%s", cwd, cfg->data_dir);
        free(cfg->data_dir);
        cfg->data_dir = str_steal(&abs);
    }
    if (!cfg->recipient_delimiter)
        cfg->recipient_delimiter = xstrdup("+");
    ascii_lower(cfg->primary_domain, strlen(cfg->primary_domain));
    return 0;
}

int config_load(const char *path, struct config *cfg, struct str *err)
{
    memset(cfg, 0, sizeof *cfg);
    defaults(cfg);
    cfg->path = xstrdup(path);
    struct load_ctx ctx = {cfg};
    int rc = ini_parse_file(path, on_key, &ctx, err);
    if (rc == 0)
        rc = check_required(cfg, err);
    if (rc < 0) {
        config_free(cfg);
        return rc;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free(cfg->path);
    free(cfg->hostname);
    free(cfg->primary_domain);
    free(cfg->data_dir);
    free(cfg->postmaster);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->recipient_delimiter);
    memset(cfg, 0, sizeof *cfg);
}
