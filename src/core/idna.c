#include "core/idna.h"

#include "core/err.h"
#include "core/str.h"

#include <idn2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

int idna_to_ascii(const char *domain, char *out, size_t cap, const char **why)
{
    size_t n = strlen(domain);
    if (ascii(domain) && !strstr(domain, "xn--") && !strstr(domain, "XN--")) {
        if (n >= cap) {
            *why = "domain name too long";
            return ERR_RANGE;
        }
        memcpy(out, domain, n + 1);
        ascii_lower(out, n);
        return 0;
    }
    char *a = NULL;
    /* Non-transitional IDNA 2008 with NFC of the input, as browsers and Postfix do; an
     * address literal or a name with a trailing dot is left to the callers' own checks. */
    int rc = idn2_to_ascii_8z(domain, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        *why = idn2_strerror(rc);
        return ERR_PARSE;
    }
    size_t m = strlen(a);
    if (m >= cap) {
        idn2_free(a);
        *why = "domain name too long";
        return ERR_RANGE;
    }
    memcpy(out, a, m + 1);
    ascii_lower(out, m);
    idn2_free(a);
    return 0;
}

int idna_address_to_ascii(const char *addr, char *out, size_t cap, const char **why)
{
    const char *at = strrchr(addr, '@');
    size_t n = strlen(addr);
    if (!at || at[1] == '[') { /* no domain, or an address literal */
        if (n >= cap) {
            *why = "address too long";
            return ERR_RANGE;
        }
        memcpy(out, addr, n + 1);
        return 0;
    }
    size_t local = (size_t)(at - addr) + 1;
    if (local >= cap) {
        *why = "address too long";
        return ERR_RANGE;
    }
    memcpy(out, addr, local);
    return idna_to_ascii(at + 1, out + local, cap - local, why);
}
