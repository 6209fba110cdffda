/*
 * mailrec — the DNS records a mail domain served by this Pigeon needs, as one list used three
 * ways: printed for an administrator whose zone is elsewhere (`pigeon domain records`),
 * compared with what DNS answers (`pigeon domain check`), and written into Pigeon's own zones
 * as an RFC 2136 UPDATE (mailauth/service/publish.c).
 *
 * Each record carries how Pigeon treats what is already there, since a zone may hold the
 * administrator's own choices:
 *   OWN        the RRset must be exactly these records: only Pigeon knows the DKIM key, the
 *              MTA-STS policy id and the certificate's TLSA digest;
 *   IF_ABSENT  added when the name has no RRset of the type (MX, SRV);
 *   TXT_PREFIX added when no TXT record at the name starts with the prefix (SPF "v=spf1",
 *              "v=DMARC1", "v=TLSRPTv1"): another SPF or DMARC policy is the administrator's;
 *   WITHDRAW   the RRset goes (a retired DKIM selector).
 *
 * Pure: no I/O, no clock. Memory: a mailrec_set owns its records (xmalloc).
 */
#ifndef PIGEON_MAILAUTH_MAILREC_H
#define PIGEON_MAILAUTH_MAILREC_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_zone;
struct dns_rdata;

enum mailrec_mode { MAILREC_OWN, MAILREC_IF_ABSENT, MAILREC_TXT_PREFIX, MAILREC_WITHDRAW };

#define MAILREC_RDATA_MAX 1024

struct mailrec {
    char owner[256]; /* presentation form, absolute, lower case, no trailing dot */
    uint16_t type;
    uint32_t ttl;
    enum mailrec_mode mode;
    const char *what;  /* "MX", "SPF", "DKIM", ... (static) */
    const char *prefix; /* TXT_PREFIX: static */
    uint16_t rdlen;
    uint8_t rdata[MAILREC_RDATA_MAX];
};

/* Records of one (owner, type) are adjacent: one RRset. */
struct mailrec_set {
    struct mailrec *r;
    size_t n, cap;
};

/* What a domain's records are made of. NULL / 0 leaves a record out. */
struct mailrec_params {
    const char *domain;  /* the mail domain */
    const char *mx_host; /* this server's name */
    uint32_t ttl;
    const char *spf;                /* "v=spf1 mx -all" */
    const char *dkim_sel[4];        /* selectors whose key is published */
    const char *dkim_txt[4];        /* their records (dkim_signer_record) */
    size_t ndkim;
    const char *dkim_gone[8]; /* retired selectors: their record is withdrawn */
    size_t ngone;
    const char *dmarc;   /* the _dmarc record */
    const char *sts_id;  /* the MTA-STS policy id (RFC 8461 §3.1) */
    const char *tlsrpt;  /* the _smtp._tls record (RFC 8460 §3) */
    const uint8_t (*tlsa)[32]; /* SHA-256 of the MX certificates' SubjectPublicKeyInfo */
    size_t ntlsa;
    struct {
        const char *service; /* "submission", "imaps" ... (RFC 6186, RFC 8314) */
        unsigned port;       /* 0: not offered ("." target) */
    } srv[8];
    size_t nsrv;
};

void mailrec_set_init(struct mailrec_set *s);
void mailrec_set_clear(struct mailrec_set *s);

/* Appends the records of p to s. 0, or ERR_PARSE when a name or text does not fit. */
int mailrec_build(const struct mailrec_params *p, struct mailrec_set *s);

/* One record as a master-file line (with the trailing newline) appended to out. */
void mailrec_to_text(const struct mailrec *r, struct str *out);

/* How what is there compares with an RRset of the set (records r[0..n), one owner/type). */
enum mailrec_state { MAILREC_OK, MAILREC_MISSING, MAILREC_DIFFERENT };

/* have[0..nhave): the rdata at the owner for the type. For WITHDRAW, MISSING means "still
 * there". */
enum mailrec_state mailrec_judge(const struct mailrec *r, size_t n, const struct dns_rdata *have,
                                 size_t nhave);

/* The length of the run of records from i sharing r[i]'s owner and type. */
size_t mailrec_run(const struct mailrec_set *s, size_t i);

/*
 * Writes into out[0..cap) the UPDATE message (RFC 2136, opcode 5) that brings zone z in line
 * with the records of s whose owners lie in z (below no delegation and at no CNAME).
 * Returns its length, 0 when nothing needs to change, or 0 with *err_out when the message
 * does not fit. *changes_out (may be NULL) gets the number of RRsets it changes.
 */
size_t mailrec_update(const struct mailrec_set *s, const struct dns_zone *z, uint8_t *out,
                      size_t cap, size_t *changes_out, const char **err_out);

#endif
