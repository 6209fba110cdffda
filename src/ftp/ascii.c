/* ascii — see ascii.h. */
#include "ftp/ascii.h"

size_t ftp_ascii_to_wire(const char *in, size_t n, char *out, bool *last_cr)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\n' && !*last_cr)
            out[w++] = '\r';
        out[w++] = in[i];
        *last_cr = in[i] == '\r';
    }
    return w;
}

size_t ftp_ascii_from_wire(const char *in, size_t n, char *out, bool *held_cr)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (*held_cr) {
            *held_cr = false;
            if (in[i] != '\n')
                out[w++] = '\r';
        }
        if (in[i] == '\r')
            *held_cr = true;
        else
            out[w++] = in[i];
    }
    return w;
}

size_t ftp_ascii_from_wire_end(char *out, bool *held_cr)
{
    if (!*held_cr)
        return 0;
    *held_cr = false;
    out[0] = '\r';
    return 1;
}
