/*
 * libFuzzer target for what the MX role runs over a received message (src/mailauth): the
 * header split, every DKIM-Signature parsed and its body hash checked, the DMARC author
 * domain, the removal of forged Authentication-Results fields, the canonical forms, and the
 * TLS-Required field of RFC 8689 (mailauth/requiretls.c, every message the SMTP service takes).
 * The key half is run with a fixed Ed25519 key record so that dkim_check_header is reached.
 */
#include "mailauth/authres.h"
#include "mailauth/canon.h"
#include "mailauth/dmarc.h"
#include "mailauth/requiretls.h"
#include "mailauth/verify.h"
#include "dns/resolver/stub.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    (void)requiretls_header_no(p, size); /* on the exact bytes: ASan sees any overread */
    struct mailauth_msg m;
    if (mailauth_msg_split(p, size, &m) == 0) {
        struct dkim_verify_result r;
        struct dkim_sig *sigs = malloc(DKIM_MAX_SIGS * sizeof *sigs);
        size_t fields[DKIM_MAX_SIGS];
        dkim_verify_prepare(&m, 0, &r, sigs, fields);
        const char *key = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        const char *txt[1] = {key};
        size_t tlen[1] = {strlen(key)};
        for (size_t i = 0; i < r.n; i++)
            if (r.sig[i].result == DKIM_NONE)
                dkim_verify_finish(&m, &sigs[i], fields[i], DNS_STUB_OK, txt, tlen, 1, &r.sig[i]);
        free(sigs);
        char from[254];
        if (dmarc_from_domain(&m, from, sizeof from) == 0 && strlen(from) >= sizeof from)
            abort();
        struct str o = STR_INIT;
        for (size_t i = 0; i < m.nf && i < 4; i++)
            dkim_canon_header(DKIM_CANON_RELAXED, m.f[i].p, m.f[i].len, &o);
        dkim_canon_body(DKIM_CANON_SIMPLE, m.body, m.body_len, &o);
        str_reset(&o);
        if (mailauth_authres_strip(p, size, "mx.example", &o) > 0 && o.len >= size)
            abort();
        str_clear(&o);
        mailauth_msg_clear(&m);
    }
    free(p);
    return 0;
}
