/* mailauth service — see service.h: the [dkim] section and the process-wide state. */
#include "mailauth/service/service.h"

#include "mailauth/service/service_int.h"

#include "mailauth/service/dmarc_report.h"

#include "core/log.h"
#include "host/confgen.h"
#include "core/xmalloc.h"
#include "mailauth/dkim.h"
#include "mailauth/mtasts.h"
#include "mailauth/psl.h"
#include "mailauth/rua.h"

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
    {.name = "switch_after", .type = CONF_UINT, .offset = DKIM(switch_after), .max = 31536000},
    {.name = "retire_after", .type = CONF_UINT, .offset = DKIM(retire_after), .max = 31536000},
    {.name = NULL},
};

#define MDNS(f) offsetof(struct config_mail_dns, f)

static const struct conf_key mail_dns_keys[] = {
    {.name = "publish", .type = CONF_BOOL, .offset = MDNS(publish)},
    {.name = "interval", .type = CONF_UINT, .offset = MDNS(interval), .min = 1, .max = 86400},
    {.name = "ttl", .type = CONF_UINT, .offset = MDNS(ttl), .min = 1, .max = 604800},
    {.name = "spf", .type = CONF_STR, .offset = MDNS(spf)},
    {.name = "dmarc", .type = CONF_STR, .offset = MDNS(dmarc)},
    {.name = "tlsrpt_rua", .type = CONF_STR, .offset = MDNS(tlsrpt_rua)},
    {.name = "srv", .type = CONF_BOOL, .offset = MDNS(srv)},
    {.name = "tlsa_next_key", .type = CONF_STR, .offset = MDNS(tlsa_next_key)},
    {.name = NULL},
};

static void mail_dns_defaults(void *sec)
{
    struct config_mail_dns *m = sec;
    m->publish = m->srv = true;
    m->interval = 60;
    m->ttl = 3600;
}

static char *resolve(const struct config *cfg, char *path, const char *dflt_under_data);

static int mail_dns_check(void *sec, const struct config *cfg, struct str *err)
{
    (void)cfg;
    struct config_mail_dns *m = sec;
    if (!m->spf)
        m->spf = xstrdup("v=spf1 mx -all");
    if (!m->dmarc)
        m->dmarc = xstrdup("v=DMARC1; p=reject; adkim=r; aspf=r");
    if (m->tlsa_next_key)
        m->tlsa_next_key = resolve(cfg, m->tlsa_next_key, "");
    if (strncmp(m->spf, "v=spf1", 6) != 0 || strncmp(m->dmarc, "v=DMARC1", 8) != 0) {
        str_appendf(err, "[mail_dns] spf must start with v=spf1 and dmarc with v=DMARC1");
        return -1;
    }
    return 0;
}

#define STS(f) offsetof(struct config_mta_sts, f)

static const char *const sts_modes[] = {"none", "testing", "enforce", NULL}; /* mtasts_mode */

static const struct conf_key mta_sts_keys[] = {
    {.name = "mode",
     .type = CONF_ENUM,
     .offset = STS(mode),
     .names = sts_modes,
     .why = "must be none, testing or enforce"},
    {.name = "max_age", .type = CONF_UINT, .offset = STS(max_age), .min = 1,
     .max = MTASTS_MAX_AGE},
    {.name = "mx", .type = CONF_STR, .offset = STS(mx)},
    {.name = NULL},
};

_Static_assert(MTASTS_NONE == 0 && MTASTS_TESTING == 1 && MTASTS_ENFORCE == 2, "sts_modes order");

static void mta_sts_defaults(void *sec)
{
    struct config_mta_sts *m = sec;
    m->mode = MTASTS_TESTING;
    m->max_age = 604800;
}

_Static_assert(DKIM_RSA_SHA256 == 0 && DKIM_ED25519_SHA256 == 1, "algorithms[] order");

static void dkim_defaults(void *sec)
{
    struct config_dkim *k = sec;
    k->algorithm = DKIM_RSA_SHA256;
    k->sign = k->verify = k->dmarc_enforce = true;
    k->switch_after = 7200;   /* twice the records' default TTL */
    k->retire_after = 691200; /* 8 days: longer than mail stays in a queue */
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

#define ARC(f) offsetof(struct config_arc, f)

static const struct conf_key arc_keys[] = {
    {.name = "seal", .type = CONF_BOOL, .offset = ARC(seal)},
    {.name = "domain", .type = CONF_STR, .offset = ARC(domain)},
    {.name = "trusted", .type = CONF_STR, .offset = ARC(trusted)},
    {.name = NULL},
};

static void arc_defaults(void *sec)
{
    struct config_arc *a = sec;
    a->seal = true;
}

static int arc_check(void *sec, const struct config *cfg, struct str *err)
{
    (void)err;
    struct config_arc *a = sec;
    if (!a->domain && cfg->primary_domain)
        a->domain = xstrdup(cfg->primary_domain);
    if (a->domain)
        ascii_lower(a->domain, strlen(a->domain));
    return 0;
}

#define DREP(f) offsetof(struct config_dmarc_report, f)

static const struct conf_key dmarc_report_keys[] = {
    {.name = "record", .type = CONF_BOOL, .offset = DREP(record)},
    {.name = "send", .type = CONF_BOOL, .offset = DREP(send)},
    {.name = "tlsrpt_send", .type = CONF_BOOL, .offset = DREP(tlsrpt_send)},
    {.name = "org_name", .type = CONF_STR, .offset = DREP(org_name)},
    {.name = "email", .type = CONF_STR, .offset = DREP(email)},
    {.name = "check_interval",
     .type = CONF_UINT,
     .offset = DREP(check_interval),
     .min = 1,
     .max = 86400},
    {.name = NULL},
};

static void dmarc_report_defaults(void *sec)
{
    struct config_dmarc_report *r = sec;
    r->record = r->send = r->tlsrpt_send = true;
    r->check_interval = 3600;
}

static int dmarc_report_check(void *sec, const struct config *cfg, struct str *err)
{
    struct config_dmarc_report *r = sec;
    if (!r->org_name)
        r->org_name = xstrdup(cfg->hostname ? cfg->hostname : "pigeon");
    if (!r->email) {
        struct str e = STR_INIT;
        str_appendf(&e, "postmaster@%s", cfg->primary_domain ? cfg->primary_domain : "localhost");
        r->email = str_steal(&e);
    }
    if (!strchr(r->email, '@')) {
        str_appendf(err, "[dmarc_report] email must be an address");
        return -1;
    }
    return 0;
}

/* What mailauth_reload applies (mail_dns: each publishing round reads it). */
static const char *const dkim_reload_keys[] = {
    "selector", "algorithm", "key_dir", "sign", "verify", "dmarc_enforce", "switch_after",
    "retire_after", NULL,
};

static const char *const mail_dns_reload_keys[] = {"*", NULL};

/* The policy is made per request from the worker's configuration (sts_http.c), mode none
 * included (then nothing is served), so any change holds for the next request. */
static const char *const mta_sts_reload_keys[] = {"*", NULL};

/* [arc]: read per message (glue.c). [dmarc_report]: record, org_name and email per use;
 * whether reports are sent decides at start whether the daily sender runs at all. */
static const char *const arc_reload_keys[] = {"*", NULL};
static const char *const dmarc_report_reload_keys[] = {"record", "org_name", "email", NULL};
static const struct conf_restart dmarc_report_restart_why[] = {
    {"send", "the daily report sender is set up at start"},
    {"tlsrpt_send", "the daily report sender is set up at start"},
    {NULL, NULL},
};

static const struct conf_section mailauth_sections[] = {
    {.name = "dkim",
     .size = sizeof(struct config_dkim),
     .service_offset = CONF_NOT_SERVICE,
     .keys = dkim_keys,
     .defaults = dkim_defaults,
     .check = dkim_check,
     .reload_keys = dkim_reload_keys},
    {.name = "mail_dns",
     .size = sizeof(struct config_mail_dns),
     .service_offset = CONF_NOT_SERVICE,
     .keys = mail_dns_keys,
     .defaults = mail_dns_defaults,
     .check = mail_dns_check,
     .reload_keys = mail_dns_reload_keys},
    {.name = "mta_sts",
     .size = sizeof(struct config_mta_sts),
     .service_offset = CONF_NOT_SERVICE,
     .keys = mta_sts_keys,
     .defaults = mta_sts_defaults,
     .reload_keys = mta_sts_reload_keys},
    {.name = "dmarc_report",
     .size = sizeof(struct config_dmarc_report),
     .service_offset = CONF_NOT_SERVICE,
     .keys = dmarc_report_keys,
     .defaults = dmarc_report_defaults,
     .check = dmarc_report_check,
     .reload_keys = dmarc_report_reload_keys,
     .restart_why = dmarc_report_restart_why},
    {.name = "arc",
     .size = sizeof(struct config_arc),
     .service_offset = CONF_NOT_SERVICE,
     .keys = arc_keys,
     .defaults = arc_defaults,
     .check = arc_check,
     .reload_keys = arc_reload_keys},
    {.name = NULL},
};

const struct config_dkim *mailauth_config(const struct config *cfg)
{
    return config_section(cfg, "dkim");
}

const struct config_mail_dns *mailauth_dns_config(const struct config *cfg)
{
    return config_section(cfg, "mail_dns");
}

const struct config_mta_sts *mailauth_sts_config(const struct config *cfg)
{
    return config_section(cfg, "mta_sts");
}

const struct config_arc *mailauth_arc_config(const struct config *cfg)
{
    return config_section(cfg, "arc");
}

const struct config_dmarc_report *mailauth_dmarc_config(const struct config *cfg)
{
    return config_section(cfg, "dmarc_report");
}

static int mailauth_open(struct daemon *d, void **state_out)
{
    const struct config_dkim *k = mailauth_config(&d->cfg);
    struct mailauth_glue *g = xcalloc(1, sizeof *g);
    g->cfg = k;
    g->arc = mailauth_arc_config(&d->cfg);
    g->drep = mailauth_dmarc_config(&d->cfg);
    g->data_dir = d->cfg.data_dir;
    g->tlsrpt_send = g->drep->tlsrpt_send;
    g->hostname = d->cfg.hostname;
    rua_init(); /* libxml2's globals, before the workers parse received reports */
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
    g->keyprep = mailauth_keyprep_new(d, g);
    *state_out = g;
    return 0;
}

/* The workers stopped: the key thread ends before their loops go (it posts to worker 0). */
static void mailauth_stop(struct daemon *d, void *state)
{
    (void)d;
    struct mailauth_glue *g = state;
    if (g)
        mailauth_keyprep_stop(g->keyprep);
}

static void mailauth_close(struct daemon *d, void *state)
{
    (void)d;
    struct mailauth_glue *g = state;
    if (!g)
        return;
    mailauth_keyprep_free(g->keyprep);
    for (size_t i = 0; i < g->n; i++)
        dkim_signer_free(g->e[i].s);
    free(g->e);
    for (size_t i = 0; i < g->nold; i++)
        dkim_signer_free(g->old[i]);
    free(g->old);
    free(g->pub);
    free(g->daily);
    psl_free(g->psl);
    for (size_t i = 0; i < g->ngens; i++)
        host_confgen_drop(g->gens[i]);
    free(g->gens);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* Worker 0 runs the publisher (publish.c). */
static void *mailauth_attach(struct worker *w, void *state)
{
    struct mailauth_glue *g = state;
    if (!g || w->index != 0)
        return NULL;
    g->pub = mailauth_pub_new(g, w);
    g->daily = mailauth_daily_new(g, w);
    return g->pub;
}

static void mailauth_detach(struct worker *w, void *wstate)
{
    struct mailauth_pub *pub = wstate;
    if (!pub)
        return;
    mailauth_daily_stop(pub->g->daily);
    mailauth_pub_stop(pub);
}

/* Reload: [dkim] sign, verify, dmarc_enforce, selector, algorithm, key_dir, switch_after and
 * retire_after hold for the next message; the signers made so far are dropped (kept until
 * close: another thread may be signing), so the key files are read again, as a key that was
 * replaced on disk asks. [mail_dns] is read by the publisher at each round (publish.c).
 * psl_file needs a restart; turning verify on loads the list if it was never loaded. [arc]
 * and [dmarc_report] are swapped as [dkim] is. */
static void mailauth_reload(struct daemon *d, void *state, const struct config *next)
{
    struct mailauth_glue *g = state;
    const struct config_dkim *k = mailauth_config(next);
    if (!g || !k)
        return;
    if (k->verify && !g->psl) {
        const char *why = NULL;
        struct psl *p = psl_load(k->psl_file, &why);
        if (!p)
            log_warn("dkim: cannot read the public suffix list %s: %s", k->psl_file,
                     why ? why : "?");
        g->psl = p ? p : psl_parse("", 0); /* before cfg: readers check verify first */
    }
    g->gens = xrealloc(g->gens, (g->ngens + 1) * sizeof *g->gens);
    g->gens[g->ngens++] = host_confgen_hold(d);
    atomic_store(&g->arc, mailauth_arc_config(next));
    atomic_store(&g->drep, mailauth_dmarc_config(next));
    pthread_mutex_lock(&g->mu);
    atomic_store(&g->cfg, k);
    for (size_t i = 0; i < g->n; i++) {
        g->old = xrealloc(g->old, (g->nold + 1) * sizeof *g->old);
        g->old[g->nold++] = g->e[i].s;
    }
    g->n = 0;
    pthread_mutex_unlock(&g->mu);
}

struct mailauth_glue *mailauth_glue(const struct daemon *d)
{
    return host_state(d, &mailauth_service);
}

const struct service_def mailauth_service = {
    .name = "mailauth",
    .sections = mailauth_sections,
    .open = mailauth_open,
    .attach = mailauth_attach,
    .detach = mailauth_detach,
    .reload = mailauth_reload,
    .stop = mailauth_stop,
    .close = mailauth_close,
};
