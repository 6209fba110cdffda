/*
 * nta — the resolver's negative trust anchors as the operator sees them: the requests of
 * `pigeon dnssec nta` that arrive on pigeond's control socket, and the file that keeps the
 * ones added at run time across restarts (DATA/resolver.nta: one "NAME EXPIRY" line per NTA,
 * EXPIRY in Unix seconds; written whole, temp file + fsync + rename).
 *
 * Requests (the words after "nta"), answered with the control socket's "note"/"error" lines:
 *   add NAME SECONDS   not validated for SECONDS (1 s to 7 days); an existing one is renewed
 *   remove NAME        validated again at once
 *   list               one "note NAME SECONDS-LEFT" line each ("permanent" for the config's)
 * Main thread; blocks on the file write.
 */
#ifndef PIGEON_DNS_RESOLVER_SERVICE_NTA_H
#define PIGEON_DNS_RESOLVER_SERVICE_NTA_H

#include "core/str.h"

#define RESOLVER_NTA_FILE "resolver.nta"
#define RESOLVER_NTA_MAX_LIFETIME (7 * 86400) /* RFC 7646 §2: NTAs are short-lived */

struct dns_resolver_shared;

/* Puts back the NTAs of DATA/resolver.nta that have not expired (a missing file is none; a
 * bad line is logged and skipped). */
void resolver_nta_restore(struct dns_resolver_shared *sh, const char *data_dir);
/* Runs the request args (the words after "nta"), appending the answer lines to out. Returns
 * how many things failed (0 or 1). */
unsigned resolver_nta_request(struct dns_resolver_shared *sh, const char *data_dir,
                              const char *args, struct str *out);

#endif
