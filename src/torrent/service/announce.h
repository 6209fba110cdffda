/*
 * torrent/service/announce — one announce to one tracker, blocking (run on the service's
 * pool): HTTP (a GET with Connection: close) or UDP (BEP 15 connect + announce, one retry),
 * each with a 15-second limit. The answer is parsed by torrent/tracker_client.
 */
#ifndef PIGEON_TORRENT_SERVICE_ANNOUNCE_H
#define PIGEON_TORRENT_SERVICE_ANNOUNCE_H

#include "torrent/tracker_client.h"

void tor_announce_blocking(const char *url, const struct tor_announce_req *q,
                           struct tor_announce_res *r);

#endif
