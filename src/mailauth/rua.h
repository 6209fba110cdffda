/*
 * rua — aggregate reports received for a domain's rua= addresses: DMARC aggregate reports
 * (RFC 7489 §7.2 and Appendix C; DMARCbis' namespace too) and SMTP TLS reports (RFC 8460 §4).
 *
 * rua_mail.c finds the reports in a message (every application/ or text/xml leaf part,
 * transfer-decoded; gzip through zlib, zip through libarchive, or plain), rua_dmarc.c reads
 * the XML with libxml2 (no DTD, no network, no entity expansion), rua_tlsrpt.c the JSON with
 * jansson; both write one normalised JSON document per report (the form kept in the store and
 * shown by rua_show.c). Every size is limited: RUA_MAX_SIZE decompressed octets per attachment (libxml2 builds a tree of the whole XML),
 * RUA_MAX_RECORDS rows or failure details, RUA_MAX_FIELD octets per string.
 *
 * Pure: memory in, memory out; no I/O, no clock, no globals of ours (libxml2 keeps its own,
 * so rua_init must run once before threads parse). Memory: every char * of a report is
 * malloc'd and freed by rua_report_clear.
 */
#ifndef PIGEON_MAILAUTH_RUA_H
#define PIGEON_MAILAUTH_RUA_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

enum rua_kind { RUA_DMARC, RUA_TLSRPT };

#define RUA_MAX_SIZE (8u << 20)  /* the reports of one attachment, decompressed */
#define RUA_MAX_RECORDS 100000   /* DMARC records, TLS-RPT policies + failure details */
#define RUA_MAX_FIELD 1024       /* one string field (longer ones are cut) */
#define RUA_MAX_PER_MSG 8        /* reports taken from one message */

struct rua_report {
    enum rua_kind kind;
    char *org;          /* org_name / organization-name */
    char *report_id;    /* report_id / report-id */
    char *domain;       /* policy_published domain / the first policy-domain */
    int64_t begin, end; /* the date range, unix seconds */
    char *json;         /* the normalised report (see rua_show.c for its members) */
};

/* libxml2's one-time set-up; call once on the main thread before any parse. */
void rua_init(void);

/*
 * Every report found in msg[0..len) (a whole RFC 5322 message) into out[0..max). Returns how
 * many were parsed; *refused_out counts the parts that looked like a report (compressed, XML or
 * JSON) but could not be read, with the first reason in *err_out (static text). Never blocks
 * beyond the CPU time of decompressing and parsing (bounded by the limits above).
 */
size_t rua_parse_message(const char *msg, size_t len, struct rua_report *out, size_t max,
                         size_t *refused_out, const char **err_out);

/* One decompressed report document: XML → DMARC, JSON → TLS-RPT, by its first non-blank
 * octet. 0, or ERR_PARSE with *err_out. Fills *out (rua_report_clear it either way). */
int rua_parse_document(const char *doc, size_t len, struct rua_report *out, const char **err_out);
int rua_parse_dmarc(const char *xml, size_t len, struct rua_report *out, const char **err_out);
int rua_parse_tlsrpt(const char *json, size_t len, struct rua_report *out, const char **err_out);

/* The decompressed payload(s) of one attachment: gzip, zip (every regular file, at most
 * RUA_MAX_PER_MSG) or as is, RUA_MAX_SIZE octets at most in all. Returns the count
 * appended to docs[0..max) (str each, caller clears), or ERR_PARSE / ERR_LIMIT with *err_out. */
int rua_unpack(const unsigned char *data, size_t len, struct str *docs, size_t max,
               const char **err_out);

void rua_report_clear(struct rua_report *r);

/*
 * The text `pigeon dmarc report --received` / `pigeon tlsrpt report --received` prints for one
 * stored report (its normalised JSON): DMARC — the policy and one line per source IP with the
 * count, disposition, DKIM/SPF results and the authentication results; TLS-RPT — per policy
 * the success and failure counts and each failure type. 0, or ERR_PARSE for a JSON text that
 * is not one of ours.
 */
int rua_show(enum rua_kind kind, const char *json, size_t len, struct str *out);

const char *rua_kind_name(enum rua_kind k);

#endif
