/* keys — see keys.h: typed key tables for configuration sections. */
#include "conf/keys.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVC(f) offsetof(struct conf_service, f)

const struct conf_key conf_service_keys[] = {
    {.name = "listen", .type = CONF_LISTEN},
    {.name = "max_connections_per_ip", .type = CONF_UINT, .offset = SVC(max_connections_per_ip),
     .min = 1, .max = 1000000},
    {.name = "idle_timeout", .type = CONF_UINT, .offset = SVC(idle_timeout), .min = 1,
     .max = 86400},
    {.name = "session_timeout", .type = CONF_UINT, .offset = SVC(session_timeout), .min = 1,
     .max = 7 * 86400},
    {.name = "max_errors", .type = CONF_UINT, .offset = SVC(max_errors), .min = 1, .max = 10000},
    {.name = NULL},
};

void conf_service_defaults(struct conf_service *s, unsigned idle)
{
    s->max_connections_per_ip = 20;
    s->idle_timeout = idle;
    s->session_timeout = 3600;
    s->max_errors = 20;
}

int conf_parse_listen(const char *v, struct conf_listen *out, const char **why)
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
int conf_parse_size(const char *v, unsigned long long *out)
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

int conf_parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = false;
    else
        return ERR_PARSE;
    return 0;
}

static int set_number(const struct conf_key *k, void *field, const char *v, const char **why)
{
    unsigned long long x;
    int rc = k->type == CONF_UINT ? slice_to_u64(slice_cstr(v), 0xffffffffu, &x)
                                  : conf_parse_size(v, &x);
    if (rc < 0 || x < k->min || x > k->max) {
        *why = k->why                  ? k->why
               : k->type == CONF_UINT ? "value must be a number in range"
                                       : "value must be a size (e.g. 25M) in range";
        return ERR_RANGE;
    }
    if (k->type == CONF_UINT)
        *(unsigned *)field = (unsigned)x;
    else
        *(uint64_t *)field = x;
    return 0;
}

static int set_listen(struct conf_service *svc, const char *v, const char **why)
{
    if (!svc) {
        *why = "listen is not allowed in this section";
        return ERR_CONFIG;
    }
    if (svc->n_listen >= CONF_MAX_LISTEN) {
        *why = "too many listen lines in this section";
        return ERR_LIMIT;
    }
    if (conf_parse_listen(v, &svc->listen[svc->n_listen], why) < 0)
        return ERR_PARSE;
    svc->n_listen++;
    svc->enabled = true;
    return 0;
}

static int set_key(const struct conf_key *k, void *sec, struct conf_service *svc, const char *v,
                   const char **why)
{
    void *field = (char *)sec + k->offset;
    switch (k->type) {
    case CONF_STR:
        free(*(char **)field);
        *(char **)field = *v ? xstrdup(v) : NULL;
        return 0;
    case CONF_UINT:
    case CONF_SIZE:
        return set_number(k, field, v, why);
    case CONF_BOOL:
        if (conf_parse_bool(v, (bool *)field) < 0) {
            *why = k->why ? k->why : "value must be yes or no";
            return ERR_PARSE;
        }
        return 0;
    case CONF_LISTEN:
        return set_listen(svc, v, why);
    case CONF_ENUM:
        for (int i = 0; k->names[i]; i++) {
            if (!strcmp(v, k->names[i])) {
                *(int *)field = i;
                return 0;
            }
        }
        *why = k->why;
        return ERR_PARSE;
    case CONF_CUSTOM:
        return k->parse(v, sec, field, why);
    }
    return ERR_PARSE;
}

int conf_keys_set(const struct conf_key *table, void *sec, struct conf_service *svc,
                  const char *key, const char *value, const char **why)
{
    for (const struct conf_key *k = table; k && k->name; k++)
        if (!strcmp(k->name, key))
            return set_key(k, sec, svc, value, why) < 0 ? ERR_CONFIG : 1;
    return 0;
}

void conf_keys_free(const struct conf_key *table, void *sec)
{
    for (const struct conf_key *k = table; k && k->name; k++) {
        if (k->type == CONF_STR) {
            char **field = (char **)((char *)sec + k->offset);
            free(*field);
            *field = NULL;
        }
    }
}
