/* reload — SIGHUP and `pigeon reload`: every part reports into one struct reload_report. */
#include "host/reload.h"

#include "conf/snapshot.h"
#include "host/confgen.h"
#include "host/config_check.h"

#include "core/log.h"
#include "core/str.h"
#include "core/tls_reload.h"

#include <stdatomic.h>
#include <string.h>

/* [server] keys the process applies itself: the log level (an atomic the log reads) and the
 * connection limits every loop reads (atomics in d->counters). */
static void server_apply(struct daemon *d, const struct config *cfg, struct reload_report *r)
{
    static const char *const names[] = {"err", "warn", "info", "debug"};
    if (cfg->log_level != host_config_main(d)->log_level && cfg->log_level >= 0 &&
        cfg->log_level <= 3) {
        log_set_level((enum log_level)cfg->log_level);
        log_warn("reload: log_level is now %s", names[cfg->log_level]);
    }
    const char *was = host_config_main(d)->log;
    if (strcmp(was ? was : "stderr", cfg->log ? cfg->log : "stderr") != 0) {
        struct str err = STR_INIT;
        if (log_open(cfg->log, &err) == 0) {
            log_warn("reload: log lines now go to %s", cfg->log ? cfg->log : "stderr");
        } else {
            log_err("reload: log not moved to %s: %s", cfg->log, str_cstr(&err));
            reload_report_add(r, true, "log not moved to %s: %s; lines go where they went",
                              cfg->log, str_cstr(&err));
        }
        str_clear(&err);
    }
    atomic_store(&d->counters.max_open, cfg->max_connections);
    atomic_store(&d->counters.max_prelogin, cfg->max_prelogin_connections);
    atomic_store(&d->counters.max_per_ip, cfg->max_connections_per_ip);
    atomic_store(&d->counters.login_timeout, cfg->login_timeout);
}

/* The file as a start would read it (keys, sections, two services on one port); the zone
 * and certificate files are the reload's own business below. 0 with *out loaded. */
static int config_recheck(struct daemon *d, struct reload_report *r, struct config *out)
{
    const struct conf_section *sections[HOST_MAX_SERVICES + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < d->nservices; i++) /* the registry the daemon started with */
        if (d->services[i]->sections)
            sections[n++] = d->services[i]->sections;
    sections[n] = NULL;
    struct str err = STR_INIT;
    int rc = config_load(d->cfg.path, sections, out, &err);
    if (rc == 0 && (rc = config_check_listen(out, &err)) != 0)
        config_free(out);
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

struct changes {
    const struct config *next;
    struct reload_report *r;
};

/* One key whose lines differ from the running configuration's: applied, or not until a
 * restart, and why (the values are not shown: some are secrets). */
static void on_changed(void *vc, const char *section, const char *key)
{
    struct changes *c = vc;
    if (conf_key_reloads(c->next, section, key)) {
        log_info("reload: [%s] %s applied", section, key);
        reload_report_add(c->r, false, "applied: [%s] %s", section, key);
    } else {
        const char *why = conf_key_restart_why(c->next, section, key);
        log_warn("reload: [%s] %s changed: needs a restart (%s)", section, key, why);
        reload_report_add(c->r, false, "needs restart: [%s] %s (%s)", section, key, why);
    }
}

void host_reload(struct daemon *d, struct reload_report *r)
{
    log_reopen(); /* first: logrotate has moved the file, the next lines go to the new one */
    log_info("%s: reloading", r ? "pigeon reload" : "SIGHUP");
    struct config loaded;
    if (config_recheck(d, r, &loaded) != 0)
        return;
    d->reloading = r;
    const struct config *running = host_config_main(d);
    struct changes ch = {host_confgen_begin(d, &loaded), r};
    conf_snapshot_diff(running->written, ch.next->written, on_changed, &ch);
    server_apply(d, ch.next, r);
    tls_reload_log(d, r);
    for (unsigned i = 0; i < d->nservices; i++)
        if (d->services[i]->reload)
            d->services[i]->reload(d, d->svc_state[i], ch.next);
    host_confgen_publish(d);
    d->reloading = NULL;
}
