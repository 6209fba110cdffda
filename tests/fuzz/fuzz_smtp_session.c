/*
 * Feeds arbitrary bytes to a whole SMTP session (through fakes/fake_smtp), in two pieces
 * split at a point chosen by the first input byte: exercises command dispatch, the DATA and
 * BDAT readers, AUTH exchanges and state changes together.
 */
#include "core/log.h"
#include "fakes/fake_smtp.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_ERR);
    if (size == 0)
        return 0;
    struct fake_smtp f;
    fake_smtp_init(&f, data[0] & 1, data[0] & 2);
    size_t cut = size > 1 ? (data[0] * (size - 1)) / 255 : 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (cut > n)
        cut = n;
    fake_smtp_feed(&f, p, cut);
    fake_smtp_feed(&f, p + cut, n - cut);
    fake_smtp_free(&f);
    return 0;
}
