/* cmd_zone — `pigeon zone check ORIGIN FILE`: loads a master file as the server would. */
#include "cli/cli.h"

#include "core/str.h"
#include "dns/name.h"
#include "dns/zone.h"

#include <stdio.h>
#include <string.h>

int cli_zone_check(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    uint8_t origin[DNS_NAME_MAXLEN];
    size_t olen;
    const char *why = NULL;
    if (dns_name_from_text(argv[0], strlen(argv[0]), NULL, origin, &olen, &why) != 0)
        return cli_fail("bad zone origin '%s': %s", argv[0], why);
    struct dns_zone *z = NULL;
    struct str err = STR_INIT;
    int rc = dns_zone_load(argv[1], origin, &z, &err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", str_cstr(&err));
        str_clear(&err);
        return CLI_FAIL;
    }
    printf("ok: %zu records\n", dns_zone_records(z));
    dns_zone_unref(z);
    str_clear(&err);
    return CLI_OK;
}
