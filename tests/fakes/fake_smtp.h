/*
 * fake_smtp — a scripted stand-in for the daemon around one SMTP session engine: output is
 * captured in a string, bob@hamburger.edu is the only local user, "bob"/"hungry" the only
 * credentials, and commits complete when the test (or auto_commit) says so.
 * Used by the session unit tests and the session fuzz target.
 */
#ifndef PIGEON_TESTS_FAKE_SMTP_H
#define PIGEON_TESTS_FAKE_SMTP_H

#include "smtp/session.h"

struct fake_smtp {
    struct smtp_session *s;
    struct str out;           /* everything the engine wrote */
    struct str committed;     /* bodies of committed messages, concatenated */
    unsigned ncommitted;
    unsigned nrcpt_last;
    bool requiretls_last;     /* the last commit's MAIL carried REQUIRETLS */
    bool auto_commit;         /* complete commits at once */
    bool commit_pending;
    bool closed;
    bool tls_requested;
};

/* submission: the session plays the submission role with TLS already active. */
void fake_smtp_init(struct fake_smtp *f, bool submission, bool tls);
/* The configuration fake_smtp_init uses, to change before fake_smtp_init_config. */
void fake_smtp_config(struct smtp_server_config *cfg, bool submission);
void fake_smtp_init_config(struct fake_smtp *f, const struct smtp_server_config *cfg, bool tls);
void fake_smtp_free(struct fake_smtp *f);
/* Feeds all of p (re-feeding after auto commits); returns bytes consumed. */
size_t fake_smtp_feed(struct fake_smtp *f, const char *p, size_t n);
size_t fake_smtp_feeds(struct fake_smtp *f, const char *cstr);
/* Completes a pending commit with rc. */
void fake_smtp_commit(struct fake_smtp *f, int rc);

#endif
