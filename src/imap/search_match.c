/* search_match — see search_match.h. */
#include "imap/search_match.h"

#include "msg/mime.h"
#include "msg/utf8.h"

#include <string.h>
#include <strings.h>

struct sm {
    const struct imap_search_msg *m;
    struct str body; /* folded; filled on first use */
    bool have_body;
    struct str hdr; /* folded whole header; filled on first use */
    bool have_hdr;
};

static bool sm_key(struct sm *c, const struct imap_search_key *k);

static const struct str *sm_body(struct sm *c)
{
    if (!c->have_body) {
        struct str raw = STR_INIT;
        if (c->m->body)
            c->m->body(c->m->ctx, &raw);
        utf8_fold(str_cstr(&raw), raw.len, &c->body);
        str_clear(&raw);
        c->have_body = true;
    }
    return &c->body;
}

static const struct str *sm_header_all(struct sm *c)
{
    if (!c->have_hdr) {
        struct str raw = STR_INIT;
        if (c->m->header)
            c->m->header(c->m->ctx, NULL, &raw);
        utf8_fold(str_cstr(&raw), raw.len, &c->hdr);
        str_clear(&raw);
        c->have_hdr = true;
    }
    return &c->hdr;
}

static bool sm_has(const struct str *hay, const struct imap_search_key *k)
{
    return k->str_len == 0 ||
           (hay->len >= k->str_len && memmem(hay->ptr, hay->len, k->str, k->str_len));
}

static bool sm_address_field(const char *field)
{
    static const char *const names[] = {"From", "To", "Cc", "Bcc", "Sender", "Reply-To"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(field, names[i]) == 0)
            return true;
    return false;
}

static bool sm_header(struct sm *c, const struct imap_search_key *k)
{
    if (!c->m->header)
        return false;
    struct str v = STR_INIT;
    size_t found = c->m->header(c->m->ctx, k->field, &v);
    /* RFC 3501: HEADER with an empty string matches every message that has the field. */
    bool r = found > 0 && utf8_contains_folded(str_cstr(&v), v.len, k->str, k->str_len);
    if (!r && found > 0 && sm_address_field(k->field)) {
        /* The parsed addresses too: comments and spaces inside an address are not part of
         * it, so FROM user@domain finds "<user (c)@ (c) domain>" as Dovecot does. */
        struct str parsed = STR_INIT;
        mime_address_list_text(str_cstr(&v), v.len, &parsed);
        r = utf8_contains_folded(str_cstr(&parsed), parsed.len, k->str, k->str_len);
        str_clear(&parsed);
    }
    str_clear(&v);
    return r;
}

/* The Date: header's day; falls back to the internal date when absent or unreadable. */
static void sm_sent_date(struct sm *c, struct msg_date *d)
{
    struct str v = STR_INIT;
    size_t found = c->m->header ? c->m->header(c->m->ctx, "Date", &v) : 0;
    const char *lf = memchr(str_cstr(&v), '\n', v.len);
    size_t first = lf ? (size_t)(lf - str_cstr(&v)) : v.len;
    if (!found || msg_date_parse_rfc5322(str_cstr(&v), first, d) < 0)
        msg_date_from_unix(c->m->internal_date, c->m->internal_tz_min, d);
    str_clear(&v);
}

static bool sm_keyword(const struct imap_search_msg *m, const struct imap_search_key *k)
{
    for (size_t i = 0; i < m->nkeywords; i++)
        if (strcasecmp(m->keywords[i], k->str) == 0)
            return true;
    return false;
}

static bool sm_date(struct sm *c, const struct imap_search_key *k)
{
    struct msg_date d;
    bool sent =
        k->op == IMAP_SK_SENTBEFORE || k->op == IMAP_SK_SENTON || k->op == IMAP_SK_SENTSINCE;
    if (sent)
        sm_sent_date(c, &d);
    else
        msg_date_from_unix(c->m->internal_date, c->m->internal_tz_min, &d);
    int cmp = msg_date_cmp_day(&d, &k->date);
    switch (k->op) {
    case IMAP_SK_BEFORE:
    case IMAP_SK_SENTBEFORE:
        return cmp < 0;
    case IMAP_SK_ON:
    case IMAP_SK_SENTON:
        return cmp == 0;
    default:
        return cmp >= 0; /* SINCE: on or after */
    }
}

/* Keys that need message text; an AND tries the others first. */
static bool sm_costly(const struct imap_search_key *k)
{
    switch (k->op) {
    case IMAP_SK_HEADER:
    case IMAP_SK_BODY:
    case IMAP_SK_TEXT:
    case IMAP_SK_SENTBEFORE:
    case IMAP_SK_SENTON:
    case IMAP_SK_SENTSINCE:
        return true;
    case IMAP_SK_AND:
    case IMAP_SK_OR:
    case IMAP_SK_NOT:
        for (const struct imap_search_key *ch = k->children; ch; ch = ch->next)
            if (sm_costly(ch))
                return true;
        return false;
    default:
        return false;
    }
}

static bool sm_and(struct sm *c, const struct imap_search_key *k)
{
    for (int pass = 0; pass < 2; pass++)
        for (const struct imap_search_key *ch = k->children; ch; ch = ch->next)
            if (sm_costly(ch) == (pass == 1) && !sm_key(c, ch))
                return false;
    return true;
}

static bool sm_key(struct sm *c, const struct imap_search_key *k)
{
    const struct imap_search_msg *m = c->m;
    switch (k->op) {
    case IMAP_SK_ALL:
        return true;
    case IMAP_SK_AND:
        return sm_and(c, k);
    case IMAP_SK_OR:
        return sm_key(c, k->children) || sm_key(c, k->children->next);
    case IMAP_SK_NOT:
        return !sm_key(c, k->children);
    case IMAP_SK_SEQSET:
        return imap_seqset_contains(&k->set, m->seq);
    case IMAP_SK_UIDSET:
        return imap_seqset_contains(&k->set, m->uid);
    case IMAP_SK_FLAG:
        return ((m->flags & k->flag) != 0) == k->want;
    case IMAP_SK_KEYWORD:
        return sm_keyword(m, k) == k->want;
    case IMAP_SK_NEW:
        return (m->flags & IMAP_MSGF_RECENT) && !(m->flags & IMAP_MSGF_SEEN);
    case IMAP_SK_OLD:
        return !(m->flags & IMAP_MSGF_RECENT);
    case IMAP_SK_LARGER:
        return m->size > k->number;
    case IMAP_SK_SMALLER:
        return m->size < k->number;
    case IMAP_SK_MODSEQ:
        return m->modseq >= k->number;
    case IMAP_SK_HEADER:
        return sm_header(c, k);
    case IMAP_SK_BODY:
        return sm_has(sm_body(c), k);
    case IMAP_SK_TEXT:
        return sm_has(sm_header_all(c), k) || sm_has(sm_body(c), k);
    default:
        return sm_date(c, k);
    }
}

bool imap_search_match(const struct imap_search *s, const struct imap_search_msg *m)
{
    struct sm c = {m, STR_INIT, false, STR_INIT, false};
    bool r = s->root ? sm_key(&c, s->root) : true;
    str_clear(&c.body);
    str_clear(&c.hdr);
    return r;
}
