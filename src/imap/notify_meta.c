/* notify_meta — see notify_meta.h. */
#include "imap/notify_meta.h"

#include "core/xmalloc.h"
#include "imap/session_int.h"
#include "msg/imapstr.h"

#include <stdlib.h>
#include <string.h>

struct imap_notify_meta_entry {
    char *entry;   /* lower-cased, as the store keeps it */
    uint64_t hash; /* FNV-1a of the value */
};

/* Every entry: both trees, at any depth (RFC 5464 §3.2 names all start with one of them). */
static const struct imap_meta_item all_entries[] = {{"/private", NULL, 0}, {"/shared", NULL, 0}};

void imap_notify_meta_ask(struct imap_session *s, const char *name,
                          void (*cont)(struct imap_session *s))
{
    imap_req_clear(&s->req);
    s->req.name = name;
    s->req.meta = all_entries;
    s->req.nmeta = sizeof all_entries / sizeof all_entries[0];
    s->req.meta_depth = 2; /* infinity */
    imap_request(s, IMAP_REQ_GETMETA, cont);
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static const struct imap_notify_meta_entry *find(const struct imap_notify_meta *m, const char *e)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].entry, e) == 0)
            return &m->e[i];
    return NULL;
}

/* Names the entries of a that b lacks (or, with values, holds with another value). */
static size_t add_changed(struct str *o, const struct imap_notify_meta *a,
                          const struct imap_notify_meta *b, bool values, size_t shown)
{
    for (size_t i = 0; i < a->n; i++) {
        const struct imap_notify_meta_entry *x = find(b, a->e[i].entry);
        if (x && (!values || x->hash == a->e[i].hash))
            continue;
        str_appends(o, shown++ ? " " : "");
        imapstr_write_astring(o, a->e[i].entry, strlen(a->e[i].entry));
    }
    return shown;
}

void imap_notify_meta_update(struct imap_session *s, const char *name, struct imap_notify_meta *m,
                             bool tell)
{
    const struct imap_req *r = &s->req;
    if (r->rc != 0)
        return;
    struct imap_notify_meta now = {xcalloc(r->nmeta_out + 1, sizeof *now.e), r->nmeta_out, true};
    for (size_t i = 0; i < r->nmeta_out; i++)
        now.e[i] = (struct imap_notify_meta_entry){xstrdup(r->meta_out[i].entry),
                                                    fnv1a(r->meta_out[i].value, r->meta_out[i].len)};
    if (tell && m->seen) {
        struct str o = STR_INIT;
        str_appends(&o, "* METADATA ");
        if (name)
            imap_write_mailbox(s, &o, name);
        else
            str_appends(&o, "\"\"");
        str_appends(&o, " (");
        size_t shown = add_changed(&o, &now, m, true, 0); /* came or changed */
        shown = add_changed(&o, m, &now, false, shown);    /* went */
        str_appends(&o, ")\r\n");
        if (shown)
            imap_write(s, o.ptr, o.len);
        str_clear(&o);
    }
    imap_notify_meta_clear(m);
    *m = now;
}

void imap_notify_meta_clear(struct imap_notify_meta *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].entry);
    free(m->e);
    *m = (struct imap_notify_meta){NULL, 0, false};
}
