/*
 * fetch_write — the untagged FETCH responses of one chunk (RFC 3501 §7.4.2), written in
 * bursts of IMAP_SEND_BURST octets: a message's body literals are copied to the connection
 * straight from the mapped file, a piece at a time, so neither a large message nor a large
 * set is ever held in memory.
 */
#include "imap/fetch_int.h"

#include "core/log.h"
#include "msg/base64.h"
#include "msg/cte.h"
#include "msg/date.h"

#include <string.h>

void imap_fetch_msg_release(struct imap_session *s, struct imap_fetch *f)
{
    if (f->tree)
        mime_tree_free(f->tree);
    f->tree = NULL;
    if (f->mapped)
        s->ops->msg_unmap(s->ops_ctx, &f->map);
    f->mapped = false;
    f->started = false;
    f->item = 0;
    f->rest = (struct slice){NULL, 0};
}

static void write_nstring_or_nil(struct str *o, const char *name, const char *value,
                                 struct imap_fetch *f)
{
    str_appendf(o, " %s ", name);
    if (value) {
        str_appends(o, value);
    } else {
        str_appends(o, "NIL");
        f->failed = true;
    }
}

/* "* n FETCH (" and every item that is not a body section. */
static void write_simple(struct imap_session *s, struct imap_fetch *f, size_t c, struct str *o)
{
    size_t i = f->idx[c];
    const struct imap_msg *m = &s->view.msgs[i];
    unsigned fl = f->atts.flags;
    str_appendf(o, "* %zu FETCH (UID %u", i + 1, m->uid);
    bool flags = (fl & IMAP_FETCH_FLAGS) || f->flags_changed[c - f->pos];
    if (flags) {
        str_appends(o, " FLAGS ");
        imap_flags_write(o, m->flags, m->keywords);
    }
    if (fl & IMAP_FETCH_INTERNALDATE) {
        struct msg_date d;
        char buf[40];
        msg_date_from_unix(m->internal_date, m->internal_tz, &d); /* the zone APPEND gave */
        msg_date_format_imap_datetime(&d, buf, sizeof buf);
        str_appendf(o, " INTERNALDATE \"%s\"", buf);
    }
    if (fl & IMAP_FETCH_RFC822_SIZE)
        str_appendf(o, " RFC822.SIZE %llu", (unsigned long long)m->size);
    /* RFC 7162 §3.2: once CONDSTORE is on, FLAGS comes with MODSEQ. */
    if (f->with_modseq || (flags && s->condstore))
        str_appendf(o, " MODSEQ (%llu)", (unsigned long long)m->modseq);
    const struct imap_cache_entry *e = f->cache ? &f->cache[c - f->pos] : NULL;
    if (fl & IMAP_FETCH_ENVELOPE)
        write_nstring_or_nil(o, "ENVELOPE", e ? e->envelope : NULL, f);
    if (fl & IMAP_FETCH_BODY)
        write_nstring_or_nil(o, "BODY", e ? e->body : NULL, f);
    if (fl & IMAP_FETCH_BODYSTRUCTURE)
        write_nstring_or_nil(o, "BODYSTRUCTURE", e ? e->bodystructure : NULL, f);
}

/* The RFC822 forms come first (items 0..2 when asked), then atts.bodies. */
static size_t n_items(const struct imap_fetch *f)
{
    return 3 + f->atts.nbodies;
}

static bool map_msg(struct imap_session *s, struct imap_fetch *f, const struct imap_msg *m)
{
    if (f->mapped)
        return true;
    if (s->ops->msg_map(s->ops_ctx, m->blob, &f->map) != 0) {
        log_warn("imap " LOG_ID " cannot read message uid %u", LOG_IDV(s->id), m->uid);
        f->failed = true;
        return false;
    }
    f->mapped = true;
    return true;
}

/* <start.count> of RFC 3501 §6.4.5 on bytes already chosen. */
static struct slice slice_partial(struct slice b, uint32_t start, uint32_t count)
{
    size_t st = start < b.len ? start : b.len;
    size_t n = b.len - st < count ? b.len - st : count;
    return slice_make(b.p + st, n);
}

/*
 * A literal cannot carry a NUL (RFC 3501 §4.3), yet a literal8 APPEND (RFC 3516) or a sloppy
 * client may have stored some. The content of one leaf part goes out in base64 (a client
 * decodes it as the binary it was; imaptest's append-binary asks for this); any other section
 * (the whole message, a header, a multipart) keeps its length and structure with each NUL sent
 * as 0x80, as Dovecot does. BINARY[] sends the bytes themselves as ~{n}.
 */
static struct slice nul_free(struct imap_fetch *f, const struct mime_section *sec,
                             struct slice bytes, struct str *synth)
{
    const struct mime_part *p = NULL;
    if (sec->nparts && sec->kind == MIME_SECTION_BODY && f->tree)
        p = mime_section_part(f->tree, sec);
    if (p && !p->children && !p->message) {
        str_reserve(synth, base64_encoded_size(bytes.len) + 1);
        synth->len = base64_encode(bytes.p, bytes.len, synth->ptr);
    } else {
        str_append(synth, bytes.p, bytes.len);
        for (size_t i = 0; i < synth->len; i++)
            if (synth->ptr[i] == '\0')
                synth->ptr[i] = (char)0x80;
    }
    return slice_make(str_cstr(synth), synth->len);
}

enum item_form {
    FORM_LITERAL,  /* {n} */
    FORM_LITERAL8, /* ~{n}: BINARY content with a NUL (RFC 3516 §4.2) */
    FORM_NUMBER,   /* BINARY.SIZE: just the length */
};

/* BINARY[part] / BINARY.SIZE[part] (RFC 3516 §4.2): the part's content with its transfer
 * encoding removed (decoded into synth); false when the encoding is unknown (the item is
 * left out and the command ends NO [UNKNOWN-CTE]). */
static bool binary_bytes(struct imap_fetch *f, const struct imap_fetch_body *b, struct str *synth,
                         struct slice *out, enum item_form *form)
{
    struct slice raw = {f->map.data, f->map.len};
    enum cte enc = CTE_BINARY;
    if (b->section.nparts) {
        if (!f->tree)
            f->tree = mime_parse(f->map.data, f->map.len, NULL);
        const struct mime_part *p = mime_section_part(f->tree, &b->section);
        raw = p ? slice_make(f->map.data + p->body_off, p->body_len) : slice_make("", 0);
        if (p && p->kind != MIME_KIND_MULTIPART && p->kind != MIME_KIND_MESSAGE)
            enc = cte_from_name(p->encoding ? p->encoding : "",
                                p->encoding ? strlen(p->encoding) : 0);
    }
    if (enc == CTE_UNKNOWN) {
        f->unknown_cte = true;
        return false;
    }
    if (enc == CTE_QP || enc == CTE_BASE64) {
        cte_decode(enc, raw.p, raw.len, synth);
        raw = slice_make(str_cstr(synth), synth->len);
    }
    if (b->partial)
        raw = slice_partial(raw, b->start, b->count);
    *form = b->kind == IMAP_FB_BINARY_SIZE ? FORM_NUMBER
            : memchr(raw.p, '\0', raw.len) ? FORM_LITERAL8
                                           : FORM_LITERAL;
    *out = raw;
    return true;
}

/* The bytes of a section; *name_out is the response item name. False: item not asked. */
static bool item_bytes(struct imap_session *s, struct imap_fetch *f, const struct imap_msg *m,
                       size_t item, const char **name_out, struct str *synth, struct slice *out,
                       enum item_form *form)
{
    static const struct {
        unsigned flag;
        const char *name;
        enum mime_section_kind kind;
    } rfc822[3] = {
        {IMAP_FETCH_RFC822, "RFC822", MIME_SECTION_BODY},
        {IMAP_FETCH_RFC822_HEADER, "RFC822.HEADER", MIME_SECTION_HEADER},
        {IMAP_FETCH_RFC822_TEXT, "RFC822.TEXT", MIME_SECTION_TEXT},
    };
    struct mime_section sec = {.kind = MIME_SECTION_BODY};
    const struct imap_fetch_body *b = NULL;
    if (item < 3) {
        if (!(f->atts.flags & rfc822[item].flag))
            return false;
        sec.kind = rfc822[item].kind;
        *name_out = rfc822[item].name;
    } else {
        b = &f->atts.bodies[item - 3];
        sec = b->section;
        *name_out = b->name;
    }
    *out = (struct slice){"", 0};
    *form = b && b->kind == IMAP_FB_BINARY_SIZE ? FORM_NUMBER : FORM_LITERAL;
    if (!map_msg(s, f, m))
        return true;
    if (b && b->kind != IMAP_FB_BODY)
        return binary_bytes(f, b, synth, out, form);
    struct mime_range r = {.off = 0, .len = f->map.len};
    int rc = 0;
    if (sec.nparts || sec.kind != MIME_SECTION_BODY) {
        if (!f->tree)
            f->tree = mime_parse(f->map.data, f->map.len, NULL);
        rc = mime_section_resolve(f->tree, &sec, &r);
    }
    if (rc == 0) {
        struct slice bytes = mime_range_bytes(&r, f->map.data);
        if (memchr(bytes.p, '\0', bytes.len)) {
            bytes = nul_free(f, &sec, bytes, synth);
        } else if (r.synth) { /* the range points into r.data: keep a copy past its clear */
            str_append(synth, bytes.p, bytes.len);
            bytes = slice_make(str_cstr(synth), synth->len);
        }
        *out = b && b->partial ? slice_partial(bytes, b->start, b->count) : bytes;
    }
    mime_range_clear(&r);
    return true;
}

#define OBUF_FLUSH (64 * 1024) /* gathered output is written in pieces of about this size */
#define OBUF_COPY (16 * 1024)  /* smaller literals are copied into the gathered output */

static void obuf_flush(struct imap_session *s, struct imap_fetch *f)
{
    if (f->obuf.len)
        imap_write(s, f->obuf.ptr, f->obuf.len);
    str_reset(&f->obuf);
}

/* Adds p[0..n) to the output; counts it against the burst. */
static void out_add(struct imap_session *s, struct imap_fetch *f, const char *p, size_t n,
                    size_t *budget)
{
    str_append(&f->obuf, p, n);
    *budget = *budget > n ? *budget - n : 0;
    if (f->obuf.len >= OBUF_FLUSH)
        obuf_flush(s, f);
}

/* Writes as much of f->rest as the burst allows; true when all of it is out. Large literals
 * go straight from the mapped file, a piece at a time. */
static bool write_rest(struct imap_session *s, struct imap_fetch *f, size_t *budget)
{
    if (f->rest.len && f->rest.len <= OBUF_COPY) {
        out_add(s, f, f->rest.p, f->rest.len, budget);
        f->rest.len = 0;
    }
    if (f->rest.len)
        obuf_flush(s, f);
    while (f->rest.len) {
        if (*budget == 0)
            return false;
        size_t k = f->rest.len < *budget ? f->rest.len : *budget;
        imap_write(s, f->rest.p, k);
        f->rest.p += k;
        f->rest.len -= k;
        *budget -= k;
    }
    return true;
}

/* Continues the message at chunk position c; true when its response is complete. */
static bool write_msg(struct imap_session *s, struct imap_fetch *f, size_t c, size_t *budget,
                      struct str *synth)
{
    const struct imap_msg *m = &s->view.msgs[f->idx[c]];
    if (!f->started) {
        size_t before = f->obuf.len;
        write_simple(s, f, c, &f->obuf);
        size_t n = f->obuf.len - before;
        *budget = *budget > n ? *budget - n : 0;
        f->started = true;
    }
    if (!write_rest(s, f, budget))
        return false;
    while (f->item < n_items(f)) {
        const char *name;
        struct slice bytes;
        enum item_form form;
        str_reset(synth);
        if (!item_bytes(s, f, m, f->item++, &name, synth, &bytes, &form))
            continue;
        if (form == FORM_NUMBER) {
            str_appendf(&f->obuf, " %s %zu", name, bytes.len);
            continue;
        }
        str_appendf(&f->obuf, " %s %s{%zu}\r\n", name, form == FORM_LITERAL8 ? "~" : "", bytes.len);
        if (synth->len) { /* HEADER.FIELDS, BINARY decoded: gone after this call: copied now */
            out_add(s, f, bytes.p, bytes.len, budget);
            continue;
        }
        f->rest = bytes;
        if (!write_rest(s, f, budget))
            return false;
    }
    str_append(&f->obuf, ")\r\n", 3);
    imap_fetch_msg_release(s, f);
    return true;
}

bool imap_fetch_write_chunk(struct imap_session *s, struct imap_fetch *f)
{
    size_t budget = IMAP_SEND_BURST;
    struct str synth = STR_INIT;
    bool done = true;
    while (f->emit < f->end) {
        if (budget == 0 || !write_msg(s, f, f->emit, &budget, &synth)) {
            done = false;
            break;
        }
        f->emit++;
    }
    obuf_flush(s, f);
    if (f->obuf.cap > 4 * OBUF_FLUSH)
        str_clear(&f->obuf);
    str_clear(&synth);
    return done;
}
