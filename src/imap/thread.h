/*
 * thread — the THREAD algorithms of RFC 5256 §3 over a mailbox's matching messages, and the
 * thread-list reply text (§4): ORDEREDSUBJECT (grouped by base subject, each group's first
 * message the parent of the rest, groups by sent date) and REFERENCES (the JWZ algorithm:
 * Message-ID / References / In-Reply-To links, dummy pruning, grouping of roots by base
 * subject, siblings by sent date). Pure; no recursion (trees may be as deep as a mailbox is
 * long), bounded work per link.
 */
#ifndef PIGEON_IMAP_THREAD_H
#define PIGEON_IMAP_THREAD_H

#include "core/str.h"
#include "imap/sortkey.h"

#include <stddef.h>

enum imap_thread_algo {
    IMAP_THREAD_ORDEREDSUBJECT,
    IMAP_THREAD_REFERENCES,
};

/* Appends the thread list of items[0..n) (in sequence order, their keys computed for the
 * algorithm: subject and sent date; REFERENCES also msgid, refs, reply) to out, without the
 * leading "* THREAD". Each message shows as its num. */
void imap_thread(enum imap_thread_algo algo, const struct imap_sort_item *items, size_t n,
                 struct str *out);

#endif
