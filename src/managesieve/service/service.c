/* managesieve service — see service.h: [managesieve], declared here, and its listeners. */
#include "managesieve/service/service.h"

#include "managesieve/service/service_int.h"

#include "host/confgen.h"

#include <stddef.h>

static void managesieve_defaults(void *sec)
{
    conf_access_defaults(sec, false, 1800); /* RFC 5804 §1.8 leaves the idle time open */
}

static const struct conf_section managesieve_sections[] = {
    CONF_ACCESS_SECTION("managesieve", managesieve_defaults),
    {.name = NULL},
};

static int managesieve_open(struct daemon *d, void **state_out)
{
    const struct config_access *sec = config_section(&d->cfg, "managesieve");
    if (!sec->svc.enabled)
        return 0;
    host_store_pool(d); /* script reads and writes run there */
    return host_listen_tcp_login(d, "managesieve", &managesieve_proto, sec, &sec->svc, false) < 0
               ? -1
               : 0;
}

/* Reload: new sessions take the section's keys (plaintext_auth, limits); listen needs a
 * restart. */
static void managesieve_reload(struct daemon *d, void *state, const struct config *next)
{
    static const char *const names[] = {"managesieve", NULL};
    host_relisten_sections(d, next, names);
}

const struct service_def managesieve_service = {
    .name = "managesieve",
    .sections = managesieve_sections,
    .open = managesieve_open,
    .reload = managesieve_reload,
};
