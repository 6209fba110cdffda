/*
 * libFuzzer target for http/coding: the input is an Accept-Encoding field value. q-values
 * stay within 0..1000, the chosen coding is one Pigeon can produce (never br when br is not
 * offered), identity refused means its q is 0, and an entity tag grows within its 64 octets.
 */
#include "http/coding.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice f = slice_make((const char *)data, size);
    static const char *const names[] = {"gzip", "br", "identity", "x-gzip", "*"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (http_coding_q(f, names[i]) > 1000)
            abort();
    bool refused;
    enum http_coding c = http_coding_choose(&f, false, &refused);
    if (c == HTTP_CODING_BR || refused != (http_coding_q(f, "identity") == 0))
        abort();
    c = http_coding_choose(&f, true, &refused);
    if (c != HTTP_CODING_IDENTITY && http_coding_q(f, http_coding_name(c)) == 0)
        abort();
    char etag[64];
    size_t n = size < 62 ? size : 62;
    etag[0] = '"';
    memcpy(etag + 1, data, n ? n - 1 : 0);
    etag[n ? n : 1] = '"';
    etag[(n ? n : 1) + 1] = '\0';
    if (memchr(etag + 1, '\0', n ? n - 1 : 0))
        return 0;
    http_coding_etag(etag, c);
    if (strlen(etag) >= 64)
        abort();
    return 0;
}
