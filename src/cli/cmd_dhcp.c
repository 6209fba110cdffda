/* cmd_dhcp — `pigeon dhcp leases|pools|release|reserve|unreserve`: the DHCP lease database
 * (dhcp/service/leases.h) read directly; changes for the running pigeond are left in its
 * commands table, which the DHCP thread reads within a second. */
#include "cli/cli.h"
#include "dhcp/service/leases.h"
#include "dhcp/service/service.h"
#include "dhcp/service/settings.h"

#include "core/str.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct dhcp_leases *open_db(struct cli_ctx *ctx)
{
    if (cli_ctx_config(ctx) != 0)
        return NULL;
    char dir[4096];
    dhcp_service_lease_dir(&ctx->cfg, dir, sizeof dir);
    struct str err = STR_INIT;
    struct dhcp_leases *db = dhcp_leases_open(dir, &err);
    if (!db)
        cli_fail("%s", str_cstr(&err));
    str_clear(&err);
    return db;
}

static void print_lease(void *ctx, const struct dhcp_lease *l)
{
    if (l->state == DHCP_LEASE_FREE)
        return;
    char who[300], when[32] = "-";
    dhcp_key_format(l->key, l->key_len, who, sizeof who);
    time_t t = (time_t)l->expires;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-15s %-9s %-20s %-24s %s\n", inet_ntoa((struct in_addr){htonl(l->addr)}),
           dhcp_lease_state_name(l->state), when, who, l->hostname[0] ? l->hostname : "-");
}

int cli_dhcp_leases(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dhcp_leases *db = open_db(ctx);
    if (!db)
        return CLI_FAIL;
    printf("%-15s %-9s %-20s %-24s %s\n", "ADDRESS", "STATE", "UNTIL", "CLIENT", "NAME");
    int rc = dhcp_leases_each(db, print_lease, NULL);
    dhcp_leases_close(db);
    return rc == 0 ? CLI_OK : cli_fail("cannot read the lease database");
}

int cli_dhcp_release(struct cli_ctx *ctx, int argc, char **argv)
{
    struct in_addr a;
    if (inet_pton(AF_INET, argv[0], &a) != 1)
        return cli_fail("%s: not an IPv4 address", argv[0]);
    struct dhcp_leases *db = open_db(ctx);
    if (!db)
        return CLI_FAIL;
    int rc = dhcp_leases_command_add(db, "release", argv[0]);
    dhcp_leases_close(db);
    if (rc != 0)
        return cli_fail("cannot write the lease database");
    printf("release of %s handed to pigeond\n", argv[0]);
    return CLI_OK;
}

static int reserve_change(struct cli_ctx *ctx, const char *who, const char *addr_text)
{
    uint8_t key[DHCP_KEY_MAX];
    size_t kl = dhcp_key_parse(who, key);
    if (kl == 0)
        return cli_fail("%s: expected a MAC (52:54:00:12:34:56) or id:HEX", who);
    struct in_addr a;
    if (addr_text && inet_pton(AF_INET, addr_text, &a) != 1)
        return cli_fail("%s: not an IPv4 address", addr_text);
    struct dhcp_leases *db = open_db(ctx);
    if (!db)
        return CLI_FAIL;
    int rc = addr_text ? dhcp_leases_reserve(db, key, kl, ntohl(a.s_addr))
                       : dhcp_leases_unreserve(db, key, kl);
    if (rc == 0 && !addr_text) {
        dhcp_leases_close(db);
        return cli_fail("%s has no reservation made with `pigeon dhcp reserve`", who);
    }
    if (rc >= 0)
        rc = dhcp_leases_command_add(db, "reserved", "");
    dhcp_leases_close(db);
    return rc < 0 ? cli_fail("cannot write the lease database") : CLI_OK;
}

int cli_dhcp_reserve(struct cli_ctx *ctx, int argc, char **argv)
{
    return reserve_change(ctx, argv[0], argv[1]);
}

int cli_dhcp_unreserve(struct cli_ctx *ctx, int argc, char **argv)
{
    return reserve_change(ctx, argv[0], NULL);
}

static void restore_lease(void *ctx, const struct dhcp_lease *l)
{
    dhcp_engine_restore(ctx, l);
}

/* The same counts the daemon's pool gauges show: an engine built from the configuration and
 * the database (what has expired by now counted free), one line per subnet. */
int cli_dhcp_pools(struct cli_ctx *ctx, int argc, char **argv)
{
    struct dhcp_leases *db = open_db(ctx);
    if (!db)
        return CLI_FAIL;
    struct dhcp_settings *s = config_section(&ctx->cfg, "dhcp");
    struct dhcp_config *c = &s->engine;
    static const struct dhcp_engine_ops no_ops;
    const char *why = NULL;
    struct dhcp_engine *e = NULL;
    int rc = dhcp_service_add_reservations(c, db);
    if (rc == 0 && !(e = dhcp_engine_new(c, &no_ops, NULL, &why)))
        rc = cli_fail("%s", why);
    if (rc == 0)
        rc = dhcp_leases_each(db, restore_lease, e) == 0 ? 0
                                                         : cli_fail("cannot read the database");
    dhcp_leases_close(db);
    if (rc != 0) {
        dhcp_engine_free(e);
        return rc;
    }
    dhcp_engine_expire(e, (int64_t)time(NULL));
    printf("%-18s %9s %9s %11s %5s\n", "SUBNET", "ADDRESSES", "BOUND", "QUARANTINED", "USED");
    for (unsigned i = 0; i < c->nsubnets; i++) {
        struct dhcp_pool_stats st;
        dhcp_engine_stats(e, &c->subnets[i], &st);
        unsigned used = st.bound + st.declined;
        unsigned pct = st.total ? (unsigned)(100ull * used / st.total) : 0;
        printf("%-18s %9u %9u %11u %4u%%%s\n", c->subnets[i].name, st.total, st.bound,
               st.declined, pct, s->pool_alarm && pct >= s->pool_alarm ? " alarm" : "");
    }
    dhcp_engine_free(e);
    return CLI_OK;
}
