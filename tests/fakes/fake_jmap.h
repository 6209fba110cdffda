/*
 * fake_jmap — an in-memory account for the JMAP engine (struct jmap_ops): mailboxes and
 * message rows with modseqs and an expunge log as the store keeps them, message texts by
 * blob id, uploads, and a record of submissions. For tests/unit/test_jmap.c and the fuzz
 * target tests/fuzz/fuzz_jmap_request.c.
 */
#ifndef PIGEON_FAKE_JMAP_H
#define PIGEON_FAKE_JMAP_H

#include "jmap/jmap.h"

#define FAKE_JMAP_MAX 64

struct fake_jmap_box {
    int64_t id, modseq, uidnext;
    char name[64];
    char special_use[16];
    bool exists;
};

struct fake_jmap_row {
    int64_t mailbox_id, uid, modseq, date;
    char flags[128];
    char blob[33];
    bool exists;
    int64_t gone_modseq; /* expunged at this modseq (exists false) */
    int64_t thread;      /* as the store places it: same file, or a shared id and subject */
};

struct fake_jmap_blob {
    char id[33];
    char *data;
    size_t len;
};

#define FAKE_JMAP_SCRIPTS 4

struct fake_jmap_script {
    char name[32];
    char *text; /* NULL: the slot is free */
};

struct fake_jmap {
    struct fake_jmap_box boxes[FAKE_JMAP_MAX];
    size_t nboxes;
    struct fake_jmap_row rows[FAKE_JMAP_MAX * 4];
    size_t nrows;
    struct fake_jmap_blob blobs[FAKE_JMAP_MAX];
    size_t nblobs;
    unsigned submissions;
    char last_rcpts[256];
    unsigned next_blob;
    struct fake_jmap_script scripts[FAKE_JMAP_SCRIPTS];
    char active[32]; /* the active script's name, "" none */
    char *identities; /* Identity/set's JSON, NULL: never written */
    int64_t next_thread;
    char *subs[FAKE_JMAP_MAX];   /* EmailSubmission records (JSON); NULL once destroyed */
    char sub_ids[FAKE_JMAP_MAX][40];
    int64_t sub_seq[FAKE_JMAP_MAX]; /* the change that last touched each (as the store) */
    int64_t sub_changes;
    size_t nsubs;
};

/* An account with INBOX (id 1), Sent (2), Drafts (3), Trash (4). */
void fake_jmap_init(struct fake_jmap *f, struct jmap_ops *ops);
void fake_jmap_free(struct fake_jmap *f);
/* Delivers text into mailbox id (as SMTP would): a new uid and modseq. */
int64_t fake_jmap_deliver(struct fake_jmap *f, int64_t mailbox_id, const char *text,
                          const char *flags);
/* An IMAP-style flag change / expunge from outside JMAP. */
void fake_jmap_set_flags(struct fake_jmap *f, int64_t mailbox_id, int64_t uid, const char *flags);
void fake_jmap_expunge(struct fake_jmap *f, int64_t mailbox_id, int64_t uid);
/* A Sieve script written from outside JMAP (ManageSieve), made active if asked. */
int fake_jmap_sieve_put(struct fake_jmap *f, const char *name, const char *text, bool activate);
/* A script's text, NULL when there is none. */
const char *fake_jmap_sieve_text(struct fake_jmap *f, const char *name);

#endif
