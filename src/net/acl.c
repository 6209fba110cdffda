/* acl — address-prefix lists. See acl.h. */
#include "net/acl.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int net_prefix_parse(const char *word, size_t len, struct net_prefix *p)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (len == 0 || len >= sizeof buf)
        return ERR_PARSE;
    memcpy(buf, word, len);
    buf[len] = '\0';
    memset(p, 0, sizeof *p);
    char *slash = strchr(buf, '/');
    long plen = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        plen = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || plen < 0)
            return ERR_PARSE;
    }
    if (inet_pton(AF_INET, buf, p->addr) == 1) {
        if (plen > 32)
            return ERR_PARSE;
        p->plen = plen < 0 ? 32 : (unsigned)plen;
    } else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
        p->v6 = true;
        if (plen > 128)
            return ERR_PARSE;
        p->plen = plen < 0 ? 128 : (unsigned)plen;
    } else {
        return ERR_PARSE;
    }
    return 0;
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

bool net_prefix_match(const struct net_prefix *p, const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return !p->v6 &&
               prefix_eq((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, p->addr,
                         p->plen);
    if (sa->sa_family != AF_INET6)
        return false;
    const uint8_t *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!p->v6)
        return !memcmp(a6, mapped, 12) && prefix_eq(a6 + 12, p->addr, p->plen);
    return prefix_eq(a6, p->addr, p->plen);
}

int net_acl_parse(const char *text, struct net_acl *acl, net_acl_word_fn other, void *ctx,
                  char *bad, size_t cap)
{
    memset(acl, 0, sizeof *acl);
    for (const char *w = text ? text : ""; *w;) {
        w += strspn(w, " ,\t");
        size_t len = strcspn(w, " ,\t");
        if (len == 0)
            break;
        struct net_prefix p;
        if (net_prefix_parse(w, len, &p) == 0) {
            acl->p = xrealloc(acl->p, (acl->n + 1) * sizeof *acl->p);
            acl->p[acl->n++] = p;
        } else if (!other || other(ctx, w, len) != 0) {
            snprintf(bad, cap, "%.*s", (int)len, w);
            net_acl_clear(acl);
            return ERR_PARSE;
        }
        w += len;
    }
    return 0;
}

void net_acl_clear(struct net_acl *acl)
{
    free(acl->p);
    memset(acl, 0, sizeof *acl);
}

bool net_acl_match(const struct net_acl *acl, const struct sockaddr *sa)
{
    for (size_t i = 0; i < acl->n; i++)
        if (net_prefix_match(&acl->p[i], sa))
            return true;
    return false;
}

bool net_acl_match_text(const struct net_acl *acl, const char *addr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    else
        return false;
    return net_acl_match(acl, (struct sockaddr *)&ss);
}

bool net_addr_is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) != 1)
        return false;
    return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}
