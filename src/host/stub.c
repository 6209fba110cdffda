/* stub — the mail side's DNS stubs, one per worker (see host.h, host_stubs_open). */
#include "host/host.h"

#include "core/log.h"
#include "core/resolvconf.h"
#include "dns/resolver/stub.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

void host_set_internal_resolver(struct daemon *d, struct dns_resolver *(*fn)(struct worker *w))
{
    d->internal_resolver = fn;
}

/* The recursive server the mail side asks: [delivery] resolver, else /etc/resolv.conf. */
static void stub_server(const struct daemon *d, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64] = "127.0.0.1", port[8] = "53";
    if (d->cfg.delivery.resolver_set) {
        snprintf(host, sizeof host, "%s", d->cfg.delivery.resolver.host);
        snprintf(port, sizeof port, "%s", d->cfg.delivery.resolver.port);
    } else {
        char ns[1][64];
        resolvconf_nameservers(RESOLVCONF_PATH, ns, 1);
        snprintf(host, sizeof host, "%s", ns[0]);
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_DGRAM;
    memset(ss, 0, sizeof *ss);
    *len = 0;
    if (getaddrinfo(host, port, &hints, &ai) == 0) {
        memcpy(ss, ai->ai_addr, ai->ai_addrlen);
        *len = ai->ai_addrlen;
        freeaddrinfo(ai);
    }
    log_info("mail DNS: asking %s port %s", host, port);
}

void host_stubs_open(struct daemon *d)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    bool internal = d->cfg.delivery.resolver_internal && d->internal_resolver &&
                    d->nworkers && d->internal_resolver(&d->workers[0]);
    if (internal)
        log_info("mail DNS: the in-process resolver");
    else
        stub_server(d, &ss, &len);
    for (unsigned i = 0; i < d->nworkers; i++) {
        struct worker *w = &d->workers[i];
        w->stub = internal ? dns_stub_new_internal(w->host.base, d->internal_resolver(w))
                           : dns_stub_new_server(w->host.base, (struct sockaddr *)&ss, len);
    }
    d->stub = d->nworkers ? d->workers[0].stub : NULL;
}

void host_stubs_close(struct daemon *d)
{
    for (unsigned i = 0; i < d->nworkers; i++) {
        dns_stub_free(d->workers[i].stub);
        d->workers[i].stub = NULL;
    }
    d->stub = NULL;
}
