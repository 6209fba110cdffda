/*
 * arc_verify — the asynchronous driver of arc.h: one TXT look-up per distinct key of the
 * chain (the newest AMS's and every AS's), then the pure verification.
 */
#include "mailauth/arc_verify.h"

#include "core/xmalloc.h"
#include "dns/resolver/stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct arc_key_slot {
    struct arc_verify *v;
    const char *selector, *domain; /* into the chain */
    struct dkim_key key;
    bool have, temp;
};

struct arc_verify {
    struct mailauth_msg m;
    struct arc_chain c;
    struct arc_key_slot *keys; /* at most ARC_MAX_SETS + 1 */
    size_t nkeys, pending;
    char *trusted;
    struct arc_verify_result r;
    bool cancelled, in_start;
    arc_verify_cb cb;
    void *arg;
};

/* true when dom is one of the list's names (case-insensitive). */
static bool listed(const char *list, const char *dom)
{
    size_t dl = strlen(dom);
    for (const char *p = list ? list : ""; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, " ,\t");
        if (n && n == dl && strncasecmp(p, dom, n) == 0)
            return true;
        p += n;
    }
    return false;
}

bool arc_trusted_pass(const struct mailauth_msg *m, const struct arc_chain *c,
                      const char *trusted, char *out, size_t cap)
{
    for (unsigned i = c->n; i >= 1; i--) {
        const struct arc_set *s = &c->sets[i - 1];
        if (listed(trusted, s->seal.domain) &&
            arc_aar_dmarc_pass(mailauth_field_value(&m->f[s->aar]))) {
            snprintf(out, cap, "%s", s->seal.domain);
            return true;
        }
    }
    return false;
}

static const struct dkim_key *key_of(void *ctx, const char *selector, const char *domain,
                                     bool *temp)
{
    struct arc_verify *v = ctx;
    for (size_t i = 0; i < v->nkeys; i++) {
        struct arc_key_slot *k = &v->keys[i];
        if (strcmp(k->selector, selector) == 0 && strcmp(k->domain, domain) == 0) {
            *temp = k->temp;
            return k->have ? &k->key : NULL;
        }
    }
    return NULL;
}

static void finish(struct arc_verify *v)
{
    if (!v->cancelled) {
        struct arc_verify_result *r = &v->r;
        if (v->c.result == ARC_CV_PASS) {
            r->result = arc_chain_verify(&v->m, &v->c, key_of, v, &r->temperror, &r->why);
            if (r->result == ARC_CV_PASS)
                arc_trusted_pass(&v->m, &v->c, v->trusted, r->trusted_by, sizeof r->trusted_by);
        }
        v->cb(v->arg, r);
    }
    arc_chain_clear(&v->c);
    mailauth_msg_clear(&v->m);
    free(v->keys);
    free(v->trusted);
    free(v);
}

static void key_done(void *arg, const struct dns_stub_txt_result *res)
{
    struct arc_key_slot *k = arg;
    struct arc_verify *v = k->v;
    k->temp = res->status == DNS_STUB_TEMPFAIL;
    const char *why;
    for (size_t i = 0; res->status == DNS_STUB_OK && i < res->n && !k->have; i++)
        k->have = dkim_key_parse(res->txt[i], res->len[i], &k->key, &why) == 0;
    if (--v->pending == 0 && !v->in_start)
        finish(v);
}

/* Adds the key selector/domain to the look-ups unless it is there already. */
static void want_key(struct arc_verify *v, const char *selector, const char *domain)
{
    for (size_t i = 0; i < v->nkeys; i++)
        if (strcmp(v->keys[i].selector, selector) == 0 && strcmp(v->keys[i].domain, domain) == 0)
            return;
    v->keys[v->nkeys++] = (struct arc_key_slot){.v = v, .selector = selector, .domain = domain};
}

struct arc_verify *arc_verify_start(struct dns_stub *stub, const char *msg, size_t len,
                                    const char *trusted, arc_verify_cb cb, void *arg)
{
    struct arc_verify *v = xcalloc(1, sizeof *v);
    v->cb = cb, v->arg = arg;
    v->trusted = xstrdup(trusted ? trusted : "");
    if (mailauth_msg_split(msg, len, &v->m) == 0)
        arc_chain_collect(&v->m, &v->c);
    v->r.result = v->c.result;
    v->r.why = v->c.why;
    v->r.n = v->c.n;
    if (v->c.n > 0 && v->c.sets[v->c.n - 1].seal.domain[0])
        snprintf(v->r.sealer, sizeof v->r.sealer, "%s", v->c.sets[v->c.n - 1].seal.domain);
    if (v->c.result != ARC_CV_PASS) {
        finish(v);
        return NULL;
    }
    v->keys = xcalloc(ARC_MAX_SETS + 1, sizeof *v->keys);
    const struct dkim_sig *ams = &v->c.sets[v->c.n - 1].ams_sig;
    want_key(v, ams->selector, ams->domain);
    for (unsigned i = 0; i < v->c.n; i++)
        want_key(v, v->c.sets[i].seal.selector, v->c.sets[i].seal.domain);
    v->pending = v->nkeys;
    v->in_start = true;
    for (size_t i = 0; i < v->nkeys; i++) {
        char name[600];
        snprintf(name, sizeof name, "%s._domainkey.%s", v->keys[i].selector, v->keys[i].domain);
        dns_stub_txt(stub, name, key_done, &v->keys[i]);
    }
    v->in_start = false;
    if (v->pending == 0) {
        finish(v);
        return NULL;
    }
    return v;
}

void arc_verify_cancel(struct arc_verify *v)
{
    v->cancelled = true;
}
