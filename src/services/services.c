/* services — see services.h. One line per service, in the order they start. */
#include "services/services.h"

#include "dns/resolver/service/service.h"
#include "dhcp/service/service.h"
#include "dns/server/service/service.h"
#include "ftp/service/service.h"
#include "http/service/service.h"
#include "imap/service/service.h"
#include "jmap/service/service.h"
#include "mailauth/service/service.h"
#include "managesieve/service/service.h"
#include "pop3/service/service.h"
#include "proxy/service/service.h"
#include "smtp/service/service.h"
#include "torrent/service/service.h"

const struct service_def *const services_all[] = {
    &dns_service_def,
    &resolver_service_def, /* after the name server: shares its zone sets */
    &mailauth_service,
    &smtp_service,
    &pop3_service,
    &imap_service,
    &managesieve_service,
    &http_service_def,
    &jmap_service_def,
    &proxy_service, /* after jmap: its proxy_to sites chain onto http_host.more */
    &mailauth_sts_http_service, /* after http and jmap: chains onto http_host.more */
    &ftp_service,
    &dhcp_service, /* after the name server: its UPDATEs go there */
    &tracker_service_def, /* after jmap: chains the HTTP service's `more` hook */
    &torrent_service_def,
    NULL,
};

_Static_assert(sizeof services_all / sizeof services_all[0] <= HOST_MAX_SERVICES + 1,
               "raise HOST_MAX_SERVICES");

void services_sections(const struct conf_section *out[HOST_MAX_SERVICES + 1])
{
    unsigned n = 0;
    for (unsigned i = 0; services_all[i]; i++)
        if (services_all[i]->sections)
            out[n++] = services_all[i]->sections;
    out[n] = NULL;
}
