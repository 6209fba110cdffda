/*
 * libFuzzer target for imap/parser (and the parsers that consume its arguments: seqset,
 * fetch_att, search_parse, mutf7/mailbox_name). The first byte picks limits and how literals
 * are handled, the second where the input is cut; the rest is the client's byte stream.
 * Checks: the transcript of events is the same whether the stream arrives whole, cut in two
 * or byte by byte; feed's accounting; no crash, leak or overflow.
 */
#include "imap/fetch_att.h"
#include "imap/mailbox_name.h"
#include "imap/parser.h"
#include "imap/search_match.h"
#include "imap/search_parse.h"
#include "imap/seqset.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct run {
    struct imap_parser *p;
    uint8_t opts;
    uint64_t hash; /* FNV-1a over the transcript */
};

static void hash_bytes(struct run *r, const void *d, size_t n)
{
    const unsigned char *p = d;
    for (size_t i = 0; i < n; i++)
        r->hash = (r->hash ^ p[i]) * 1099511628211ull;
}

static void hash_arg(struct run *r, const struct imap_arg *a)
{
    hash_bytes(r, &a->type, sizeof a->type);
    hash_bytes(r, &a->len, sizeof a->len);
    if (a->str)
        hash_bytes(r, a->str, a->len);
    for (size_t i = 0; i < a->count; i++)
        hash_arg(r, &a->list[i]);
    hash_bytes(r, ")", 1);
}

/* Hands the command's arguments to the parsers built on them. */
static void consume_cmd(const struct imap_cmd *c)
{
    const char *why;
    if (c->nargs >= 1 && c->args[0].type == IMAP_ARG_ATOM) {
        struct imap_seqset s;
        imap_seqset_init(&s);
        if (imap_seqset_parse(c->args[0].str, c->args[0].len, IMAP_SEQSET_ALLOW_SAVED, &s, &why) ==
            0) {
            imap_seqset_resolve(&s, 1000);
            struct str o = STR_INIT;
            imap_seqset_format(&s, &o);
            str_clear(&o);
        }
        imap_seqset_clear(&s);
    }
    if (c->nargs >= 2) {
        struct imap_fetch_atts fa;
        imap_fetch_atts_parse(&c->args[1], &fa, &why);
        imap_fetch_atts_clear(&fa);
    }
    struct imap_search se;
    if (imap_search_parse(c->args, c->nargs, IMAP_SEARCH_ALLOW_RETURN, &se, &why) == 0) {
        imap_search_prepare(&se, 10, 100);
        struct imap_search_msg m = {.seq = 3, .uid = 30, .flags = IMAP_MSGF_SEEN, .size = 100};
        imap_search_match(&se, &m);
    }
    imap_search_clear(&se);
    const char *s;
    size_t n;
    if (c->nargs >= 1 && imap_arg_get_astring(&c->args[0], &s, &n)) {
        struct str o = STR_INIT;
        imap_mailbox_name_from_wire(s, n, false, &o, &why);
        str_clear(&o);
    }
}

static void run_feed(struct run *r, const char *d, size_t n)
{
    size_t off = 0;
    for (;;) {
        size_t used;
        struct imap_parser_event ev;
        int rc = imap_parser_feed(r->p, d + off, n - off, &used, &ev);
        if (used > n - off)
            abort();
        off += used;
        if (rc == 0) {
            if (off != n)
                abort();
            return;
        }
        if (rc == IMAP_PARSE_LITERAL_DATA) {
            hash_bytes(r, ev.data, ev.len); /* chunking may differ: hash bytes only */
            continue;
        }
        hash_bytes(r, &rc, sizeof rc);
        if (rc < 0) {
            if (!ev.error)
                abort();
            hash_bytes(r, ev.error, strlen(ev.error));
        } else if (rc == IMAP_PARSE_COMMAND) {
            hash_bytes(r, ev.cmd->tag, strlen(ev.cmd->tag));
            for (size_t i = 0; i < ev.cmd->nargs; i++)
                hash_arg(r, &ev.cmd->args[i]);
            if (r->opts & 8)
                consume_cmd(ev.cmd);
            if ((r->opts & 16) && ev.cmd->nargs == 0)
                imap_parser_expect_line(r->p);
        } else if (rc == IMAP_PARSE_LITERAL) {
            if ((r->opts & 3) == 1)
                imap_parser_literal_stream(r->p);
            else if ((r->opts & 3) == 2)
                imap_parser_literal_reject(r->p);
        } else if (rc == IMAP_PARSE_LINE) {
            hash_bytes(r, ev.data, ev.len);
        }
    }
}

static uint64_t run_with_cuts(uint8_t opts, const char *d, size_t n, size_t step, size_t first)
{
    struct imap_parser_limits lim;
    imap_parser_limits_default(&lim);
    if (opts & 4) {
        lim.max_line = 40;
        lim.max_literal = 30;
        lim.max_memory = 200;
        lim.max_depth = 4;
        lim.max_args = 20;
    }
    struct run r = {imap_parser_new(&lim), opts, 1469598103934665603ull};
    size_t off = 0;
    bool first_done = false;
    while (off < n) {
        size_t len = first_done ? step : first;
        first_done = true;
        if (len > n - off)
            len = n - off;
        char *piece = malloc(len ? len : 1);
        memcpy(piece, d + off, len);
        run_feed(&r, piece, len);
        free(piece);
        off += len;
    }
    imap_parser_is_idle(r.p);
    imap_parser_free(r.p);
    return r.hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t opts = data[0];
    const char *d = (const char *)data + 2;
    size_t n = size - 2;
    size_t cut = n ? data[1] % (n + 1) : 0;
    uint64_t whole = run_with_cuts(opts, d, n, n ? n : 1, n);
    if (run_with_cuts(opts, d, n, n ? n : 1, cut) != whole)
        abort();
    if (n < 512 && run_with_cuts(opts, d, n, 1, 1) != whole)
        abort();
    return 0;
}
