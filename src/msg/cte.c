/* cte — see cte.h. */
#include "msg/cte.h"

#include "msg/base64.h"
#include "msg/qp.h"

enum cte cte_from_name(const char *name, size_t n)
{
    struct slice s = slice_trim(slice_make(name, n));
    if (s.len == 0 || slice_eq_ci(s, "7bit"))
        return CTE_7BIT;
    if (slice_eq_ci(s, "8bit"))
        return CTE_8BIT;
    if (slice_eq_ci(s, "binary"))
        return CTE_BINARY;
    if (slice_eq_ci(s, "quoted-printable"))
        return CTE_QP;
    if (slice_eq_ci(s, "base64"))
        return CTE_BASE64;
    return CTE_UNKNOWN;
}

static bool b64_is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

void cte_base64_decode(const char *in, size_t n, struct str *out)
{
    /* Collect alphabet characters a chunk at a time and hand whole quanta to the strict
     * decoder of msg/base64. */
    char chunk[1024];
    size_t k = 0;
    unsigned char dec[1024 / 4 * 3 + 3];
    size_t dlen;
    for (size_t i = 0; i < n && in[i] != '='; i++) {
        if (!b64_is_alpha(in[i]))
            continue;
        chunk[k++] = in[i];
        if (k == sizeof chunk) {
            if (base64_decode(chunk, k, dec, &dlen) == 0)
                str_append(out, dec, dlen);
            k = 0;
        }
    }
    if (k % 4 == 1)
        k--; /* six lone bits make no byte */
    if (k > 0 && base64_decode(chunk, k, dec, &dlen) == 0)
        str_append(out, dec, dlen);
}

void cte_decode(enum cte enc, const char *in, size_t n, struct str *out)
{
    switch (enc) {
    case CTE_BASE64:
        cte_base64_decode(in, n, out);
        break;
    case CTE_QP:
        qp_decode(in, n, false, out);
        break;
    default:
        str_append(out, in, n);
        break;
    }
}
