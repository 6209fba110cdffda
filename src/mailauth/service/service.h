/*
 * mailauth service — mail authentication in the process: the [dkim] section, the per-domain
 * DKIM signers (loaded, or made, on first use) and the Public Suffix List, shared by every
 * worker. The SMTP service calls it at the end of DATA (smtp/service/ops.c): authenticated
 * mail from a local domain is signed; unauthenticated mail for local users is checked (DKIM,
 * DMARC) and gets an Authentication-Results field, a 550 5.7.1 (DMARC p=reject) or the Junk
 * folder (p=quarantine). It has no listener of its own.
 */
#ifndef PIGEON_MAILAUTH_SERVICE_SERVICE_H
#define PIGEON_MAILAUTH_SERVICE_SERVICE_H

#include "core/str.h"
#include "host/host.h"

#include <stdbool.h>
#include <stddef.h>

extern const struct service_def mailauth_service;
/* Pigeon's MTA-STS policy on the HTTP service (sts_http.c): registered after http and jmap. */
extern const struct service_def mailauth_sts_http_service;

/* [dkim]: the keys that sign mail of the local domains (mailauth/keystore.h). */
struct config_dkim {
    char *selector;     /* default "pigeon" */
    int algorithm;      /* enum dkim_alg of keys made here (default rsa) */
    char *key_dir;      /* default DATA/dkim */
    char *psl_file;     /* the Public Suffix List for DMARC */
    bool sign;          /* sign authenticated users' mail from local domains */
    bool verify;        /* unauthenticated mail: DKIM, DMARC, Authentication-Results */
    bool dmarc_enforce; /* act on p=reject (550 5.7.1) and p=quarantine (Junk) */
    unsigned switch_after; /* seconds from a new selector's publication to signing with it */
    unsigned retire_after; /* seconds an old selector stays published after the switch */
};

/* [mail_dns]: the records of the local domains, published in Pigeon's own zones. */
struct config_mail_dns {
    bool publish;       /* keep them in the primary zones served here */
    unsigned interval;  /* seconds between two passes over the local domains */
    unsigned ttl;       /* of every record */
    char *spf;          /* the SPF record */
    char *dmarc;        /* the DMARC record */
    char *tlsrpt_rua;   /* rua= of the TLS-RPT record; NULL: mailto:postmaster@DOMAIN */
    bool srv;           /* RFC 6186 / 8314 SRV records */
    char *tlsa_next_key; /* PEM of the next certificate's key: its TLSA published beside */
};

/* [mta_sts]: the policy Pigeon serves for its domains (RFC 8461 §3.2). */
struct config_mta_sts {
    int mode;          /* enum mtasts_mode; none: no policy, no _mta-sts record */
    unsigned max_age;  /* seconds */
    char *mx;          /* the mx: pattern; NULL: [server] hostname */
};

/* [arc]: ARC (RFC 8617) on the MX role. */
struct config_arc {
    bool seal;      /* seal the copies of received mail that Pigeon forwards */
    char *domain;   /* d= of our seals (its DKIM key signs them); default [server]
                     * primary_domain */
    char *trusted;  /* sealers whose dmarc=pass overrides a DMARC failure (RFC 8617 §7.2) */
};

/* The parsed [dkim] of a configuration (always present: defaults). */
const struct config_dkim *mailauth_config(const struct config *cfg);
const struct config_mail_dns *mailauth_dns_config(const struct config *cfg);
const struct config_mta_sts *mailauth_sts_config(const struct config *cfg);
const struct config_arc *mailauth_arc_config(const struct config *cfg);

struct mailauth_glue;

/* The process's mail authentication state (what the service's open() made). */
struct mailauth_glue *mailauth_glue(const struct daemon *d);

/*
 * Signs msg[0..len) when signing is on and its From domain is a local domain (st: the
 * worker's store handle): appends the DKIM-Signature field, then the message, to out and
 * returns true. The domain's key is loaded (or made, once) on first use: that call blocks
 * on small file I/O and, for a new RSA key, key generation.
 */
bool mailauth_glue_sign(struct mailauth_glue *g, struct store *st, const char *msg, size_t len,
                        struct str *out);

/* The verdict for one message, valid during the callback only. */
struct mailauth_verdict {
    const char *reject;       /* a complete SMTP reply, or NULL */
    const struct str *stored; /* the message to store (Authentication-Results on top, fields
                               * forged with our name removed) */
    bool junk;                /* deliver to Junk */
    const struct str *results; /* the A-R payload, for the ARC set of a forwarded copy */
    int arc_cv;               /* enum arc_cv: what the incoming ARC chain was found to be */
};
typedef void (*mailauth_glue_done)(void *arg, const struct mailauth_verdict *v);

/*
 * Checks msg[0..len) (the stored form: our Received-SPF on top when SPF ran). from, helo
 * and ip (the client's address) are the session's; the DMARC result is kept for the
 * aggregate reports ([dmarc_report] record). cb runs later on stub's loop, or inside this call when nothing needs
 * DNS. msg must stay valid until then. Returns false (cb never called) when verification
 * is off.
 */
bool mailauth_glue_check(struct mailauth_glue *g, struct dns_stub *stub, const char *msg,
                         size_t len, const char *from, const char *helo, const char *ip,
                         mailauth_glue_done cb, void *arg);

/*
 * The ARC set for a forwarded copy (RFC 8617 §5.1): the copy is prefix[0..plen) followed by
 * body[0..blen); results and cv come from the verdict. On success appends the set, then
 * prefix, to out and returns true; false (out unchanged) when sealing is off, the chain may
 * not be continued, or the [arc] domain has no usable key (logged). May block on small file
 * I/O the first time the key is needed.
 */
bool mailauth_glue_seal(struct mailauth_glue *g, const char *prefix, size_t plen,
                        const char *body, size_t blen, const struct str *results, int cv,
                        struct str *out);

/*
 * RFC 8689 §4.1: how a received message is tagged for the queue (enum store_queue_flag):
 * REQUIRETLS when its MAIL command carried the parameter (a TLS-Required field is then
 * ignored, and kept), else TLS_OPTIONAL when its header says "TLS-Required: No", else 0.
 * Every copy of the message gets the same tag (forwards included). Pure.
 */
unsigned mailauth_requiretls_flags(bool requiretls, const char *msg, size_t len);

/*
 * Aggregate reports received (rua_in.c): when one of rcpts[0..nrcpt) ("local@domain" of local
 * domains) is a report address Pigeon publishes ([mail_dns] dmarc's rua=, tlsrpt_rua), the
 * DMARC and TLS-RPT reports in msg[0..len) are parsed (mailauth/rua.h) and returned for the
 * message's commit (store_msg.reports: mailauth_reports_rows), each logged under session id;
 * NULL when none. Runs on the caller's thread, bounded by rua.h's limits.
 */
struct mailauth_reports;
struct store_report;
struct mailauth_reports *mailauth_glue_reports(const struct config *cfg,
                                               const char *const *rcpts, size_t nrcpt,
                                               const char *msg, size_t len,
                                               unsigned long long id);
/* The rows, valid while r lives (NULL and 0 for r NULL). */
const struct store_report *mailauth_reports_rows(const struct mailauth_reports *r, size_t *n_out);
void mailauth_reports_free(struct mailauth_reports *r);

#endif
