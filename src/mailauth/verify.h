/*
 * verify — DKIM verification of a received message (RFC 6376 §6): every DKIM-Signature field
 * (at most DKIM_MAX_SIGS, the topmost first) is parsed and its body hash checked at once; the
 * key records are then looked up in parallel through the DNS stub (dns/resolver/stub.h) and
 * each signature gets its result.
 *
 * No sockets of its own: all I/O goes through the stub, whose loop runs the callback.
 * Memory: msg must stay valid and unchanged until the callback or dkim_verify_cancel; the
 * result is owned by the verifier and valid during the callback only.
 */
#ifndef PIGEON_MAILAUTH_VERIFY_H
#define PIGEON_MAILAUTH_VERIFY_H

#include "mailauth/dkim.h"

#include <stddef.h>
#include <stdint.h>

struct dns_stub;
struct dkim_verify;

struct dkim_sig_result {
    enum dkim_result result;
    enum dkim_alg alg;
    char domain[254];   /* d= ("" when the field could not be parsed) */
    char selector[254]; /* s= */
    char auid[320];     /* i= */
    char b_text[16];    /* first characters of b= */
    const char *why;    /* static text for a failure, NULL on pass */
};

struct dkim_verify_result {
    struct dkim_sig_result sig[DKIM_MAX_SIGS];
    size_t n; /* 0: the message carries no signature (result "none") */
};

typedef void (*dkim_verify_cb)(void *arg, const struct dkim_verify_result *r);

/*
 * Starts verifying msg[0..len) at time now (seconds since the epoch, for x=). Returns the
 * job, or NULL when cb has already run inside this call (no signature needed a look-up).
 * Otherwise cb runs later from the stub's loop, unless the job is cancelled first.
 */
struct dkim_verify *dkim_verify_start(struct dns_stub *stub, const char *msg, size_t len,
                                      int64_t now, dkim_verify_cb cb, void *arg);
void dkim_verify_cancel(struct dkim_verify *v);

/*
 * The pure halves, for tests and the fuzzer. prepare parses every signature of m and checks
 * bodies: r->sig[i].result is DKIM_NONE for a signature that still needs its key; fields[i]
 * gets the index in m of signature i. finish completes signature i with the TXT strings of
 * its key record (n 0 with status the stub's NXDOMAIN/NODATA/TEMPFAIL code).
 */
void dkim_verify_prepare(const struct mailauth_msg *m, int64_t now,
                         struct dkim_verify_result *r, struct dkim_sig *sigs, size_t *fields);
void dkim_verify_finish(const struct mailauth_msg *m, const struct dkim_sig *sig, size_t field,
                        int status, const char *const *txt, const size_t *txt_len, size_t n,
                        struct dkim_sig_result *out);

#endif
