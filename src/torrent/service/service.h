/*
 * torrent service — BitTorrent in pigeond: the tracker ([tracker]: HTTP announce/scrape on
 * the HTTP service's sites through its `more` handler hook, UDP on its own listen addresses)
 * and the peer ([torrent]: downloads and seeds, see peer.h).
 */
#ifndef PIGEON_TORRENT_SERVICE_SERVICE_H
#define PIGEON_TORRENT_SERVICE_SERVICE_H

#include "host/host.h"

extern const struct service_def tracker_service_def;
extern const struct service_def torrent_service_def;

#endif
