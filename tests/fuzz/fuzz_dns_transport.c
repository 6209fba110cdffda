/*
 * fuzz_dns_transport — the resolver's checks on what an upstream server sends back
 * (src/dns/resolver/transport.c, the real functions its UDP and TCP paths call): the
 * RFC 5452 §9 acceptance of a response (ID, QR, QDCOUNT, the question with and without 0x20
 * case matching) and the DNS-over-TCP length framing of a reply stream.
 *
 * Input: one flags octet (bit 0: match case), two octets giving the length of our query,
 * the query, then the octets the server sent: taken whole as one UDP datagram, and as a
 * TCP stream cut into length-prefixed messages, each checked against the query.
 */
#include "dns/resolver/transport.h"
#include "dns/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const uint8_t *query, size_t qend, bool mc, const uint8_t *r, size_t n)
{
    /* a copy of exactly n octets, so ASan sees any read past the response */
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, r, n);
    if (dns_io_response_matches(query, qend, mc, copy, n)) {
        /* what acceptance promises */
        if (n < DNS_HEADER_LEN || n < qend || copy[0] != query[0] || copy[1] != query[1] ||
            !(copy[2] & 0x80))
            abort();
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    bool mc = data[0] & 1;
    size_t qlen = (size_t)data[1] << 8 | data[2];
    if (qlen > size - 3)
        return 0;
    uint8_t *query = malloc(qlen ? qlen : 1);
    memcpy(query, data + 3, qlen);
    size_t qend = dns_io_question_end(query, qlen);
    if (qend > qlen)
        abort();
    const uint8_t *rest = data + 3 + qlen;
    size_t nrest = size - 3 - qlen;
    check(query, qend, mc, rest, nrest); /* UDP: the whole datagram */
    size_t off = 0;                      /* TCP: one message after another */
    while (off < nrest) {
        long len = dns_io_tcp_message(rest + off, nrest - off);
        if (len < 0)
            break; /* the rest has not arrived */
        if ((size_t)len + 2 > nrest - off)
            abort();
        check(query, qend, mc, rest + off + 2, (size_t)len);
        off += (size_t)len + 2;
    }
    free(query);
    return 0;
}
