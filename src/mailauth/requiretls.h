/*
 * requiretls — the message side of RFC 8689 (SMTP Require TLS Option): the TLS-Required
 * header field (§3), which a sender adds to ask that the recipient's MTA-STS policy and DANE
 * records not stop delivery. The SMTP side (the REQUIRETLS extension and MAIL parameter) is in
 * src/smtp/, the queue's handling in src/queue/delivery.c.
 *
 * Pure: no I/O, no allocation, no globals.
 */
#ifndef PIGEON_MAILAUTH_REQUIRETLS_H
#define PIGEON_MAILAUTH_REQUIRETLS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when the header block of msg[0..len) holds a "TLS-Required" field whose value is "No"
 * (case-insensitive, folding white space around it allowed; §3: "No" is the only value
 * defined, any other is ignored). Only the header block is read.
 */
bool requiretls_header_no(const char *msg, size_t len);

#endif
