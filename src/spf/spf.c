/*
 * spf — check_host() (RFC 7208 §4) as an asynchronous machine over the DNS stub. Records of
 * include: targets are evaluated on a frame stack; every DNS answer re-enters run().
 */
#include "spf/spf.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/resolver/stub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_NAMES 10
#define SPF_MAX_DEPTH 12

struct frame {
    char domain[256];
    char *record;          /* the selected "v=spf1 ..." text */
    size_t pos;            /* next term */
    char include_qual;     /* qualifier of the include: that pushed this frame */
    char redirect[256];
    char exp[256];
};

struct spf_check {
    struct dns_stub *stub;
    struct sockaddr_storage ip;
    char sender[600], local[128], sender_dom[256], helo[256], receiver[256];
    spf_cb cb;
    void *arg;
    struct frame f[SPF_MAX_DEPTH];
    int depth;
    unsigned lookups, voids;
    char qual;             /* the mechanism waiting for DNS */
    int cidr4, cidr6;
    char (*names)[256];    /* MX or PTR names being checked */
    size_t nnames, name_i;
    bool ptr_mode;
    char target[256];
    bool pending, cancelled;
};

static void run(struct spf_check *c);
static void fetch_record(struct spf_check *c);

const char *spf_result_name(enum spf_result r)
{
    static const char *const names[] = {"none",     "neutral",   "pass",     "fail",
                                        "softfail", "temperror", "permerror"};
    return names[r];
}

static void finish(struct spf_check *c, enum spf_result r, const char *exp)
{
    c->cb(c->arg, r, exp);
    for (int i = 0; i < SPF_MAX_DEPTH; i++)
        free(c->f[i].record);
    free(c->names);
    free(c);
}

static enum spf_result qual_result(char q)
{
    return q == '-' ? SPF_FAIL : q == '~' ? SPF_SOFTFAIL : q == '?' ? SPF_NEUTRAL : SPF_PASS;
}

static void macro_ctx(struct spf_check *c, struct spf_macro_ctx *x)
{
    *x = (struct spf_macro_ctx){c->sender, c->local, c->sender_dom, c->f[c->depth].domain,
                                (const struct sockaddr *)&c->ip, c->helo, c->receiver, NULL};
}

/* A frame ended with r: the top one ends the check, an include's result feeds its parent. */
static void frame_result(struct spf_check *c, enum spf_result r)
{
    if (c->depth == 0) {
        const char *exp = NULL;
        char text[1024];
        if (r == SPF_FAIL) {
            snprintf(text, sizeof text, "%s is not allowed to send mail from %s",
                     c->sender, c->sender_dom);
            exp = text;
        }
        return finish(c, r, exp);
    }
    char q = c->f[c->depth].include_qual;
    free(c->f[c->depth].record);
    c->f[c->depth].record = NULL;
    c->depth--;
    switch (r) { /* §5.2: how an include's result maps */
    case SPF_PASS:
        return frame_result(c, qual_result(q));
    case SPF_FAIL:
    case SPF_SOFTFAIL:
    case SPF_NEUTRAL:
        return run(c);
    case SPF_TEMPERROR:
        return finish(c, SPF_TEMPERROR, NULL);
    default: /* none or permerror inside an include: permerror for the whole check */
        return finish(c, SPF_PERMERROR, NULL);
    }
}

static bool addr_in(const struct sockaddr_storage *ip, const struct sockaddr_storage *a,
                    int cidr4, int cidr6)
{
    if (ip->ss_family != a->ss_family)
        return false;
    const uint8_t *x, *y;
    int bits;
    if (ip->ss_family == AF_INET) {
        x = (const uint8_t *)&((const struct sockaddr_in *)ip)->sin_addr;
        y = (const uint8_t *)&((const struct sockaddr_in *)a)->sin_addr;
        bits = cidr4;
    } else {
        x = (const uint8_t *)&((const struct sockaddr_in6 *)ip)->sin6_addr;
        y = (const uint8_t *)&((const struct sockaddr_in6 *)a)->sin6_addr;
        bits = cidr6;
    }
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((x[i] & mask) != (y[i] & mask))
            return false;
    }
    return true;
}

/* A look-up that found nothing (§4.6.4): more than two of them is a permerror. */
static bool void_lookup(struct spf_check *c)
{
    return ++c->voids > SPF_MAX_VOID;
}

/* ---- DNS answers for the mechanism in progress ---- */

static void match_or_next(struct spf_check *c, bool match)
{
    if (match)
        return frame_result(c, qual_result(c->qual));
    run(c);
}

static bool dns_problem(struct spf_check *c, enum dns_stub_status st)
{
    if (st == DNS_STUB_TEMPFAIL) {
        finish(c, SPF_TEMPERROR, NULL);
        return true;
    }
    if ((st == DNS_STUB_NXDOMAIN || st == DNS_STUB_NODATA) && void_lookup(c)) {
        finish(c, SPF_PERMERROR, NULL);
        return true;
    }
    return false;
}

static bool guard(struct spf_check *c)
{
    c->pending = false;
    if (c->cancelled) {
        free(c->names);
        for (int i = 0; i < SPF_MAX_DEPTH; i++)
            free(c->f[i].record);
        free(c);
        return true;
    }
    return false;
}

static void on_a(void *vc, const struct dns_stub_addr_result *r)
{
    struct spf_check *c = vc;
    if (guard(c) || dns_problem(c, r->status))
        return;
    bool m = false;
    for (size_t i = 0; i < r->n && !m; i++)
        m = addr_in(&c->ip, &r->addrs[i], c->cidr4, c->cidr6);
    match_or_next(c, m);
}

static void next_name(struct spf_check *c);

static void on_name_addr(void *vc, const struct dns_stub_addr_result *r)
{
    struct spf_check *c = vc;
    if (guard(c))
        return;
    if (r->status == DNS_STUB_TEMPFAIL && !c->ptr_mode)
        return finish(c, SPF_TEMPERROR, NULL);
    for (size_t i = 0; i < r->n; i++) {
        if (!addr_in(&c->ip, &r->addrs[i], c->ptr_mode ? 32 : c->cidr4,
                     c->ptr_mode ? 128 : c->cidr6))
            continue;
        if (!c->ptr_mode)
            return match_or_next(c, true);
        /* ptr: a validated name must be the target domain or below it (§5.5) */
        const char *n = c->names[c->name_i - 1];
        size_t nl = strlen(n), tl = strlen(c->target);
        if (nl >= tl && strcasecmp(n + nl - tl, c->target) == 0 &&
            (nl == tl || n[nl - tl - 1] == '.'))
            return match_or_next(c, true);
    }
    next_name(c);
}

static void next_name(struct spf_check *c)
{
    if (c->name_i >= c->nnames)
        return match_or_next(c, false);
    c->pending = true;
    dns_stub_addr(c->stub, c->names[c->name_i++],
                  c->ip.ss_family == AF_INET ? DNS_STUB_INET : DNS_STUB_INET6, on_name_addr, c);
}

static void on_mx(void *vc, const struct dns_stub_mx_result *r)
{
    struct spf_check *c = vc;
    if (guard(c))
        return;
    enum dns_stub_status st = r->implicit ? DNS_STUB_NODATA : r->status;
    if (dns_problem(c, st))
        return;
    if (r->n > SPF_MAX_NAMES)
        return finish(c, SPF_PERMERROR, NULL);
    free(c->names);
    c->nnames = st == DNS_STUB_OK && !r->null_mx ? r->n : 0;
    c->names = xcalloc(c->nnames + 1, sizeof *c->names);
    for (size_t i = 0; i < c->nnames; i++)
        snprintf(c->names[i], sizeof c->names[i], "%s", r->hosts[i].host);
    c->name_i = 0;
    c->ptr_mode = false;
    next_name(c);
}

static void on_ptr(void *vc, const struct dns_stub_txt_result *r)
{
    struct spf_check *c = vc;
    if (guard(c))
        return;
    free(c->names);
    c->nnames = r->status == DNS_STUB_OK ? (r->n < SPF_MAX_NAMES ? r->n : SPF_MAX_NAMES) : 0;
    c->names = xcalloc(c->nnames + 1, sizeof *c->names);
    for (size_t i = 0; i < c->nnames; i++)
        snprintf(c->names[i], sizeof c->names[i], "%s", r->txt[i]);
    c->name_i = 0;
    c->ptr_mode = true;
    next_name(c);
}

/* §4.5: exactly one record starting "v=spf1" (then a space or its end). */
static void on_record(void *vc, const struct dns_stub_txt_result *r)
{
    struct spf_check *c = vc;
    if (guard(c))
        return;
    if (r->status == DNS_STUB_TEMPFAIL)
        return finish(c, SPF_TEMPERROR, NULL);
    const char *found = NULL;
    size_t nfound = 0;
    for (size_t i = 0; r->status == DNS_STUB_OK && i < r->n; i++) {
        if (strncasecmp(r->txt[i], "v=spf1", 6) == 0 &&
            (r->txt[i][6] == '\0' || r->txt[i][6] == ' ')) {
            found = r->txt[i];
            nfound++;
        }
    }
    if (nfound > 1)
        return finish(c, SPF_PERMERROR, NULL);
    if (!found) /* no record: none at the top; permerror for include:/redirect= (§5.2, §6.1) */
        return c->depth == 0 && !c->f[0].record ? finish(c, SPF_NONE, NULL)
                                                 : finish(c, SPF_PERMERROR, NULL);
    struct frame *fr = &c->f[c->depth];
    free(fr->record);
    fr->record = xstrdup(found + 6);
    fr->pos = 0;
    fr->redirect[0] = fr->exp[0] = '\0';
    run(c);
}

static void fetch_record(struct spf_check *c)
{
    c->pending = true;
    dns_stub_txt(c->stub, c->f[c->depth].domain, on_record, c);
}

/* ---- terms (§4.6, §5, §6) ---- */

/* Parses "[:domain-spec][/cidr4][//cidr6]" after a mechanism name into c->target etc. */
static int domain_spec(struct spf_check *c, const char *args, size_t n, bool required)
{
    c->cidr4 = 32;
    c->cidr6 = 128;
    const char *slash = memchr(args, '/', n);
    size_t dlen = slash ? (size_t)(slash - args) : n;
    if (slash) {
        const char *s6 = strstr(slash, "//");
        if (s6 && s6 < args + n)
            c->cidr6 = atoi(s6 + 2);
        if (slash[1] != '/')
            c->cidr4 = atoi(slash + 1);
        if (c->cidr4 < 0 || c->cidr4 > 32 || c->cidr6 < 0 || c->cidr6 > 128)
            return ERR_PARSE;
    }
    struct str t = STR_INIT;
    if (dlen > 0 && args[0] == ':') {
        struct spf_macro_ctx x;
        macro_ctx(c, &x);
        if (spf_macro_expand(args + 1, dlen - 1, &x, false, &t) < 0 || t.len == 0) {
            str_clear(&t);
            return ERR_PARSE;
        }
    } else if (required || dlen > 0) {
        str_clear(&t);
        return ERR_PARSE;
    } else {
        str_appends(&t, c->f[c->depth].domain);
    }
    snprintf(c->target, sizeof c->target, "%s", str_cstr(&t));
    str_clear(&t);
    return 0;
}

static bool ip_literal(struct spf_check *c, const char *v, size_t n, bool v6)
{
    char buf[80];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, v, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    int cidr = v6 ? 128 : 32;
    if (slash) {
        *slash = '\0';
        cidr = atoi(slash + 1);
    }
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    a.ss_family = v6 ? AF_INET6 : AF_INET;
    void *dst = v6 ? (void *)&((struct sockaddr_in6 *)&a)->sin6_addr
                   : (void *)&((struct sockaddr_in *)&a)->sin_addr;
    if (inet_pton(a.ss_family, buf, dst) != 1 || cidr < 0 || cidr > (v6 ? 128 : 32))
        return false;
    c->cidr4 = c->cidr6 = cidr;
    return true;
}

/* One DNS-using mechanism: counted, then started. Returns false when it ended the check. */
static bool dns_mechanism(struct spf_check *c, const char *name, size_t nl, const char *args,
                          size_t al)
{
    if (++c->lookups > SPF_MAX_LOOKUPS) {
        finish(c, SPF_PERMERROR, NULL);
        return false;
    }
    bool include = nl == 7 && !strncasecmp(name, "include", 7);
    bool exists = nl == 6 && !strncasecmp(name, "exists", 6);
    if (domain_spec(c, args, al, include || exists) < 0) {
        finish(c, SPF_PERMERROR, NULL);
        return false;
    }
    enum dns_stub_family fam = c->ip.ss_family == AF_INET ? DNS_STUB_INET : DNS_STUB_INET6;
    c->pending = true;
    if (include) {
        if (c->depth + 1 >= SPF_MAX_DEPTH) {
            finish(c, SPF_PERMERROR, NULL);
            return false;
        }
        struct frame *fr = &c->f[++c->depth];
        memset(fr, 0, sizeof *fr);
        snprintf(fr->domain, sizeof fr->domain, "%s", c->target);
        fr->include_qual = c->qual;
        fetch_record(c);
    } else if (exists) {
        c->cidr4 = 32;
        dns_stub_addr(c->stub, c->target, DNS_STUB_INET, on_a, c);
    } else if (nl == 1) { /* a */
        dns_stub_addr(c->stub, c->target, fam, on_a, c);
    } else if (nl == 2) { /* mx */
        dns_stub_mx(c->stub, c->target, on_mx, c);
    } else { /* ptr */
        dns_stub_ptr(c->stub, (struct sockaddr *)&c->ip, on_ptr, c);
    }
    return false;
}

/* Handles one term. Returns true to go on with the next term. */
static bool term(struct spf_check *c, const char *t, size_t n)
{
    struct frame *fr = &c->f[c->depth];
    const char *eq = memchr(t, '=', n);
    size_t nl = 0;
    while (nl < n && t[nl] != ':' && t[nl] != '/' && t[nl] != '=')
        nl++;
    if (eq && (size_t)(eq - t) == nl) { /* modifier */
        char *dst = nl == 8 && !strncasecmp(t, "redirect", 8) ? fr->redirect
                    : nl == 3 && !strncasecmp(t, "exp", 3)    ? fr->exp
                                                              : NULL;
        if (dst) {
            if (*dst || n - nl - 1 >= 255) /* §6: each at most once */
                return finish(c, SPF_PERMERROR, NULL), false;
            memcpy(dst, eq + 1, n - nl - 1);
            dst[n - nl - 1] = '\0';
        }
        return true; /* unknown modifiers are ignored (§6) */
    }
    c->qual = '+';
    if (n && strchr("+-~?", t[0])) {
        c->qual = t[0];
        t++, n--, nl--;
    }
    const char *args = t + nl;
    size_t al = n - nl;
    if (nl == 3 && !strncasecmp(t, "all", 3) && al == 0)
        return frame_result(c, qual_result(c->qual)), false;
    if ((nl == 3 && !strncasecmp(t, "ip4", 3)) || (nl == 3 && !strncasecmp(t, "ip6", 3))) {
        bool v6 = t[2] == '6';
        if (al < 2 || args[0] != ':' || !ip_literal(c, args + 1, al - 1, v6))
            return finish(c, SPF_PERMERROR, NULL), false;
        struct sockaddr_storage a;
        memset(&a, 0, sizeof a);
        a.ss_family = v6 ? AF_INET6 : AF_INET;
        char buf[80];
        size_t l = strcspn(args + 1, "/");
        snprintf(buf, sizeof buf, "%.*s", (int)(l < al - 1 ? l : al - 1), args + 1);
        inet_pton(a.ss_family, buf,
                  v6 ? (void *)&((struct sockaddr_in6 *)&a)->sin6_addr
                     : (void *)&((struct sockaddr_in *)&a)->sin_addr);
        if (addr_in(&c->ip, &a, c->cidr4, c->cidr6))
            return frame_result(c, qual_result(c->qual)), false;
        return true;
    }
    static const char *const dns_mechs[] = {"a", "mx", "ptr", "include", "exists"};
    for (size_t i = 0; i < 5; i++)
        if (nl == strlen(dns_mechs[i]) && !strncasecmp(t, dns_mechs[i], nl))
            return dns_mechanism(c, t, nl, args, al);
    finish(c, SPF_PERMERROR, NULL); /* an unknown mechanism (§4.6.1) */
    return false;
}

static void run(struct spf_check *c)
{
    for (;;) {
        struct frame *fr = &c->f[c->depth];
        const char *r = fr->record;
        while (r[fr->pos] == ' ')
            fr->pos++;
        if (r[fr->pos] == '\0')
            break;
        size_t start = fr->pos, n = strcspn(r + start, " ");
        fr->pos += n;
        if (!term(c, r + start, n))
            return;
    }
    struct frame *fr = &c->f[c->depth];
    if (!fr->redirect[0])
        return frame_result(c, SPF_NEUTRAL); /* §4.7: no match, no redirect */
    if (++c->lookups > SPF_MAX_LOOKUPS)
        return finish(c, SPF_PERMERROR, NULL);
    struct spf_macro_ctx x;
    macro_ctx(c, &x);
    struct str t = STR_INIT;
    if (spf_macro_expand(fr->redirect, strlen(fr->redirect), &x, false, &t) < 0 || !t.len) {
        str_clear(&t);
        return finish(c, SPF_PERMERROR, NULL);
    }
    snprintf(fr->domain, sizeof fr->domain, "%s", str_cstr(&t)); /* §6.1: replaces the record */
    str_clear(&t);
    fr->redirect[0] = '\0';
    fetch_record(c);
}

struct spf_check *spf_check_start(struct dns_stub *stub, const struct sockaddr *ip,
                                  const char *sender, const char *helo, const char *receiver,
                                  spf_cb cb, void *arg)
{
    struct spf_check *c = xcalloc(1, sizeof *c);
    c->stub = stub;
    memcpy(&c->ip, ip, ip->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                 : sizeof(struct sockaddr_in));
    c->cb = cb;
    c->arg = arg;
    snprintf(c->helo, sizeof c->helo, "%s", helo ? helo : "");
    snprintf(c->receiver, sizeof c->receiver, "%s", receiver ? receiver : "unknown");
    if (sender && sender[0])
        snprintf(c->sender, sizeof c->sender, "%s", sender);
    else /* §2.4: the null reverse-path is checked as postmaster@helo */
        snprintf(c->sender, sizeof c->sender, "postmaster@%s", c->helo);
    const char *at = strrchr(c->sender, '@');
    snprintf(c->local, sizeof c->local, "%.*s", at ? (int)(at - c->sender) : 10,
             at ? c->sender : "postmaster");
    snprintf(c->sender_dom, sizeof c->sender_dom, "%s", at ? at + 1 : c->helo);
    snprintf(c->f[0].domain, sizeof c->f[0].domain, "%s", c->sender_dom);
    fetch_record(c);
    return c;
}

void spf_check_cancel(struct spf_check *c)
{
    if (!c)
        return;
    if (c->pending) { /* the stub still calls back: free then */
        c->cancelled = true;
        return;
    }
    free(c->names);
    for (int i = 0; i < SPF_MAX_DEPTH; i++)
        free(c->f[i].record);
    free(c);
}

void spf_received_header(struct str *out, enum spf_result r, const char *receiver,
                         const char *client_ip, const char *sender, const char *helo)
{
    const char *what = r == SPF_PASS       ? "designates %s as permitted sender"
                       : r == SPF_FAIL     ? "does not designate %s as permitted sender"
                       : r == SPF_SOFTFAIL ? "does not designate %s as permitted sender (softfail)"
                                           : "%s: no definitive SPF result";
    str_appendf(out, "Received-SPF: %s (%s: domain of %s ", spf_result_name(r), receiver,
                sender[0] ? sender : "postmaster");
    str_appendf(out, what, client_ip);
    str_appendf(out, ")\r\n\tclient-ip=%s; envelope-from=\"%s\"; helo=%s;\r\n", client_ip, sender,
                helo);
}
