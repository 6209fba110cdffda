/*
 * SPF check_host (spf/spf.c, macro.c) over upstream DNS answers made from the fuzz input
 * (fuzz/upstream/fuzz_upstream: the stub's queries are answered from the input, no socket):
 * the TXT records hold SPF records, so the record, term, mechanism, modifier and macro
 * parsers, the look-up limits and the include/redirect recursion all see arbitrary data.
 * The first byte picks the client address (IPv4 or IPv6) and the sender form.
 */
#include "core/log.h"
#include "dns/resolver/stub.h"
#include "fuzz/upstream/fuzz_upstream.h"
#include "spf/spf.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static void done(void *arg, enum spf_result r, const char *explanation)
{
    *(bool *)arg = true;
    if (explanation)
        (void)strlen(explanation);
    (void)spf_result_name(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_ERR);
    if (size == 0)
        return 0;
    fuzz_upstream_set(data + 1, size - 1);
    struct event_base *base = event_base_new();
    struct dns_stub *stub = fuzz_upstream_stub(base);

    struct sockaddr_storage ip;
    memset(&ip, 0, sizeof ip);
    if (data[0] & 1) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ip;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, "2001:db8::25", &s6->sin6_addr);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ip;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, "192.0.2.25", &s4->sin_addr);
    }
    const char *sender = data[0] & 2 ? "" : "alice.smith@crepes.fr";
    bool finished = false;
    struct spf_check *c = spf_check_start(stub, (struct sockaddr *)&ip, sender, "mail.crepes.fr",
                                          "mail.hamburger.edu", done, &finished);
    fuzz_upstream_run(base, &finished);
    if (!finished)
        spf_check_cancel(c);
    dns_stub_free(stub);
    event_base_free(base);
    return 0;
}
