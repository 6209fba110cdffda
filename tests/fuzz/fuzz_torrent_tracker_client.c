/*
 * libFuzzer target for the peer's side of a tracker (torrent/tracker_client.h): the first
 * byte chooses an HTTP tracker's bencoded answer or a UDP announce reply (BEP 15, over an
 * IPv4 or IPv6 socket); the rest is the body or the datagram. Either the answer is refused
 * with a failure text, or every peer it yields is of the socket's family (UDP) or of a known
 * family with a port, within TOR_ANNOUNCE_MAX_PEERS.
 */
#include "torrent/tracker_client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void check(const struct tor_announce_res *r, int family)
{
    if (memchr(r->failure, '\0', sizeof r->failure) == NULL)
        abort();
    if (r->npeers > TOR_ANNOUNCE_MAX_PEERS)
        abort();
    for (size_t i = 0; i < r->npeers; i++) {
        int f = r->peers[i].family;
        if ((f != AF_INET && f != AF_INET6) || (family && f != family))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct tor_announce_res *r = malloc(sizeof *r);
    memset(r, 0, sizeof *r);
    if (data[0] & 1) {
        int family = data[0] & 2 ? AF_INET6 : AF_INET;
        uint32_t tid = size >= 9 ? (uint32_t)data[5] << 24 | (uint32_t)data[6] << 16 |
                                       (uint32_t)data[7] << 8 | data[8]
                                 : 0;
        tor_announce_parse_udp(data + 1, size - 1, tid, family, r);
        check(r, family);
    } else {
        tor_announce_parse_http((const char *)data + 1, size - 1, r);
        check(r, 0);
    }
    free(r);
    return 0;
}
