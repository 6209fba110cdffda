/*
 * keys — typed key tables for configuration sections: one `struct conf_key` per key, giving
 * its type and where it lands in the section's struct (offsetof). A service declares its
 * sections with these tables beside its own code (the h2o "configurator beside its handler"
 * pattern); conf/config.c composes them. Reads no files, performs no I/O.
 *
 * Also the shape every TCP service section shares: `struct conf_service` (listen lines,
 * per-address limit, timeouts, error budget) and its keys, which the loader accepts in every
 * section whose `struct conf_section` has a service_offset.
 */
#ifndef PIGEON_CONF_KEYS_H
#define PIGEON_CONF_KEYS_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_LISTEN 8

struct conf_listen {
    char host[64];  /* numeric address: "127.0.0.1", "::1", "0.0.0.0" */
    char port[8];
    char text[80];  /* as written, for logs: "127.0.0.1:2525" */
    unsigned line;  /* where it was written (0: not from a config line) */
};

/* What every TCP (and UDP) service section has. */
struct conf_service {
    bool enabled;                 /* true when the section has at least one listen */
    struct conf_listen listen[CONF_MAX_LISTEN];
    unsigned n_listen;
    unsigned max_connections_per_ip;
    unsigned idle_timeout;        /* seconds without input */
    unsigned session_timeout;     /* seconds for a whole session */
    unsigned max_errors;          /* bad commands before the server hangs up */
};

enum conf_type {
    CONF_STR,    /* char *, malloc'd (freed by conf_keys_free); "" stores NULL */
    CONF_UINT,   /* unsigned in [min, max] */
    CONF_SIZE,   /* uint64_t in [min, max]; K/M/G suffixes (powers of 1024) */
    CONF_BOOL,   /* bool: yes/no, true/false, on/off, 1/0 */
    CONF_LISTEN, /* appends to the section's struct conf_service (offset unused) */
    CONF_ENUM,   /* int: index of the value in names[] */
    CONF_CUSTOM, /* parse() decides */
};

struct conf_key {
    const char *name;
    enum conf_type type;
    size_t offset;                 /* of the field within the section's struct */
    unsigned long long min, max;   /* CONF_UINT, CONF_SIZE */
    const char *const *names;      /* CONF_ENUM: NULL-terminated */
    /* CONF_CUSTOM: sets the field (sec is the section's struct). 0, or < 0 with *why set. */
    int (*parse)(const char *value, void *sec, void *field, const char **why);
    const char *why;               /* message for a bad value (CONF_ENUM: required) */
};

/* A table ends with an entry whose name is NULL. */

/*
 * Sets key `key` of a section from `value` if the table has it: 1 when set, 0 when the table
 * has no such key, < 0 on a bad value (*why: static text, or err's text). svc is the section's
 * struct conf_service (for CONF_LISTEN), or NULL.
 */
int conf_keys_set(const struct conf_key *table, void *sec, struct conf_service *svc,
                  const char *key, const char *value, const char **why);
/* Frees the CONF_STR fields of sec that table names. */
void conf_keys_free(const struct conf_key *table, void *sec);

/* The keys every service section accepts (offsets within struct conf_service). */
extern const struct conf_key conf_service_keys[];
/* Defaults of those keys: 20 per address, idle seconds as given, one hour, 20 errors. */
void conf_service_defaults(struct conf_service *s, unsigned idle);

/* Parses "host:port" or "[v6]:port" (numeric addresses only: no DNS at start-up). */
int conf_parse_listen(const char *v, struct conf_listen *out, const char **why);
/* A size with an optional K/M/G suffix (powers of 1024); yes/no, true/false, on/off, 1/0.
 * 0, or < 0. */
int conf_parse_size(const char *v, unsigned long long *out);
int conf_parse_bool(const char *v, bool *out);

#endif
