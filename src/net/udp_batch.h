/*
 * udp_batch — the one UDP server loop: every readable socket is drained in batches with
 * recvmmsg, each datagram is handed to the service's function, and the replies of a batch
 * go out in one sendmmsg. Used by the authoritative name server and the recursive resolver
 * (each worker watches the shared sockets; whichever reads a datagram answers it).
 *
 * Protocol-agnostic. A datagram that did not fit the buffer (MSG_TRUNC) is dropped unseen.
 * The batch owns its buffers; the function writes its reply into the one it is given.
 */
#ifndef PIGEON_NET_UDP_BATCH_H
#define PIGEON_NET_UDP_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_BATCH_MAX 32   /* datagrams per recvmmsg */
#define UDP_BATCH_BUF 4096 /* bytes per datagram, in and out */

struct event_base;
struct udp_batch;

/* One datagram pkt[0..len) from peer on socket fd: writes the reply into out[0..cap) and
 * returns its length, or 0 for none now (a reply sent later goes out with sendto on fd). */
typedef size_t (*udp_batch_fn)(void *ctx, int fd, const uint8_t *pkt, size_t len,
                               const struct sockaddr *peer, socklen_t peer_len, uint8_t *out,
                               size_t cap);

/* Watches fds[0..n) (non-blocking, bound) on base, calling fn(ctx, ...) for each datagram.
 * On base's thread, or before its loop runs. */
struct udp_batch *udp_batch_new(struct event_base *base, const int *fds, unsigned n,
                                udp_batch_fn fn, void *ctx);
/* Stops watching and frees the buffers (the sockets stay open). NULL is fine. */
void udp_batch_free(struct udp_batch *b);

#endif
