/* tsig — RFC 8945 transaction signatures. See tsig.h. */
#include "dns/xfr/tsig.h"

#include "core/err.h"
#include "dns/rr.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>
#include <strings.h>

struct tsig_alg {
    const char *name; /* presentation form, without the final dot */
    const char *md;
    size_t mac_len;
};

static const struct tsig_alg algs[] = {
    {"hmac-sha256", "SHA256", 32}, {"hmac-sha1", "SHA1", 20},     {"hmac-sha224", "SHA224", 28},
    {"hmac-sha384", "SHA384", 48}, {"hmac-sha512", "SHA512", 64},
};

/* ---- keys ---- */

int dns_tsig_key_init(struct dns_tsig_key *k, const char *name_text, const char *alg_text,
                      const uint8_t *secret, size_t secret_len, const char **err_out)
{
    memset(k, 0, sizeof *k);
    const struct tsig_alg *a = NULL;
    if (!alg_text)
        alg_text = "hmac-sha256";
    size_t al = strlen(alg_text);
    if (al && alg_text[al - 1] == '.')
        al--;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strlen(algs[i].name) == al && !strncasecmp(algs[i].name, alg_text, al))
            a = &algs[i];
    if (!a) {
        *err_out = "unknown TSIG algorithm (hmac-sha256, hmac-sha1, -sha224, -sha384, -sha512)";
        return ERR_PARSE;
    }
    if (secret_len == 0 || secret_len > DNS_TSIG_SECRET_MAX) {
        *err_out = "TSIG secret empty or longer than 128 bytes";
        return ERR_RANGE;
    }
    size_t n;
    if (dns_name_from_text(name_text, strlen(name_text), (const uint8_t *)"", k->name, &n,
                           err_out) != 0)
        return ERR_PARSE;
    dns_name_lower(k->name);
    const char *why;
    dns_name_from_text(a->name, strlen(a->name), (const uint8_t *)"", k->alg, &n, &why);
    k->md = a->md;
    k->mac_len = a->mac_len;
    memcpy(k->secret, secret, secret_len);
    k->secret_len = secret_len;
    return 0;
}

const struct dns_tsig_key *dns_tsig_key_find(const struct dns_tsig_key *keys, size_t n,
                                             const uint8_t *name)
{
    for (size_t i = 0; i < n; i++)
        if (dns_name_eq(keys[i].name, name))
            return &keys[i];
    return NULL;
}

size_t dns_tsig_rr_size(const struct dns_tsig_key *k, size_t other_len)
{
    return dns_name_len(k->name) + 10 + dns_name_len(k->alg) + 16 + k->mac_len + other_len;
}

/* ---- records ---- */

int dns_tsig_rr_parse(const struct dns_rr *rr, struct dns_tsig_rr *out)
{
    memset(out, 0, sizeof *out);
    size_t alen;
    if (dns_name_check(rr->rdata, rr->rdlen, &alen) != 0)
        return ERR_PARSE;
    struct dns_buf b;
    dns_buf_init_read(&b, rr->rdata, rr->rdlen);
    b.pos = alen;
    out->key_name = rr->owner;
    out->alg = rr->rdata;
    uint64_t hi = dns_buf_get_u16(&b);
    out->time = hi << 32 | dns_buf_get_u32(&b);
    out->fudge = dns_buf_get_u16(&b);
    out->mac_len = dns_buf_get_u16(&b);
    out->mac = dns_buf_get_ptr(&b, out->mac_len);
    out->orig_id = dns_buf_get_u16(&b);
    out->error = dns_buf_get_u16(&b);
    out->other_len = dns_buf_get_u16(&b);
    out->other = dns_buf_get_ptr(&b, out->other_len);
    if (b.err || b.pos != b.lim)
        return ERR_PARSE;
    return 0;
}

/* ---- HMAC ---- */

static EVP_MAC_CTX *hmac_new(const struct dns_tsig_key *k)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (!ctx)
        return NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)k->md, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(ctx, k->secret, k->secret_len, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void hmac_u16(EVP_MAC_CTX *ctx, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    EVP_MAC_update(ctx, b, 2);
}

static void hmac_time(EVP_MAC_CTX *ctx, uint64_t t, uint16_t fudge)
{
    uint8_t b[8] = {(uint8_t)(t >> 40),    (uint8_t)(t >> 32), (uint8_t)(t >> 24),
                    (uint8_t)(t >> 16),    (uint8_t)(t >> 8),  (uint8_t)t,
                    (uint8_t)(fudge >> 8), (uint8_t)fudge};
    EVP_MAC_update(ctx, b, 8);
}

static void hmac_name(EVP_MAC_CTX *ctx, const uint8_t *name)
{
    uint8_t low[DNS_NAME_MAXLEN];
    size_t n = dns_name_copy(low, name);
    dns_name_lower(low); /* RFC 8945 §4.3.3: canonical wire format */
    EVP_MAC_update(ctx, low, n);
}

/* The TSIG variables of RFC 8945 §4.3.3 (or only the timers, §4.3.1 for later messages). */
static void hmac_vars(EVP_MAC_CTX *ctx, const uint8_t *key_name, const uint8_t *alg,
                      const struct dns_tsig_rr *v, bool timers_only)
{
    if (timers_only) {
        hmac_time(ctx, v->time, v->fudge);
        return;
    }
    hmac_name(ctx, key_name);
    hmac_u16(ctx, DNS_CLASS_ANY);
    hmac_u16(ctx, 0); /* TTL, 32 bits */
    hmac_u16(ctx, 0);
    hmac_name(ctx, alg);
    hmac_time(ctx, v->time, v->fudge);
    hmac_u16(ctx, v->error);
    hmac_u16(ctx, v->other_len);
    if (v->other_len)
        EVP_MAC_update(ctx, v->other, v->other_len);
}

static void hmac_prior(EVP_MAC_CTX *ctx, const uint8_t *mac, size_t len)
{
    if (!mac)
        return;
    hmac_u16(ctx, (uint16_t)len);
    if (len)
        EVP_MAC_update(ctx, mac, len);
}

/* The message as it was before its TSIG was added: ID restored, ARCOUNT decremented. */
static void hmac_unsigned_msg(EVP_MAC_CTX *ctx, const uint8_t *pkt, size_t tsig_off,
                              uint16_t orig_id)
{
    uint8_t h[DNS_HEADER_LEN];
    memcpy(h, pkt, DNS_HEADER_LEN);
    h[0] = (uint8_t)(orig_id >> 8);
    h[1] = (uint8_t)orig_id;
    uint16_t ar = (uint16_t)(h[10] << 8 | h[11]);
    ar--;
    h[10] = (uint8_t)(ar >> 8);
    h[11] = (uint8_t)ar;
    EVP_MAC_update(ctx, h, DNS_HEADER_LEN);
    EVP_MAC_update(ctx, pkt + DNS_HEADER_LEN, tsig_off - DNS_HEADER_LEN);
}

static int hmac_final(EVP_MAC_CTX *ctx, uint8_t *out, size_t *len)
{
    int ok = EVP_MAC_final(ctx, out, len, DNS_TSIG_MAC_MAX);
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : ERR_AUTH;
}

/* ---- signing ---- */

int dns_tsig_sign(uint8_t *msg, size_t *len, size_t cap, const struct dns_tsig_sign_args *a,
                  uint8_t *mac_out, size_t *mac_len_out)
{
    const struct dns_tsig_key *k = a->key;
    const uint8_t *kname = a->unsigned_ ? a->key_name : k->name;
    const uint8_t *alg = a->unsigned_ ? a->alg : k->alg;
    struct dns_tsig_rr v = {.time = a->time,
                            .fudge = a->fudge ? a->fudge : DNS_TSIG_FUDGE,
                            .error = a->error,
                            .other_len = a->other_len,
                            .other = a->other};
    uint8_t mac[DNS_TSIG_MAC_MAX];
    size_t mac_len = 0;
    if (!a->unsigned_) {
        EVP_MAC_CTX *ctx = hmac_new(k);
        if (!ctx)
            return ERR_AUTH;
        hmac_prior(ctx, a->prior_mac, a->prior_len);
        EVP_MAC_update(ctx, msg, *len);
        hmac_vars(ctx, kname, alg, &v, a->timers_only);
        if (hmac_final(ctx, mac, &mac_len) != 0)
            return ERR_AUTH;
    }
    size_t need = dns_name_len(kname) + 10 + dns_name_len(alg) + 16 + mac_len + a->other_len;
    if (*len + need > cap || *len < DNS_HEADER_LEN)
        return ERR_LIMIT;
    struct dns_buf b;
    dns_buf_init_write(&b, msg, cap);
    b.pos = *len;
    dns_buf_put_bytes(&b, kname, dns_name_len(kname));
    dns_buf_put_u16(&b, DNS_TYPE_TSIG);
    dns_buf_put_u16(&b, DNS_CLASS_ANY);
    dns_buf_put_u32(&b, 0);
    dns_buf_put_u16(&b, (uint16_t)(need - dns_name_len(kname) - 10));
    dns_buf_put_bytes(&b, alg, dns_name_len(alg));
    dns_buf_put_u16(&b, (uint16_t)(v.time >> 32));
    dns_buf_put_u32(&b, (uint32_t)v.time);
    dns_buf_put_u16(&b, v.fudge);
    dns_buf_put_u16(&b, (uint16_t)mac_len);
    dns_buf_put_bytes(&b, mac, mac_len);
    dns_buf_put_bytes(&b, msg, 2); /* Original ID: the message's own */
    dns_buf_put_u16(&b, v.error);
    dns_buf_put_u16(&b, v.other_len);
    dns_buf_put_bytes(&b, v.other, v.other_len);
    if (b.err)
        return ERR_LIMIT;
    uint16_t ar = (uint16_t)(msg[10] << 8 | msg[11]);
    ar++;
    msg[10] = (uint8_t)(ar >> 8);
    msg[11] = (uint8_t)ar;
    *len = b.pos;
    if (mac_out)
        memcpy(mac_out, mac, mac_len);
    if (mac_len_out)
        *mac_len_out = mac_len;
    return 0;
}

/* ---- verifying ---- */

/* RFC 8945 §5.2.2.1: a MAC shorter than max(10, half the full size) is malformed; a
 * truncated one we do not accept. */
static unsigned check_mac_len(const struct dns_tsig_key *k, size_t got)
{
    if (got > k->mac_len || got < 10 || got < k->mac_len / 2)
        return DNS_TSIG_FORMERR;
    return got == k->mac_len ? DNS_TSIG_OK : DNS_TSIG_BADTRUNC;
}

static bool time_ok(uint64_t now, const struct dns_tsig_rr *v)
{
    uint64_t d = now > v->time ? now - v->time : v->time - now;
    return d <= v->fudge;
}

int dns_tsig_verify(const uint8_t *pkt, size_t len, const struct dns_msg *m,
                    const struct dns_tsig_key *keys, size_t n, uint64_t now,
                    const uint8_t *prior_mac, size_t prior_len, struct dns_tsig_result *res)
{
    memset(res, 0, sizeof *res);
    res->error = DNS_TSIG_FORMERR;
    if (!m->tsig || m->tsig_off < DNS_HEADER_LEN || m->tsig_off > len ||
        dns_tsig_rr_parse(m->tsig, &res->rr) != 0)
        return ERR_AUTH;
    const struct dns_tsig_rr *v = &res->rr;
    const struct dns_tsig_key *k = dns_tsig_key_find(keys, n, v->key_name);
    if (!k || !dns_name_eq(k->alg, v->alg)) {
        res->error = DNS_TSIG_BADKEY;
        return ERR_AUTH;
    }
    res->key = k;
    res->error = check_mac_len(k, v->mac_len);
    if (res->error != DNS_TSIG_OK && res->error != DNS_TSIG_BADTRUNC)
        return ERR_AUTH;
    EVP_MAC_CTX *ctx = hmac_new(k);
    if (!ctx) {
        res->error = DNS_TSIG_BADSIG;
        return ERR_AUTH;
    }
    hmac_prior(ctx, prior_mac, prior_len);
    hmac_unsigned_msg(ctx, pkt, m->tsig_off, v->orig_id);
    hmac_vars(ctx, v->key_name, v->alg, v, false);
    uint8_t mac[DNS_TSIG_MAC_MAX];
    size_t ml = 0;
    if (hmac_final(ctx, mac, &ml) != 0 || CRYPTO_memcmp(mac, v->mac, v->mac_len) != 0) {
        res->error = DNS_TSIG_BADSIG;
        return ERR_AUTH;
    }
    if (res->error == DNS_TSIG_BADTRUNC)
        return ERR_AUTH;
    memcpy(res->mac, v->mac, v->mac_len);
    res->mac_len = v->mac_len;
    if (!time_ok(now, v)) { /* RFC 8945 §5.2.3: checked after the MAC */
        res->error = DNS_TSIG_BADTIME;
        return ERR_AUTH;
    }
    res->error = DNS_TSIG_OK;
    return 0;
}

/* ---- streams ---- */

void dns_tsig_stream_init(struct dns_tsig_stream *st, const struct dns_tsig_key *key,
                          const uint8_t *req_mac, size_t req_mac_len)
{
    memset(st, 0, sizeof *st);
    st->key = key;
    memcpy(st->prior, req_mac, req_mac_len);
    st->prior_len = req_mac_len;
}

void dns_tsig_stream_clear(struct dns_tsig_stream *st)
{
    if (st->ctx)
        EVP_MAC_CTX_free(st->ctx);
    st->ctx = NULL;
}

bool dns_tsig_stream_complete(const struct dns_tsig_stream *st)
{
    return st->nmsg > 0 && st->unsigned_run == 0;
}

/* A later signed message: prior MAC + unsigned messages (already in ctx) + this one + timers. */
static int stream_signed(struct dns_tsig_stream *st, const uint8_t *pkt, const struct dns_msg *m,
                         uint64_t now)
{
    struct dns_tsig_rr v;
    if (dns_tsig_rr_parse(m->tsig, &v) != 0 || !dns_name_eq(v.key_name, st->key->name) ||
        v.mac_len != st->key->mac_len || v.error != 0)
        return ERR_AUTH;
    hmac_unsigned_msg(st->ctx, pkt, m->tsig_off, v.orig_id);
    hmac_vars(st->ctx, NULL, NULL, &v, true);
    uint8_t mac[DNS_TSIG_MAC_MAX];
    size_t ml = 0;
    int rc = hmac_final(st->ctx, mac, &ml);
    st->ctx = NULL;
    if (rc != 0 || CRYPTO_memcmp(mac, v.mac, v.mac_len) != 0 || !time_ok(now, &v))
        return ERR_AUTH;
    memcpy(st->prior, v.mac, v.mac_len);
    st->prior_len = v.mac_len;
    return 0;
}

int dns_tsig_stream_feed(struct dns_tsig_stream *st, const uint8_t *pkt, size_t len,
                         const struct dns_msg *m, uint64_t now)
{
    int rc;
    if (st->nmsg++ == 0) {
        struct dns_tsig_result res;
        if (!m->tsig)
            return ERR_AUTH;
        rc = dns_tsig_verify(pkt, len, m, st->key, 1, now, st->prior, st->prior_len, &res);
        if (rc != 0 || res.rr.error != 0)
            return ERR_AUTH;
        memcpy(st->prior, res.mac, res.mac_len);
        st->prior_len = res.mac_len;
    } else {
        if (!st->ctx) {
            st->ctx = hmac_new(st->key);
            if (!st->ctx)
                return ERR_AUTH;
            hmac_prior(st->ctx, st->prior, st->prior_len);
        }
        if (!m->tsig) {
            if (++st->unsigned_run > 99) /* RFC 8945 §5.3.1 */
                return ERR_AUTH;
            EVP_MAC_update(st->ctx, pkt, len);
            return 0;
        }
        if (stream_signed(st, pkt, m, now) != 0)
            return ERR_AUTH;
    }
    st->unsigned_run = 0;
    return 0;
}
