/*
 * libFuzzer target for msg/addr. The first byte picks the flags; the rest is the path.
 * Checks: no crash, consumed within bounds, and format -> parse gives back the same address.
 */
#include "msg/addr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_roundtrip(const struct mail_addr *a, unsigned flags)
{
    char buf[MAIL_PATH_MAX * 2 + 8];
    size_t n = mail_addr_format(a, buf, sizeof buf);
    if (n >= sizeof buf)
        abort();
    char small[7];
    if (mail_addr_format(a, small, sizeof small) != n || strlen(small) > 6)
        abort();
    struct mail_addr b;
    const char *why = NULL;
    if (a->utf8)
        flags |= MAIL_ADDR_ALLOW_UTF8;
    if (mail_addr_parse(buf, n, flags, &b, &why) != 0)
        abort();
    if (strcmp(a->local, b.local) != 0 || strcmp(a->domain, b.domain) != 0 ||
        a->quoted != b.quoted || a->is_null != b.is_null || a->utf8 != b.utf8)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 0x0f;
    /* A heap copy of exactly the input length so ASan sees any over-read. */
    size_t len = size - 1;
    char *p = malloc(len ? len : 1);
    memcpy(p, data + 1, len);

    struct mail_addr a;
    size_t used = 0;
    const char *why = NULL;
    if (mail_addr_parse_path(p, len, flags, &a, &used, &why) == 0) {
        if (used > len)
            abort();
        check_roundtrip(&a, flags);
    } else if (!why) {
        abort();
    }
    why = NULL;
    if (mail_addr_parse(p, len, flags, &a, &why) == 0)
        check_roundtrip(&a, flags);
    else if (!why)
        abort();
    free(p);
    return 0;
}
