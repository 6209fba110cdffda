/*
 * config — the typed configuration of pigeond and pigeon, read from one INI file.
 *
 * Every key is described in docs/config.md. Unknown sections or keys, bad values and missing
 * required keys are errors reported as "file:line: reason". Relative paths are taken relative
 * to the current working directory. Reads the file; no other I/O.
 */
#ifndef PIGEON_DAEMON_CONFIG_H
#define PIGEON_DAEMON_CONFIG_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_MAX_LISTEN 8

struct config_listen {
    char host[64];  /* numeric address: "127.0.0.1", "::1", "0.0.0.0" */
    char port[8];
    char text[80];  /* as written, for logs: "127.0.0.1:2525" */
    unsigned line;  /* where it was written (0: not from a config line) */
};

/* What every TCP service section has. */
struct config_service {
    bool enabled;                 /* true when the section has at least one listen */
    struct config_listen listen[CONFIG_MAX_LISTEN];
    unsigned n_listen;
    unsigned max_connections_per_ip;
    unsigned idle_timeout;        /* seconds without input */
    unsigned session_timeout;     /* seconds for a whole session */
    unsigned max_errors;          /* bad commands before the server hangs up */
};

/* One SMTP service: the MX role ([smtp]) or submission ([submission]). */
struct config_smtp {
    struct config_service svc;
    bool submission;              /* role: submission requires AUTH for MAIL */
    uint64_t max_message_size;    /* octets; SIZE advertises it */
    unsigned max_recipients;
    bool starttls;                /* offer STARTTLS */
    bool auth;                    /* offer AUTH (only ever after TLS) */
    int spf;                      /* enum config_spf: what an SPF fail does */
    bool reject_bare_line_ends;   /* DATA with a bare CR/LF: 550 5.6.0 rather than normalised */
};

enum config_spf { CONFIG_SPF_OFF, CONFIG_SPF_MARK, CONFIG_SPF_REJECT };

enum plaintext_auth { PLAINTEXT_AUTH_NO, PLAINTEXT_AUTH_LOOPBACK, PLAINTEXT_AUTH_YES };

/* A mail-access service: [pop3], [pop3s], [imap], [imaps]. */
struct config_access {
    struct config_service svc;
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
    struct config_listen resolver; /* the recursive server the mail side asks */
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
    struct config_service svc;    /* listen: UDP and TCP on each address */
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
    struct config_service svc;    /* listen: UDP and TCP on each address */
    char *allow;                  /* client prefixes allowed recursion; NULL: loopback only */
    char *root_hints;             /* NULL: the built-in copy of the real root hints */
    uint64_t cache_size;          /* bytes */
    unsigned min_ttl, max_ttl, max_negative_ttl;
    bool qname_minimisation;      /* RFC 9156 */
    bool serve_stale;             /* RFC 8767 */
    bool case_randomization;      /* 0x20 */
    unsigned max_upstream_queries; /* per client question (NXNSAttack) */
    unsigned max_referrals;
};

struct http_config;

struct config {
    char *path;
    /* [server] */
    char *hostname;
    char *primary_domain;
    char *data_dir;
    char *postmaster;             /* where postmaster@<local domain> goes; NULL: no redirect */
    char *tls_cert;               /* NULL: self-signed under data_dir/tls/ */
    char *tls_key;
    char *recipient_delimiter;    /* "" disables subaddressing */
    int log_level;
    char *log;                    /* "stderr" (NULL), "syslog" or an absolute file path */
    char *user;                   /* NULL: "pigeon" when it exists; see daemon/privileges.h */
    unsigned workers;
    unsigned max_connections;     /* per process, all services */
    unsigned shutdown_timeout;    /* seconds SIGTERM waits for in-flight sessions */
    /* services */
    struct config_smtp smtp;
    struct config_smtp submission;
    struct config_smtp submissions; /* RFC 8314: submission with TLS from the first byte (465) */
    struct config_access pop3, pop3s, imap, imaps;
    struct config_delivery delivery;
    struct config_dns dns;
    struct config_resolver resolver;
    struct http_config *http;     /* [http], [http NAME], [metrics]: http/service/config.h */
};

/* Loads path into cfg (zeroed first, defaults applied). On error returns < 0 and writes
 * "file:line: reason" into err. config_free releases what config_load allocated. */
int config_load(const char *path, struct config *cfg, struct str *err);
void config_free(struct config *cfg);

/* ---- config_check.c: what pigeond rejects at start, for pigeond -t and check-config ---- */

/* Two services on one address and port (TCP, and UDP for [dns]/[resolver]; a wildcard
 * address overlaps every address of its family). Called by config_load. 0 or ERR_CONFIG
 * with "file:line: [section] listen ADDR: ..." in err. */
int config_check_listen(const struct config *cfg, struct str *err);
/* The files the services read at start: every primary zone file (and every secondary's file
 * that exists), tls_cert with tls_key, root_hints. Blocks on file reads. 0 or < 0 with the
 * same message pigeond would stop with. */
int config_check_files(const struct config *cfg, struct str *err);

/* Value parsers shared with services that read their own sections: "host:port" / "[v6]:port"
 * (numeric), sizes with K/M/G suffixes, yes/no. 0 or < 0 (*why set for listen). */
int config_parse_listen(const char *v, struct config_listen *out, const char **why);
int config_parse_size(const char *v, unsigned long long *out);
int config_parse_bool(const char *v, bool *out);

#endif
