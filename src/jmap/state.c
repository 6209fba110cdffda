/*
 * jmap/state — state strings (RFC 8620 §1.5 "state"). A state is "N:I.M.U,I.M.U,...": N the
 * hash of the mailboxes' names, roles and subscriptions (hex), then for every mailbox (id
 * order) its id I, highest modseq M and next uid U. Every change to a message bumps its
 * mailbox's modseq (store/imap.h, RFC 7162), so two states differ exactly when something
 * changed, and the changes between two states are read back from the store: rows with a
 * higher modseq, uids expunged after M, uids from U up being new.
 */
#include "jmap/jmap_int.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_str(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return (h ^ 0xff) * 16777619u; /* a separator, so "ab"+"c" differs from "a"+"bc" */
}

static uint32_t names_hash(const struct jmap_snap *s)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s->nboxes; i++) {
        char id[24];
        snprintf(id, sizeof id, "%" PRId64 "%c", s->boxes[i].id, s->boxes[i].subscribed ? 's' : 'u');
        h = hash_str(hash_str(hash_str(h, id), s->boxes[i].name), s->boxes[i].role);
    }
    return h;
}

static int ent_cmp(const void *a, const void *b)
{
    const struct jmap_state_ent *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

void jmap_state_write(const struct jmap_snap *s, struct str *out)
{
    struct jmap_state_ent *e = xcalloc(s->nboxes + 1, sizeof *e);
    for (size_t i = 0; i < s->nboxes; i++)
        e[i] = (struct jmap_state_ent){s->boxes[i].id, s->boxes[i].modseq, s->boxes[i].uidnext};
    qsort(e, s->nboxes, sizeof *e, ent_cmp);
    str_appendf(out, "%08x:", names_hash(s));
    for (size_t i = 0; i < s->nboxes; i++)
        str_appendf(out, "%s%" PRId64 ".%" PRId64 ".%" PRId64, i ? "," : "", e[i].id,
                    e[i].modseq, e[i].uidnext);
    free(e);
}

json_t *jmap_state_json(struct jmap_ctx *c)
{
    struct str s = STR_INIT;
    jmap_state_write(&c->snap, &s);
    json_t *j = json_string(str_cstr(&s));
    str_clear(&s);
    return j;
}

static int num(const char **p, int64_t *out)
{
    char *end;
    if (**p < '0' || **p > '9')
        return ERR_PARSE;
    unsigned long long v = strtoull(*p, &end, 10);
    if (v > INT64_MAX)
        return ERR_PARSE;
    *out = (int64_t)v;
    *p = end;
    return 0;
}

int jmap_state_parse(const char *s, struct jmap_state *out)
{
    *out = (struct jmap_state){0};
    char *end;
    if (!s || strlen(s) < 9 || s[8] != ':')
        return ERR_PARSE;
    out->names = (uint32_t)strtoul(s, &end, 16);
    if (end != s + 8)
        return ERR_PARSE;
    const char *p = s + 9;
    while (*p) {
        struct jmap_state_ent e;
        if (num(&p, &e.id) || *p++ != '.' || num(&p, &e.modseq) || *p++ != '.' ||
            num(&p, &e.uidnext) || (*p && *p++ != ',') || out->n >= 100000) {
            jmap_state_clear(out);
            return ERR_PARSE;
        }
        out->ent = xrealloc(out->ent, (out->n + 1) * sizeof *out->ent);
        out->ent[out->n++] = e;
    }
    return 0;
}

void jmap_state_clear(struct jmap_state *st)
{
    free(st->ent);
    *st = (struct jmap_state){0};
}

const struct jmap_state_ent *jmap_state_find(const struct jmap_state *st, int64_t id)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->ent[i].id == id)
            return &st->ent[i];
    return NULL;
}
