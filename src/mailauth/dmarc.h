/*
 * dmarc — Domain-based Message Authentication, Reporting and Conformance (RFC 7489, with the
 * alignment rules DMARCbis keeps): the policy record, the RFC5322.From domain, identifier
 * alignment and the evaluation of one message. Pure, no I/O: the record look-up over the DNS
 * stub is in mailauth/check.h.
 */
#ifndef PIGEON_MAILAUTH_DMARC_H
#define PIGEON_MAILAUTH_DMARC_H

#include "mailauth/canon.h"
#include "mailauth/verify.h"

#include <stdbool.h>
#include <stddef.h>

struct psl;

enum dmarc_policy { DMARC_POLICY_NONE, DMARC_POLICY_QUARANTINE, DMARC_POLICY_REJECT };
enum dmarc_result { DMARC_NONE, DMARC_PASS, DMARC_FAIL, DMARC_TEMPERROR, DMARC_PERMERROR };

const char *dmarc_result_name(enum dmarc_result r);
const char *dmarc_policy_name(enum dmarc_policy p);

struct dmarc_record {
    enum dmarc_policy p, sp;
    bool has_sp;
    bool adkim_strict, aspf_strict;
    unsigned pct;  /* 0..100 */
    char rua[512]; /* as published; aggregate reports are not sent yet */
};

/*
 * Parses a TXT record (§6.3-§6.4): v=DMARC1 first; p= required, except that a record with a
 * valid rua= and no p= is read as p=none (§6.6.3). 0 or ERR_PARSE with *err_out.
 */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *out,
                       const char **err_out);

/*
 * The domain of the message's author (§3.1.1, §6.6.1): exactly one From field holding
 * exactly one address. Lower case into out[0..cap). 0, or ERR_PARSE (none, several, or
 * no domain: the message cannot be evaluated).
 */
int dmarc_from_domain(const struct mailauth_msg *m, char *out, size_t cap);

/* §3.1: strict = equal names; relaxed = equal organisational domains. Case-insensitive. */
bool dmarc_aligned(const struct psl *psl, const char *a, const char *b, bool strict);

/* What the receiver knows about one message. */
struct dmarc_input {
    const char *from_domain;
    bool spf_pass;             /* SPF said pass ... */
    const char *spf_domain;    /* ... for this domain (MAIL FROM's, or HELO's for <>) */
    const struct dkim_verify_result *dkim;
    unsigned pct_roll;         /* uniform in 0..99, for pct= sampling */
};

struct dmarc_eval {
    enum dmarc_result result;
    enum dmarc_policy policy;      /* the published policy that applies (p or sp) */
    enum dmarc_policy disposition; /* what to do with a failing message after pct= */
    bool spf_aligned, dkim_aligned;
};

/*
 * Evaluates one message under rec, found at _dmarc.ORG when at_org (then sp= applies to a
 * From domain below ORG). rec NULL: no policy (result none).
 */
void dmarc_evaluate(const struct psl *psl, const struct dmarc_record *rec, bool at_org,
                    const struct dmarc_input *in, struct dmarc_eval *out);

#endif
