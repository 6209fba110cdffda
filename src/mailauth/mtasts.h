/*
 * mtasts — SMTP MTA Strict Transport Security (RFC 8461), the parts that need no network:
 * the `_mta-sts` TXT record (§3.1), the policy file served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt (§3.2) and the MX host patterns (§4.1).
 * Fetching, caching and enforcing live with the outbound queue (queue/sts.c). Pure, no I/O.
 *
 * Hand-written: the two grammars are a few lines each; the TXT record reuses taglist.c.
 */
#ifndef PIGEON_MAILAUTH_MTASTS_H
#define PIGEON_MAILAUTH_MTASTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTASTS_MAX_POLICY 65536 /* §3.3: a policy body is at most 64 KiB */
#define MTASTS_MAX_MX 32        /* mx: lines kept; more are an error */
#define MTASTS_MAX_AGE 31557600 /* §3.2: max_age is at most one year */

enum mtasts_mode { MTASTS_NONE, MTASTS_TESTING, MTASTS_ENFORCE };

struct mtasts_policy {
    enum mtasts_mode mode;
    uint32_t max_age;            /* seconds */
    char mx[MTASTS_MAX_MX][256]; /* lower case, no trailing dot; "*.example.net" allowed */
    size_t nmx;
};

/*
 * The policy id of a TXT answer (§3.1): records that do not start with "v=STSv1" are
 * ignored; exactly one must remain, with a valid id (1 to 32 letters and digits). Returns
 * true and copies the id (NUL-terminated, out has room for 33 bytes); false when there is no
 * usable record (no policy, or more than one: §3.1 treats both as "no policy").
 */
bool mtasts_txt_pick(const char *const *txt, const size_t *len, size_t n, char id_out[33]);

/*
 * Parses a policy body p[0..len) (§3.2): "key: value" lines ending in LF or CRLF; version
 * must be STSv1, mode enforce/testing/none, max_age present (0 .. one year), at least one mx
 * unless the mode is none; unknown keys ignored. 0, or ERR_PARSE / ERR_LIMIT with *err_out.
 */
int mtasts_policy_parse(const char *p, size_t len, struct mtasts_policy *out, const char **err_out);

/* Whether host (any case, trailing dot allowed) matches one of the policy's mx patterns
 * (§4.1: exact, or "*." matching exactly one leftmost label). */
bool mtasts_mx_match(const struct mtasts_policy *p, const char *host);

const char *mtasts_mode_name(enum mtasts_mode m);

struct str;

/* The policy file Pigeon serves (§3.2): version, mode, one mx line, max_age; CRLF lines. */
void mtasts_policy_text(enum mtasts_mode mode, const char *mx, uint32_t max_age,
                        struct str *out);

/* The policy's id for the TXT record (§3.1): 16 hex digits of the SHA-256 of its text, so the
 * id changes whenever the policy does. */
void mtasts_policy_id(const char *text, size_t len, char id_out[33]);

#endif
