/*
 * libFuzzer target for the MTA-STS parsers (src/mailauth/mtasts.c): the input is parsed as a
 * policy file and as a TXT record, and a parsed policy is matched against the input's first
 * line as a host name. Checks: no crash, no over-read (exact-size heap copy), every kept mx
 * pattern NUL-terminated inside its slot and max_age within the RFC's bound.
 */
#include "mailauth/mtasts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    struct mtasts_policy *pol = malloc(sizeof *pol);
    const char *why = NULL;
    if (mtasts_policy_parse(p, size, pol, &why) == 0) {
        if (pol->max_age > MTASTS_MAX_AGE || pol->nmx > MTASTS_MAX_MX)
            abort();
        for (size_t i = 0; i < pol->nmx; i++)
            if (!memchr(pol->mx[i], '\0', sizeof pol->mx[i]))
                abort();
        char host[300];
        size_t n = 0;
        while (n < size && n < sizeof host - 1 && p[n] != '\n' && p[n] != '\0')
            host[n] = p[n], n++;
        host[n] = '\0';
        (void)mtasts_mx_match(pol, host);
    } else if (!why) {
        abort();
    }
    free(pol);
    const char *txt[1] = {p};
    size_t len[1] = {size};
    char id[33];
    if (mtasts_txt_pick(txt, len, 1, id) && strlen(id) > 32)
        abort();
    free(p);
    return 0;
}
