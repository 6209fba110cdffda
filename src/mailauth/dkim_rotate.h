/*
 * dkim_rotate — the selectors of one domain's DKIM keys and their life (RFC 6376 §3.1 leaves
 * rotation to the signer; M3AAWG's advice is followed): a new key is published under a new
 * selector, signing switches to it once resolvers can have seen the record (switch_after,
 * at least the record's TTL), the old record stays published while mail signed with it may
 * still be verified (retire_after: queued mail lives for days), then it is withdrawn.
 *
 *   NEXT ──switch_after──► ACTIVE ──(the next key switches)──► RETIRED ──retire_after──►
 *   WITHDRAWN (its TXT record removed; the entry forgotten retire_after later)
 *
 * Kept as text, one selector per line: "NAME STATE SINCE" (SINCE: Unix seconds of the last
 * change). Pure: no I/O, no clock (now is passed in).
 */
#ifndef PIGEON_MAILAUTH_DKIM_ROTATE_H
#define PIGEON_MAILAUTH_DKIM_ROTATE_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DKIM_SELS_MAX 8

enum dkim_sel_state { DKIM_SEL_ACTIVE, DKIM_SEL_NEXT, DKIM_SEL_RETIRED, DKIM_SEL_WITHDRAWN };

struct dkim_sel {
    char name[64];
    enum dkim_sel_state state;
    int64_t since;
};

struct dkim_sels {
    struct dkim_sel s[DKIM_SELS_MAX];
    size_t n;
};

/* The state of a domain with no file yet: selector dflt active since 0. */
void dkim_sels_default(struct dkim_sels *out, const char *dflt);

/* Parses the file's text. 0, or ERR_PARSE with *err_out (static). Exactly one ACTIVE. */
int dkim_sels_parse(const char *text, size_t len, struct dkim_sels *out, const char **err_out);

/* Appends the file's text for sels to out. */
void dkim_sels_format(const struct dkim_sels *sels, struct str *out);

/* The active selector's entry (there is always one after parse/default). */
const struct dkim_sel *dkim_sels_active(const struct dkim_sels *sels);

/* Adds name as NEXT since now. 0; ERR_EXISTS when a rotation is already under way (a NEXT
 * exists) or the name is taken; ERR_LIMIT when the list is full of live selectors. A
 * WITHDRAWN entry makes room. */
int dkim_sels_add_next(struct dkim_sels *sels, const char *name, int64_t now);

/* Moves every selector whose time has come one step on. True when something changed. */
bool dkim_sels_advance(struct dkim_sels *sels, int64_t now, uint32_t switch_after,
                       uint32_t retire_after);

const char *dkim_sel_state_name(enum dkim_sel_state st);

#endif
