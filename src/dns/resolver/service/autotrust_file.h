/*
 * autotrust_file — where the resolver keeps its RFC 5011 trust-anchor states
 * (dns/resolver/autotrust.h): DATA/resolver.autotrust, read at start, written whole (temp
 * file, fsync, rename) after each change the validator makes. Blocks on those file reads and
 * writes (a change is rare: a key added, missing or revoked).
 */
#ifndef PIGEON_DNS_RESOLVER_SERVICE_AUTOTRUST_FILE_H
#define PIGEON_DNS_RESOLVER_SERVICE_AUTOTRUST_FILE_H

#define RESOLVER_AUTOTRUST_FILE "resolver.autotrust"

struct dns_resolver_shared;
struct autotrust_file;

/* Follows the anchored zones' keys for sh, starting from the saved states (a missing file is
 * none; an unreadable one is logged and started afresh). Main thread, before the workers. */
struct autotrust_file *autotrust_file_start(struct dns_resolver_shared *sh, const char *data_dir);
/* After sh is freed. NULL: nothing. */
void autotrust_file_free(struct autotrust_file *f);

#endif
