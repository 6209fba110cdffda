/*
 * deflate — a connection's bytes compressed both ways with raw DEFLATE (RFC 1951, no zlib or
 * gzip wrapper), as COMPRESS=DEFLATE (RFC 4978) asks: a libevent filter over the connection's
 * bufferevent (the socket's, or a TLS filter's). Output is flushed with Z_SYNC_FLUSH whenever
 * the filter has taken all that was written, so no reply waits inside the compressor; input
 * is inflated no further than the reader's high-water mark, so a small compressed stream
 * cannot fill memory (a decompression bomb stops where reading stops).
 */
#ifndef PIGEON_NET_DEFLATE_H
#define PIGEON_NET_DEFLATE_H

#include <event2/bufferevent.h>

/* A filter over under (which it frees with itself); NULL when zlib cannot start. */
struct bufferevent *net_deflate_filter(struct bufferevent *under);

#endif
