/*
 * libFuzzer target for the resolver's root hints reader (dns/resolver/hints.c): any text.
 * Checks: no crash; a successful parse has at least one server, each with 1..4 addresses.
 */
#include "dns/resolver/hints.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_hints h = {0};
    struct str err = STR_INIT;
    if (dns_hints_parse((const char *)data, size, "fuzz", &h, &err) == 0) {
        if (h.n == 0)
            abort();
        for (unsigned i = 0; i < h.n; i++)
            if (h.servers[i].naddr == 0 || h.servers[i].naddr > DNS_HINTS_MAX_ADDRS)
                abort();
    }
    dns_hints_clear(&h);
    str_clear(&err);
    return 0;
}
