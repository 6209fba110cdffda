/*
 * jmap service — the memo of Email properties computed from message files (jmap_ops
 * memo_get/memo_put): subject, addresses, preview, body structure... of one file under one
 * set of Email/get options. Message files never change, so an entry is right for as long as it
 * is kept; a client listing the same page again (the webmail, bench/jmap.sh) gets them
 * without the file being read and parsed again, as Dovecot's index cache serves ENVELOPE.
 * A fixed table of slots by hash (a new entry replaces the one in its slot), shared by the
 * store pool's threads under one lock; entries are deep copies both ways.
 */
#include "jmap/service/service_int.h"

#include "core/xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct memo_slot {
    char blob[33];
    char *sig;
    json_t *val;
};

void jmap_memo_init(struct jmap_memo *m)
{
    pthread_mutex_init(&m->lock, NULL);
    m->slots = xcalloc(JMAP_MEMO_SLOTS, sizeof *m->slots);
}

void jmap_memo_clear(struct jmap_memo *m)
{
    for (size_t i = 0; m->slots && i < JMAP_MEMO_SLOTS; i++) {
        free(m->slots[i].sig);
        json_decref(m->slots[i].val);
    }
    free(m->slots);
    m->slots = NULL;
    pthread_mutex_destroy(&m->lock);
}

static size_t slot_of(const char *blob, const char *sig)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = blob; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = sig; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)(h % JMAP_MEMO_SLOTS);
}

json_t *jmap_memo_get(struct jmap_memo *m, const char *blob, const char *sig)
{
    json_t *copy = NULL;
    struct memo_slot *s = &m->slots[slot_of(blob, sig)];
    pthread_mutex_lock(&m->lock);
    if (s->val && strcmp(s->blob, blob) == 0 && strcmp(s->sig, sig) == 0)
        copy = json_deep_copy(s->val);
    pthread_mutex_unlock(&m->lock);
    return copy;
}

void jmap_memo_put(struct jmap_memo *m, const char *blob, const char *sig, json_t *props)
{
    json_t *copy = json_deep_copy(props);
    char *sig_copy = xstrdup(sig);
    struct memo_slot *s = &m->slots[slot_of(blob, sig)];
    pthread_mutex_lock(&m->lock);
    json_t *old = s->val;
    char *old_sig = s->sig;
    snprintf(s->blob, sizeof s->blob, "%s", blob);
    s->sig = sig_copy;
    s->val = copy;
    pthread_mutex_unlock(&m->lock);
    free(old_sig);
    json_decref(old);
}
