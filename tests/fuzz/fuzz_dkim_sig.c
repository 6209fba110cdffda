/*
 * libFuzzer target for the DKIM tag-list parsers (src/mailauth): the input is parsed as a
 * DKIM-Signature value, a DKIM key record and a DMARC record. Checks: no crash, no over-read
 * (the input is an exact-size heap copy), and every tag's spans inside the input.
 */
#include "mailauth/dkim.h"
#include "mailauth/dmarc.h"
#include "mailauth/taglist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    struct taglist tl;
    const char *err = NULL;
    if (taglist_parse(p, size, &tl, &err) == 0) {
        for (size_t i = 0; i < tl.n; i++)
            if (tl.t[i].raw_start > tl.t[i].raw_end || tl.t[i].raw_end > size ||
                tl.t[i].value.p < p || tl.t[i].value.p + tl.t[i].value.len > p + size)
                abort();
    } else if (!err) {
        abort();
    }
    struct dkim_sig *sig = malloc(sizeof *sig);
    if (dkim_sig_parse(p, size, sig, &err) == 0 &&
        (sig->nh == 0 || sig->bh_len != 32 || sig->b_len > sizeof sig->b))
        abort();
    free(sig);
    struct dkim_key key;
    if (dkim_key_parse(p, size, &key, &err) == 0 && key.pub_len > sizeof key.pub)
        abort();
    struct dmarc_record rec;
    if (dmarc_record_parse(p, size, &rec, &err) == 0 && rec.pct > 100)
        abort();
    free(p);
    return 0;
}
