/*
 * dhcp/service/settings — the [dhcp] section and its [dhcp-subnet A.B.C.D/N] sections, as
 * declared to the config loader (dhcp_sections) and found again with
 * config_section(cfg, "dhcp"). Every key is in docs/config.md. Reads no files.
 */
#ifndef PIGEON_DHCP_SERVICE_SETTINGS_H
#define PIGEON_DHCP_SERVICE_SETTINGS_H

#include "conf/config.h"
#include "dhcp/config.h"

#define DHCP_MAX_IFACES 16

struct dhcp_settings {
    char ifaces[DHCP_MAX_IFACES][DHCP_IFNAME_MAX]; /* where the server listens */
    unsigned nifaces;
    unsigned port;                /* 67; the clients' is port + 1 */
    struct dhcp_config engine;    /* subnets, offer_time, probation */
    unsigned rate_per_mac;        /* messages per second from one MAC; 0: no limit */
    unsigned rate_per_relay;      /* messages per second through one relay; 0: no limit */
    bool ddns;                    /* client names into DNS by RFC 2136 UPDATE */
    struct conf_listen ddns_server; /* where UPDATEs go; unset: the first [dns] listen */
    bool ddns_server_set;
    char *ddns_key;               /* a [tsig NAME] to sign them with; NULL: unsigned */
    unsigned ddns_ttl;
    char *lease_dir;              /* NULL: data_dir/dhcp */
    bool ping_check;              /* ICMP echo to an address before offering it */
    unsigned ping_timeout;        /* milliseconds to wait for the echo reply */
    unsigned pool_alarm;          /* percent of a pool in use that raises the alarm; 0: off */
};

extern const struct conf_section dhcp_sections[];

#endif
