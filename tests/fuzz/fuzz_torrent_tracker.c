/*
 * libFuzzer target for the tracker's request parsers (torrent/tracker_proto.h): the first
 * byte chooses HTTP announce, HTTP scrape or a UDP datagram (BEP 15); the rest is the query
 * or the packet. Every HTTP answer must be one well-formed bencoded dictionary, every UDP
 * answer at most one datagram long, and the engine's state must stay consistent.
 */
#include "torrent/bencode.h"
#include "torrent/tracker.h"
#include "torrent/tracker_proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct tracker_limits l = {.interval = 60, .min_interval = 30, .expire = 120,
                               .numwant_default = 50, .max_torrents = 4, .max_peers = 8,
                               .flood_rate = 5, .flood_burst = 10};
    struct tracker *t = tracker_new(&l, 1);
    struct tracker_addr from;
    tracker_addr_parse(data[0] & 0x80 ? "2001:db8::7" : "192.0.2.7", &from);
    const char *q = (const char *)data + 1;
    size_t n = size - 1;
    if ((data[0] & 3) < 2) {
        struct str out = STR_INIT;
        for (int round = 0; round < 2; round++) { /* twice: the second sees the first's peer */
            str_reset(&out);
            if ((data[0] & 3) == 0)
                tracker_http_announce(t, slice_make(q, n), &from, 100 + round, &out);
            else
                tracker_http_scrape(t, slice_make(q, n), &from, 100 + round, &out);
            struct benc_limits lim;
            benc_limits_default(&lim);
            struct benc_doc d = {0};
            if (benc_parse(out.ptr, out.len, &lim, &d, NULL, NULL) < 0 ||
                d.t[0].type != BENC_DICT)
                abort();
            benc_doc_clear(&d);
        }
        str_clear(&out);
    } else {
        uint8_t secret[32] = {0}, reply[TRACKER_UDP_MAX];
        size_t r = tracker_udp_process(t, secret, data + 1, n, &from, 1000, reply);
        if (r > TRACKER_UDP_MAX || (n >= 16 && r < 8))
            abort();
    }
    size_t nt, np;
    tracker_expire(t, 100000);
    tracker_stats(t, &nt, &np);
    if (np != 0)
        abort();
    tracker_free(t);
    return 0;
}
