/*
 * psl — the Public Suffix List (publicsuffix.org, Debian package publicsuffix) and the
 * organisational domain of DMARC (RFC 7489 §3.2): the public suffix plus one label.
 *
 * The list is read once (psl_load) into an immutable hash set; lookups allocate nothing and
 * may run on any thread at once. Rules in Unicode (IDN suffixes) are kept as written, so an
 * A-label domain under an IDN suffix falls back to the "*" rule (its last label).
 */
#ifndef PIGEON_MAILAUTH_PSL_H
#define PIGEON_MAILAUTH_PSL_H

#include <stddef.h>

#define PSL_DEFAULT_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

struct psl;

/* Parses the list text[0..len): one rule per line, "//" comments, "*." wildcards, "!"
 * exceptions. Never fails (an empty list makes every last label a suffix). */
struct psl *psl_parse(const char *text, size_t len);
/* Reads and parses the file at path; NULL with *err_out when it cannot be read. */
struct psl *psl_load(const char *path, const char **err_out);
void psl_free(struct psl *p);

/*
 * The organisational domain of name (lower-case, no trailing dot): a pointer into name, or
 * NULL when name is itself a public suffix (or empty).
 */
const char *psl_org_domain(const struct psl *p, const char *name);

#endif
