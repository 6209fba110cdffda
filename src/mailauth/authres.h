/*
 * authres — the Authentication-Results header field (RFC 8601) for what the MX role found
 * (DKIM per signature, SPF, DMARC), and the removal of fields forged with our own
 * authserv-id (§5). Pure, no I/O.
 */
#ifndef PIGEON_MAILAUTH_AUTHRES_H
#define PIGEON_MAILAUTH_AUTHRES_H

#include "core/str.h"
#include "mailauth/check.h"

/*
 * Appends "Authentication-Results: ID;\r\n\tdkim=...;\r\n\tspf=...;\r\n\tdmarc=...\r\n":
 * one dkim= per signature (dkim=none without any), spf= only when SPF ran, arc= only when the
 * message carries ARC fields (before dmarc=).
 */
void mailauth_authres_write(const char *authserv_id, const struct mailauth_spf *spf,
                            const struct mailauth_report *r, struct str *out);

/* The same without the field name and the final CRLF: what an ARC-Authentication-Results
 * field carries after its "i=N; " (RFC 8617 §4.1.1). */
void mailauth_authres_payload(const char *authserv_id, const struct mailauth_spf *spf,
                              const struct mailauth_report *r, struct str *out);

/*
 * When msg[0..len)'s header holds Authentication-Results fields naming authserv_id (case-
 * insensitive), appends msg without them to out and returns how many were dropped; returns 0
 * and leaves out alone otherwise.
 */
size_t mailauth_authres_strip(const char *msg, size_t len, const char *authserv_id,
                              struct str *out);

#endif
