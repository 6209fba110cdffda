/*
 * keystore — a zone's DNSSEC private keys on disk, kept across reloads and restarts: one
 * PKCS#8 PEM file per key in a directory (mode 0700), each file mode 0600, written to a
 * temporary name, fsynced and renamed. The file name carries what the signer needs besides
 * the key: "<zone>+<alg>+<tag>.<role>.pem" (role csk, ksk or zsk), plus ".pub" for a key
 * published ahead of use (ZSK pre-publication) and ".retired" for one kept only in the
 * DNSKEY set until its signatures have expired from caches.
 *
 * Blocking file I/O; no globals. Keys returned are owned by the keyset (dnssec_keyset_clear).
 */
#ifndef PIGEON_DNS_DNSSEC_KEYSTORE_H
#define PIGEON_DNS_DNSSEC_KEYSTORE_H

#include "dns/dnssec/signer.h"

#include <stdint.h>

#define DNSSEC_KEYSET_MAX 16

enum dnssec_role { DNSSEC_ROLE_CSK, DNSSEC_ROLE_KSK, DNSSEC_ROLE_ZSK };
enum dnssec_keystate { DNSSEC_KEY_ACTIVE, DNSSEC_KEY_PUBLISHED, DNSSEC_KEY_RETIRED };

struct dnssec_keyset {
    struct dnssec_key keys[DNSSEC_KEYSET_MAX];
    enum dnssec_role role[DNSSEC_KEYSET_MAX];
    enum dnssec_keystate state[DNSSEC_KEYSET_MAX];
    char *path[DNSSEC_KEYSET_MAX]; /* the key's file */
    int64_t since[DNSSEC_KEYSET_MAX]; /* when the key entered its state (the file's mtime) */
    size_t n;
};

void dnssec_keyset_clear(struct dnssec_keyset *ks);

/* Reads every key of zone from dir into ks (empty when the directory is missing). Files
 * that are not keys of this zone are ignored. 0, or ERR_IO/ERR_PARSE with a reason. */
int dnssec_keystore_load(const char *dir, const uint8_t *zone, struct dnssec_keyset *ks,
                         struct str *err_out);
/* A stamp of zone's key files in dir (their names and modification times): it changes when
 * one of them is added, renamed (a state change) or removed, and not when other files in dir
 * change (other zones' keys, the signer's serial and signed-version files). 0 when dir cannot
 * be read. */
uint64_t dnssec_keystore_stamp(const char *dir, const uint8_t *zone);
/* Generates a key, writes its file (creating dir with mode 0700) and appends it to ks.
 * 0, or ERR_IO/ERR_PARSE/ERR_LIMIT with a reason. */
int dnssec_keystore_create(const char *dir, const uint8_t *zone, uint8_t alg,
                           enum dnssec_role role, enum dnssec_keystate state,
                           struct dnssec_keyset *ks, struct str *err_out);
/* Moves key i of ks to a new state by renaming its file (its mtime becomes now: the state's
 * start). 0 or ERR_IO. */
int dnssec_keystore_set_state(struct dnssec_keyset *ks, size_t i, enum dnssec_keystate state,
                              struct str *err_out);
/* Removes key i's file and drops it from ks. 0 or ERR_IO. */
int dnssec_keystore_remove(struct dnssec_keyset *ks, size_t i, struct str *err_out);
/* Loads the keys; when there are none, makes one CSK of alg. Same returns as load. */
int dnssec_keystore_ensure(const char *dir, const uint8_t *zone, uint8_t alg,
                           struct dnssec_keyset *ks, struct str *err_out);
const char *dnssec_role_name(enum dnssec_role r);
const char *dnssec_state_name(enum dnssec_keystate s);

/*
 * The rollover steps due at time now, with ttl the longest TTL in the zone (how long a
 * resolver may keep the old DNSKEY set or signatures): a pre-published key older than ttl
 * becomes active and the active keys of its role retire (ZSK pre-publication; for a KSK or
 * CSK the parent had ttl to see both in CDS); a retired key older than ttl is removed.
 * Returns the number of changes (files renamed or removed); *next_out gets the time of the
 * next step (INT64_MAX when none). Blocking (renames); errors go to err_out.
 */
int dnssec_keystore_roll(struct dnssec_keyset *ks, int64_t now, uint32_t ttl, int64_t *next_out,
                         struct str *err_out);

#endif
