/*
 * fake_pop3 — a scripted stand-in for the daemon around one POP3 session engine: output is
 * captured in a string, "bob"/"hungry" are the only credentials (canonical
 * bob@hamburger.edu), the maildrop is a list of in-memory messages, and asynchronous results
 * (auth, maildrop open, update) complete at once unless the test holds them.
 * Used by the POP3 session unit tests and the session fuzz target.
 */
#ifndef PIGEON_TESTS_FAKE_POP3_H
#define PIGEON_TESTS_FAKE_POP3_H

#include "core/str.h"
#include "pop3/session.h"

#define FAKE_POP3_MAX_MSGS 16

struct fake_pop3 {
    struct pop3_session *s;
    struct str out;                       /* everything the engine wrote */
    const char *msgs[FAKE_POP3_MAX_MSGS]; /* the maildrop (NUL-terminated texts) */
    size_t nmsgs;
    uint64_t uidvalidity;
    size_t read_max;    /* octets per msg_read (small values test chunk edges) */
    bool maildrop_busy; /* maildrop_open answers IN-USE */
    bool maildrop_fail; /* maildrop_open answers TEMPFAIL */
    bool msg_open_fail; /* msg_open fails */
    bool hold;          /* keep async results pending until fake_pop3_complete */
    bool pending_auth, pending_open, pending_update;
    bool pending_auth_ok;
    int update_rc;                        /* what update answers */
    uint64_t removed[FAKE_POP3_MAX_MSGS]; /* uids passed to update */
    size_t nremoved;
    unsigned maildrop_opens, maildrop_closes;
    size_t open_index; /* message being read, SIZE_MAX when none */
    size_t read_pos;
    unsigned writable_calls; /* bursts after the first */
    bool closed_msg_open;    /* a message was still open when the session was freed */
    bool tls_requested;
};

/* tls: implicit TLS; plaintext_ok: USER/PASS allowed before TLS. */
void fake_pop3_init(struct fake_pop3 *f, bool tls, bool plaintext_ok);
void fake_pop3_free(struct fake_pop3 *f);
/* Adds a message (kept by pointer) to the maildrop opened at the next login. */
void fake_pop3_add(struct fake_pop3 *f, const char *text);
/* Feeds all of p, calling writable while a message is being sent and starting TLS when
 * asked; returns bytes consumed (less when the session waits or closes). */
size_t fake_pop3_feed(struct fake_pop3 *f, const char *p, size_t n);
size_t fake_pop3_feeds(struct fake_pop3 *f, const char *cstr);
/* Completes every held asynchronous result. */
void fake_pop3_complete(struct fake_pop3 *f);

#endif
