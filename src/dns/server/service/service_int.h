/*
 * service_int — what the pieces of the name server's service glue share (not for other
 * modules). The engine (src/dns/server) decides every answer; these files do the I/O:
 *
 *   service.c    life cycle (the service_def: open, per-worker attach/detach, reload, stop),
 *                the clock
 *   config.c     [tsig] keys and [zone] sections -> struct dns_zconf
 *   worker.c     UDP datagrams and TCP connections through the engine, its jobs, RRL
 *   xfr.c        worker: a transfer out streamed on its TCP connection
 *   ctl.c        the control thread: zone loading with the journal, reload, UPDATE commits,
 *                publishing new views to the workers
 *   sign.c       control thread: DNSSEC signing of primary zones
 *   secondary.c  control thread: secondary zones (SOA refresh, IXFR/AXFR in)
 *   cds_scan.c   control thread: children's CDS/CDNSKEY asked of a validating resolver
 *   notify.c     control thread: NOTIFY out, and the UDP exchange both use
 *
 * Threads: workers answer from an immutable struct dns_view (zone set + per-zone histories)
 * they each hold a reference to. Every change to a zone happens on the control thread, which
 * builds a new view and posts it to every worker (loop_post); the worker swaps it in between
 * two requests. The configuration derived at start (struct dns_zconf, keys) never changes.
 */
#ifndef PIGEON_DNS_SERVER_SERVICE_SERVICE_INT_H
#define PIGEON_DNS_SERVER_SERVICE_SERVICE_INT_H

#include "core/str.h"
#include "dns/arena.h"
#include "dns/name.h"
#include "dns/wire.h"
#include "dns/server/server.h"
#include "dns/server/service/service.h"
#include "dns/xfr/acl.h"
#include "dns/xfr/rrvec.h"
#include "dns/xfr/tsig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct daemon;
struct worker;
struct dns_zone;
struct dns_zoneset;
struct dns_ctl;
struct config_dns;
struct dns_rrl;
struct conn;
struct proto_ops;
struct event;
struct event_base;
struct udp_batch;
struct reload_report;

#define DNS_HIST_MAX 100 /* differences kept per zone for IXFR */

struct dns_worker {
    struct worker *w;
    struct dns_service *s;
    struct dns_view *view; /* this worker's reference */
    struct dns_zcfg *cfg;  /* ... and the configuration it answers with (swapped with it) */
    struct udp_batch *udp; /* the shared UDP sockets, read in batches */
    void (*zones_changed)(void *ctx, struct dns_zoneset *zs); /* see dns_service.h */
    void *zones_changed_ctx;
    struct dns_arena arena;
    unsigned char arena_mem[16384];
    uint8_t tcp_out[DNS_MSG_MAX];
};

/*
 * The name server's configuration from [dns] (udp_max), [tsig] and [zone]: what the engine
 * answers with. Made at start and by each reload that changes those sections, and reference
 * counted: the control thread holds the current one (dns_service.cfg), each worker the one it
 * answers with, and an UPDATE, refresh or transfer in flight the one it was decided with
 * (its zone index and TSIG key point into it). Immutable once made.
 */
struct dns_zcfg {
    atomic_uint refs;
    struct dns_zconf *zc;
    size_t nzones;
    struct dns_tsig_key *keys;
    size_t nkeys;
    struct dns_server srv; /* the engine's view of zc and keys */
};

struct dns_service {
    struct daemon *d;
    /* the current configuration: replaced on the control thread under cfg_lock, read there
     * freely and elsewhere under the lock (edit.c) */
    struct dns_zcfg *cfg;
    pthread_mutex_t cfg_lock;
    int *udp_fds;
    unsigned nudp;
    struct dns_worker **workers;
    unsigned nworkers;
    struct dns_ctl *ctl;
    struct dns_view *view0; /* the view at start, until the control thread runs */
    pthread_mutex_t rrl_lock;
    struct dns_rrl *rrl; /* NULL when rrl_rate = 0 */
};

/* A request that leaves the worker (UPDATE) and comes back with a reply. */
struct dns_job {
    struct dns_worker *dw;
    bool tcp;
    struct dns_tcp *t; /* TCP: the connection's engine (kept alive: busy) */
    int fd;            /* UDP: the socket and the peer */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    uint8_t *pkt; /* the request (owned) */
    size_t len;
    struct dns_zcfg *cfg; /* the configuration zi and tsig.key belong to (a reference) */
    size_t zi; /* the zone */
    struct dns_tsig_reply tsig;
    uint8_t *reply; /* filled by the control thread (owned) */
    size_t reply_len;
};

/* ---- config.c ---- */
/* The configuration of c (journals and DNSSEC keys under data_dir), one reference; NULL
 * after logging why (and reporting it into r when r is not NULL). */
struct dns_zcfg *dns_zcfg_new(const struct config_dns *c, const char *data_dir,
                              struct reload_report *r);
struct dns_zcfg *dns_zcfg_ref(struct dns_zcfg *c);
void dns_zcfg_unref(struct dns_zcfg *c); /* any thread; NULL: nothing */

/* ---- worker.c ---- */
/* One UDP datagram (a net/udp_batch function; ctx is the struct dns_worker). */
size_t dns_worker_datagram(void *ctx, int fd, const uint8_t *pkt, size_t len,
                           const struct sockaddr *peer, socklen_t peer_len, uint8_t *out,
                           size_t cap);
/* The TCP listeners' proto_ops (bound by service.c). */
extern const struct proto_ops dns_tcp_proto;
/* Worker w's state of the name server (host_worker_state), NULL when it does not run. */
struct dns_worker *dns_worker_of(const struct worker *w);
/* Sends a job's reply on its worker and frees the job (on the worker's thread). */
void dns_job_done(void *job);
/* The service's clock: seconds since the epoch (TSIG) and milliseconds, monotonic (timers,
 * RRL). The engine never reads a clock: these are passed in. */
uint64_t dns_now_sec(void);
uint64_t dns_now_ms(void);
/* ---- xfr.c (worker): a transfer streamed on a TCP connection ---- */
/* Starts streaming x (taken) on t, decided with cfg (held until the transfer ends). */
void dns_xfr_start(struct dns_tcp *t, struct dns_server_xfr *x, struct dns_zcfg *cfg);
/* The TCP engine's next burst of a running transfer; true while one is running. */
bool dns_xfr_pump(struct dns_tcp *t);
/* Drops a running transfer (the connection is going away). */
void dns_xfr_abort(struct dns_tcp *t);

/* A TCP connection's state (framing: dns/service/tcp.h). */
struct dns_tcp_conn;
struct dns_tcp {
    struct dns_tcp_conn *m;
    struct dns_worker *dw;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char peer_text[64];
    bool busy;                  /* an UPDATE is with the control thread */
    struct dns_server_xfr *xfr; /* a transfer being streamed */
    struct dns_zcfg *xfr_cfg;   /* ... and the configuration its TSIG key belongs to */
};
/* ---- ctl.c (control thread) ---- */
struct dns_ctl *dns_ctl_new(struct dns_service *s, struct dns_view **view_out, bool *all_ok);
void dns_ctl_start(struct dns_ctl *ctl);
void dns_ctl_stop(struct dns_ctl *ctl);
void dns_ctl_free(struct dns_ctl *ctl);
/* Thread-safe requests: */
/* Puts cfg (taken; NULL: the configuration stays) in force, as `knotc reload` does: zones
 * added are loaded, zones removed stop being served, zones kept keep their version, history
 * and journal with their new settings; then reloads every primary zone file. Each outcome
 * goes to report (held until done; NULL: the log only). */
void dns_ctl_reload(struct dns_ctl *ctl, struct dns_zcfg *cfg, struct reload_report *report);
void dns_ctl_update(struct dns_ctl *ctl, struct dns_job *job);
/* A NOTIFY for zone zi of cfg (a reference, taken). */
void dns_ctl_notified(struct dns_ctl *ctl, struct dns_zcfg *cfg, size_t zi);
/* An edit from inside the process (service.h: dns_service_zone_edit) of zone zi of cfg (a
 * reference, taken). */
void dns_ctl_edit(struct dns_ctl *ctl, struct dns_zcfg *cfg, size_t zi, dns_zone_edit_build build,
                  dns_zone_edit_done done, void *arg);

/* For dns_secondary.c / dns_notify.c, on the control thread: */
struct event_base *dns_ctl_base(struct dns_ctl *ctl);
struct dns_service *dns_ctl_service(struct dns_ctl *ctl);
struct dns_zone *dns_ctl_zone(struct dns_ctl *ctl, size_t zi);
/* Installs a new version of zone zi (takes the references): publish, journal, NOTIFY.
 * full: the zone came whole (AXFR): written to its file, journal reset. diffs: new
 * differences to append to the journal and history. */
void dns_ctl_install(struct dns_ctl *ctl, size_t zi, struct dns_zone *z, bool full,
                     struct dns_zdiff *const *diffs, size_t ndiffs);
/* A secondary zone stops being served (expired) or starts again (after a transfer). */
void dns_ctl_expire(struct dns_ctl *ctl, size_t zi);

/* ---- jnlfile.c (control thread): journal files ---- */

/* Reads and decodes path (a torn tail is cut off the file); a missing file has no entries.
 * 0 with *diffs (dns_journal_free), or ERR_IO / ERR_PARSE. */
int dns_jnl_read(const char *path, struct dns_zdiff ***diffs, size_t *n);
/* Appends n entries and fsyncs (the header first into an empty file). 0 or ERR_IO (the
 * file is then cut back to its old length). */
int dns_jnl_append(const char *path, struct dns_zdiff *const *d, size_t n);
/* Replaces the journal with exactly the history h (NULL: empty): temp file, fsync, rename. */
int dns_jnl_rewrite(const char *path, const struct dns_xfr_hist *h);
/* Renames an unusable journal to PATH.bad, saying why in the log. */
void dns_jnl_set_aside(const char *path, const char *why);
/* The IXFR history made of the chain of diffs (a broken link starts it again); one
 * reference, or NULL. */
struct dns_xfr_hist *dns_jnl_hist(struct dns_zdiff **d, size_t n);
/* z with the n differences applied in order, into *out (a new zone). 0, or an error with
 * a reason in err. */
int dns_jnl_apply(const struct dns_zone *z, struct dns_zdiff *const *d, size_t n,
                  const uint8_t *origin, struct dns_zone **out, struct str *err);

/* ---- notify.c (control thread) ---- */

/* One UDP request/response with retries; resp NULL after the last timeout. A truncated
 * answer (TC) is asked again over TCP (tcpq.c), whose answer the callback gets instead.
 * resp is only valid during the callback; the exchange is freed after it. */
typedef void (*dns_udpq_cb)(void *arg, const uint8_t *resp, size_t len);
struct dns_udpq;
struct dns_udpq *dns_udpq_start(struct event_base *base, const struct dns_remote *to,
                                const uint8_t *msg, size_t len, unsigned tries, unsigned timeout_ms,
                                dns_udpq_cb cb, void *arg);
void dns_udpq_cancel(struct dns_udpq *q);

/* ---- tcpq.c (control thread) ---- */

/* One request/response over TCP (two-byte framing), within timeout_ms of silence; the
 * callback as for dns_udpq (resp NULL: no answer). NULL when it cannot start (the callback
 * is then never called). */
struct dns_tcpq;
struct dns_tcpq *dns_tcpq_start(struct event_base *base, const struct dns_remote *to,
                                const uint8_t *msg, size_t len, unsigned timeout_ms, dns_udpq_cb cb,
                                void *arg);
void dns_tcpq_cancel(struct dns_tcpq *q);
/* The first whole message in a TCP client's input (its length prefix pulled up with it), its
 * length in *len; NULL while incomplete. The caller drains *len + 2 bytes once done. */
struct evbuffer;
const uint8_t *dns_tcp_message_peek(struct evbuffer *in, size_t *len);

struct dns_notifier;
struct dns_notifier *dns_notifier_new(struct dns_ctl *ctl);
/* Sends NOTIFY for zone zi at version z (its serial changed, and every worker serves z) to
 * each address in its `notify`. */
void dns_notifier_zone_changed(struct dns_notifier *n, size_t zi, const struct dns_zone *z);
/* After a reload: NOTIFYs in flight follow their zone to its new index (map[old] = new, or
 * -1: the zone was removed; nold old zones) or are dropped. */
void dns_notifier_remap(struct dns_notifier *n, const long *map, size_t nold);
void dns_notifier_free(struct dns_notifier *n);

/* ---- cds_scan.c (control thread) ---- */
struct dns_cds_scanner;
/* Starts the scans of the zones with cds_scan (timers on the control thread's base). */
struct dns_cds_scanner *dns_cds_scanner_new(struct dns_ctl *ctl);
void dns_cds_scanner_free(struct dns_cds_scanner *sc);

/* ---- secondary.c (control thread) ---- */
struct dns_secondary;
struct dns_secondary *dns_secondary_new(struct dns_ctl *ctl, size_t zi, bool loaded);
/* A NOTIFY from the primary: refresh now. */
void dns_secondary_notified(struct dns_secondary *sec);
void dns_secondary_free(struct dns_secondary *sec);

#endif
