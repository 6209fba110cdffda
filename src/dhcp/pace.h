/*
 * dhcp/pace — when the ACKs of a committed group of leases may leave.
 *
 * The service writes leases in groups, one fsync for every request that came in while the
 * previous group's COMMIT ran, and may send an ACK only once its lease is on disk
 * (dhcp/service/commit.c). Sent together after the COMMIT, a group's ACKs leave as one
 * burst: hundreds of datagrams within a millisecond or two, which overflow the receive
 * buffer of whoever reads them all (a relay agent, or a test client such as perfdhcp with
 * the kernel's default ~200 KB buffer) even though that reader keeps up with the requests'
 * own rate.
 *
 * The rule: a group's ACKs leave evenly spread over half the time the group was open (from
 * its first request's arrival until the commit thread took it): the input's average rate
 * over that time, twice as fast. A group starts when its COMMIT returned or when the
 * previous group's last ACK is due, whichever is later; of its n ACKs, ACK i is due
 * i * open / (2 n) after that start. So the output follows the input's rate (at most twice
 * it: the delay a slow COMMIT added is caught up and does not build up), requests that came
 * in clumped (a client sending in bursts, or one read after the thread did not run) are
 * answered evenly, no ACK leaves before its group was committed, and groups leave in order.
 * Whatever the schedule, one dhcp_pace_take hands out at most `burst` ACKs (a loop turn);
 * when more than that were due (the caller's thread did not run for a while), the rest of
 * the schedule moves back so that the last one handed out was due now: the ACKs that fell
 * due meanwhile keep their spacing instead of leaving in one go.
 *
 * Pure: no clock (times come in as microseconds on one monotonic clock), no I/O, no locks.
 * The items are the caller's (opaque pointers); the pacer only orders them.
 */
#ifndef PIGEON_DHCP_PACE_H
#define PIGEON_DHCP_PACE_H

#include <stddef.h>
#include <stdint.h>

/* How much faster than their requests came in a group's ACKs may leave. */
#define DHCP_PACE_SPEEDUP 2

struct dhcp_pace;

/* burst: the most items one dhcp_pace_take returns (at least 1). Never NULL. */
struct dhcp_pace *dhcp_pace_new(unsigned burst);
/* Frees the pacer; the items still queued are the caller's to have taken first. */
void dhcp_pace_free(struct dhcp_pace *p);

/* A group of n items whose COMMIT returned at `committed`, open for `open` µs; its n items
 * follow with dhcp_pace_push, in order. */
void dhcp_pace_group(struct dhcp_pace *p, int64_t committed, unsigned n, int64_t open);
/* The next item of the current group. */
void dhcp_pace_push(struct dhcp_pace *p, void *item);

/* Up to `burst` items due at `now`, oldest first, into out (room for burst); returns how
 * many. *next_out: when the next item is due (<= now: more are due at the same time, take
 * again next turn), or -1 when none is left. now = INT64_MAX takes what is left, `burst`
 * at a time, without moving the schedule (shutdown). */
unsigned dhcp_pace_take(struct dhcp_pace *p, int64_t now, void **out, int64_t *next_out);
/* Items queued. */
size_t dhcp_pace_pending(const struct dhcp_pace *p);

#endif
