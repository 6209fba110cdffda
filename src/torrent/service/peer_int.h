/*
 * torrent/service — what the peer's glue files share: the [torrent] section, the service
 * (one per process; all its torrents and connections live on worker 0's loop), one torrent
 * (struct tor_item: metainfo, files, swarm, tracker state), one connection (struct pconn).
 */
#ifndef PIGEON_TORRENT_SERVICE_PEER_INT_H
#define PIGEON_TORRENT_SERVICE_PEER_INT_H

#include "conf/keys.h"
#include "host/host.h"
#include "torrent/krpc.h"
#include "torrent/metafetch.h"
#include "torrent/service/storage.h"
#include "torrent/swarm.h"
#include "torrent/tracker_client.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct host_confgen;
struct pool;
struct event;
struct dial;
struct wseed;
struct dht;
struct udp_batch;

#define PEER_DHT_MAX_BOOT 8

struct peer_config {
    struct conf_service svc;             /* the TCP port peers connect to */
    char *dir;                           /* downloads (default DATA/torrent/downloads) */
    char *watch_dir;                     /* .torrent files dropped here are added */
    unsigned max_peers;                  /* per torrent */
    uint64_t upload_rate, download_rate; /* bytes/s per torrent, 0: none */
    unsigned seed_ratio;                 /* percent of the size uploaded, then stop; 0: no limit */
    unsigned seed_slots;                 /* regular unchoke slots while seeding (choker.h) */
    unsigned seed_time;                  /* seconds of seeding, then stop; 0: no limit */
    uint64_t memory;                     /* piece buffers per torrent */
    bool dht;                            /* BEP 5: off by default */
    bool pex;                            /* BEP 11: on by default */
    struct dht_addr dht_boot[PEER_DHT_MAX_BOOT]; /* nodes to join the DHT through */
    unsigned ndht_boot;
};

enum item_state { ITEM_CHECKING, ITEM_ACTIVE, ITEM_PAUSED, ITEM_DONE, ITEM_ERROR, ITEM_METADATA };

struct tor_item {
    struct tor_item *next;
    struct peer_svc *svc;
    uint64_t key;             /* unique, for results coming back from the pool */
    struct tor_meta meta;     /* from a magnet link: only info_hash, name, trackers, web
                                 seeds until the info dictionary came */
    char *magnet;             /* the link, while its info dictionary is being fetched */
    struct tor_mfetch *fetch; /* ITEM_METADATA: peers asked for the info dictionary */
    char hex[41];
    char dir[1024];
    struct tor_storage st;
    struct tor_swarm *swarm;
    enum item_state state;
    char error[160];
    uint8_t *checked; /* resume: pieces found good on disk */
    uint32_t check_next, check_inflight;
    /* trackers */
    size_t tracker; /* the one in use */
    bool announcing;
    enum tor_event pending_event;
    bool sent_started, sent_completed;
    int64_t next_announce; /* s */
    uint32_t interval;
    char tracker_status[1400];
    struct tor_peer_addr cand[TOR_ANNOUNCE_MAX_PEERS];
    size_t ncand, cand_next;
    int64_t seed_since;
    unsigned verifying; /* pieces out at the pool */
    bool removing;      /* freed once nothing is out at the pool */
    int64_t last_house;
    struct wseed *wseeds; /* web seeds (BEP 19) while downloading */
    uint64_t dht_next;    /* ms: the next DHT lookup and announce */
};

struct pconn {
    struct conn *c; /* NULL for a web seed's face to the swarm */
    struct wseed *ws;
    struct peer_svc *svc;
    struct tor_item *item;
    struct tor_peer *peer;
    struct tor_mpeer *mpeer; /* a magnet link's connection, before the metadata came */
    struct str in;
    char addr[64];
    uint16_t port; /* the one dialled (outgoing connections), else 0 */
    int fd;        /* its socket (owned by conn.c), -1: none; for its unacknowledged bytes */
    bool closing;
    struct pconn *next_close;
    struct pconn *prev, *next;
};

struct peer_svc {
    struct daemon *d;
    const struct peer_config *cfg;
    struct host_confgen *gen; /* the reload's generation cfg lives in; NULL: d->cfg */
    struct worker *w;         /* worker 0: everything runs on its loop */
    struct pool *pool;        /* piece verification and writes, resume checks */
    struct pool *net_pool;    /* tracker announces (they may wait on a slow tracker) */
    struct pool *ws_pool;     /* web seed fetches (they may wait on a slow server) */
    int *listen_fds;
    unsigned nlisten;
    uint16_t port; /* announced */
    struct event **accept_ev;
    struct event *tick, *house, *reaper;
    struct listener in_l, out_l;
    struct tor_item *items;
    uint64_t next_key;
    struct pconn *conns;
    struct tor_item *connecting_for; /* create() of an outgoing connection reads it */
    uint16_t connecting_port;        /* and the port it dialled */
    int accepting_fd;                /* create() of any connection: its socket */
    uint8_t peer_id[20];
    char state_dir[1024], inbox[1024];
    unsigned outgoing_pending;
    struct dial *dials; /* connects in progress */
    /* the DHT node (BEP 5), on a UDP socket at the first IPv4 listen address and port */
    int dht_fd;
    struct dht *dht;
    struct udp_batch *dht_udp;
    uint64_t dht_boot_at;
    bool dht_joined;
};

extern const struct proto_ops torrent_peer_proto;
extern const struct tor_swarm_ops torrent_swarm_ops;
extern const struct tor_mfetch_ops torrent_mfetch_ops;

uint64_t peer_now_ms(void);
/* peer_conn.c */
void peer_accept_cb(int fd, short what, void *svc);
void peer_connect(struct peer_svc *svc, struct tor_item *it, const struct tor_peer_addr *a);
/* Whether the torrent already has a connection we dialled to that address and port. */
bool peer_conn_to(const struct peer_svc *svc, const struct tor_item *it,
                  const struct tor_peer_addr *a);
void peer_close_item_conns(struct peer_svc *svc, struct tor_item *it);
void peer_reap(int fd, short what, void *svc);
void peer_dials_free(struct peer_svc *svc);
void peer_verify(void *item, uint32_t piece, const uint8_t *data, size_t len);
/* Addresses of possible peers (PEX, the DHT) join the torrent's list to dial. */
void peer_found(void *item, const struct tor_pex_addr *a, size_t n);
void peer_share_log(void *item, const struct tor_share_log *l);
/* peer_items.c */
struct tor_item *peer_item_add(struct peer_svc *svc, const char *torrent_path, const char *dir,
                               bool paused, const char **why);
struct tor_item *peer_item_find(struct peer_svc *svc, const uint8_t hash[20]);
struct tor_item *peer_item_find_hex(struct peer_svc *svc, const char *hex);
void peer_item_remove(struct peer_svc *svc, struct tor_item *it);
void peer_item_pause(struct peer_svc *svc, struct tor_item *it, bool pause);
void peer_item_save(struct tor_item *it);
void peer_item_free(struct tor_item *it);
void peer_items_tick(struct peer_svc *svc, uint64_t now_ms);
void peer_items_house(struct peer_svc *svc, int64_t now);
void peer_item_begin(struct tor_item *it);
void peer_item_announce(struct tor_item *it, enum tor_event ev);
/* Whether the torrent takes one more connection (it runs and is below max_peers). */
bool peer_item_room(const struct tor_item *it);
void peer_state_path(const struct tor_item *it, const char *ext, char *out, size_t cap);
void peer_write_atomic(const char *path, const void *p, size_t n);
/* peer_magnet.c: torrents added from a magnet link, until their metadata came (BEP 9) */
struct tor_item *peer_magnet_add(struct peer_svc *svc, const char *uri, const char *dir,
                                 bool paused, const char **why);
void peer_magnet_start(struct tor_item *it);
void peer_magnet_stop(struct tor_item *it);
void peer_magnet_tick(struct tor_item *it, uint64_t now_ms);
/* The swarm just started: the fetch's connections join it (tor_swarm_peer_adopt). */
void peer_magnet_handover(struct tor_item *it);
/* peer_webseed.c: web seeds (BEP 19) as peers of the swarm */
void peer_webseeds_start(struct tor_item *it);
void peer_webseeds_stop(struct tor_item *it);
void peer_webseeds_house(struct tor_item *it, int64_t now);
void peer_webseed_from_swarm(struct pconn *pc, const void *p, size_t n);
/* After a reload: every swarm takes svc->cfg's limits (peers, rates, memory). */
void peer_items_set_limits(struct peer_svc *svc);
/* peer_dht.c: the DHT node (BEP 5) when [torrent] dht = yes */
/* [torrent] dht_bootstrap (CONF_CUSTOM): IPv4 address:port pairs, appended. */
int peer_dht_parse_boot(const char *v, void *sec, void *field, const char **why);
int peer_dht_open(struct peer_svc *svc);
void peer_dht_attach(struct peer_svc *svc);
void peer_dht_detach(struct peer_svc *svc);
void peer_dht_close(struct peer_svc *svc);
void peer_dht_house(struct peer_svc *svc, uint64_t now_ms);
/* peer_ctl.c: the inbox the CLI writes to, the watch directory, the status file */
void peer_ctl_scan(struct peer_svc *svc);
void peer_ctl_status(struct peer_svc *svc);
void peer_ctl_load(struct peer_svc *svc);

#endif
