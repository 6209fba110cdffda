/*
 * libFuzzer target for what the mail reports read from outside: DMARC rua= values
 * (dmarc_rua_parse, from a received DMARC record), _report._dmarc consent records and
 * _smtp._tls records (tlsrpt_rua_pick), and the history lines of both kinds of report
 * (a torn or edited file must never be misread).
 */
#include "mailauth/dmarc_agg.h"
#include "mailauth/tlsrpt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size + 1);
    memcpy(p, data, size);
    p[size] = '\0';
    struct dmarc_rua rua[DMARC_RUA_MAX];
    size_t n = dmarc_rua_parse(p, rua, DMARC_RUA_MAX);
    for (size_t i = 0; i < n; i++)
        if (!strchr(rua[i].addr, '@') || strlen(rua[i].domain) >= sizeof rua[i].domain)
            abort();
    const char *txt[2] = {p, p + size / 2};
    size_t len[2] = {size, size - size / 2};
    dmarc_rua_consents(txt, len, 2);
    char addr[4][320];
    n = tlsrpt_rua_pick(txt, len, 2, addr, 4);
    for (size_t i = 0; i < n; i++)
        if (strlen(addr[i]) >= sizeof addr[i])
            abort();
    struct dmarc_agg_rec *d = malloc(sizeof *d);
    if (dmarc_agg_rec_parse(p, size, d) == 0 && d->ndkim > DKIM_MAX_SIGS)
        abort();
    free(d);
    struct tlsrpt_rec *t = malloc(sizeof *t);
    if (tlsrpt_rec_parse(p, size, t) == 0 && t->nstrings > TLSRPT_MAX_STRINGS)
        abort();
    free(t);
    free(p);
    return 0;
}
