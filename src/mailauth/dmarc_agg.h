/*
 * dmarc_agg — DMARC aggregate reports (RFC 7489 §7.2, in the DMARCbis aggregate-reporting
 * format, namespace urn:ietf:params:xml:ns:dmarc-2.0): the per-message record the MX role
 * keeps (one text line each in a day's history file), the rows of one policy domain's report,
 * its XML, the rua= URIs with their size limits, the external-destination rule (§7.1) and the
 * report mail (multipart, the XML gzipped as an attachment).
 *
 * Pure: no I/O, no clock (times are passed in), no globals. Outputs go to caller-owned strs.
 */
#ifndef PIGEON_MAILAUTH_DMARC_AGG_H
#define PIGEON_MAILAUTH_DMARC_AGG_H

#include "core/str.h"
#include "mailauth/dkim.h"
#include "mailauth/dmarc.h"
#include "mailauth/report_mail.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct psl;

/* What one received message contributes to its policy domain's report. */
struct dmarc_agg_rec {
    int64_t time;
    char source_ip[64];
    char header_from[254];
    char policy_domain[254];  /* where the DMARC record was found */
    char envelope_from[254];  /* the domain SPF checked ("" for none) */
    char spf_scope[8];        /* "mfrom", or "helo" for the null reverse-path (then
                               * envelope_from holds the HELO domain SPF checked) */
    char spf_result[16];      /* RFC 8601 name; "none" when SPF did not run */
    char disposition[16];     /* pass | none | quarantine | reject */
    bool dkim_aligned, spf_aligned;
    char reason[24];          /* "" or trusted_forwarder | policy_test_mode (pct=) */
    char reason_comment[300];
    /* the record as published */
    enum dmarc_policy p, sp;
    bool adkim_strict, aspf_strict;
    char rua[512];
    size_t ndkim;
    struct {
        char domain[254];
        char selector[254];
        char result[16];
    } dkim[DKIM_MAX_SIGS];
};

/* Appends r as one history line (tab-separated, ending in "\n"); control characters and tabs
 * in any field become '?'. */
void dmarc_agg_rec_format(const struct dmarc_agg_rec *r, struct str *out);

/* Parses one history line (without or with its "\n"). 0, or ERR_PARSE. */
int dmarc_agg_rec_parse(const char *line, size_t len, struct dmarc_agg_rec *out);

/* The rows of one report: identical records counted once. */
struct dmarc_agg_report {
    char policy_domain[254];
    struct dmarc_agg_rec *rows; /* malloc'd */
    uint64_t *count;
    size_t n, cap;
    struct dmarc_agg_rec last;  /* the newest record: its policy is the one reported */
};

void dmarc_agg_report_init(struct dmarc_agg_report *rep, const char *policy_domain);
/* Adds r (whose policy_domain must be rep's) as a row or to the count of an equal row. */
void dmarc_agg_report_add(struct dmarc_agg_report *rep, const struct dmarc_agg_rec *r);
void dmarc_agg_report_clear(struct dmarc_agg_report *rep);

struct dmarc_agg_meta {
    const char *org_name;  /* the reporting organisation */
    const char *email;     /* its contact address */
    const char *submitter; /* the receiver's domain name (Subject, file name) */
    int64_t begin, end;    /* the reporting period, seconds since the epoch */
};

/* The report's XML document (UTF-8). */
void dmarc_agg_xml(const struct dmarc_agg_meta *m, const struct dmarc_agg_report *rep,
                   struct str *out);

/* The Report-ID (unique per period and domain, the same on a re-send) and the attachment's
 * file name "submitter!domain!begin!end.xml.gz". */
void dmarc_agg_report_id(const struct dmarc_agg_meta *m, const char *domain, struct str *out);
void dmarc_agg_filename(const struct dmarc_agg_meta *m, const char *domain, struct str *out);

#define DMARC_RUA_MAX 4 /* URIs used per report; more are ignored (DMARCbis: a receiver limit) */

struct dmarc_rua {
    char addr[320];   /* the mailto: address, lower-case domain */
    char domain[254]; /* its domain */
    uint64_t limit;   /* bytes; 0: no limit */
};

/* The mailto: URIs of a rua= value ("mailto:a@b!10m, mailto:c@d"); other schemes and
 * malformed entries are skipped. Returns how many were written to out[0..max). */
size_t dmarc_rua_parse(const char *rua, struct dmarc_rua *out, size_t max);

/* §7.1: true when reports for policy_domain to a destination in dest_domain need the
 * destination's consent (their organisational domains differ); then name gets
 * "POLICY._report._dmarc.DEST" (false too when that name would be over 253 octets: such a
 * destination can never be confirmed, *unusable is set). */
bool dmarc_rua_external(const struct psl *psl, const char *policy_domain,
                        const char *dest_domain, char *name, size_t cap, bool *unusable);

/* §7.1 step 6: true when one of the TXT strings starts with "v=DMARC1". */
bool dmarc_rua_consents(const char *const *txt, const size_t *len, size_t n);

/*
 * The report mail to `to`: From `from`, Subject "Report Domain: D Submitter: S Report-ID:
 * <ID>", a short text part and the gzipped XML gz[0..gz_len) as application/gzip, base64.
 * now gives the Date field.
 */
void dmarc_agg_mail(const struct dmarc_agg_meta *m, const char *domain, const char *from,
                    const char *to, const unsigned char *gz, size_t gz_len, int64_t now,
                    struct str *out);

#endif
