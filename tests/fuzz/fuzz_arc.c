/*
 * libFuzzer target for ARC on a received message (src/mailauth/arc*.c): the chain collected
 * (every ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results parsed, the sets
 * checked for structure), its signatures verified against a fixed Ed25519 key record, the
 * trusted-sealer test, and a new set sealed on top with a fixed Ed25519 key.
 */
#include "mailauth/arc.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char PEM[] = "-----BEGIN PRIVATE KEY-----\n"
                          "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                          "-----END PRIVATE KEY-----\n";

static struct dkim_signer *signer;
static struct dkim_key key;

static const struct dkim_key *fixed_key(void *ctx, const char *sel, const char *dom, bool *temp)
{
    (void)ctx, (void)sel;
    *temp = dom[0] == 't'; /* some domains fail temporarily */
    return *temp ? NULL : &key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *err;
    if (!signer) {
        if (dkim_signer_new(PEM, strlen(PEM), "fuzz.example", "s", &signer, &err) != 0)
            abort();
        struct str rec = STR_INIT;
        dkim_signer_record(signer, &rec);
        if (dkim_key_parse(rec.ptr, rec.len, &key, &err) != 0)
            abort();
        str_clear(&rec);
    }
    char *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    struct mailauth_msg m;
    if (mailauth_msg_split(p, size, &m) == 0) {
        struct arc_chain c;
        arc_chain_collect(&m, &c);
        if (c.n > ARC_MAX_SETS)
            abort();
        bool temp;
        const char *why;
        enum arc_cv cv = arc_chain_verify(&m, &c, fixed_key, NULL, &temp, &why);
        char by[254];
        if (cv == ARC_CV_PASS)
            arc_trusted_pass(&m, &c, "fuzz.example x.example", by, sizeof by);
        for (size_t i = 0; i < m.nf; i++)
            arc_aar_dmarc_pass(mailauth_field_value(&m.f[i]));
        struct str o = STR_INIT;
        arc_seal(signer, p, size, "mx.example; dmarc=pass", cv, 1700000000, &o);
        str_clear(&o);
        arc_chain_clear(&c);
        mailauth_msg_clear(&m);
    }
    free(p);
    return 0;
}
