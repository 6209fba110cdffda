/*
 * Feeds arbitrary bytes, as a remote SMTP server's replies, to the outbound client's reply
 * parser (smtp/reply.c) in pieces whose sizes come from the input: multi-line replies, long
 * and cut lines, bad codes, replies split anywhere. Checks the parser's promises: a complete
 * reply has a code in 200..599, used bytes never exceed what was given.
 */
#include "smtp/reply.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = 1 + data[0] % 64; /* bytes per feed */
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    struct smtp_reply r;
    smtp_reply_init(&r);
    while (n > 0) {
        size_t give = n < piece ? n : piece;
        size_t used = 0;
        int rc = smtp_reply_feed(&r, p, give, &used);
        assert(used <= give);
        if (rc < 0)
            break;
        if (rc == 1) {
            assert(r.code >= 200 && r.code <= 599);
            (void)smtp_reply_has_keyword(&r, "PIPELINING");
            smtp_reply_reset(&r);
        } else {
            assert(used == give);
        }
        p += used;
        n -= used;
        if (used == 0 && rc != 1)
            break;
    }
    smtp_reply_clear(&r);
    return 0;
}
