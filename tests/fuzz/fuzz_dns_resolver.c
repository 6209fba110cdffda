/*
 * The recursive resolver's handling of upstream responses: the iterator (referrals, glue,
 * bailiwick and rank checks in scrub.c, CNAME chains, NS names without glue, QNAME
 * minimisation fallbacks, negative answers, the cache) and the stub's reading of final
 * answers (MX, addresses, TXT, PTR), with every upstream response made from the fuzz input
 * (fuzz/upstream/fuzz_upstream: no socket). The first byte picks the look-up, whether the
 * stub asks the resolver (iterator) or an upstream server directly, QNAME minimisation, and
 * DNSSEC validation (a root trust anchor: the validator, its DS/DNSKEY fetches, the key and
 * NSEC caches then read the fuzzed responses too).
 */
#include "core/log.h"
#include "core/str.h"
#include "dns/resolver/anchor.h"
#include "dns/resolver/hints.h"
#include "dns/resolver/resolver.h"
#include "dns/resolver/stub.h"
#include "fuzz/upstream/fuzz_upstream.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void mx_done(void *arg, const struct dns_stub_mx_result *r)
{
    *(bool *)arg = true;
    for (size_t i = 0; i < r->n; i++)
        (void)strlen(r->hosts[i].host);
}

static void addr_done(void *arg, const struct dns_stub_addr_result *r)
{
    *(bool *)arg = true;
    for (size_t i = 0; i < r->n; i++)
        (void)r->addrs[i].ss_family;
}

static void txt_done(void *arg, const struct dns_stub_txt_result *r)
{
    *(bool *)arg = true;
    for (size_t i = 0; i < r->n; i++)
        (void)strlen(r->txt[i]);
}

static void ask(struct dns_stub *stub, unsigned what, bool *finished)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8::25", &sa.sin6_addr);
    switch (what % 5) {
    case 0:
        return dns_stub_mx(stub, "hamburger.edu", mx_done, finished);
    case 1:
        return dns_stub_addr(stub, "mail.hamburger.edu", DNS_STUB_ANY, addr_done, finished);
    case 2:
        return dns_stub_txt(stub, "hamburger.edu", txt_done, finished);
    case 3:
        return dns_stub_ptr(stub, (struct sockaddr *)&sa, txt_done, finished);
    default:
        return dns_stub_addr(stub, "www.hamburger.edu", DNS_STUB_INET, addr_done, finished);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_ERR);
    if (size == 0)
        return 0;
    fuzz_upstream_set(data + 1, size - 1);
    struct event_base *base = event_base_new();
    bool iterate = data[0] & 0x80;
    struct dns_resolver_shared *sh = NULL;
    struct dns_resolver *res = NULL;
    struct dns_stub *stub;
    if (iterate) {
        struct dns_resolver_config rc;
        dns_resolver_config_defaults(&rc);
        rc.qname_minimisation = data[0] & 0x40;
        struct dns_cache_config cc = {1u << 20, 0, 86400, 3600, 0};
        struct dns_hints hints = {0};
        dns_hints_builtin(&hints);
        sh = dns_resolver_shared_new(&rc, &cc, &hints);
        if (data[0] & 0x20) { /* the root's KSK-2017 DS as the trust anchor */
            static const char ta[] = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880"
                                     "409BBC683457104237C7F8EC8D\n";
            struct dns_anchors a = {0};
            struct str err = STR_INIT;
            dns_anchors_parse(&a, ta, sizeof ta - 1, "anchor", &err);
            str_clear(&err);
            dns_resolver_shared_set_anchors(sh, &a);
        }
        dns_resolver_shared_set_io(sh, fuzz_upstream_io());
        res = dns_resolver_new(base, sh);
        stub = dns_stub_new_internal(base, res);
    } else {
        stub = fuzz_upstream_stub(base);
    }
    bool finished = false;
    ask(stub, data[0], &finished);
    fuzz_upstream_run(base, &finished);
    dns_stub_free(stub);
    if (res)
        dns_resolver_free(res);
    if (sh)
        dns_resolver_shared_free(sh);
    event_base_free(base);
    return 0;
}
