/*
 * config — the typed configuration of pigeond and pigeon, read from one INI file.
 *
 * Every key is described in docs/config.md. Unknown sections or keys, bad values and missing
 * required keys are errors reported as "file:line: reason". Relative paths are taken relative
 * to the current working directory. Reads the file; no other I/O.
 *
 * Two kinds of sections. The process-wide ones ([server], [delivery]) and those of services
 * not yet moved to the template are fields of struct config. A service built on the template
 * declares its own sections (`struct conf_section`: name, struct size, key table, defaults,
 * check) beside its code; config_load composes every declared section, and the service finds
 * its parsed struct with config_section(). See docs/architecture.md, "Adding a service".
 */
#ifndef PIGEON_CONF_CONFIG_H
#define PIGEON_CONF_CONFIG_H

#include "conf/keys.h"
#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define CONF_NOT_SERVICE ((size_t)-1)

/* Why a key needs a restart (conf_section.restart_why): key "*" stands for every key the
 * table does not name. */
struct conf_restart {
    const char *key;
    const char *why;
};

/* A section a service declares. Its struct is allocated zeroed, given its defaults, then the
 * file's keys; it exists (with defaults) even when the file has no such section. */
struct conf_section {
    const char *name;             /* "pop3": the [pop3] section */
    size_t size;                  /* of the section's struct */
    size_t service_offset;        /* of its struct conf_service (listen, limits), or
                                     CONF_NOT_SERVICE */
    const struct conf_key *keys;  /* its own keys (the conf_service ones come for free) */
    void (*defaults)(void *sec);  /* optional */
    /* Optional, after the whole file is read: 0, or < 0 after writing "file: reason" to err. */
    int (*check)(void *sec, const struct config *cfg, struct str *err);
    void (*free)(void *sec);      /* optional: what the keys' CONF_STR fields are not */
    /* Optional, for sections with an argument ([http NAME]) or several names: the struct
     * takes every [S] for which owns(S) is true, and parse() gets each of their lines (key
     * NULL at the header) instead of the key table. 0, or < 0 with a static *why. */
    bool (*owns)(const char *section);
    int (*parse)(void *sec, const char *section, const char *key, const char *value,
                 const char **why);
    /* Optional, with owns/parse: the listener sets the struct holds (out[i], named names[i]),
     * at most cap; their number. For the check that no two services share a port. */
    unsigned (*services)(const void *sec, const struct conf_service **out, const char **names,
                         unsigned cap);
    /* Optional: the keys a reload applies (NULL-terminated; "*": all of them), which the
     * service's reload hooks must then apply. A changed key not listed is reported as
     * needing a restart (conf/snapshot.h). NULL: none. */
    const char *const *reload_keys;
    /* Optional: why the keys a reload does not apply need a restart, as `pigeon reload`
     * says per key ({NULL, NULL} ends it). Without an entry for a key the general reasons of
     * conf/snapshot.c are given (sockets, or "read once when the service starts"). */
    const struct conf_restart *restart_why;
};

/* The keys of struct conf_service a reload applies to new connections when the service
 * re-lists its section (host_relisten): every one but listen. */
#define CONF_SERVICE_RELOAD_KEYS                                                                \
    "max_connections_per_ip", "idle_timeout", "session_timeout", "max_errors"

enum plaintext_auth { PLAINTEXT_AUTH_NO, PLAINTEXT_AUTH_LOOPBACK, PLAINTEXT_AUTH_YES };

/* A mail-access service: [pop3], [pop3s], [imap], [imaps] (keys: conf_access_keys). */
struct config_access {
    struct conf_service svc;
    bool implicit_tls;            /* pop3s / imaps: TLS from the first byte */
    enum plaintext_auth plaintext_auth; /* passwords before TLS: never, from loopback, always */
    unsigned max_connections_per_user;
    uint64_t max_literal_size;    /* IMAP: largest literal / APPEND accepted */
};

/* [delivery]: the outgoing queue and the SMTP client. */
struct config_delivery {
    unsigned max_connections;
    unsigned max_per_domain;
    unsigned retry_initial;
    unsigned retry_max;
    unsigned max_age;
    unsigned scan_interval;
    unsigned connect_timeout;
    unsigned command_timeout;
    unsigned remote_port;
    char *source_address;
    int tls;                      /* enum smtp_tls_policy */
    char **tls_policy_domains;    /* per-domain policies, parallel arrays */
    int *tls_policy_values;
    unsigned n_tls_policies;
    struct conf_listen resolver; /* the recursive server the mail side asks */
    bool resolver_set;
    bool resolver_internal;        /* "resolver = internal": the in-process resolver */
    uint64_t max_return;
};

/* [zone NAME]: one zone this server is authoritative for (primary), or a secondary of. */
struct config_zone {
    char *name;                   /* origin, presentation form, no trailing dot */
    char *file;                   /* master file (primary), or where a secondary keeps it */
    char *primary;                /* secondary mode: the primary's address:port */
    char *allow_transfer;         /* AXFR/IXFR: space-separated prefixes and "key:NAME" */
    char *notify;                 /* space-separated address:port of secondaries */
    char *allow_update;           /* RFC 2136: space-separated prefixes and "key:NAME" */
    bool dnssec;                  /* sign the zone (keys under data_dir/dnssec/) */
    char *dnssec_algorithm;       /* ECDSAP256SHA256 (default), ED25519, RSASHA256, ... */
    bool dnssec_nsec3;            /* NSEC3 (RFC 9276 parameters) instead of NSEC */
    unsigned dnssec_validity;     /* days a signature is valid; re-signed at half of it */
    unsigned dnssec_refresh;      /* seconds before expiry a signature is made again (0:
                                     half of dnssec_validity) */
    char *cds_scan;               /* the validating resolver (address[:port]) to ask for the
                                     CDS/CDNSKEY of children served elsewhere; NULL: off */
    unsigned cds_scan_interval;   /* seconds between two scans (default 3600) */
    unsigned line;                /* where the section starts, for messages */
};

/* [tsig NAME]: a TSIG key (RFC 8945). */
struct config_tsig {
    char *name;
    char *algorithm;              /* hmac-sha256 */
    char *secret;                 /* base64 */
};

/* [dns]: the authoritative name server. */
struct config_dns {
    struct conf_service svc;    /* listen: UDP and TCP on each address */
    unsigned udp_max;             /* our EDNS payload size */
    unsigned rrl_rate;            /* responses per second per client prefix; 0 = off */
    unsigned rrl_slip;            /* every Nth limited response is sent truncated */
    struct config_zone *zones;
    unsigned nzones;
    struct config_tsig *keys;
    unsigned nkeys;
};

/* [resolver]: the recursive service (iterative resolver with a cache). */
struct config_resolver {
    struct conf_service svc;    /* listen: UDP and TCP on each address */
    char *allow;                  /* client prefixes allowed recursion; NULL: loopback only */
    char *root_hints;             /* NULL: the built-in copy of the real root hints */
    uint64_t cache_size;          /* bytes */
    unsigned min_ttl, max_ttl, max_negative_ttl;
    bool qname_minimisation;      /* RFC 9156 */
    bool serve_stale;             /* RFC 8767 */
    bool case_randomization;      /* 0x20 */
    unsigned max_upstream_queries; /* per client question (NXNSAttack) */
    unsigned max_referrals;
    char *trust_anchor;           /* DNSSEC anchors file (DS/DNSKEY lines); NULL: no validation */
    char *negative_trust_anchors; /* zones not validated (RFC 7646), space-separated */
};

struct conf_snapshot;

struct config {
    char *path;
    struct conf_snapshot *written; /* every key as written (conf/snapshot.h): what a reload
                                      compares */
    /* [server] */
    char *hostname;
    char *primary_domain;
    char *data_dir;
    char *postmaster;             /* where postmaster@<local domain> goes; NULL: no redirect */
    char *tls_cert;               /* NULL: self-signed under data_dir/tls/ */
    char *tls_key;
    char *tls_dir;                /* NAME.crt + NAME.key pairs chosen by SNI; NULL: none */
    char *recipient_delimiter;    /* "" disables subaddressing */
    int log_level;
    char *log;                    /* "stderr" (NULL), "syslog" or an absolute file path */
    char *user;                   /* NULL: "pigeon" when it exists; see host/privileges.h */
    unsigned workers;
    unsigned max_connections;     /* per process, all services */
    unsigned max_connections_per_ip; /* one address (IPv6: its /64) over all services */
    unsigned max_prelogin_connections; /* sessions that must log in and have not yet */
    unsigned login_timeout;       /* seconds a session that must log in has to do it */
    unsigned shutdown_timeout;    /* seconds SIGTERM waits for in-flight sessions */
    /* services */
    struct config_delivery delivery;
    struct config_dns dns;
    struct config_resolver resolver;
    /* sections declared by services (struct conf_section), parallel arrays */
    const struct conf_section **sec_defs;
    void **sec_data;
    unsigned nsec;
};

/* Keys and defaults of a mail-access section (pop3 and imap services share the shape), and
 * its struct conf_section entry. */
extern const struct conf_key conf_access_keys[];
void conf_access_defaults(struct config_access *a, bool implicit_tls, unsigned idle);
#define CONF_ACCESS_SECTION(sec_name, defaults_fn)                                              \
    {.name = (sec_name), .size = sizeof(struct config_access),                                  \
     .service_offset = offsetof(struct config_access, svc), .keys = conf_access_keys,          \
     .defaults = (defaults_fn), .reload_keys = conf_access_reload_keys}
/* The keys of a mail-access section a reload applies: all but listen and implicit TLS. */
extern const char *const conf_access_reload_keys[];

/* Loads path into cfg (zeroed first, defaults applied). `declared` is a NULL-terminated list
 * of section arrays (each ends with a NULL name) that services declare; NULL: none. On error
 * returns < 0 and writes "file:line: reason" into err. config_free releases what config_load
 * allocated. */
int config_load(const char *path, const struct conf_section *const *declared, struct config *cfg,
                struct str *err);
void config_free(struct config *cfg);
/* The parsed struct of a declared section, or NULL when no service declared it. */
void *config_section(const struct config *cfg, const char *name);
/* The i-th section struct config holds itself ([server], [delivery], [dns], [resolver], and
 * "zone" and "tsig" for [zone NAME] and [tsig NAME]): its name, key table and whether it also
 * takes the keys of every service section (conf_service_keys). false past the last. With the
 * declared sections (services_sections) this lists every key a file may hold:
 * tests/unit/test_config_doc.c checks docs/config.md against it. */
bool config_builtin_section(unsigned i, const char **name_out, const struct conf_key **keys_out,
                            bool *service_out);

#endif
