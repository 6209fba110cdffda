/*
 * libFuzzer target for the received aggregate reports (src/mailauth/rua*.c): the first octet
 * chooses what the rest is — a whole message (MIME walk, transfer decoding, gzip/zip, XML or
 * JSON), one attachment (rua_unpack: gzip through zlib, zip through libarchive) or one report
 * document (libxml2 / jansson). Checks: no crash, leak or over-read; every report kept has its
 * names and normalised JSON, reads back through rua_show, and no document exceeds the limit.
 */
#include "mailauth/rua.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    rua_init();
    return 0;
}

static void check(const struct rua_report *r)
{
    if (!r->org || !r->report_id || !r->domain || !r->json)
        abort();
    struct str out = STR_INIT;
    if (rua_show(r->kind, r->json, strlen(r->json), &out) != 0 || out.len == 0)
        abort();
    str_clear(&out);
}

static void one_document(const char *p, size_t size)
{
    struct rua_report r;
    const char *why = NULL;
    if (rua_parse_document(p, size, &r, &why) == 0)
        check(&r);
    else if (!why)
        abort();
    rua_report_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = size - 1;
    char *p = malloc(n ? n : 1); /* exact size: an over-read is caught */
    memcpy(p, data + 1, n);
    const char *why = NULL;
    if (data[0] % 3 == 0) {
        struct rua_report r[RUA_MAX_PER_MSG];
        size_t refused;
        size_t got = rua_parse_message(p, n, r, RUA_MAX_PER_MSG, &refused, &why);
        if (got > RUA_MAX_PER_MSG || (refused && !why))
            abort();
        for (size_t i = 0; i < got; i++) {
            check(&r[i]);
            rua_report_clear(&r[i]);
        }
    } else if (data[0] % 3 == 1) {
        struct str docs[RUA_MAX_PER_MSG];
        int got = rua_unpack((const unsigned char *)p, n, docs, RUA_MAX_PER_MSG, &why);
        if (got < 0 && !why)
            abort();
        for (int i = 0; i < got; i++) {
            if (docs[i].len > RUA_MAX_SIZE)
                abort();
            one_document(str_cstr(&docs[i]), docs[i].len);
            str_clear(&docs[i]);
        }
    } else {
        one_document(p, n);
    }
    free(p);
    return 0;
}
