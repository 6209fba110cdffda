/*
 * journal — the on-disk form of a zone's differences (DATA/journal/ZONE.jnl), and the
 * master-file dump of a zone.
 *
 * A journal is a header line "PIGEONJ1\n" followed by entries, each one difference of RFC 1995
 * form: u32 body length, u32 FNV-1a checksum of the body, then the body (u32 from serial,
 * u32 to serial, u32 deletions, u32 additions, then the old SOA, the deleted records, the new
 * SOA and the added records, each as name (wire), u16 type, u32 TTL, u16 rdlength, rdata).
 * Entries are only ever appended (and fsynced) by the server; one cut short by a crash fails
 * its length or checksum and is ignored with everything after it.
 *
 * Pure: encoding and decoding bytes; the daemon does the file I/O.
 */
#ifndef PIGEON_DNS_XFR_JOURNAL_H
#define PIGEON_DNS_XFR_JOURNAL_H

#include "core/str.h"
#include "dns/xfr/rrvec.h"

#include <stddef.h>
#include <stdint.h>

#define DNS_JOURNAL_MAGIC "PIGEONJ1\n"
#define DNS_JOURNAL_MAGIC_LEN 9
#define DNS_JOURNAL_DIR "journal" /* under the data directory */

struct dns_zone;

/* Appends the journal header to out. */
void dns_journal_header(struct str *out);
/* Appends one entry for d to out. */
void dns_journal_encode(const struct dns_zdiff *d, struct str *out);
/*
 * Decodes a whole journal file data[0..len). *diffs_out (xmalloc'd array, each element one
 * reference) gets the intact entries in order; *valid_len the length of the intact prefix
 * (less than len after a torn write). 0, or ERR_PARSE when the header is wrong (an empty
 * file is a valid, empty journal).
 */
int dns_journal_decode(const uint8_t *data, size_t len, struct dns_zdiff ***diffs_out,
                       size_t *n_out, size_t *valid_len);
/* Frees what dns_journal_decode returned. */
void dns_journal_free(struct dns_zdiff **diffs, size_t n);

/* Appends z as a master file ($ORIGIN, then one record per line, SOA first) to out. */
void dns_zone_dump(const struct dns_zone *z, struct str *out);

#endif
