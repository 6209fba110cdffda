/*
 * server_int — what the engine's opcode files share (not for other modules). See server.h.
 */
#ifndef PIGEON_DNS_SERVER_SERVER_INT_H
#define PIGEON_DNS_SERVER_SERVER_INT_H

#include "dns/server/server.h"

/* The name of the key a request was verified with, or NULL (unsigned, or not verified). */
const uint8_t *dns_server_verified_key(const struct dns_tsig_result *res);

/* axfr.c, for ixfr.c: the zone asked for, when we serve it and the client may transfer it
 * (*zi_out >= 0, returns 0); else the refusal is written into out (*zi_out = -1). */
size_t dns_server_xfr_begin(const struct dns_server *srv, const struct dns_view *v,
                            const struct dns_server_req *req, const struct dns_msg *q,
                            const struct dns_tsig_result *res, uint8_t *out, size_t cap,
                            long *zi_out);
/* Over TCP: the stream job for zone zi (AXFR, or IXFR in whichever form its history allows);
 * FORMERR in out for an IXFR without the client's SOA. */
size_t dns_server_xfr_start(const struct dns_server *srv, const struct dns_view *v,
                            const struct dns_server_req *req, const struct dns_msg *q,
                            const struct dns_tsig_result *res, long zi, uint8_t *out, size_t cap,
                            struct dns_server_job_out *job);

#endif
