/*
 * fake_imap — a scripted stand-in for the daemon around one IMAP session engine: output is
 * captured in a string, "bob"/"hungry" are the only credentials (canonical
 * bob@hamburger.edu), and the store is in memory: INBOX plus Sent/Drafts/Trash/Junk/Archive,
 * messages as NUL-terminated texts. Requests complete at once unless the test holds them.
 * "Another session" is simulated with fake_imap_deliver / fake_imap_expunge_uid /
 * fake_imap_set_flags, which change the store behind the engine's back (then the test calls
 * imap_session_notify). Used by the IMAP session unit tests and the session fuzz target.
 */
#ifndef PIGEON_TESTS_FAKE_IMAP_H
#define PIGEON_TESTS_FAKE_IMAP_H

#include "core/str.h"
#include "imap/session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fake_imap_store;

struct fake_imap {
    struct imap_session *s;
    struct str out; /* everything the engine wrote */
    struct fake_imap_store *st;
    bool hold; /* keep requests and auth pending until fake_imap_complete */
    bool pending_req, pending_auth;
    bool pending_auth_ok;
    char pending_user[64];
    bool fail_requests;    /* every request answers ERR_DB */
    bool writable_auto;    /* fake_imap_feed calls writable until the engine stops */
    unsigned requests;     /* requests seen */
    unsigned maps, unmaps; /* msg_map / msg_unmap calls */
    unsigned writable_calls;
    bool tls_requested;
    bool compress_requested; /* the engine asked for COMPRESS DEFLATE (the fake stays plain) */
    int64_t selected;
    bool notify_all;              /* the engine asked to hear of every mailbox (NOTIFY) */
    unsigned logouts;             /* UNAUTHENTICATE told the daemon (ops->logout) */
    int64_t now;                  /* the clock URLAUTH's EXPIRE is checked against (0: 2023) */
    struct imap_quota_info quota; /* what QUOTA answers; APPEND over limit_bytes: ERR_LIMIT */
};

/* tls: implicit TLS; plaintext_ok: LOGIN allowed before TLS. max_literal 0: default. */
void fake_imap_init(struct fake_imap *f, bool tls, bool plaintext_ok, uint64_t max_literal);
void fake_imap_free(struct fake_imap *f);
/* Delivers text (kept by pointer) to mailbox name with flags; returns its uid. */
uint32_t fake_imap_deliver(struct fake_imap *f, const char *mailbox, const char *text,
                           const char *flags);
/* Another session's changes. */
void fake_imap_expunge_uid(struct fake_imap *f, const char *mailbox, uint32_t uid);
void fake_imap_set_flags(struct fake_imap *f, const char *mailbox, uint32_t uid, const char *flags);
/* Feeds all of p (writable calls and TLS start included); returns bytes consumed. */
size_t fake_imap_feed(struct fake_imap *f, const char *p, size_t n);
size_t fake_imap_feeds(struct fake_imap *f, const char *cstr);
/* Completes the held request or auth. */
void fake_imap_complete(struct fake_imap *f);
/* Number of messages in mailbox name (-1: no such mailbox). */
int fake_imap_count(struct fake_imap *f, const char *mailbox);

#endif
