/* acl — address-prefix and key lists for transfers and updates. See acl.h. */
#include "dns/xfr/acl.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int dns_acl_prefix_parse(const char *word, size_t len, struct dns_acl_entry *e)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (len == 0 || len >= sizeof buf)
        return ERR_PARSE;
    memcpy(buf, word, len);
    buf[len] = '\0';
    memset(e, 0, sizeof *e);
    char *slash = strchr(buf, '/');
    long plen = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        plen = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || plen < 0)
            return ERR_PARSE;
    }
    if (inet_pton(AF_INET, buf, e->addr) == 1) {
        e->kind = DNS_ACL_V4;
        if (plen > 32)
            return ERR_PARSE;
        e->plen = plen < 0 ? 32 : (unsigned)plen;
    } else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
        e->kind = DNS_ACL_V6;
        if (plen > 128)
            return ERR_PARSE;
        e->plen = plen < 0 ? 128 : (unsigned)plen;
    } else {
        return ERR_PARSE;
    }
    return 0;
}

static int parse_word(const char *w, size_t len, struct dns_acl_entry *e)
{
    if (len > 4 && !strncmp(w, "key:", 4)) {
        char text[DNS_NAME_TEXT_MAX];
        size_t n;
        const char *why;
        if (len - 4 >= sizeof text)
            return ERR_PARSE;
        memcpy(text, w + 4, len - 4);
        memset(e, 0, sizeof *e);
        e->kind = DNS_ACL_KEY;
        if (dns_name_from_text(text, len - 4, (const uint8_t *)"", e->key, &n, &why) != 0)
            return ERR_PARSE;
        dns_name_lower(e->key);
        return 0;
    }
    return dns_acl_prefix_parse(w, len, e);
}

int dns_acl_parse(const char *text, struct dns_acl *acl, char *bad, size_t cap)
{
    memset(acl, 0, sizeof *acl);
    for (const char *p = text ? text : ""; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t len = strcspn(p, " ,\t");
        if (len == 0)
            break;
        struct dns_acl_entry e;
        if (parse_word(p, len, &e) != 0) {
            snprintf(bad, cap, "%.*s", (int)len, p);
            dns_acl_clear(acl);
            return ERR_PARSE;
        }
        acl->e = xrealloc(acl->e, (acl->n + 1) * sizeof *acl->e);
        acl->e[acl->n++] = e;
        p += len;
    }
    return 0;
}

void dns_acl_clear(struct dns_acl *acl)
{
    free(acl->e);
    memset(acl, 0, sizeof *acl);
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
    unsigned full = plen / 8, rest = plen % 8;
    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

bool dns_acl_entry_match(const struct dns_acl_entry *e, const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return e->kind == DNS_ACL_V4 && prefix_eq((const uint8_t *)&s4->sin_addr, e->addr, e->plen);
    }
    if (sa->sa_family != AF_INET6)
        return false;
    const uint8_t *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (e->kind == DNS_ACL_V4)
        return !memcmp(a6, mapped, 12) && prefix_eq(a6 + 12, e->addr, e->plen);
    return e->kind == DNS_ACL_V6 && prefix_eq(a6, e->addr, e->plen);
}

bool dns_acl_match(const struct dns_acl *acl, const struct sockaddr *sa, const uint8_t *key)
{
    for (size_t i = 0; i < acl->n; i++) {
        const struct dns_acl_entry *e = &acl->e[i];
        if (e->kind == DNS_ACL_KEY ? key && dns_name_eq(e->key, key) : dns_acl_entry_match(e, sa))
            return true;
    }
    return false;
}

bool dns_acl_has_keys(const struct dns_acl *acl)
{
    for (size_t i = 0; i < acl->n; i++)
        if (acl->e[i].kind == DNS_ACL_KEY)
            return true;
    return false;
}
