/*
 * imap_notify — "mail changed" notices for IMAP sessions (daemon/imap_glue.c).
 *
 * Every worker keeps the list of its IMAP sessions. Whoever changes a mailbox — a delivery
 * committed for local users (wiring.c), an IMAP write (wiring_imap.c), a POP3 deletion
 * (wiring_pop3.c) — calls imap_notify on its worker; the notice is posted to every worker's
 * loop (core/loop_post), where the matching sessions re-sync: at once when idling (RFC 2177),
 * otherwise before their next tagged reply. A notice is only a hint: the sync itself reads
 * what changed from the store (modseqs), so a lost or duplicated notice costs nothing but time.
 */
#ifndef PIGEON_DAEMON_IMAP_NOTIFY_H
#define PIGEON_DAEMON_IMAP_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct worker;

/*
 * Notifies the sessions of users[0..n) (n 0: of any user) that have mailbox_id selected
 * (0: whatever they have selected), except the session whose origin id is `origin` (0: none).
 * Call on the worker's own thread; a no-op while that worker shuts down or when no IMAP
 * service is configured.
 */
void imap_notify(struct worker *from, const int64_t *users, size_t n, int64_t mailbox_id,
                 uint64_t origin);

#endif
