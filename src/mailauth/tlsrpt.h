/*
 * tlsrpt — SMTP TLS Reporting (RFC 8460): the outcome of one outbound TLS session attempt as
 * the queue records it (one text line each in a day's history file), a policy domain's daily
 * report in the JSON of §4.4, and the rua= of a "_smtp._tls" TXT record (§3).
 *
 * Pure: no I/O, no clock (times are passed in), no globals. JSON through jansson.
 */
#ifndef PIGEON_MAILAUTH_TLSRPT_H
#define PIGEON_MAILAUTH_TLSRPT_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mtasts_policy;

enum tlsrpt_type { TLSRPT_NO_POLICY, TLSRPT_STS, TLSRPT_TLSA };

/* §4.3: the session's result; SUCCESS counts in the summary only. */
enum tlsrpt_result {
    TLSRPT_SUCCESS,
    TLSRPT_STARTTLS_NOT_SUPPORTED,
    TLSRPT_CERT_HOST_MISMATCH,
    TLSRPT_CERT_EXPIRED,
    TLSRPT_CERT_NOT_TRUSTED,
    TLSRPT_VALIDATION_FAILURE,
    TLSRPT_TLSA_INVALID,
    TLSRPT_DNSSEC_INVALID,
    TLSRPT_STS_POLICY_FETCH_ERROR,
    TLSRPT_STS_POLICY_INVALID,
    TLSRPT_STS_WEBPKI_INVALID,
};
const char *tlsrpt_result_name(enum tlsrpt_result r);
const char *tlsrpt_type_name(enum tlsrpt_type t);

#define TLSRPT_MAX_STRINGS 16

struct tlsrpt_rec {
    int64_t time;
    char domain[256]; /* the policy domain: the recipient domain */
    enum tlsrpt_type type;
    char strings[TLSRPT_MAX_STRINGS][300]; /* the policy-string lines */
    size_t nstrings;
    char mx_host[256];
    char sending_ip[64], receiving_ip[64]; /* "" when unknown */
    enum tlsrpt_result result;
};

/* The policy-string of an MTA-STS policy (§4.3.1: its lines) into r. */
void tlsrpt_sts_strings(const struct mtasts_policy *p, struct tlsrpt_rec *r);

/* Appends r as one history line (tab-separated, ends with an end mark and "\n"). */
void tlsrpt_rec_format(const struct tlsrpt_rec *r, struct str *out);
/* Parses one history line. 0 or ERR_PARSE (a torn line never parses). */
int tlsrpt_rec_parse(const char *line, size_t len, struct tlsrpt_rec *out);

/* One policy of a report: its records' counts and failure details. */
struct tlsrpt_failure {
    enum tlsrpt_result result;
    char mx_host[256], sending_ip[64], receiving_ip[64];
    uint64_t count;
};

struct tlsrpt_policy {
    struct tlsrpt_rec first; /* type, strings, domain */
    char (*mx)[256];         /* the MX hosts seen (malloc'd) */
    size_t nmx;
    uint64_t ok, failed;
    struct tlsrpt_failure *f;
    size_t nf;
};

struct tlsrpt_report {
    char domain[256];
    struct tlsrpt_policy *p;
    size_t n;
};

void tlsrpt_report_init(struct tlsrpt_report *rep, const char *domain);
/* Adds r (of rep's domain) to the policy it was under. */
void tlsrpt_report_add(struct tlsrpt_report *rep, const struct tlsrpt_rec *r);
void tlsrpt_report_clear(struct tlsrpt_report *rep);

struct tlsrpt_meta {
    const char *org_name;
    const char *contact;   /* contact-info */
    const char *submitter; /* the sending domain (file name, Subject) */
    int64_t begin, end;
};

/* The report's JSON document (§4.4). */
void tlsrpt_json(const struct tlsrpt_meta *m, const struct tlsrpt_report *rep, struct str *out);
void tlsrpt_report_id(const struct tlsrpt_meta *m, const char *domain, struct str *out);
/* "submitter!domain!begin!end.json.gz" (§5.3). */
void tlsrpt_filename(const struct tlsrpt_meta *m, const char *domain, struct str *out);

/* The mailto: addresses of a _smtp._tls TXT answer (§3: exactly one record starting with
 * "v=TLSRPTv1"; its rua= is a comma-separated URI list). Returns how many were written. */
size_t tlsrpt_rua_pick(const char *const *txt, const size_t *len, size_t n, char (*addr)[320],
                       size_t max);

#endif
