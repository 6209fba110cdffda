/* pop3 service — see service.h: [pop3] and [pop3s], declared here, and their listeners. */
#include "pop3/service/service.h"

#include "pop3/service/service_int.h"

#include "host/confgen.h"

#include <stddef.h>

static void pop3_defaults(void *sec)
{
    /* RFC 1939 §3: the autologout timer is at least 10 minutes. */
    conf_access_defaults(sec, false, 600);
}

static void pop3s_defaults(void *sec)
{
    conf_access_defaults(sec, true, 600);
}

static const struct conf_section pop3_sections[] = {
    CONF_ACCESS_SECTION("pop3", pop3_defaults),
    CONF_ACCESS_SECTION("pop3s", pop3s_defaults),
    {.name = NULL},
};

static int pop3_open(struct daemon *d, void **state_out)
{
    const struct config_access *plain = config_section(&d->cfg, "pop3");
    const struct config_access *tls = config_section(&d->cfg, "pop3s");
    if (!plain->svc.enabled && !tls->svc.enabled)
        return 0;
    host_store_pool(d); /* maildrop listings and QUIT's expunge run there */
    if (host_listen_tcp_login(d, "pop3", &pop3_proto, plain, &plain->svc, false) < 0 ||
        host_listen_tcp_login(d, "pop3s", &pop3_proto, tls, &tls->svc, true) < 0)
        return -1;
    return 0;
}

static void pop3_reload(struct daemon *d, void *state, const struct config *next)
{
    static const char *const names[] = {"pop3", "pop3s", NULL};
    host_relisten_sections(d, next, names);
}

const struct service_def pop3_service = {
    .name = "pop3",
    .sections = pop3_sections,
    .open = pop3_open,
    .reload = pop3_reload,
};
