/*
 * arc — Authenticated Received Chain (RFC 8617): the ARC sets of a received message collected
 * and checked for structure (§5.2 steps 1-4), the newest ARC-Message-Signature and every
 * ARC-Seal verified against their key records (§5.2 steps 5-6), and a new ARC set sealed onto
 * a message Pigeon forwards (§5.1). The key records are the DKIM ones (SELECTOR._domainkey.D,
 * RFC 6376 §3.6.1); the DNS look-ups are done by arc_verify (mailauth/arc_verify.h).
 *
 * Pure: no I/O, no clock (the time is passed in), no globals. A chain points into the
 * caller's struct mailauth_msg, which must outlive it.
 */
#ifndef PIGEON_MAILAUTH_ARC_H
#define PIGEON_MAILAUTH_ARC_H

#include "core/str.h"
#include "mailauth/canon.h"
#include "mailauth/dkim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARC_MAX_SETS 50 /* §4.2.1: i= is 1..50 */

/* RFC 8617 §4.1.3 chain validation status, and the "arc" A-R method's results. */
enum arc_cv { ARC_CV_NONE, ARC_CV_PASS, ARC_CV_FAIL };
const char *arc_cv_name(enum arc_cv cv);

/* A parsed ARC-Seal (§4.1.3). */
struct arc_seal_sig {
    enum arc_cv cv;
    enum dkim_alg alg;
    char domain[254];
    char selector[254];
    unsigned char b[DKIM_MAX_SIG_BYTES];
    size_t b_len;
};

/* One ARC set: the indexes of its three fields in the message and their parsed forms. */
struct arc_set {
    size_t aar, ams, as;
    struct dkim_sig ams_sig;
    struct arc_seal_sig seal;
};

struct arc_chain {
    struct arc_set *sets; /* instance i at sets[i - 1]; malloc'd (arc_chain_clear) */
    unsigned n;           /* 0: the message has no ARC field */
    enum arc_cv result;   /* after collect: NONE (no chain), FAIL (why set), or PASS meaning
                           * "well-formed so far: the signatures remain to be checked" */
    const char *why;      /* static text for a failure */
    bool ended;           /* the newest ARC-Seal says cv=fail: no set may be added */
};

/* Parses an ARC-Seal value into out and its instance. 0, or ERR_PARSE with *err_out. */
int arc_seal_parse(const char *value, size_t len, struct arc_seal_sig *out, unsigned *instance,
                   const char **err_out);

/*
 * Collects the ARC sets of m (§5.2 steps 1-4): every ARC field parsed; each instance 1..N
 * exactly one AAR, AMS and AS; cv=none at i=1 and cv=pass above it; the newest cv=fail ends
 * the chain (fail). Fills out (free with arc_chain_clear).
 */
void arc_chain_collect(const struct mailauth_msg *m, struct arc_chain *out);
void arc_chain_clear(struct arc_chain *c);

/* The key record of selector/domain, as the DNS answered: the TXT strings (n 0 when there
 * was none) and the stub's status. Returns the parsed key, or NULL (*temp true for a
 * temporary failure). */
typedef const struct dkim_key *(*arc_key_fn)(void *ctx, const char *selector,
                                              const char *domain, bool *temp);

/*
 * The signatures of a collected, well-formed chain (§5.2 steps 5-6): the newest AMS (body
 * hash and header signature) and every AS from the newest down. Returns ARC_CV_PASS or
 * ARC_CV_FAIL (*why says which failed); *temp is set when a key look-up failed temporarily
 * (the result is then FAIL, reported as temperror by the caller).
 */
enum arc_cv arc_chain_verify(const struct mailauth_msg *m, const struct arc_chain *c,
                             arc_key_fn keys, void *ctx, bool *temp, const char **why);

/* True when the ARC-Authentication-Results value v holds "dmarc=pass" as one of its results
 * (what a trusted sealer saw, RFC 8617 §7.2). */
bool arc_aar_dmarc_pass(struct slice v);

/*
 * Seals msg[0..len) (the message as it will be sent on) with signer (RFC 8617 §5.1):
 * results is the A-R payload of our checks ("authserv-id; dkim=...", no field name, no final
 * CRLF); cv is what our verification of the incoming chain found (NONE when it had none).
 * Appends "ARC-Seal: ...\r\nARC-Message-Signature: ...\r\nARC-Authentication-Results: ...\r\n"
 * to out, to be put on top of the message. 0; ERR_RANGE when the chain already has 50 sets
 * or its newest seal says cv=fail (§5.1.2: the chain is over, nothing is added); ERR_PARSE
 * for a message that cannot be split; ERR_IO when signing fails.
 */
struct dkim_signer;
int arc_seal(const struct dkim_signer *signer, const char *msg, size_t len, const char *results,
             enum arc_cv cv, int64_t now, struct str *out);

#endif
