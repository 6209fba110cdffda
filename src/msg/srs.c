/* srs — see srs.h. */
#include "msg/srs.h"

#include "msg/base64.h"

#include "core/err.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void srs_day(int64_t now, char tt[3])
{
    unsigned day = (unsigned)((now / 86400) % 1024);
    tt[0] = b32[day >> 5];
    tt[1] = b32[day & 31];
    tt[2] = '\0';
}

/* HHHH of (tt, domain, local), compared case-insensitively later, so hashed lower-cased. */
static void srs_hash(const void *secret, size_t secret_len, const char *tt, const char *domain,
                     size_t dlen, const char *local, size_t llen, char hash[5])
{
    char data[600];
    int n = snprintf(data, sizeof data, "%s%.*s%.*s", tt, (int)dlen, domain, (int)llen, local);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof data ? (size_t)n : sizeof data - 1;
    for (size_t i = 0; i < len; i++)
        data[i] = (char)((data[i] >= 'A' && data[i] <= 'Z') ? data[i] + 32 : data[i]);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    HMAC(EVP_sha1(), secret, (int)secret_len, (const unsigned char *)data, len, mac, &mac_len);
    char b64[64];
    base64_encode(mac, mac_len, b64);
    memcpy(hash, b64, 4);
    hash[4] = '\0';
}

int srs_forward(const void *secret, size_t secret_len, int64_t now, const char *sender,
                const char *srs_domain, char *out, size_t cap)
{
    const char *at = strrchr(sender, '@');
    if (!at || at == sender || !at[1])
        return ERR_PARSE;
    char tt[3], hash[5];
    srs_day(now, tt);
    size_t llen = (size_t)(at - sender);
    srs_hash(secret, secret_len, tt, at + 1, strlen(at + 1), sender, llen, hash);
    int n = snprintf(out, cap, "SRS0=%s=%s=%s=%.*s@%s", hash, tt, at + 1, (int)llen, sender,
                     srs_domain);
    return n < 0 || (size_t)n >= cap ? ERR_RANGE : 0;
}

/* Days between the stamp tt and today, modulo 1024; -1 when tt is not two base32 digits. */
static int srs_age(const char *tt, int64_t now)
{
    int v[2];
    for (int i = 0; i < 2; i++) {
        const char *p = strchr(b32, tt[i] >= 'a' && tt[i] <= 'z' ? tt[i] - 32 : tt[i]);
        if (!p || !tt[i])
            return -1;
        v[i] = (int)(p - b32);
    }
    int stamp = v[0] << 5 | v[1];
    int today = (int)((now / 86400) % 1024);
    return (today - stamp + 1024) % 1024;
}

int srs_reverse(const void *secret, size_t secret_len, int64_t now, const char *local, char *out,
                size_t cap)
{
    /* SRS0=HHHH=TT=domain=local; the local part itself may hold '='. */
    if (strncasecmp(local, "SRS0=", 5) != 0)
        return ERR_NOTFOUND;
    const char *h = local + 5, *t = strchr(h, '=');
    const char *d = t ? strchr(t + 1, '=') : NULL;
    const char *l = d ? strchr(d + 1, '=') : NULL;
    if (!l || t - h != 4 || d - t != 3 || l == d + 1 || !l[1])
        return ERR_AUTH;
    char tt[3] = {t[1], t[2], '\0'}, want[5];
    int age = srs_age(tt, now);
    if (age < 0 || age > SRS_MAX_AGE_DAYS)
        return ERR_AUTH;
    srs_hash(secret, secret_len, tt, d + 1, (size_t)(l - d - 1), l + 1, strlen(l + 1), want);
    if (strncasecmp(want, h, 4) != 0)
        return ERR_AUTH;
    int n = snprintf(out, cap, "%s@%.*s", l + 1, (int)(l - d - 1), d + 1);
    return n < 0 || (size_t)n >= cap ? ERR_RANGE : 0;
}
