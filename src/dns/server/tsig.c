/* tsig — signing the answers to signed requests (RFC 8945 §5.2-5.3). See server.h. */
#include "dns/server/server.h"

#include <string.h>

int dns_server_tsig_answer(const struct dns_tsig_result *res, uint64_t now, uint8_t *out,
                           size_t *len, size_t cap)
{
    struct dns_tsig_sign_args a = {
        .key = res->key, .time = now, .fudge = res->rr.fudge, .error = (uint16_t)res->error};
    uint8_t now6[6];
    if (res->error == DNS_TSIG_BADKEY || res->error == DNS_TSIG_BADSIG ||
        res->error == DNS_TSIG_BADTRUNC || !res->key) {
        a.unsigned_ = true; /* RFC 8945 §5.2.2: the error answer carries no MAC */
        a.key_name = res->rr.key_name;
        a.alg = res->rr.alg;
    } else {
        a.prior_mac = res->mac;
        a.prior_len = res->mac_len;
        if (res->error == DNS_TSIG_BADTIME) { /* §5.2.3: our time in Other Data */
            for (int i = 0; i < 6; i++)
                now6[i] = (uint8_t)(now >> (40 - 8 * i));
            a.other = now6;
            a.other_len = 6;
            a.time = res->rr.time;
        }
    }
    return dns_tsig_sign(out, len, cap, &a, NULL, NULL);
}

void dns_tsig_reply_init(struct dns_tsig_reply *r, const struct dns_tsig_result *res)
{
    memset(r, 0, sizeof *r);
    if (!res || !res->key || res->error != DNS_TSIG_OK)
        return;
    r->key = res->key;
    memcpy(r->mac, res->mac, res->mac_len);
    r->mac_len = res->mac_len;
    r->fudge = res->rr.fudge;
}

int dns_tsig_reply_sign(struct dns_tsig_reply *r, uint64_t now, uint8_t *out, size_t *len,
                        size_t cap)
{
    if (!r->key)
        return 0;
    struct dns_tsig_sign_args a = {.key = r->key,
                                   .time = now,
                                   .fudge = r->fudge,
                                   .prior_mac = r->mac,
                                   .prior_len = r->mac_len,
                                   .timers_only = r->nsigned > 0};
    int rc = dns_tsig_sign(out, len, cap, &a, r->mac, &r->mac_len);
    if (rc == 0)
        r->nsigned++;
    return rc;
}
