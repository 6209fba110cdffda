/*
 * dkim_hash — the two hash inputs of RFC 6376 §3.7: the canonical body (bh=) and the selected,
 * canonical header fields followed by the signature field with b= empty.
 */
#include "mailauth/dkim_int.h"

#include "mailauth/crypto.h"

#include <stdlib.h>
#include <string.h>

void dkim_header_input(enum dkim_canon c, const char (*names)[80], size_t n,
                       const struct mailauth_msg *m, size_t skip, const char *sig_raw,
                       size_t sig_len, struct str *out)
{
    bool *used = calloc(m->nf ? m->nf : 1, sizeof *used);
    if (!used)
        abort();
    if (skip < m->nf)
        used[skip] = true;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = m->nf; i-- > 0;) { /* §5.4.2: bottom up */
            if (!used[i] && mailauth_field_is(&m->f[i], names[k])) {
                used[i] = true;
                dkim_canon_header(c, m->f[i].p, m->f[i].len, out);
                break;
            }
        }
    }
    free(used);
    size_t at = out->len;
    dkim_canon_header(c, sig_raw, sig_len, out);
    if (out->len >= at + 2) /* without the final CRLF */
        out->len -= 2, out->ptr[out->len] = '\0';
}

void dkim_body_hash(enum dkim_canon c, const struct mailauth_msg *m, bool has_limit,
                    uint64_t limit, unsigned char out[32], size_t *canon_len_out)
{
    struct str b = STR_INIT;
    size_t n = dkim_canon_body(c, m->body, m->body_len, &b);
    *canon_len_out = n;
    mailauth_sha256(b.ptr ? b.ptr : "", has_limit && limit < n ? (size_t)limit : n, out);
    str_clear(&b);
}
