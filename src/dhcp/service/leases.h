/*
 * dhcp/service/leases — the DHCP lease database: one SQLite file (DATA/dhcp/leases.db, WAL,
 * synchronous=FULL) holding every address's last lease, the reservations added with
 * `pigeon dhcp reserve`, and the commands `pigeon dhcp release` leaves for the daemon.
 *
 * The daemon writes a batch of leases in one transaction (dhcp_leases_begin … commit) and
 * sends the batch's ACKs only after the commit returned: a lease acknowledged is on disk.
 * `pigeon` opens the same file (WAL lets both write). Calls block on disk; one handle per
 * thread.
 */
#ifndef PIGEON_DHCP_SERVICE_LEASES_H
#define PIGEON_DHCP_SERVICE_LEASES_H

#include "dhcp/engine.h"

#include <stdint.h>

struct str;
struct dhcp_leases;

/* Opens (creating the folder and the schema) dir/leases.db. NULL with err set. */
struct dhcp_leases *dhcp_leases_open(const char *dir, struct str *err);
void dhcp_leases_close(struct dhcp_leases *db);

/* A transaction around a batch of saves. 0 or -1 (logged). */
int dhcp_leases_begin(struct dhcp_leases *db);
int dhcp_leases_commit(struct dhcp_leases *db);
void dhcp_leases_rollback(struct dhcp_leases *db);
/* Writes l (replacing the address's row). 0 or -1 (logged). */
int dhcp_leases_save(struct dhcp_leases *db, const struct dhcp_lease *l);
/* Calls fn for every stored lease, by address. 0 or -1. */
int dhcp_leases_each(struct dhcp_leases *db, void (*fn)(void *ctx, const struct dhcp_lease *l),
                     void *ctx);

/* Reservations made at run time (`pigeon dhcp reserve`). */
int dhcp_leases_reserve(struct dhcp_leases *db, const uint8_t *key, size_t key_len,
                        uint32_t addr);
int dhcp_leases_unreserve(struct dhcp_leases *db, const uint8_t *key, size_t key_len);
int dhcp_leases_each_reservation(struct dhcp_leases *db,
                                 void (*fn)(void *ctx, const uint8_t *key, size_t len,
                                            uint32_t addr),
                                 void *ctx);

/* Commands for the running daemon: "release ADDR", "reserved" (reservations changed). */
int dhcp_leases_command_add(struct dhcp_leases *db, const char *verb, const char *arg);
/* Calls fn for each waiting command and deletes them. 0 or -1. */
int dhcp_leases_commands_take(struct dhcp_leases *db,
                              void (*fn)(void *ctx, const char *verb, const char *arg),
                              void *ctx);
/* SQLite's data_version: changes when another connection (the CLI) wrote. */
int64_t dhcp_leases_data_version(struct dhcp_leases *db);

/* Names of lease states for listings ("bound", "released", ...). */
const char *dhcp_lease_state_name(int state);

#endif
