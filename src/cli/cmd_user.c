/* cmd_user — `pigeon user add|del|list|passwd`: mail accounts, their passwords and their
 * usage; `pigeon quota`: the storage and message limits of a user or a domain. */
#include "cli/cli.h"

#include "auth/password.h"
#include "core/err.h"
#include "core/str.h"
#include "store/quota.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 5321 §4.5.3.1: 64-octet local part + '@' + 255-octet domain, with room to spare. */
#define ADDR_CAP 512

/* Reads the new password (twice when a person types it) and returns its crypt(3) hash in
 * *hash_out (malloc'd). 0, or CLI_FAIL after printing why. */
static int new_hash_read(const char *address, char **hash_out)
{
    struct str prompt = STR_INIT;
    str_appendf(&prompt, "New password for %s: ", address);
    const char *why = NULL;
    char *pw = NULL, *again = NULL;
    int rc = password_input_read(str_cstr(&prompt), &pw, &why);
    str_clear(&prompt);
    if (rc == 0 && password_input_is_tty()) {
        rc = password_input_read("Retype the new password: ", &again, &why);
        if (rc == 0 && strcmp(pw, again) != 0) {
            rc = ERR_AUTH;
            why = "the passwords do not match";
        }
    }
    if (rc == 0) {
        rc = password_hash(pw, hash_out);
        why = "cannot hash the password (libcrypt failed)";
    }
    password_input_free(pw);
    password_input_free(again);
    return rc == 0 ? 0 : cli_fail("%s", why);
}

/* Checks that the domain of address exists; CLI_FAIL after printing why. */
static int user_domain_check(struct store *st, const char *address)
{
    const char *domain = strchr(address, '@') + 1;
    int rc = store_domain_exists(st, domain);
    if (rc < 0)
        return cli_fail("cannot look up domain %s: %s (%s)", domain, err_str(rc), store_errmsg(st));
    if (rc == 0)
        return cli_fail("no such domain: %s (add it with: pigeon domain add %s)", domain, domain);
    return 0;
}

/* 1 when the user exists, 0 when not, -1 after printing why the lookup failed. */
static int user_exists(struct store *st, const char *address)
{
    int64_t id;
    int rc = store_user_lookup(st, address, &id);
    if (rc == 0)
        return 1;
    if (rc == ERR_NOTFOUND)
        return 0;
    cli_fail("cannot look up user %s: %s (%s)", address, err_str(rc), store_errmsg(st));
    return -1;
}

int cli_user_add(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct store *st;
    if (cli_address(ctx, argv[0], addr, sizeof addr) != 0 || cli_ctx_store(ctx, &st) != 0 ||
        user_domain_check(st, addr) != 0)
        return CLI_FAIL;
    int exists = user_exists(st, addr);
    if (exists != 0)
        return exists > 0 ? cli_fail("user %s exists already", addr) : CLI_FAIL;
    char *hash = NULL;
    if (new_hash_read(addr, &hash) != 0)
        return CLI_FAIL;
    int rc = store_user_add(st, addr, hash);
    free(hash);
    if (rc == ERR_EXISTS)
        return cli_fail("user %s exists already", addr);
    if (rc < 0)
        return cli_fail("cannot add user %s: %s (%s)", addr, err_str(rc), store_errmsg(st));
    return CLI_OK;
}

int cli_user_del(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct store *st;
    if (cli_address(ctx, argv[0], addr, sizeof addr) != 0 || cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int rc = store_user_del(st, addr);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such user: %s", addr);
    if (rc < 0)
        return cli_fail("cannot delete user %s: %s (%s)", addr, err_str(rc), store_errmsg(st));
    return CLI_OK;
}

static void limit_print(int64_t used, int64_t limit)
{
    if (limit > 0)
        printf("\t%lld/%lld", (long long)used, (long long)limit);
    else
        printf("\t%lld/-", (long long)used);
}

static void user_print(void *ctx, const char *address)
{
    printf("%s\n", address);
}

/* ADDRESS <tab> bytes used/limit <tab> messages used/limit ("-": no limit of the user's). */
static void usage_print(void *ctx, const char *address)
{
    struct store_quota q;
    printf("%s", address);
    if (store_quota_get_addr(ctx, address, &q) == 0) {
        limit_print(q.used_bytes, q.limit_bytes);
        limit_print(q.used_messages, q.limit_messages);
    }
    printf("\n");
}

/* `user list` (addresses, one per line: scripts read it) and `user usage` (with usage). */
static int user_listing(struct cli_ctx *ctx, int argc, char **argv,
                        void (*print)(void *ctx, const char *address))
{
    char domain[ADDR_CAP];
    struct store *st;
    if (argc > 0 && cli_domain_name(argv[0], domain, sizeof domain) != 0)
        return CLI_FAIL;
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    if (argc > 0) {
        int rc = store_domain_exists(st, domain);
        if (rc == 0)
            return cli_fail("no such domain: %s", domain);
        if (rc < 0)
            return cli_fail("cannot look up domain %s: %s (%s)", domain, err_str(rc),
                            store_errmsg(st));
    }
    int rc = store_user_list(st, argc > 0 ? domain : NULL, print, st);
    if (rc < 0)
        return cli_fail("cannot list users: %s (%s)", err_str(rc), store_errmsg(st));
    return CLI_OK;
}

int cli_user_list(struct cli_ctx *ctx, int argc, char **argv)
{
    return user_listing(ctx, argc, argv, user_print);
}

int cli_user_usage(struct cli_ctx *ctx, int argc, char **argv)
{
    return user_listing(ctx, argc, argv, usage_print);
}

int cli_user_passwd(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct store *st;
    if (cli_address(ctx, argv[0], addr, sizeof addr) != 0 || cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    int exists = user_exists(st, addr);
    if (exists <= 0)
        return exists == 0 ? cli_fail("no such user: %s", addr) : CLI_FAIL;
    char *hash = NULL;
    if (new_hash_read(addr, &hash) != 0)
        return CLI_FAIL;
    int rc = store_user_set_hash(st, addr, hash);
    free(hash);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such user: %s", addr);
    if (rc < 0)
        return cli_fail("cannot set the password of %s: %s (%s)", addr, err_str(rc),
                        store_errmsg(st));
    return CLI_OK;
}

/* "1048576", "512K", "100M", "2G" (powers of 1024) into *out. */
static int size_arg(const char *arg, int64_t *out)
{
    char *end;
    unsigned long long v = strtoull(arg, &end, 10);
    unsigned shift = *end == 'K' || *end == 'k'   ? 10
                     : *end == 'M' || *end == 'm' ? 20
                     : *end == 'G' || *end == 'g' ? 30
                                                  : 0;
    if (end == arg || arg[0] == '-' || (shift && end[1]) || (!shift && *end) ||
        v > (1ull << 62) >> shift)
        return cli_fail("not a size: %s (a number of octets, or with K, M or G)", arg);
    *out = (int64_t)(v << shift);
    return 0;
}

/* `pigeon quota ADDRESS|@DOMAIN [BYTES [MESSAGES]]`: shows, or sets (0: no limit). */
int cli_quota(struct cli_ctx *ctx, int argc, char **argv)
{
    char target[ADDR_CAP];
    struct store *st;
    bool domain = argv[0][0] == '@';
    if (domain) {
        target[0] = '@';
        if (cli_domain_name(argv[0] + 1, target + 1, sizeof target - 1) != 0)
            return CLI_FAIL;
    } else if (cli_address(ctx, argv[0], target, sizeof target) != 0) {
        return CLI_FAIL;
    }
    if (cli_ctx_store(ctx, &st) != 0)
        return CLI_FAIL;
    if (argc > 1) {
        int64_t bytes = 0, msgs = 0;
        if (size_arg(argv[1], &bytes) != 0 || (argc > 2 && size_arg(argv[2], &msgs) != 0))
            return CLI_FAIL;
        int rc = store_quota_set(st, target, bytes, msgs);
        if (rc == ERR_NOTFOUND)
            return cli_fail("no such %s: %s", domain ? "domain" : "user", target);
        if (rc < 0)
            return cli_fail("cannot set the quota of %s: %s (%s)", target, err_str(rc),
                            store_errmsg(st));
        return CLI_OK;
    }
    if (domain)
        return cli_fail("give a user to see usage (pigeon user list DOMAIN lists them all)");
    struct store_quota q;
    int rc = store_quota_get_addr(st, target, &q);
    if (rc == ERR_NOTFOUND)
        return cli_fail("no such user: %s", target);
    if (rc < 0)
        return cli_fail("cannot read the quota of %s: %s", target, err_str(rc));
    printf("user\t%lld/%lld bytes\t%lld/%lld messages\n", (long long)q.used_bytes,
           (long long)q.limit_bytes, (long long)q.used_messages, (long long)q.limit_messages);
    printf("domain\t%lld/%lld bytes\t%lld/%lld messages\n", (long long)q.dom_used_bytes,
           (long long)q.dom_limit_bytes, (long long)q.dom_used_messages,
           (long long)q.dom_limit_messages);
    return CLI_OK;
}
