/*
 * libFuzzer target for SORT and THREAD: imap/sortkey (criteria, base subject, address keys,
 * sent dates, message ids) and imap/thread, plus the SORT/THREAD/ESEARCH arguments through
 * imap/parser and imap/search_parse. The input is a command line, then messages' header
 * blocks separated by NUL bytes. Checks: every message appears exactly once in each thread
 * list and the list's parentheses balance; the sort order is total (each message once); no
 * crash, leak or overflow.
 */
#include "imap/parser.h"
#include "imap/search_parse.h"
#include "imap/sortkey.h"
#include "imap/thread.h"
#include "msg/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MSGS 64

static void check_thread(const char *t, size_t len, size_t n)
{
    unsigned seen[MAX_MSGS + 1] = {0};
    long depth = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '(') {
            depth++;
        } else if (t[i] == ')') {
            if (--depth < 0)
                abort();
        } else if (t[i] >= '1' && t[i] <= '9') {
            unsigned v = 0;
            while (i < len && t[i] >= '0' && t[i] <= '9')
                v = v * 10 + (unsigned)(t[i++] - '0');
            i--;
            if (v == 0 || v > n || seen[v]++)
                abort();
        }
    }
    if (depth != 0)
        abort();
    for (size_t k = 1; k <= n; k++)
        if (seen[k] != 1)
            abort();
}

static const char *value(struct msg_arena *a, const char *hdr, size_t len, const char *name,
                         size_t *n)
{
    struct str o = STR_INIT;
    const char *v = NULL;
    if (mime_text_header(hdr, len, name, &o)) {
        const char *e = strchr(str_cstr(&o), '\n');
        *n = e ? (size_t)(e - str_cstr(&o)) : o.len;
        v = msg_arena_strndup(a, str_cstr(&o), *n);
    }
    str_clear(&o);
    return v;
}

static const char *key(struct msg_arena *a, struct str *k)
{
    return msg_arena_strndup(a, str_cstr(k), k->len);
}

static void item_from(struct msg_arena *a, const char *hdr, size_t len, struct imap_sort_item *it)
{
    size_t n = 0;
    struct str k = STR_INIT;
    const char *v = value(a, hdr, len, "Subject", &n);
    imap_base_subject(v ? v : "", v ? n : 0, &k, &it->reply);
    it->subject = key(a, &k);
    v = value(a, hdr, len, "Date", &n);
    it->sent = imap_sent_date(v, n, 1700000000);
    str_reset(&k);
    if ((v = value(a, hdr, len, "From", &n)) != NULL)
        imap_sort_address(v, n, true, &k);
    it->dfrom = key(a, &k);
    str_reset(&k);
    if (v)
        imap_sort_address(v, n, false, &k);
    it->from = key(a, &k);
    const char *ids[1], **refs = msg_arena_alloc(a, 16 * sizeof *refs);
    v = value(a, hdr, len, "Message-ID", &n);
    it->msgid = v && imap_msgids(v, n, a, ids, 1) ? ids[0] : NULL;
    v = value(a, hdr, len, "References", &n);
    it->nrefs = v ? imap_msgids(v, n, a, refs, 16) : 0;
    it->refs = refs;
    str_clear(&k);
}

struct crits {
    struct imap_sort_crit c[IMAP_SORT_MAX_KEYS];
    size_t n;
};

static void run_command(const char *line, size_t n, struct imap_sort_crit *crit, size_t *ncrit)
{
    struct imap_parser *p = imap_parser_new(NULL);
    size_t used;
    struct imap_parser_event ev;
    char buf[1024];
    if (n > sizeof buf - 3)
        n = sizeof buf - 3;
    memcpy(buf, line, n);
    memcpy(buf + n, "\r\n", 2);
    *ncrit = 0;
    if (imap_parser_feed(p, buf, n + 2, &used, &ev) == IMAP_PARSE_COMMAND && ev.cmd->nargs) {
        const char *why;
        unsigned want;
        if (!imap_sort_criteria_parse(&ev.cmd->args[0], crit, ncrit, &want, &why))
            *ncrit = 0;
        struct imap_search se;
        if (ev.cmd->nargs > 1) {
            if (imap_search_parse(ev.cmd->args + 1, ev.cmd->nargs - 1,
                                  IMAP_SEARCH_ALLOW_RETURN | IMAP_SEARCH_ALLOW_SAVED |
                                      IMAP_SEARCH_BARE_CHARSET,
                                  &se, &why) == 0) {
                uint32_t saved[2] = {3, 7};
                imap_search_set_saved(&se, saved, 2);
                imap_search_prepare(&se, 10, 100);
            }
            imap_search_clear(&se);
        }
    }
    imap_parser_free(p);
}

static int cmp_items(const void *a, const void *b, void *vc)
{
    const struct crits *c = vc;
    return imap_sort_cmp(a, b, c->c, c->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data, *end = d + size;
    const char *nl = memchr(d, '\n', size);
    struct crits crit;
    run_command(d, nl ? (size_t)(nl - d) : size, crit.c, &crit.n);
    struct msg_arena a;
    msg_arena_init(&a, 4096);
    struct imap_sort_item items[MAX_MSGS];
    size_t n = 0;
    for (const char *p = nl ? nl + 1 : end; p < end && n < MAX_MSGS;) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
        memset(&items[n], 0, sizeof items[n]);
        items[n].seq = items[n].num = (uint32_t)(n + 1);
        items[n].size = len;
        items[n].arrival = (int64_t)(len % 7);
        item_from(&a, p, len, &items[n]);
        n++;
        p += len + 1;
    }
    for (int algo = 0; algo < 2; algo++) {
        struct str t = STR_INIT;
        imap_thread(algo ? IMAP_THREAD_REFERENCES : IMAP_THREAD_ORDEREDSUBJECT, items, n, &t);
        check_thread(str_cstr(&t), t.len, n);
        str_clear(&t);
    }
    qsort_r(items, n, sizeof items[0], cmp_items, &crit);
    for (size_t i = 1; i < n; i++)
        if (imap_sort_cmp(&items[i - 1], &items[i], crit.c, crit.n) >= 0)
            abort();
    msg_arena_clear(&a);
    return 0;
}
