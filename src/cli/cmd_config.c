/* cmd_config — the CLI's context (configuration, store), its shared helpers and check-config. */
#include "cli/cli.h"

#include "auth/login.h"
#include "core/idna.h"
#include "host/privileges.h"
#include "core/err.h"
#include "core/str.h"
#include "host/config_check.h"
#include "services/services.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_ctx_init(struct cli_ctx *ctx, const char *conf_path)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->conf_path = conf_path;
}

void cli_ctx_clear(struct cli_ctx *ctx)
{
    if (ctx->st)
        store_close(ctx->st);
    if (ctx->cfg_loaded)
        config_free(&ctx->cfg);
    memset(ctx, 0, sizeof *ctx);
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pigeon: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_FAIL;
}

int cli_ctx_config(struct cli_ctx *ctx)
{
    if (ctx->cfg_loaded)
        return 0;
    struct str err = STR_INIT;
    const struct conf_section *sections[HOST_MAX_SERVICES + 1];
    services_sections(sections);
    int rc = config_load(ctx->conf_path, sections, &ctx->cfg, &err);
    if (rc == 0 && config_check_listen(&ctx->cfg, &err) < 0) {
        config_free(&ctx->cfg);
        rc = -1;
    }
    if (rc < 0) {
        /* config_load already wrote "file:line: reason"; fall back if it did not. */
        if (err.len)
            cli_fail("%s", str_cstr(&err));
        else
            cli_fail("%s: %s", ctx->conf_path, err_str(rc));
        str_clear(&err);
        return CLI_FAIL;
    }
    str_clear(&err);
    ctx->cfg_loaded = true;
    return 0;
}

int cli_ctx_store(struct cli_ctx *ctx, struct store **st_out)
{
    if (!ctx->st) {
        if (cli_ctx_config(ctx) != 0)
            return CLI_FAIL;
        const char *why = NULL;
        /* As root, work as pigeond's user: the files made now must be the daemon's. */
        int rc = ctx->keep_root ? 0 : privileges_become_user(&ctx->cfg, &why);
        if (rc < 0)
            return cli_fail("cannot become [server] user: %s", why);
        rc = store_open(ctx->cfg.data_dir, &ctx->st, &why);
        if (rc < 0) {
            ctx->st = NULL;
            return cli_fail("cannot open the store in %s: %s", ctx->cfg.data_dir,
                            why ? why : err_str(rc));
        }
    }
    *st_out = ctx->st;
    return 0;
}

int cli_address(struct cli_ctx *ctx, const char *arg, char *out, size_t cap)
{
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    char typed[1024];
    int rc = login_canonical(arg, ctx->cfg.primary_domain, typed, sizeof typed);
    const char *why = NULL;
    /* An internationalised domain is stored in its A-label form (RFC 5891). */
    if (rc == 0 && idna_address_to_ascii(typed, out, cap, &why) != 0)
        return cli_fail("invalid address: '%s': %s", arg, why);
    if (rc == ERR_RANGE)
        return cli_fail("address too long: %s", arg);
    const char *at = rc == 0 ? strchr(out, '@') : NULL;
    if (!at || at == out || at[1] == '\0' || cli_domain_name(at + 1, NULL, 0) != 0)
        return cli_fail("invalid address: '%s'", arg);
    return 0;
}

/* RFC 1035 §2.3.1 (LDH): letters, digits and '-' in dot-separated labels of 1-63 octets that
 * neither start nor end with '-'. */
static bool domain_syntax_ok(const char *d)
{
    size_t n = strlen(d), label = 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = d[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || d[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c == '-' && label > 0);
        if (!ok || ++label > 63)
            return false;
    }
    return true;
}

/* With out == NULL only checks (and prints nothing): used by cli_address. */
int cli_domain_name(const char *arg, char *out, size_t cap)
{
    char ascii_form[256];
    const char *why = NULL;
    if (idna_to_ascii(arg, ascii_form, sizeof ascii_form, &why) != 0)
        return out ? cli_fail("invalid domain name: '%s': %s", arg, why) : CLI_FAIL;
    const char *typed = arg;
    arg = ascii_form; /* "bücher.example" -> "xn--bcher-kva.example" */
    if (!domain_syntax_ok(arg))
        return out ? cli_fail("invalid domain name: '%s'", typed) : CLI_FAIL;
    if (!out)
        return 0;
    size_t n = strlen(arg);
    if (n >= cap)
        return cli_fail("domain name too long: %s", arg);
    memcpy(out, arg, n + 1);
    ascii_lower(out, n);
    return 0;
}

int cli_config_check(struct cli_ctx *ctx, int argc, char **argv)
{
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    struct str err = STR_INIT;
    int rc = config_check_files(&ctx->cfg, &err);
    if (rc < 0) {
        fprintf(stderr, "pigeon: %s\n", str_cstr(&err));
        str_clear(&err);
        return CLI_FAIL;
    }
    printf("%s: ok\n", ctx->conf_path);
    return CLI_OK;
}
