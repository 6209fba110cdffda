/*
 * dhcp/service internals — what service.c (lifecycle, thread, timer, admin commands),
 * io.c (sockets, one batch of datagrams, replies) and ddns.c (names in DNS) share.
 */
#ifndef PIGEON_DHCP_SERVICE_SERVICE_INT_H
#define PIGEON_DHCP_SERVICE_SERVICE_INT_H

#include "dhcp/engine.h"
#include "dhcp/ratelimit.h"
#include "dhcp/service/leases.h"
#include "dhcp/service/settings.h"
#include "host/host.h"

#include <pthread.h>

struct event;
struct event_base;
struct dhcp_ddns;

#define DHCP_BATCH 32

struct dhcp_sock {
    int fd;
    char name[DHCP_IFNAME_MAX];
    struct event *ev;
    struct dhcp_svc *svc;
};

struct dhcp_svc {
    struct daemon *d;
    struct dhcp_settings *cfg;
    struct dhcp_sock socks[DHCP_MAX_IFACES];
    unsigned nsocks;
    struct dhcp_engine *engine;
    struct dhcp_leases *db;
    struct dhcp_ratelimit *rl_mac, *rl_relay;
    struct dhcp_ddns *ddns;
    struct event_base *base;
    struct event *tick;
    struct event *stop_ev;
    pthread_t thread;
    bool running;
    int64_t data_version;
    bool in_tx;          /* a batch's transaction is open */
    bool tx_failed;      /* a save in it failed */
    /* the reservations made with `pigeon dhcp reserve`, merged into each subnet */
    unsigned *cfg_nres;  /* per subnet: how many came from the config file */
    /* log budgets (lines per second) so a flood cannot fill the disk */
    int64_t log_second;
    unsigned log_lines;
    int64_t *exhausted_logged; /* per subnet: when the last exhaustion alarm went out */
};

/* service.c: ends the transaction the engine's saves opened (commit, or rollback when a save
 * failed), then sends (or drops) the UPDATEs queued meanwhile. True when committed. */
bool dhcp_tx_end(struct dhcp_svc *svc);

/* io.c */
int dhcp_io_open(struct dhcp_svc *svc);   /* binds a socket per interface; 0 or -1 (logged) */
void dhcp_io_close(struct dhcp_svc *svc);
void dhcp_io_readable(int fd, short what, void *vsock); /* the batch: read, decide, commit, send */
/* Whether another log line fits this second's budget. */
bool dhcp_log_budget(struct dhcp_svc *svc, int64_t now);

/* ddns.c: names in DNS. bound/unbound queue an UPDATE; they go out after the batch's commit
 * (dhcp_ddns_flush). NULL when [dhcp] ddns is off or no zone fits. */
struct dhcp_ddns *dhcp_ddns_new(struct dhcp_svc *svc);
void dhcp_ddns_free(struct dhcp_ddns *dd);
void dhcp_ddns_bound(struct dhcp_ddns *dd, const struct dhcp_lease *l, const struct dhcp_subnet *s);
void dhcp_ddns_unbound(struct dhcp_ddns *dd, const struct dhcp_lease *l,
                       const struct dhcp_subnet *s);
void dhcp_ddns_flush(struct dhcp_ddns *dd);
/* Drops what was queued since the last flush (the batch's commit failed). */
void dhcp_ddns_discard(struct dhcp_ddns *dd);

#endif
