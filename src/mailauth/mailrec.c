/*
 * mailrec — a mail domain's DNS records: made, printed, judged and turned into an UPDATE
 * (see mailrec.h).
 */
#include "mailauth/mailrec.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"
#include "dns/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mailrec_set_init(struct mailrec_set *s)
{
    memset(s, 0, sizeof *s);
}

void mailrec_set_clear(struct mailrec_set *s)
{
    free(s->r);
    mailrec_set_init(s);
}

static struct mailrec *add(struct mailrec_set *s, const char *owner, uint16_t type,
                           enum mailrec_mode mode, const char *what, uint32_t ttl)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->r = xrealloc(s->r, s->cap * sizeof *s->r);
    }
    struct mailrec *r = &s->r[s->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->owner, sizeof r->owner, "%s", owner);
    for (char *c = r->owner; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    r->type = type, r->mode = mode, r->what = what, r->ttl = ttl;
    return r;
}

/* Appends a name's wire form to r's rdata. */
static int put_name(struct mailrec *r, const char *text)
{
    uint8_t wire[DNS_NAME_MAXLEN];
    size_t len;
    const char *why;
    if (dns_name_from_text(text, strlen(text), NULL, wire, &len, &why) != 0 ||
        r->rdlen + len > MAILREC_RDATA_MAX)
        return ERR_PARSE;
    memcpy(r->rdata + r->rdlen, wire, len);
    r->rdlen += (uint16_t)len;
    return 0;
}

static void put_u16(struct mailrec *r, unsigned v)
{
    r->rdata[r->rdlen++] = (uint8_t)(v >> 8);
    r->rdata[r->rdlen++] = (uint8_t)v;
}

/* TXT rdata: the text in <character-string>s of at most 255 octets (RFC 1035 §3.3.14). */
static int put_txt(struct mailrec *r, const char *text)
{
    size_t n = strlen(text);
    if (n + n / 255 + 1 > MAILREC_RDATA_MAX)
        return ERR_PARSE;
    size_t i = 0;
    do {
        size_t k = n - i < 255 ? n - i : 255;
        r->rdata[r->rdlen++] = (uint8_t)k;
        memcpy(r->rdata + r->rdlen, text + i, k);
        r->rdlen += (uint16_t)k;
        i += k;
    } while (i < n);
    return 0;
}

static int add_txt(struct mailrec_set *s, const char *owner, enum mailrec_mode mode,
                   const char *what, const char *prefix, uint32_t ttl, const char *text)
{
    struct mailrec *r = add(s, owner, DNS_TYPE_TXT, mode, what, ttl);
    r->prefix = prefix;
    return put_txt(r, text);
}

static int build_srv(const struct mailrec_params *p, struct mailrec_set *s)
{
    char owner[300];
    for (size_t i = 0; i < p->nsrv; i++) {
        snprintf(owner, sizeof owner, "_%s._tcp.%s", p->srv[i].service, p->domain);
        struct mailrec *r = add(s, owner, DNS_TYPE_SRV, MAILREC_IF_ABSENT, "SRV", p->ttl);
        /* RFC 6186 §4: priority 0 weight 1; a service not offered has target "." */
        put_u16(r, 0);
        put_u16(r, p->srv[i].port ? 1 : 0);
        put_u16(r, p->srv[i].port);
        if (put_name(r, p->srv[i].port ? p->mx_host : ".") != 0)
            return ERR_PARSE;
    }
    return 0;
}

static int build_dkim(const struct mailrec_params *p, struct mailrec_set *s)
{
    char owner[300];
    for (size_t i = 0; i < p->ndkim; i++) {
        snprintf(owner, sizeof owner, "%s._domainkey.%s", p->dkim_sel[i], p->domain);
        if (add_txt(s, owner, MAILREC_OWN, "DKIM", NULL, p->ttl, p->dkim_txt[i]) != 0)
            return ERR_PARSE;
    }
    for (size_t i = 0; i < p->ngone; i++) {
        snprintf(owner, sizeof owner, "%s._domainkey.%s", p->dkim_gone[i], p->domain);
        add(s, owner, DNS_TYPE_TXT, MAILREC_WITHDRAW, "DKIM", p->ttl);
    }
    return 0;
}

int mailrec_build(const struct mailrec_params *p, struct mailrec_set *s)
{
    char owner[300];
    struct mailrec *r = add(s, p->domain, DNS_TYPE_MX, MAILREC_IF_ABSENT, "MX", p->ttl);
    put_u16(r, 10);
    if (put_name(r, p->mx_host) != 0)
        return ERR_PARSE;
    if (p->spf && add_txt(s, p->domain, MAILREC_TXT_PREFIX, "SPF", "v=spf1", p->ttl, p->spf))
        return ERR_PARSE;
    if (build_dkim(p, s) != 0)
        return ERR_PARSE;
    snprintf(owner, sizeof owner, "_dmarc.%s", p->domain);
    if (p->dmarc &&
        add_txt(s, owner, MAILREC_TXT_PREFIX, "DMARC", "v=DMARC1", p->ttl, p->dmarc) != 0)
        return ERR_PARSE;
    if (p->sts_id) {
        char text[80];
        snprintf(text, sizeof text, "v=STSv1; id=%s", p->sts_id);
        snprintf(owner, sizeof owner, "_mta-sts.%s", p->domain);
        add_txt(s, owner, MAILREC_OWN, "MTA-STS", NULL, p->ttl, text);
    }
    snprintf(owner, sizeof owner, "_smtp._tls.%s", p->domain);
    if (p->tlsrpt &&
        add_txt(s, owner, MAILREC_TXT_PREFIX, "TLS-RPT", "v=TLSRPTv1", p->ttl, p->tlsrpt) != 0)
        return ERR_PARSE;
    /* RFC 7672 §3.1: the TLSA records of the MX host, port 25; 3 1 1 (RFC 7671 §5.1) */
    snprintf(owner, sizeof owner, "_25._tcp.%s", p->mx_host);
    for (size_t i = 0; i < p->ntlsa; i++) {
        r = add(s, owner, DNS_TYPE_TLSA, MAILREC_OWN, "TLSA", p->ttl);
        r->rdata[0] = 3, r->rdata[1] = 1, r->rdata[2] = 1;
        memcpy(r->rdata + 3, p->tlsa[i], 32);
        r->rdlen = 35;
    }
    return build_srv(p, s);
}

void mailrec_to_text(const struct mailrec *r, struct str *out)
{
    char type[16], owner[300];
    snprintf(owner, sizeof owner, "%s.", r->owner);
    if (r->mode == MAILREC_WITHDRAW) {
        str_appendf(out, "; withdrawn: %s %s (a retired DKIM selector)\n", owner,
                    dns_type_name(r->type, type));
        return;
    }
    str_appendf(out, "%-40s %u IN %-5s ", owner, r->ttl, dns_type_name(r->type, type));
    dns_rdata_to_text(r->type, r->rdata, r->rdlen, out);
    str_append(out, "\n", 1);
}

size_t mailrec_run(const struct mailrec_set *s, size_t i)
{
    size_t k = i + 1;
    while (k < s->n && s->r[k].type == s->r[i].type && strcmp(s->r[k].owner, s->r[i].owner) == 0)
        k++;
    return k - i;
}

/* Whether a TXT rdata's first string starts with prefix (any case). */
static bool txt_starts(const uint8_t *rd, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= 1 + n && rd[0] >= n && strncasecmp((const char *)rd + 1, prefix, n) == 0;
}

/* The text of a TXT rdata, its strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2), into out;
 * its length, or SIZE_MAX when malformed or too long. */
static size_t txt_join(const uint8_t *rd, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t k = rd[i];
        if (i + 1 + k > len || n + k > cap)
            return SIZE_MAX;
        memcpy(out + n, rd + i + 1, k);
        n += k;
        i += 1 + k;
    }
    return n;
}

/* Whether two rdata say the same: an MX names the same host (any preference), a TXT holds
 * the same text however it is split into strings, anything else byte for byte. */
static bool same(uint16_t type, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    if (type == DNS_TYPE_MX)
        return al > 2 && bl > 2 && dns_name_check(a + 2, al - 2, &al) == 0 &&
               dns_name_check(b + 2, bl - 2, &bl) == 0 && dns_name_eq(a + 2, b + 2);
    if (type == DNS_TYPE_TXT) {
        char x[MAILREC_RDATA_MAX], y[MAILREC_RDATA_MAX];
        size_t xn = txt_join(a, al, x, sizeof x), yn = txt_join(b, bl, y, sizeof y);
        return xn != SIZE_MAX && xn == yn && memcmp(x, y, xn) == 0;
    }
    return al == bl && memcmp(a, b, al) == 0;
}

static bool has(uint16_t type, const struct dns_rdata *have, size_t nhave, const uint8_t *rd,
                size_t len)
{
    for (size_t i = 0; i < nhave; i++)
        if (same(type, have[i].data, have[i].len, rd, len))
            return true;
    return false;
}

enum mailrec_state mailrec_judge(const struct mailrec *r, size_t n, const struct dns_rdata *have,
                                 size_t nhave)
{
    switch (r->mode) {
    case MAILREC_WITHDRAW:
        return nhave ? MAILREC_MISSING : MAILREC_OK;
    case MAILREC_IF_ABSENT:
        if (!nhave)
            return MAILREC_MISSING;
        for (size_t i = 0; i < n; i++)
            if (!has(r->type, have, nhave, r[i].rdata, r[i].rdlen))
                return MAILREC_DIFFERENT;
        return MAILREC_OK;
    case MAILREC_TXT_PREFIX:
        for (size_t i = 0; i < nhave; i++)
            if (txt_starts(have[i].data, have[i].len, r->prefix))
                return has(r->type, have, nhave, r->rdata, r->rdlen) ? MAILREC_OK : MAILREC_DIFFERENT;
        return MAILREC_MISSING;
    case MAILREC_OWN:
        if (!nhave)
            return MAILREC_MISSING;
        if (nhave != n)
            return MAILREC_DIFFERENT;
        for (size_t i = 0; i < n; i++)
            if (!has(r->type, have, nhave, r[i].rdata, r[i].rdlen))
                return MAILREC_DIFFERENT;
        return MAILREC_OK;
    }
    return MAILREC_DIFFERENT;
}

/* Whether Pigeon should change the RRset: a different OWN set or TTL, a missing record, a
 * withdrawn one still there. An administrator's different SPF/MX/DMARC is left alone. */
static bool needs_change(const struct mailrec *r, size_t n, const struct dns_rrset *rs)
{
    enum mailrec_state st =
        mailrec_judge(r, n, rs ? rs->rdata : NULL, rs ? rs->count : 0);
    if (r->mode == MAILREC_OWN)
        return st != MAILREC_OK || rs->ttl != r->ttl;
    return st == MAILREC_MISSING;
}

/* The RRset at owner in z, or NULL; *skip when the name may not get Pigeon's records here
 * (outside the zone, below a delegation, or a CNAME). */
static const struct dns_rrset *lookup(const struct dns_zone *z, const uint8_t *owner,
                                      uint16_t type, bool *skip)
{
    *skip = !dns_name_is_sub(owner, dns_zone_origin(z));
    if (*skip)
        return NULL;
    const struct dns_node *enc = NULL;
    const struct dns_node *n = dns_zone_find(z, owner, &enc);
    if (enc && enc->cut != DNS_NODE_NONE && !(enc->flags & DNS_NODE_APEX)) {
        *skip = true;
        return NULL;
    }
    if (!n)
        return NULL;
    if (dns_node_rrset(n, DNS_TYPE_CNAME) || (n->flags & DNS_NODE_DELEG)) {
        *skip = true;
        return NULL;
    }
    return dns_node_rrset(n, type);
}

/* The update records of one RRset (RFC 2136 §2.5): delete the RRset (class ANY) when it is
 * replaced or withdrawn, then add each record (class IN). */
static int put_change(struct dns_builder *b, const uint8_t *owner, const struct mailrec *r,
                      size_t n, bool replace)
{
    if (replace && dns_builder_rr(b, DNS_SEC_AUTHORITY, owner, r->type, DNS_CLASS_ANY, 0, NULL,
                                  0) != 0)
        return ERR_LIMIT;
    for (size_t i = 0; r->mode != MAILREC_WITHDRAW && i < n; i++)
        if (dns_builder_rr(b, DNS_SEC_AUTHORITY, owner, r[i].type, DNS_CLASS_IN, r[i].ttl,
                           r[i].rdata, r[i].rdlen) != 0)
            return ERR_LIMIT;
    return 0;
}

size_t mailrec_update(const struct mailrec_set *s, const struct dns_zone *z, uint8_t *out,
                      size_t cap, size_t *changes_out, const char **err_out)
{
    struct dns_header h = {.opcode = DNS_OPCODE_UPDATE};
    struct dns_builder b;
    size_t changes = 0;
    *err_out = NULL;
    dns_builder_init(&b, out, cap, cap > 65535 ? 65535 : cap, &h);
    if (dns_builder_question(&b, dns_zone_origin(z), DNS_TYPE_SOA, DNS_CLASS_IN) != 0)
        return *err_out = "no room", 0;
    for (size_t i = 0; i < s->n; i += mailrec_run(s, i)) {
        const struct mailrec *r = &s->r[i];
        size_t n = mailrec_run(s, i), len;
        uint8_t owner[DNS_NAME_MAXLEN];
        const char *why;
        bool skip;
        if (dns_name_from_text(r->owner, strlen(r->owner), NULL, owner, &len, &why) != 0)
            continue;
        const struct dns_rrset *rs = lookup(z, owner, r->type, &skip);
        if (skip || !needs_change(r, n, rs))
            continue;
        bool replace = rs && (r->mode == MAILREC_OWN || r->mode == MAILREC_WITHDRAW);
        if (put_change(&b, owner, r, n, replace) != 0)
            return *err_out = "the update does not fit in one message", 0;
        changes++;
    }
    if (changes_out)
        *changes_out = changes;
    return changes ? dns_builder_finish(&b) : 0;
}
