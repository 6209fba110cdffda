/* qp — see qp.h. */
#include "msg/qp.h"

static bool qp_is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Length of the line break at in[i] (CRLF or LF), or 0. */
static size_t qp_eol_len(const char *in, size_t n, size_t i)
{
    if (in[i] == '\n')
        return 1;
    if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
        return 2;
    return 0;
}

/* Handles "=" at in[i]; returns the number of input bytes used. */
static size_t qp_decode_escape(const char *in, size_t n, size_t i, struct str *out)
{
    if (i + 2 < n && hex_digit_value(in[i + 1]) >= 0 && hex_digit_value(in[i + 2]) >= 0) {
        char c = (char)(hex_digit_value(in[i + 1]) << 4 | hex_digit_value(in[i + 2]));
        str_appendc(out, c);
        return 3;
    }
    /* Soft line break: "=" [WSP...] EOL, or "=" at the very end of the input. */
    size_t j = i + 1;
    while (j < n && qp_is_wsp(in[j]))
        j++;
    if (j == n)
        return j - i;
    size_t eol = qp_eol_len(in, n, j);
    if (eol)
        return j + eol - i;
    str_appendc(out, '=');
    return 1;
}

void qp_decode(const char *in, size_t n, bool q_mode, struct str *out)
{
    str_reserve(out, n);
    str_append(out, "", 0); /* keeps the string terminated even if nothing follows */
    size_t i = 0;
    while (i < n) {
        char c = in[i];
        if (c == '=') {
            i += qp_decode_escape(in, n, i, out);
        } else if (qp_is_wsp(c)) {
            size_t j = i;
            while (j < n && qp_is_wsp(in[j]))
                j++;
            /* Trailing whitespace before a line end (or the end) was added in transport. */
            if (j < n && !qp_eol_len(in, n, j))
                str_append(out, in + i, j - i);
            i = j;
        } else if (c == '_' && q_mode) {
            str_appendc(out, ' ');
            i++;
        } else {
            str_appendc(out, c);
            i++;
        }
    }
}
