/* urlauth — see urlauth.h. */
#include "imap/urlauth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>

void imap_urlauth_token(const unsigned char key[IMAP_URLAUTH_KEY_LEN], const char *rump, size_t n,
                        char out[IMAP_URLAUTH_TOKEN_HEX + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, IMAP_URLAUTH_KEY_LEN, (const unsigned char *)rump, n, mac, &len);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len && i * 2 < IMAP_URLAUTH_TOKEN_HEX; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[IMAP_URLAUTH_TOKEN_HEX] = '\0';
    OPENSSL_cleanse(mac, sizeof mac);
}

bool imap_urlauth_token_ok(const struct imap_url *u, const char *raw,
                           const unsigned char key[IMAP_URLAUTH_KEY_LEN])
{
    if (u->token.len != IMAP_URLAUTH_TOKEN_HEX || !u->mech.len ||
        strcasecmp(str_cstr(&u->mech), "INTERNAL") != 0)
        return false;
    char want[IMAP_URLAUTH_TOKEN_HEX + 1], got[IMAP_URLAUTH_TOKEN_HEX];
    imap_urlauth_token(key, raw, u->rump_len, want);
    for (size_t i = 0; i < IMAP_URLAUTH_TOKEN_HEX; i++) {
        char c = u->token.ptr[i];
        got[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
    }
    bool ok = CRYPTO_memcmp(want, got, IMAP_URLAUTH_TOKEN_HEX) == 0;
    OPENSSL_cleanse(want, sizeof want);
    return ok;
}
