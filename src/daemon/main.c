/*
 * pigeond — the Pigeon daemon. `pigeond -c FILE` runs in the foreground, logs where
 * [server] log says (stderr by default), tells systemd when it is ready (Type=notify), and
 * serves every service its config file names until SIGTERM.
 */
#include "host/privileges.h"
#include "daemon/server.h"
#include "services/services.h"

#include "auth/password.h"
#include "auth/throttle.h"
#include "core/connlimit.h"
#include "core/log.h"
#include "host/config_check.h"
#include "host/pidfile.h"
#include "core/pool.h"
#include "core/tls.h"
#include "core/tls_reload.h"
#include "core/version.h"
#include "core/xmalloc.h"
#include "store/committer.h"
#include "store/store.h"

#include <event2/thread.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_DEFAULT "/etc/pigeon/pigeon.conf"

static void usage(FILE *f)
{
    fprintf(f, "usage: pigeond [-c FILE] [-t]\n\n"
               "The Pigeon daemon: SMTP, POP3, IMAP, authoritative DNS and a recursive resolver.\n"
               "Runs in the foreground until SIGTERM; SIGHUP reloads zones and reopens the log.\n\n"
               "options:\n"
               "  -c, --config FILE  configuration file (default " CONF_DEFAULT ")\n"
               "  -t, --test         check the configuration and exit (0 when valid)\n"
               "  -V, --version      print the version and exit\n"
               "  -h, --help         this help\n\n"
               "See pigeond(8) and pigeon.conf(5).\n");
}

static int tls_setup(struct daemon *d)
{
    struct str err = STR_INIT;
    char dir[4096];
    const char *cert = d->cfg.tls_cert, *key = d->cfg.tls_key;
    char cbuf[4200], kbuf[4200];
    if (!cert) {
        snprintf(dir, sizeof dir, "%s/tls", d->cfg.data_dir);
        if (tls_selfsigned_ensure(dir, d->cfg.hostname, &err) < 0) {
            log_err("TLS: %s", str_cstr(&err));
            str_clear(&err);
            return -1;
        }
        snprintf(cbuf, sizeof cbuf, "%s/cert.pem", dir);
        snprintf(kbuf, sizeof kbuf, "%s/key.pem", dir);
        cert = cbuf;
        key = kbuf;
    }
    d->client_tls = SSL_CTX_new(TLS_client_method());
    if (d->client_tls) /* opportunistic TLS to MX hosts: encrypted, not authenticated */
        SSL_CTX_set_verify(d->client_tls, SSL_VERIFY_NONE, NULL);
    d->tls = tls_server_ctx_new(cert, key, &err);
    if (d->tls) /* SIGHUP re-reads the files (certbot renewals) */
        d->tls_reload = tls_reload_new(d->tls, cert, key, d->cfg.tls_dir, &err);
    if (!d->tls || !d->tls_reload)
        log_err("TLS: %s", str_cstr(&err));
    str_clear(&err);
    return d->tls && d->tls_reload ? 0 : -1;
}

static int daemon_open(struct daemon *d)
{
    const char *why = NULL;
    struct store *st = NULL;
    if (store_open(d->cfg.data_dir, &st, &why) < 0) {
        log_err("cannot open store in %s: %s", d->cfg.data_dir, why ? why : "unknown");
        return -1;
    }
    int64_t removed = 0;
    if (store_gc(st, &removed) == 0 && removed)
        log_info("store: removed %lld unreferenced message files", (long long)removed);
    store_close(st);
    if (tls_setup(d) < 0)
        return -1;
    if (password_hash("pigeon-dummy-password", &d->dummy_hash) < 0) {
        log_err("libcrypt cannot hash passwords");
        return -1;
    }
    if (committer_start(d->cfg.data_dir, 4, &d->committer, &why) < 0) {
        log_err("cannot start committer: %s", why ? why : "unknown");
        return -1;
    }
    d->auth_pool = pool_new(2, host_store_thread_init, host_store_thread_fini, d);
    d->throttle = throttle_new(4096);
    d->connlimit = connlimit_new();
    return server_open_services(d);
}

static void daemon_close(struct daemon *d)
{
    if (d->committer)
        committer_stop(d->committer);
    pool_free(d->auth_pool);
    if (d->store_pool)
        pool_free(d->store_pool);
    throttle_free(d->throttle);
    connlimit_free(d->connlimit);
    server_close_services(d);
    for (unsigned i = 0; i < d->nlisteners; i++)
        close(d->listeners[i].fd);
    free(d->listeners);
    free(d->dummy_hash);
    tls_reload_free(d->tls_reload);
    if (d->tls)
        SSL_CTX_free(d->tls);
    if (d->client_tls)
        SSL_CTX_free(d->client_tls);
    config_free(&d->cfg);
}

int main(int argc, char **argv)
{
    const char *conf = CONF_DEFAULT;
    bool check_only = false;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"test", no_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': conf = optarg; break;
        case 't': check_only = true; break;
        case 'V': printf("pigeond %s\n", PIGEON_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    static struct daemon d; /* the daemon's top-level context */
    struct str err = STR_INIT;
    const struct conf_section *sections[HOST_MAX_SERVICES + 1];
    services_sections(sections);
    d.services = services_all;
    while (services_all[d.nservices])
        d.nservices++;
    /* The same checks as `pigeon check-config`, so both reject exactly what a start would. */
    int loaded = config_load(conf, sections, &d.cfg, &err);
    if (loaded == 0 &&
        (config_check_listen(&d.cfg, &err) < 0 || config_check_files(&d.cfg, &err) < 0)) {
        config_free(&d.cfg);
        loaded = -1;
    }
    if (loaded < 0) {
        fprintf(stderr, "pigeond: %s\n", str_cstr(&err));
        str_clear(&err);
        return 1;
    }
    if (check_only) {
        printf("%s: ok\n", conf);
        config_free(&d.cfg);
        return 0;
    }
    log_set_level((enum log_level)d.cfg.log_level);
    if (log_open(d.cfg.log, &err) < 0) {
        fprintf(stderr, "pigeond: %s\n", str_cstr(&err));
        str_clear(&err);
        config_free(&d.cfg);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();
    atomic_store(&d.counters.next_id, 1);
    d.counters.max_open = d.cfg.max_connections;
    d.counters.max_prelogin = d.cfg.max_prelogin_connections;
    d.counters.max_per_ip = d.cfg.max_connections_per_ip;
    d.counters.login_timeout = d.cfg.login_timeout;
    log_info("pigeond " PIGEON_VERSION " starting with %s (data in %s)", conf, d.cfg.data_dir);
    int rc = -1;
    /* Sockets bound, keys and zones read: root is given up before any worker thread starts
     * (host/privileges.h). */
    if (daemon_open(&d) == 0 && privileges_drop(&d.cfg) == 0) {
        pidfile_write(d.cfg.data_dir); /* for scripts; `pigeon reload` uses pigeond.ctl */
        rc = server_run(&d);
        pidfile_remove(d.cfg.data_dir);
    }
    daemon_close(&d);
    log_info("pigeond stopped");
    return rc == 0 ? 0 : 1;
}
