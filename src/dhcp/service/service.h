/*
 * dhcp service — the DHCPv4 server inside pigeond: UDP port 67 on the interfaces [dhcp]
 * names (one socket each, SO_BINDTODEVICE), answered by the pure engine in src/dhcp/ on the
 * service's own thread, leases committed to DATA/dhcp/leases.db before any ACK goes out,
 * client names added to and removed from DNS by RFC 2136 UPDATE (ddns.c). See
 * docs/architecture.md, "DHCP".
 */
#ifndef PIGEON_DHCP_SERVICE_SERVICE_H
#define PIGEON_DHCP_SERVICE_SERVICE_H

#include "host/host.h"

/* Registered in services/services.c. open() binds the sockets (as root, before privileges
 * are dropped), reads the leases and starts the DHCP thread; stop() ends it. */
extern const struct service_def dhcp_service;

/* The folder of the lease database for a config (lease_dir, else data_dir/dhcp), into
 * out[0..cap). For `pigeon dhcp`. */
void dhcp_service_lease_dir(const struct config *cfg, char *out, size_t cap);

struct dhcp_config;
struct dhcp_leases;
/* Adds the reservations `pigeon dhcp reserve` left in db to the subnets of c (an address in
 * no subnet is logged and skipped). 0 or -1. */
int dhcp_service_add_reservations(struct dhcp_config *c, struct dhcp_leases *db);

#endif
