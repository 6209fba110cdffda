/*
 * dhcp/config — what the DHCP engine serves: subnets with their pools, reservations and
 * options, as plain data. The service's config section fills it (dhcp/service/config.c), the
 * unit tests build it by hand. dhcp_subnet_parse_line turns one `[dhcp-subnet ...]` line into
 * it, so the daemon and `pigeon check-config` agree. Performs no I/O.
 */
#ifndef PIGEON_DHCP_CONFIG_H
#define PIGEON_DHCP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_KEY_MAX 130       /* 'C' + a client identifier of up to 128 bytes, or 'H' + ... */
#define DHCP_MAX_SLOTS (1u << 20)
#define DHCP_IFNAME_MAX 16

struct dhcp_range {
    uint32_t first, last;       /* host order, first <= last */
};

/* BOOTP clients (RFC 951/1542: no DHCP message type) in a subnet: not answered, answered
 * with their reserved address only, or also given a pool address. BOOTP leases never
 * expire (the client cannot renew): `pigeon dhcp release` frees one. */
enum dhcp_bootp { DHCP_BOOTP_NO = 0, DHCP_BOOTP_RESERVED, DHCP_BOOTP_DYNAMIC };

/* A fixed address for one client: by MAC (htype 1) or by client identifier. */
struct dhcp_reservation {
    uint8_t key[DHCP_KEY_MAX];  /* as struct dhcp_lease's key */
    uint8_t key_len;
    uint32_t addr;              /* host order */
    char name[64];              /* the host's name (a DNS label): sent as option 12 and
                                 * used for names in DNS instead of the client's; "" none */
};

/* An option value given by configuration (wire form, without code and length). */
struct dhcp_opt_value {
    uint8_t code;
    uint16_t len;
    uint8_t *data;              /* malloc'd */
};

struct dhcp_subnet {
    char name[48];              /* "10.0.0.0/24" */
    uint32_t net, mask;         /* host order */
    char iface[DHCP_IFNAME_MAX]; /* served directly on it; "" for a subnet behind a relay */
    struct dhcp_range *ranges;
    unsigned nranges;
    struct dhcp_reservation *res;
    unsigned nres;
    struct dhcp_opt_value *opts; /* 1, 3, 6, 15, 28, 42, 119, 121, 43, ... in config order */
    unsigned nopts;
    uint32_t server_id;         /* network order; 0: our address on the receiving interface */
    uint32_t lease_time, t1, t2; /* seconds; t1/t2 0: 1/2 and 7/8 of the lease (RFC 2131 §4.4.5) */
    bool authoritative;         /* NAK requests for addresses that are wrong here */
    enum dhcp_bootp bootp;      /* default: reserved addresses only (as ISC dhcpd) */
    char *domain;               /* forward zone for client names (option 15's value); NULL: none */
    unsigned line;              /* where the section starts */
};

struct dhcp_config {
    struct dhcp_subnet *subnets;
    unsigned nsubnets;
    unsigned offer_time;        /* seconds an offered address is held */
    unsigned probation;         /* seconds a declined address stays out of the pool */
    unsigned cache_threshold;   /* percent of a lease's time: a client asking again for its
                                 * bound lease within it (and before its T1) gets the lease as
                                 * it stands, nothing saved (ISC dhcpd's dhcp-cache-threshold,
                                 * Kea's cache-threshold); 0: off */
};

/* Sets one key of a subnet from its config line. 0, or < 0 with a static *why. */
int dhcp_subnet_set(struct dhcp_subnet *s, const char *key, const char *value, const char **why);
/* The subnet of a `[dhcp-subnet A.B.C.D/N]` header: 0, or < 0 with *why. */
int dhcp_subnet_init(struct dhcp_subnet *s, const char *cidr, const char **why);
/* After the section: ranges and reservations inside the subnet, defaults. 0 or < 0 (*why). */
int dhcp_subnet_finish(struct dhcp_subnet *s, const char **why);
void dhcp_subnet_clear(struct dhcp_subnet *s);
/* The option's value, or NULL. */
const struct dhcp_opt_value *dhcp_subnet_opt(const struct dhcp_subnet *s, uint8_t code);

/* A MAC ("52:54:00:12:34:56") or client identifier ("id:01525400123456", hex) as a lease key.
 * Its length, or 0 when malformed. */
size_t dhcp_key_parse(const char *text, uint8_t key[DHCP_KEY_MAX]);
/* A key as text (the inverse), into out[0..cap). */
void dhcp_key_format(const uint8_t *key, size_t len, char *out, size_t cap);

#endif
