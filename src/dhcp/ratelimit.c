/* dhcp/ratelimit — see ratelimit.h. */
#include "dhcp/ratelimit.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define WAYS 4 /* a key lives in one of 4 slots of its set */

struct bucket {
    uint8_t key[16];
    uint8_t len;
    int64_t last_ms;   /* 0: empty */
    int64_t tokens_ms; /* tokens × 1000 */
};

struct dhcp_ratelimit {
    unsigned rate, burst, nsets;
    struct bucket *b;
};

struct dhcp_ratelimit *dhcp_ratelimit_new(unsigned rate, unsigned burst, unsigned slots)
{
    struct dhcp_ratelimit *rl = xcalloc(1, sizeof *rl);
    rl->rate = rate;
    rl->burst = burst ? burst : rate;
    rl->nsets = slots / WAYS ? slots / WAYS : 1;
    rl->b = xcalloc((size_t)rl->nsets * WAYS, sizeof *rl->b);
    return rl;
}

void dhcp_ratelimit_free(struct dhcp_ratelimit *rl)
{
    if (!rl)
        return;
    free(rl->b);
    free(rl);
}

bool dhcp_ratelimit_allow(struct dhcp_ratelimit *rl, const uint8_t *key, size_t len,
                          int64_t now_ms)
{
    if (rl->rate == 0)
        return true;
    if (len > 16)
        len = 16;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ key[i]) * 16777619u;
    struct bucket *set = rl->b + (size_t)(h % rl->nsets) * WAYS, *b = NULL, *lru = set;
    for (unsigned i = 0; i < WAYS && !b; i++) {
        if (set[i].last_ms && set[i].len == len && memcmp(set[i].key, key, len) == 0)
            b = &set[i];
        else if (set[i].last_ms < lru->last_ms)
            lru = &set[i];
    }
    int64_t cap = (int64_t)rl->burst * 1000;
    if (!b) {
        b = lru;
        memcpy(b->key, key, len);
        b->len = (uint8_t)len;
        b->tokens_ms = cap;
        b->last_ms = now_ms;
    }
    int64_t gained = (now_ms - b->last_ms) * rl->rate;
    if (gained > 0)
        b->tokens_ms = b->tokens_ms + gained > cap ? cap : b->tokens_ms + gained;
    b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
    if (b->last_ms == 0)
        b->last_ms = 1;
    if (b->tokens_ms < 1000)
        return false;
    b->tokens_ms -= 1000;
    return true;
}
