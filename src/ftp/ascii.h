/*
 * ascii — TYPE A's representation change (RFC 959 §3.1.1.1): a file's lines end in LF on disk
 * and in CRLF on the wire. Pure, chunk by chunk: the state carries a CR seen at the end of the
 * previous chunk.
 */
#ifndef PIGEON_FTP_ASCII_H
#define PIGEON_FTP_ASCII_H

#include <stdbool.h>
#include <stddef.h>

/* Disk → wire: every LF not already after a CR becomes CRLF. out holds 2 * n octets.
 * *last_cr: the previous octet was a CR (false at the start). Returns the octets written. */
size_t ftp_ascii_to_wire(const char *in, size_t n, char *out, bool *last_cr);

/* Wire → disk: CRLF becomes LF; any other CR is kept. out holds n + 1 octets. *held_cr: a CR
 * ended the previous chunk and was not written yet (false at the start). Returns the octets
 * written. At the end of the data, a held CR is written with ftp_ascii_from_wire_end. */
size_t ftp_ascii_from_wire(const char *in, size_t n, char *out, bool *held_cr);
size_t ftp_ascii_from_wire_end(char *out, bool *held_cr);

#endif
