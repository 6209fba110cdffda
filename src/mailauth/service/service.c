/* mailauth service — see service.h: the [dkim] section and the process-wide state. */
#include "mailauth/service/service.h"

#include "mailauth/service/service_int.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "mailauth/dkim.h"
#include "mailauth/psl.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define DKIM(f) offsetof(struct config_dkim, f)

static const char *const algorithms[] = {"rsa", "ed25519", NULL}; /* enum dkim_alg order */

static const struct conf_key dkim_keys[] = {
    {.name = "selector", .type = CONF_STR, .offset = DKIM(selector)},
    {.name = "algorithm",
     .type = CONF_ENUM,
     .offset = DKIM(algorithm),
     .names = algorithms,
     .why = "must be rsa or ed25519"},
    {.name = "key_dir", .type = CONF_STR, .offset = DKIM(key_dir)},
    {.name = "psl_file", .type = CONF_STR, .offset = DKIM(psl_file)},
    {.name = "sign", .type = CONF_BOOL, .offset = DKIM(sign)},
    {.name = "verify", .type = CONF_BOOL, .offset = DKIM(verify)},
    {.name = "dmarc_enforce", .type = CONF_BOOL, .offset = DKIM(dmarc_enforce)},
    {.name = NULL},
};

_Static_assert(DKIM_RSA_SHA256 == 0 && DKIM_ED25519_SHA256 == 1, "algorithms[] order");

static void dkim_defaults(void *sec)
{
    struct config_dkim *k = sec;
    k->algorithm = DKIM_RSA_SHA256;
    k->sign = k->verify = k->dmarc_enforce = true;
}

/* Defaults that depend on [server]: the key directory under data_dir. A relative key_dir or
 * psl_file is taken relative to the configuration file's directory, as every other path. */
static char *resolve(const struct config *cfg, char *path, const char *dflt_under_data)
{
    struct str s = STR_INIT;
    if (!path)
        str_appendf(&s, "%s/%s", cfg->data_dir, dflt_under_data);
    else if (path[0] == '/')
        return path;
    else {
        const char *slash = strrchr(cfg->path, '/');
        if (slash)
            str_appendf(&s, "%.*s/%s", (int)(slash - cfg->path), cfg->path, path);
        else
            str_appendf(&s, "%s", path);
        free(path);
    }
    return str_steal(&s);
}

static int dkim_check(void *sec, const struct config *cfg, struct str *err)
{
    (void)err;
    struct config_dkim *k = sec;
    if (!k->selector)
        k->selector = xstrdup("pigeon");
    k->key_dir = resolve(cfg, k->key_dir, "dkim");
    if (!k->psl_file)
        k->psl_file = xstrdup(PSL_DEFAULT_PATH);
    else
        k->psl_file = resolve(cfg, k->psl_file, "");
    return 0;
}

static const struct conf_section mailauth_sections[] = {
    {.name = "dkim",
     .size = sizeof(struct config_dkim),
     .service_offset = CONF_NOT_SERVICE,
     .keys = dkim_keys,
     .defaults = dkim_defaults,
     .check = dkim_check},
    {.name = NULL},
};

const struct config_dkim *mailauth_config(const struct config *cfg)
{
    return config_section(cfg, "dkim");
}

static int mailauth_open(struct daemon *d, void **state_out)
{
    const struct config_dkim *k = mailauth_config(&d->cfg);
    struct mailauth_glue *g = xcalloc(1, sizeof *g);
    g->cfg = k;
    g->hostname = d->cfg.hostname;
    if (k->verify) {
        const char *why = NULL;
        g->psl = psl_load(k->psl_file, &why);
        if (!g->psl) {
            log_warn("dkim: cannot read the public suffix list %s: %s (every last label is "
                     "taken as a public suffix)",
                     k->psl_file, why);
            g->psl = psl_parse("", 0);
        }
    }
    pthread_mutex_init(&g->mu, NULL);
    *state_out = g;
    return 0;
}

static void mailauth_close(struct daemon *d, void *state)
{
    (void)d;
    struct mailauth_glue *g = state;
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        dkim_signer_free(g->e[i].s);
    free(g->e);
    psl_free(g->psl);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

struct mailauth_glue *mailauth_glue(const struct daemon *d)
{
    return host_state(d, &mailauth_service);
}

const struct service_def mailauth_service = {
    .name = "mailauth",
    .sections = mailauth_sections,
    .open = mailauth_open,
    .close = mailauth_close,
};
