/* reload — SIGHUP and `pigeon reload`: every part reports into one struct reload_report. */
#include "host/reload.h"

#include "host/config_check.h"

#include "core/log.h"
#include "core/str.h"
#include "core/tls_reload.h"

/* What a reload applies from the file: the log level (an atomic the log reads). */
static void config_apply(struct daemon *d, const struct config *cfg, struct reload_report *r)
{
    static const char *const names[] = {"err", "warn", "info", "debug"};
    if (cfg->log_level == d->cfg.log_level || cfg->log_level < 0 || cfg->log_level > 3)
        return;
    log_set_level((enum log_level)cfg->log_level);
    d->cfg.log_level = cfg->log_level;
    log_warn("reload: log_level is now %s", names[cfg->log_level]);
    reload_report_add(r, false, "log_level is now %s", names[cfg->log_level]);
}

/* The file as a start would read it (keys, sections, two services on one port); the zone
 * and certificate files are the reload's own business below. */
static int config_recheck(struct daemon *d, struct reload_report *r)
{
    const struct conf_section *sections[HOST_MAX_SERVICES + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < d->nservices; i++) /* the registry the daemon started with */
        if (d->services[i]->sections)
            sections[n++] = d->services[i]->sections;
    sections[n] = NULL;
    struct config cfg;
    struct str err = STR_INIT;
    int rc = config_load(d->cfg.path, sections, &cfg, &err);
    if (rc == 0) {
        rc = config_check_listen(&cfg, &err);
        if (rc == 0)
            config_apply(d, &cfg, r);
        config_free(&cfg);
    }
    if (rc != 0) {
        log_err("reload: configuration not valid, nothing reloaded: %s", str_cstr(&err));
        reload_report_add(r, true, "configuration not valid, nothing reloaded: %s",
                          str_cstr(&err));
    }
    str_clear(&err);
    return rc;
}

/* New handshakes get the certificate files as they are now; sessions keep theirs. */
static void tls_reload_log(struct daemon *d, struct reload_report *r)
{
    if (!d->tls_reload)
        return;
    struct str err = STR_INIT;
    char fp[100];
    if (tls_reload_files(d->tls_reload, &err) == 0) {
        tls_reload_fingerprint(d->tls_reload, fp, sizeof fp);
        log_info("TLS: certificate reloaded (sha256 %s)", fp);
        reload_report_add(r, false, "TLS: certificate sha256 %s", fp);
    } else {
        log_err("TLS: certificate not reloaded, the previous one stays: %s", str_cstr(&err));
        reload_report_add(r, true, "TLS: certificate not reloaded, the previous one stays: %s",
                          str_cstr(&err));
    }
    str_clear(&err);
}

void host_reload(struct daemon *d, struct reload_report *r)
{
    log_reopen(); /* first: logrotate has moved the file, the next lines go to the new one */
    log_info("%s: reloading", r ? "pigeon reload" : "SIGHUP");
    if (config_recheck(d, r) != 0)
        return;
    d->reloading = r;
    tls_reload_log(d, r);
    for (unsigned i = 0; i < d->nservices; i++)
        if (d->services[i]->reload)
            d->services[i]->reload(d, d->svc_state[i]);
    d->reloading = NULL;
}
