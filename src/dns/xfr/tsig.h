/*
 * tsig — transaction signatures (RFC 8945) over DNS messages in wire form: HMAC-SHA256 (and
 * the other HMAC-SHA2 / SHA1 algorithms of RFC 8945 §6) through OpenSSL's EVP_MAC.
 *
 * Signing appends a TSIG record to a finished message (its ARCOUNT is incremented in place).
 * Verifying recomputes the MAC over the message as it was before signing (TSIG removed,
 * ARCOUNT decremented, the original ID put back, RFC 8945 §4.3) and checks the time window
 * after the MAC (§5.2.3). A stream (the messages of one zone transfer) is verified with
 * struct dns_tsig_stream, which accepts up to 99 unsigned messages between signed ones
 * (§5.3.1); we sign every message we send ourselves.
 *
 * Pure: the clock is passed in, keys are the caller's; no I/O, no globals.
 */
#ifndef PIGEON_DNS_XFR_TSIG_H
#define PIGEON_DNS_XFR_TSIG_H

#include "dns/name.h"
#include "dns/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_TSIG_MAC_MAX 64
#define DNS_TSIG_SECRET_MAX 128
#define DNS_TSIG_FUDGE 300 /* RFC 8945 §10: 300 seconds recommended */

/* TSIG errors (the TSIG record's Error field, RFC 8945 §3). */
enum dns_tsig_error {
    DNS_TSIG_OK = 0,
    DNS_TSIG_BADSIG = 16,
    DNS_TSIG_BADKEY = 17,
    DNS_TSIG_BADTIME = 18,
    DNS_TSIG_BADTRUNC = 22,
    DNS_TSIG_FORMERR = 1, /* not a TSIG error: the record is malformed (answer FORMERR) */
};

struct dns_tsig_key {
    uint8_t name[DNS_NAME_MAXLEN]; /* lower-cased wire form */
    uint8_t alg[DNS_NAME_MAXLEN];  /* algorithm name, wire form ("hmac-sha256.") */
    const char *md;                /* OpenSSL digest name (static) */
    size_t mac_len;                /* full MAC size */
    uint8_t secret[DNS_TSIG_SECRET_MAX];
    size_t secret_len;
};

/* The fields of a TSIG record; pointers borrow the record's rdata. */
struct dns_tsig_rr {
    const uint8_t *key_name;
    const uint8_t *alg;
    uint64_t time;
    uint16_t fudge;
    uint16_t mac_len;
    const uint8_t *mac;
    uint16_t orig_id;
    uint16_t error;
    uint16_t other_len;
    const uint8_t *other;
};

/* ---- keys ---- */

/*
 * Fills k for the key named name_text ("transfer-key", "key1.example.") with algorithm
 * alg_text (NULL or "hmac-sha256"; also hmac-sha1, -sha224, -sha384, -sha512) and the raw
 * secret. 0, or ERR_PARSE / ERR_RANGE with a static reason in *err_out.
 */
int dns_tsig_key_init(struct dns_tsig_key *k, const char *name_text, const char *alg_text,
                      const uint8_t *secret, size_t secret_len, const char **err_out);
/* The key in keys[0..n) with this name (any case), or NULL. */
const struct dns_tsig_key *dns_tsig_key_find(const struct dns_tsig_key *keys, size_t n,
                                             const uint8_t *name);
/* Bytes the TSIG record of key needs (with other_len bytes of other data). */
size_t dns_tsig_rr_size(const struct dns_tsig_key *k, size_t other_len);

/* ---- records ---- */

/* Parses rr (type TSIG) into out. 0, or ERR_PARSE when the rdata is malformed. */
int dns_tsig_rr_parse(const struct dns_rr *rr, struct dns_tsig_rr *out);

/* ---- signing ---- */

struct dns_tsig_sign_args {
    const struct dns_tsig_key *key;
    uint64_t time;        /* Time Signed (seconds since the epoch) */
    uint16_t fudge;       /* 0 means DNS_TSIG_FUDGE */
    uint16_t error;       /* enum dns_tsig_error */
    const uint8_t *other; /* Other Data (BADTIME: our time, 6 bytes) */
    uint16_t other_len;
    const uint8_t *prior_mac; /* request MAC (a response) or the previous message's MAC */
    size_t prior_len;
    bool timers_only;        /* a later message of a stream (RFC 8945 §5.3.1) */
    bool unsigned_;          /* BADKEY/BADSIG answers: empty MAC (RFC 8945 §5.2.2) */
    const uint8_t *key_name; /* with unsigned_: names copied from the request */
    const uint8_t *alg;
};

/*
 * Appends a TSIG record to the message msg[0..*len) (room up to cap), incrementing ARCOUNT.
 * *len gets the new length; mac_out (DNS_TSIG_MAC_MAX bytes, may be NULL) the MAC.
 * 0, or ERR_LIMIT when it does not fit (message unchanged), ERR_AUTH when the MAC failed.
 */
int dns_tsig_sign(uint8_t *msg, size_t *len, size_t cap, const struct dns_tsig_sign_args *a,
                  uint8_t *mac_out, size_t *mac_len_out);

/* ---- verifying ---- */

struct dns_tsig_result {
    unsigned error;                 /* enum dns_tsig_error; 0 = valid */
    const struct dns_tsig_key *key; /* the key used, when known */
    struct dns_tsig_rr rr;          /* the message's TSIG fields */
    uint8_t mac[DNS_TSIG_MAC_MAX];  /* its MAC (to sign the answer with) */
    size_t mac_len;
};

/*
 * Verifies the TSIG of the parsed message m (pkt[0..len), m->tsig set) against keys[0..n)
 * at time now. prior_mac: the request MAC when m is a response. 0 when valid, else ERR_AUTH
 * with res->error saying why (BADKEY, BADSIG, BADTIME, BADTRUNC, or DNS_TSIG_FORMERR).
 */
int dns_tsig_verify(const uint8_t *pkt, size_t len, const struct dns_msg *m,
                    const struct dns_tsig_key *keys, size_t n, uint64_t now,
                    const uint8_t *prior_mac, size_t prior_len, struct dns_tsig_result *res);

/* The responses to one signed request, possibly several messages (a zone transfer). */
struct dns_tsig_stream {
    const struct dns_tsig_key *key;
    void *ctx; /* running MAC over unsigned messages (EVP_MAC_CTX) */
    uint8_t prior[DNS_TSIG_MAC_MAX];
    size_t prior_len;
    unsigned nmsg;         /* messages seen */
    unsigned unsigned_run; /* unsigned messages since the last signed one */
};

/* Starts verifying the answers to a request signed with key whose MAC was req_mac. */
void dns_tsig_stream_init(struct dns_tsig_stream *st, const struct dns_tsig_key *key,
                          const uint8_t *req_mac, size_t req_mac_len);
/* One more response. 0, or ERR_AUTH (first message unsigned, bad MAC, wrong key, time, more
 * than 99 unsigned messages in a row). */
int dns_tsig_stream_feed(struct dns_tsig_stream *st, const uint8_t *pkt, size_t len,
                         const struct dns_msg *m, uint64_t now);
/* True when the last message fed was signed (a stream must end with one). */
bool dns_tsig_stream_complete(const struct dns_tsig_stream *st);
void dns_tsig_stream_clear(struct dns_tsig_stream *st);

#endif
