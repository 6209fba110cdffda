/*
 * libFuzzer target for msg/mime: the input is a message. Checks: the tree's ranges nest
 * inside the message; ENVELOPE, BODY and BODYSTRUCTURE (each flag combination) are
 * well-formed IMAP data, as proven by imap/parser reading them back as one command; every
 * section resolves inside the message; the SEARCH text helpers and RFC 2047 decoding run.
 */
#include "imap/parser.h"
#include "msg/mime.h"
#include "msg/rfc2047.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_part(const struct mime_tree *t, const struct mime_part *p, size_t lo, size_t hi)
{
    if (p->hdr_off < lo || p->hdr_off + p->hdr_len != p->body_off ||
        p->body_off + p->body_len > hi || !p->type || !p->subtype)
        abort();
    size_t n = 0;
    for (const struct mime_part *c = p->children; c; c = c->next, n++)
        check_part(t, c, p->body_off, p->body_off + p->body_len);
    if (n != p->nchildren || (p->children && p->kind != MIME_KIND_MULTIPART))
        abort();
    if (p->kind == MIME_KIND_MESSAGE) {
        if (!p->message || p->message->hdr_off != p->body_off)
            abort();
        check_part(t, p->message, p->body_off, p->body_off + p->body_len);
    }
}

/* The output must parse as the arguments of one IMAP command. */
static void check_imap_data(const struct str *s)
{
    struct imap_parser_limits lim;
    imap_parser_limits_default(&lim);
    lim.max_depth = 1000;
    lim.max_line = 1u << 30;
    lim.max_args = 1u << 30;
    lim.max_memory = 1u << 30;
    struct imap_parser *p = imap_parser_new(&lim);
    struct str line = STR_INIT;
    str_appends(&line, "t X ");
    str_append(&line, s->ptr, s->len);
    str_appends(&line, "\r\n");
    size_t off = 0, used;
    struct imap_parser_event ev;
    for (;;) {
        int r = imap_parser_feed(p, line.ptr + off, line.len - off, &used, &ev);
        off += used;
        if (r == IMAP_PARSE_COMMAND && off == line.len && ev.cmd->nargs == 1 &&
            ev.cmd->args[0].type == IMAP_ARG_LIST)
            break;
        if (r != IMAP_PARSE_LITERAL) {
            fprintf(stderr, "not IMAP data (%d %s): %s\n", r, ev.error ? ev.error : "", s->ptr);
            abort();
        }
    }
    str_clear(&line);
    imap_parser_free(p);
}

static void check_sections(const struct mime_tree *t, const uint8_t *sel, size_t nsel)
{
    static const char *const fields[] = {"subject", "content-type"};
    for (unsigned kind = MIME_SECTION_BODY; kind <= MIME_SECTION_MIME; kind++) {
        for (unsigned depth = 0; depth <= 3; depth++) {
            struct mime_section s = {.kind = kind, .fields = fields, .nfields = 2};
            for (unsigned k = 0; k < depth; k++)
                s.part[s.nparts++] = 1 + (k < nsel ? sel[k] % 4 : 0);
            struct mime_range r;
            if (mime_section_resolve(t, &s, &r) != 0)
                continue;
            if (!r.synth && r.off + r.len > t->len)
                abort();
            mime_range_partial(&r, 3, 5);
            struct slice b = mime_range_bytes(&r, t->msg);
            volatile char sink = b.len ? b.p[b.len - 1] : 0;
            (void)sink;
            mime_range_clear(&r);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = malloc(size ? size : 1);
    memcpy(msg, data, size);
    struct mime_limits lim = {16, 200};
    struct mime_tree *t = mime_parse(msg, size, size % 2 ? &lim : NULL);
    check_part(t, t->root, 0, size);

    struct str s = STR_INIT;
    mime_envelope_write(msg, t->root->hdr_len, &s);
    check_imap_data(&s);
    for (unsigned flags = 0; flags < 4; flags++) {
        str_reset(&s);
        mime_bodystructure_write(t, NULL, flags, &s);
        check_imap_data(&s);
    }
    check_sections(t, data, size < 3 ? size : 3);

    str_reset(&s);
    mime_text_header(msg, t->root->hdr_len, NULL, &s);
    mime_text_body(t, &s, 1 << 20);
    str_reset(&s);
    rfc2047_decode(msg, size, &s);
    str_clear(&s);
    mime_tree_free(t);
    free(msg);
    return 0;
}
