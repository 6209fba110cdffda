/*
 * dkim_hash — the two hash inputs of RFC 6376 §3.7: the canonical body (bh=) and the selected,
 * canonical header fields followed by the signature field with b= empty.
 */
#include "mailauth/dkim_int.h"

#include "core/xmalloc.h"
#include "mailauth/crypto.h"

#include <openssl/evp.h>

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

/* The body hash's input, gathered in a buffer so SHA-256 gets large pieces rather than one
 * call per word of a relaxed line; l= cuts it. */
struct body_sink {
    EVP_MD_CTX *md;
    bool limited;
    uint64_t left; /* octets l= still lets in */
    size_t n;
    char buf[8192];
};

static void sink_flush(struct body_sink *b)
{
    if (b->n)
        EVP_DigestUpdate(b->md, b->buf, b->n);
    b->n = 0;
}

static void sink_emit(void *v, const char *p, size_t n)
{
    struct body_sink *b = v;
    if (b->limited) {
        if (n > b->left)
            n = (size_t)b->left;
        b->left -= n;
    }
    if (n > sizeof b->buf / 2) { /* a long simple line: straight in */
        sink_flush(b);
        EVP_DigestUpdate(b->md, p, n);
        return;
    }
    if (b->n + n > sizeof b->buf)
        sink_flush(b);
    memcpy(b->buf + b->n, p, n);
    b->n += n;
}

void dkim_body_hash(enum dkim_canon c, const struct mailauth_msg *m, bool has_limit, uint64_t limit,
                    unsigned char out[32], size_t *canon_len_out)
{
    struct body_sink *b = xmalloc(sizeof *b);
    b->md = EVP_MD_CTX_new();
    b->limited = has_limit, b->left = limit, b->n = 0;
    if (!b->md || EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1)
        abort();
    *canon_len_out = dkim_canon_body_stream(c, m->body, m->body_len, sink_emit, b);
    sink_flush(b);
    unsigned int n = 32;
    EVP_DigestFinal_ex(b->md, out, &n);
    EVP_MD_CTX_free(b->md);
    free(b);
}
