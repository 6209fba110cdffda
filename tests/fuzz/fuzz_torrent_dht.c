/*
 * libFuzzer target for the DHT node (torrent/dht.h, BEP 5) and its KRPC parser: the input is
 * a run of datagrams, each [2-byte length][1 byte: which of four source addresses][bytes],
 * fed to a node that has just asked the first address to bootstrap it (so answers to its
 * transactions, lookups and the nodes they name are reachable). Between datagrams the clock
 * moves on by up to 8 s (time-outs, token rotation). Everything the node sends must be a
 * well-formed KRPC message no larger than a datagram; its counts stay within their limits.
 */
#include "torrent/dht.h"
#include "torrent/krpc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void f_send(void *ctx, const struct dht_addr *to, const void *p, size_t n)
{
    (void)ctx, (void)to;
    struct krpc_msg m;
    const char *why;
    if (n > KRPC_MAX_DATAGRAM || krpc_parse(p, n, &m, &why) < 0)
        abort();
}

static void f_found(void *ctx, const uint8_t ih[20], const struct dht_addr *peers, size_t n)
{
    (void)ctx, (void)ih, (void)peers;
    if (n > 256)
        abort();
}

static const struct dht_ops ops = {.send = f_send, .found = f_found};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t id[20], secret[20], ih[20];
    memset(id, 0x42, 20);
    memset(secret, 0x17, 20);
    memset(ih, 0x43, 20);
    uint64_t now = 1000;
    struct dht *d = dht_new(id, secret, &ops, NULL, now);
    struct dht_addr src[4];
    for (int i = 0; i < 4; i++)
        src[i] = (struct dht_addr){{10, 0, 0, (uint8_t)(i + 1)}, 6881};
    dht_bootstrap(d, &src[0], now);
    size_t pos = 0;
    while (pos + 3 <= size) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        uint8_t which = data[pos + 2];
        pos += 3;
        if (len > size - pos)
            len = size - pos;
        dht_input(d, &src[which & 3], data + pos, len, now);
        pos += len;
        now += (uint64_t)(which >> 2) * 128;
        dht_tick(d, now);
        if (which == 0xff)
            dht_get_peers(d, ih, 6881, now);
    }
    size_t nodes, hashes, peers, lookups;
    dht_stats(d, &nodes, &hashes, &peers, &lookups);
    if (nodes > 160 * 8 || lookups > DHT_MAX_LOOKUPS || hashes > DHT_MAX_HASHES)
        abort();
    dht_free(d);
    return 0;
}
