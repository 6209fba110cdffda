/*
 * fetch_int — the state of one FETCH, shared by cmd_fetch.c (arguments, chunks, the parse
 * cache and implicit \Seen rounds) and fetch_write.c (the responses, written in bursts).
 * Not for use outside src/imap.
 */
#ifndef PIGEON_IMAP_FETCH_INT_H
#define PIGEON_IMAP_FETCH_INT_H

#include "imap/fetch_att.h"
#include "imap/session_int.h"
#include "msg/mime.h"

struct imap_fetch {
    struct imap_fetch_atts atts;
    bool need_cache;  /* ENVELOPE, BODY or BODYSTRUCTURE asked for */
    bool set_seen;    /* a non-PEEK body in a read-write mailbox */
    bool with_modseq; /* MODSEQ in every response (asked, or CHANGEDSINCE) */
    bool failed;      /* a message file could not be read: tagged NO */
    bool unknown_cte; /* BINARY of a part in an unknown encoding: NO [UNKNOWN-CTE] */
    bool borrowed;    /* atts belong to NOTIFY (imap_fetch_unsolicited): not freed here */
    void (*then)(struct imap_session *s); /* unsolicited: runs at the end, no tagged reply */
    size_t *idx;      /* view indices, ascending */
    size_t n;
    /* the current chunk [pos, end) of idx */
    size_t pos, end;
    const char **blobs;             /* the chunk's blob ids (CACHE request input) */
    struct imap_cache_entry *cache; /* taken from the request, parallel to the chunk */
    bool *flags_changed;            /* \Seen was just set: include FLAGS */
    size_t emit;                    /* next message of the chunk to write */
    /* the message being written */
    bool started; /* "* n FETCH (" and the simple items are out */
    size_t item;  /* next body item (RFC822* first, then atts.bodies) */
    bool mapped;
    struct imap_msg_map map;
    struct mime_tree *tree;
    struct slice rest; /* bytes of the current literal not yet written */
    struct str obuf;   /* responses gathered for one write (many small messages) */
};

/* fetch_write.c: writes the chunk's responses until the burst is spent (true: chunk done). */
bool imap_fetch_write_chunk(struct imap_session *s, struct imap_fetch *f);
/* Releases the current message's map and tree. */
void imap_fetch_msg_release(struct imap_session *s, struct imap_fetch *f);

#endif
