/* rrl — per-prefix token buckets, slip to TC, loopback exempt. See rrl.h. */
#include "dns/server/rrl.h"

#include "dns/wire.h"

#include "core/xmalloc.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define WAYS 4 /* slots per hash bucket */

struct rrl_slot {
    uint8_t key[8];   /* family byte + prefix bytes (3 for /24, 7 for /56) */
    int64_t tokens;   /* in thousandths of a response */
    uint64_t last_ms; /* last refill */
    uint32_t slip_n;  /* limited responses since the last slip */
    uint8_t used;
};

struct dns_rrl {
    unsigned rate, slip;
    size_t nbuckets; /* power of two */
    struct rrl_slot *slots;
};

struct dns_rrl *dns_rrl_new(unsigned rate, unsigned slip, size_t slots)
{
    struct dns_rrl *r = xcalloc(1, sizeof *r);
    r->rate = rate ? rate : 1;
    r->slip = slip;
    size_t want = (slots ? slots : 16384) / WAYS;
    r->nbuckets = 1;
    while (r->nbuckets < want)
        r->nbuckets *= 2;
    r->slots = xcalloc(r->nbuckets * WAYS, sizeof *r->slots);
    return r;
}

void dns_rrl_free(struct dns_rrl *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r);
}

static void prefix_key(const struct sockaddr *sa, uint8_t key[8])
{
    memset(key, 0, 8);
    if (sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 3); /* /24 */
        return;
    }
    const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(a, mapped, 12)) {
        key[0] = 4;
        memcpy(key + 1, a + 12, 3);
        return;
    }
    key[0] = 6;
    memcpy(key + 1, a, 7); /* /56 */
}

static uint32_t key_hash(const uint8_t key[8])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 8; i++) {
        h ^= key[i];
        h *= 16777619u;
    }
    return h;
}

/* The slot of key: its own, else a free one, else the least recently used of the bucket. */
static struct rrl_slot *slot_get(struct dns_rrl *r, const uint8_t key[8], uint64_t now)
{
    struct rrl_slot *b = &r->slots[(key_hash(key) & (r->nbuckets - 1)) * WAYS];
    struct rrl_slot *victim = &b[0];
    for (int i = 0; i < WAYS; i++) {
        if (b[i].used && !memcmp(b[i].key, key, 8))
            return &b[i];
        if (!b[i].used || (victim->used && b[i].last_ms < victim->last_ms))
            victim = &b[i];
    }
    memset(victim, 0, sizeof *victim);
    memcpy(victim->key, key, 8);
    victim->used = 1;
    victim->tokens = (int64_t)r->rate * 1000; /* a new prefix starts with a full bucket */
    victim->last_ms = now;
    return victim;
}

enum dns_rrl_action dns_rrl_check(struct dns_rrl *r, const struct sockaddr *sa, uint64_t now_ms)
{
    uint8_t key[8];
    prefix_key(sa, key);
    struct rrl_slot *s = slot_get(r, key, now_ms);
    int64_t cap = (int64_t)r->rate * 1000;
    if (now_ms > s->last_ms) {
        uint64_t dt = now_ms - s->last_ms;
        s->tokens += dt > 1000 ? cap : (int64_t)dt * r->rate;
        if (s->tokens > cap)
            s->tokens = cap;
        s->last_ms = now_ms;
    }
    if (s->tokens >= 1000) {
        s->tokens -= 1000;
        return DNS_RRL_SEND;
    }
    if (r->slip && ++s->slip_n >= r->slip) {
        s->slip_n = 0;
        return DNS_RRL_SLIP;
    }
    return DNS_RRL_DROP;
}

bool dns_rrl_exempt(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr)[0] == 127;
    if (sa->sa_family != AF_INET6)
        return false;
    const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return !memcmp(a, one, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
}

/* The answer cut to header and question, TC=1: no records (nothing to amplify), and a real
 * client retries over TCP. */
static size_t slip_reply(uint8_t *out, size_t len)
{
    struct dns_buf b;
    dns_buf_init_read(&b, out, len);
    b.pos = DNS_HEADER_LEN;
    uint16_t qd = (uint16_t)(out[4] << 8 | out[5]);
    if (qd == 1) {
        uint8_t name[DNS_NAME_MAXLEN];
        size_t n;
        if (dns_buf_get_name(&b, name, &n, NULL) == 0)
            dns_buf_get_ptr(&b, 4);
    }
    if (qd != 1 || b.err)
        b.pos = DNS_HEADER_LEN;
    out[2] |= 0x02;
    memset(out + 6, 0, 6);
    if (b.pos == DNS_HEADER_LEN)
        memset(out + 4, 0, 2);
    return b.pos;
}

size_t dns_rrl_apply(struct dns_rrl *r, const struct sockaddr *sa, uint8_t *out, size_t len,
                     uint64_t now_ms)
{
    if (!r || len < DNS_HEADER_LEN || dns_rrl_exempt(sa))
        return len;
    enum dns_rrl_action a = dns_rrl_check(r, sa, now_ms);
    if (a == DNS_RRL_SEND)
        return len;
    return a == DNS_RRL_SLIP ? slip_reply(out, len) : 0;
}
