/*
 * dhcp/service internals — what service.c (lifecycle, thread, timer, admin commands),
 * io.c (sockets, one batch of datagrams, replies), commit.c (the leases' group commit, and
 * the ACKs after it) and ddns.c (names in DNS) share.
 */
#ifndef PIGEON_DHCP_SERVICE_SERVICE_INT_H
#define PIGEON_DHCP_SERVICE_SERVICE_INT_H

#include "dhcp/engine.h"
#include "dhcp/ratelimit.h"
#include "dhcp/service/leases.h"
#include "dhcp/service/settings.h"
#include "host/host.h"

#include <netinet/in.h>
#include <pthread.h>

struct event;
struct event_base;
struct loop_post;
struct dhcp_batch;
struct dhcp_commit;
struct dhcp_ddns;
struct dhcp_pace;
struct dhcp_ping;
struct dhcp_pools;
struct host_confgen;

#define DHCP_BATCH 64 /* datagrams read per wake-up: one batch */

/* A datagram as read, kept to be decided again (the ICMP check found its OFFER's address in
 * use: ping.c). */
struct dhcp_held {
    uint8_t pkt[DHCP_MAX_LEN];
    size_t len;
    struct sockaddr_in peer;
    uint32_t local_addr; /* network order: our address on the interface */
    bool to_broadcast;
    int64_t arrived;     /* µs, CLOCK_MONOTONIC: when the kernel received it */
};

struct dhcp_sock {
    int fd;
    char name[DHCP_IFNAME_MAX];
    struct event *ev;
    struct dhcp_svc *svc;
};

struct dhcp_svc {
    struct daemon *d;
    struct dhcp_settings *cfg;
    struct host_confgen *gen;    /* the reload's generation cfg lives in; NULL: d->cfg */
    struct dhcp_sock socks[DHCP_MAX_IFACES];
    unsigned nsocks;
    struct dhcp_engine *engine;
    struct dhcp_leases *db;
    struct dhcp_ratelimit *rl_mac, *rl_relay;
    struct dhcp_ddns *ddns;
    struct dhcp_ping *ping;      /* [dhcp] ping_check; NULL when off */
    struct event_base *base;
    struct loop_post *post;      /* the commit thread's results back to the DHCP thread */
    struct event *tick;
    struct event *stop_ev;
    pthread_t thread;
    bool running;
    int64_t data_version;
    struct dhcp_commit *commit;
    struct dhcp_batch *batch;    /* being filled by the datagrams (or tick) at hand */
    struct dhcp_pace *pace;      /* committed ACKs waiting for their turn (commit.c) */
    struct event *pace_ev;       /* when the next of them is due */
    uint64_t batch_seq;          /* the last batch submitted */
    uint64_t committed_seq;      /* the last batch whose COMMIT returned */
    uint64_t failed_from;        /* the first batch whose COMMIT failed (0: none): no cached
                                  * ACK of a lease saved from it on is ever sent */
    /* the reservations made with `pigeon dhcp reserve`, merged into each subnet */
    unsigned *cfg_nres;  /* per subnet: how many came from the config file */
    /* log budgets (lines per second) so a flood cannot fill the disk */
    int64_t log_second;
    unsigned log_lines;
    struct dhcp_pools *pools;    /* per subnet: the use gauges and the alarm */
};

/* service.c: puts cfg in force: the engine rebuilt on its subnets with every stored lease
 * (what is pending committed first), the rate limits, the pool gauges and alarm. Re-entrant:
 * start() calls it, and a reload calls it on the DHCP thread between two batches with the new
 * [dhcp] settings (which must then outlive the service, or the next apply). Returns 0, or -1
 * (logged) when cfg's subnets do not build: everything stays as it was, the old settings in
 * force. Sockets, lease_dir, ping_check and the DNS updates are not changed (restart). */
int dhcp_service_apply(struct dhcp_svc *svc, struct dhcp_settings *cfg);

/* commit.c. On the DHCP thread: a lease changed / an ACK promising it (arrived: when its
 * request came in, µs on CLOCK_MONOTONIC), into the current batch; submit hands the batch to the commit thread (nothing when it is empty); drop
 * forgets it (shutdown). dhcp_commit_wait returns once everything submitted is committed. */
void dhcp_batch_save(struct dhcp_svc *svc, const struct dhcp_lease *l);
void dhcp_batch_ack(struct dhcp_svc *svc, struct dhcp_sock *sock, const struct dhcp_reply *r,
                    int64_t arrived);
void dhcp_batch_submit(struct dhcp_svc *svc);
void dhcp_batch_drop(struct dhcp_svc *svc);
/* The commit thread, with its own handle on dir/leases.db; NULL with err set. stop commits
 * what was submitted, then ends the thread (its last results are posted to svc->post). */
struct dhcp_commit *dhcp_commit_start(struct dhcp_svc *svc, const char *dir, struct str *err);
void dhcp_commit_wait(struct dhcp_commit *cm);
void dhcp_commit_stop(struct dhcp_commit *cm);
/* The pacer of committed ACKs on the DHCP thread (after svc->base, before the commit thread
 * starts); flush sends every ACK it still holds at once and frees it (pigeond stopping: after
 * the commit thread ended and svc->post ran what it had, before the sockets close). */
void dhcp_acks_start(struct dhcp_svc *svc);
void dhcp_acks_flush(struct dhcp_svc *svc);

/* io.c */
int dhcp_io_open(struct dhcp_svc *svc);   /* binds a socket per interface; 0 or -1 (logged) */
void dhcp_io_close(struct dhcp_svc *svc);
void dhcp_io_readable(int fd, short what, void *vsock); /* one batch: read, decide, submit */
/* Sends a reply from s (any thread: the commit thread sends the ACKs). */
void dhcp_io_send(struct dhcp_sock *s, const struct dhcp_reply *r);
/* Decides a held datagram again (after an address conflict); the caller submits the batch. */
void dhcp_io_decide_again(struct dhcp_sock *s, const struct dhcp_held *in, unsigned tries);

/* pools.c: per-subnet use gauges and the pool alarm, checked every tick. apply: the
 * subnets of c from now on (gauges and alarm state kept by subnet name; c borrowed). */
struct dhcp_pools *dhcp_pools_new(void);
void dhcp_pools_apply(struct dhcp_pools *p, const struct dhcp_config *c);
void dhcp_pools_free(struct dhcp_pools *p);
void dhcp_pools_check(struct dhcp_svc *svc);

/* ping.c: the ICMP check before an OFFER. NULL (logged) without a raw socket. offer: holds r
 * (the OFFER decided for in) until its address did not answer ping; false when it is not
 * held (too many checks waiting, or tries used up): send it now. */
struct dhcp_ping *dhcp_ping_new(struct dhcp_svc *svc);
void dhcp_ping_free(struct dhcp_ping *p);
bool dhcp_ping_offer(struct dhcp_ping *p, struct dhcp_sock *sock, const struct dhcp_held *in,
                     const struct dhcp_reply *r, unsigned tries);
/* Whether another log line fits this second's budget. */
bool dhcp_log_budget(struct dhcp_svc *svc, int64_t now);

/* ddns.c: names in DNS. bound/unbound queue an UPDATE in the current batch; hold tags them
 * with the batch's number when it is submitted; settle sends them once that batch is
 * committed (ok), or drops them. NULL when [dhcp] ddns is off or no zone fits. */
struct dhcp_ddns *dhcp_ddns_new(struct dhcp_svc *svc);
void dhcp_ddns_free(struct dhcp_ddns *dd);
void dhcp_ddns_bound(struct dhcp_ddns *dd, const struct dhcp_lease *l, const struct dhcp_subnet *s);
void dhcp_ddns_unbound(struct dhcp_ddns *dd, const struct dhcp_lease *l,
                       const struct dhcp_subnet *s);
void dhcp_ddns_hold(struct dhcp_ddns *dd, uint64_t seq);
void dhcp_ddns_settle(struct dhcp_ddns *dd, uint64_t seq, bool ok);
/* pigeond is stopping: what is queued or answered from now on is dropped, nothing sent. */
void dhcp_ddns_stop(struct dhcp_ddns *dd);

#endif
