/*
 * password — yescrypt hashes through libxcrypt. crypt_ra() allocates its own scratch area,
 * so concurrent calls from worker threads share nothing.
 */
#include "auth/password.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <crypt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Runs crypt_ra and copies a successful result into *out (malloc'd). */
static int password_crypt(const char *password, const char *setting, char **out)
{
    void *data = NULL;
    int size = 0;
    const char *h = crypt_ra(password, setting, &data, &size);
    int rc = ERR_IO;
    /* libxcrypt reports failure as NULL or as a hash starting with '*' ("*0", "*1"). */
    if (h && h[0] != '*') {
        *out = xstrdup(h);
        rc = 0;
    }
    if (data) {
        explicit_bzero(data, (size_t)size);
        free(data);
    }
    return rc;
}

int password_hash(const char *password, char **hash_out)
{
    /* count 0 = libxcrypt's default cost; NULL rbytes = it reads the OS random source. */
    char *setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
    if (!setting)
        return ERR_IO;
    int rc = password_crypt(password, setting, hash_out);
    free(setting);
    return rc;
}

/* Compares without an early exit, so timing does not tell how much of the hash matched. */
static bool bytes_equal_ct(const char *a, const char *b, size_t n)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

int password_verify(const char *password, const char *hash)
{
    if (!password || !hash || hash[0] == '\0' || hash[0] == '*')
        return ERR_AUTH;
    char *computed = NULL;
    if (password_crypt(password, hash, &computed) < 0)
        return ERR_AUTH;
    size_t n = strlen(hash);
    bool ok = strlen(computed) == n && bytes_equal_ct(computed, hash, n);
    explicit_bzero(computed, strlen(computed));
    free(computed);
    return ok ? 0 : ERR_AUTH;
}
