/*
 * data — the SMTP message-content readers: DATA (RFC 5321 §4.1.1.4, §4.5.2) and BDAT
 * chunks (RFC 3030). Pure state machines over bytes: no I/O, no clock, no globals.
 *
 * DATA ends only at CRLF "." CRLF. A bare LF or bare CR before or after the dot never ends the
 * message (SMTP smuggling); bare LF and bare CR line ends are stored as CRLF (and noted in
 * bare_line_end, for a server that refuses them) so that the stored message has one line-end
 * convention and can never be re-interpreted downstream. One leading dot is removed from every
 * line that starts with one (§4.5.2). BDAT content is stored as sent (RFC 3030); the SMTP
 * client makes every line end CRLF when it relays.
 *
 * Both readers append to a caller-owned struct str, stop storing (but keep parsing) once the
 * size limit is passed, and note lines over 1000 octets (§4.5.3.1.6, CRLF included).
 */
#ifndef PIGEON_SMTP_DATA_H
#define PIGEON_SMTP_DATA_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

#define SMTP_TEXT_LINE_MAX 1000 /* octets including CRLF */

struct smtp_data {
    struct str *out;      /* where content goes (not owned) */
    uint64_t max_size;    /* content octets allowed */
    uint64_t size;        /* content octets seen (stored or not) */
    size_t line_len;      /* octets of the current line so far */
    bool oversize;        /* size went past max_size: content is incomplete */
    bool line_too_long;   /* some line was over SMTP_TEXT_LINE_MAX */
    bool bare_line_end;   /* DATA: some line ended in a bare CR or a bare LF */
    /* DATA state */
    int state;
    bool bol_after_crlf;  /* the current line began after a CRLF (not a bare LF) */
    bool last_cr;         /* a CR was read and not yet stored: is an LF next? */
    /* BDAT state */
    uint64_t chunk_left;
};

/* Prepares d to read content into out (which keeps whatever it holds already). */
void smtp_data_init(struct smtp_data *d, struct str *out, uint64_t max_size);

/*
 * DATA: consumes p[0..n). Returns 1 when the terminating CRLF.CRLF was read (*used_out says
 * how many bytes belong to the message, the rest is the next command), 0 when every byte was
 * used and more is needed.
 */
int smtp_data_feed(struct smtp_data *d, const char *p, size_t n, size_t *used_out);

/* BDAT: begins a chunk of `size` octets. */
void smtp_data_chunk_begin(struct smtp_data *d, uint64_t size);
/* BDAT: consumes up to the chunk's remaining octets; returns 1 when the chunk is complete. */
int smtp_data_chunk_feed(struct smtp_data *d, const char *p, size_t n, size_t *used_out);

#endif
