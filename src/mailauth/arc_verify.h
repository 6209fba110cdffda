/*
 * arc_verify — the ARC chain of a received message verified (RFC 8617 §5.2) with the key
 * records looked up in parallel over the DNS stub, and what a trusted sealer says about it
 * (§7.2: a receiver may let a trusted intermediary's results override a DMARC failure).
 *
 * No sockets of its own: the stub's loop runs the callback. msg must stay valid until the
 * callback or arc_verify_cancel; the result is valid during the callback only.
 */
#ifndef PIGEON_MAILAUTH_ARC_VERIFY_H
#define PIGEON_MAILAUTH_ARC_VERIFY_H

#include "mailauth/arc.h"

#include <stdbool.h>
#include <stddef.h>

struct dns_stub;
struct arc_verify;

struct arc_verify_result {
    enum arc_cv result; /* NONE: no ARC field; PASS; FAIL (why) */
    bool temperror;     /* FAIL because a key look-up failed temporarily */
    const char *why;
    unsigned n;             /* sets in the chain */
    char sealer[254];       /* d= of the newest ARC-Seal ("" when there is none) */
    char trusted_by[254];   /* a trusted sealer whose ARC-Authentication-Results say
                             * dmarc=pass, on a passing chain; "" when none */
};

typedef void (*arc_verify_cb)(void *arg, const struct arc_verify_result *r);

/*
 * Starts verifying msg[0..len). trusted: sealer domains whose results are believed
 * (separated by spaces or commas; NULL or "" for none). Returns the job, or NULL when cb
 * already ran inside this call (no chain, or one broken without needing DNS).
 */
struct arc_verify *arc_verify_start(struct dns_stub *stub, const char *msg, size_t len,
                                    const char *trusted, arc_verify_cb cb, void *arg);
void arc_verify_cancel(struct arc_verify *v);

/* The trusted-sealer test on a verified chain, pure: the highest instance whose sealer is in
 * trusted and whose AAR says dmarc=pass, its d= into out (cap bytes); false when none. */
bool arc_trusted_pass(const struct mailauth_msg *m, const struct arc_chain *c,
                      const char *trusted, char *out, size_t cap);

#endif
