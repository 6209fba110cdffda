/*
 * check — what the MX role asks at the end of DATA: every DKIM signature verified, the ARC
 * chain verified and the DMARC policy of the author's domain looked up (_dmarc.FROM, then
 * _dmarc.ORGANISATIONAL), all at once over the DNS stub; then DMARC evaluated with the SPF
 * result the session already has, a failure overridden (disposition none) when a trusted ARC
 * sealer saw DMARC pass (RFC 8617 §7.2). authres.h turns the report into an
 * Authentication-Results field.
 *
 * No sockets of its own. msg must stay valid until the callback or mailauth_check_cancel; the
 * report is valid during the callback only.
 */
#ifndef PIGEON_MAILAUTH_CHECK_H
#define PIGEON_MAILAUTH_CHECK_H

#include "mailauth/arc_verify.h"
#include "mailauth/dmarc.h"
#include "mailauth/verify.h"

#include <stdbool.h>
#include <stdint.h>

struct dns_stub;
struct psl;
struct mailauth_check;

/* The SPF side, from the session's MAIL FROM check. */
struct mailauth_spf {
    const char *result;   /* RFC 8601 name ("pass", "fail", ...), NULL when SPF was not run */
    const char *mailfrom; /* reverse-path, "" for <> */
    const char *helo;
};

struct mailauth_report {
    struct dkim_verify_result dkim;
    char from_domain[254];          /* "" when the message has no single From address */
    enum dmarc_result dmarc;
    struct dmarc_eval eval;         /* meaningful when a record was found */
    struct dmarc_record rec;
    bool have_rec;
    char policy_domain[254];        /* where rec was found (From domain or organisational) */
    struct arc_verify_result arc;
    bool arc_override;              /* DMARC failed; arc.trusted_by vouched: disposition none */
};

typedef void (*mailauth_check_cb)(void *arg, const struct mailauth_report *r);

/*
 * Starts the checks of msg[0..len). pct_roll: uniform in 0..99 (pct= sampling); arc_trusted:
 * the ARC sealers whose results may override a DMARC failure (arc_verify.h; NULL: none).
 * Returns the job, or NULL when cb already ran inside the call (nothing needed DNS). psl is
 * borrowed.
 */
struct mailauth_check *mailauth_check_start(struct dns_stub *stub, const struct psl *psl,
                                            const char *msg, size_t len, int64_t now,
                                            const struct mailauth_spf *spf, unsigned pct_roll,
                                            const char *arc_trusted, mailauth_check_cb cb,
                                            void *arg);
void mailauth_check_cancel(struct mailauth_check *c);

/*
 * The DMARC record out of a TXT answer (§6.6.3): records not starting with "v=DMARC1" are
 * ignored; exactly one must remain and parse. true when rec was filled.
 */
bool mailauth_dmarc_pick(const char *const *txt, const size_t *len, size_t n,
                         struct dmarc_record *rec);

#endif
