/* acl — address prefixes (net/acl.h) and TSIG key names for transfers and updates. See
 * acl.h. */
#include "dns/xfr/acl.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* "key:NAME" */
static int key_word(void *vacl, const char *w, size_t len)
{
    struct dns_acl *acl = vacl;
    char text[DNS_NAME_TEXT_MAX];
    uint8_t name[DNS_NAME_MAXLEN];
    size_t n;
    const char *why;
    if (len <= 4 || strncmp(w, "key:", 4) != 0 || len - 4 >= sizeof text)
        return ERR_PARSE;
    memcpy(text, w + 4, len - 4);
    if (dns_name_from_text(text, len - 4, (const uint8_t *)"", name, &n, &why) != 0)
        return ERR_PARSE;
    dns_name_lower(name);
    acl->keys = xrealloc(acl->keys, (acl->nkeys + 1) * sizeof *acl->keys);
    memcpy(acl->keys[acl->nkeys++], name, n);
    return 0;
}

int dns_acl_parse(const char *text, struct dns_acl *acl, char *bad, size_t cap)
{
    memset(acl, 0, sizeof *acl);
    if (net_acl_parse(text, &acl->addrs, key_word, acl, bad, cap) != 0) {
        dns_acl_clear(acl);
        return ERR_PARSE;
    }
    return 0;
}

void dns_acl_clear(struct dns_acl *acl)
{
    net_acl_clear(&acl->addrs);
    free(acl->keys);
    memset(acl, 0, sizeof *acl);
}

bool dns_acl_match(const struct dns_acl *acl, const struct sockaddr *sa, const uint8_t *key)
{
    if (net_acl_match(&acl->addrs, sa))
        return true;
    for (size_t i = 0; key && i < acl->nkeys; i++)
        if (dns_name_eq(acl->keys[i], key))
            return true;
    return false;
}

bool dns_acl_has_keys(const struct dns_acl *acl)
{
    return acl->nkeys > 0;
}
