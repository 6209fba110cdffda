/* imap service — see service.h: [imap] and [imaps], declared here, their listeners, the writer. */
#include "imap/service/service.h"

#include "imap/service/service_int.h"
#include "host/confgen.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "store/imap_writer.h"

#include <stddef.h>
#include <stdlib.h>

static void imap_defaults(void *sec)
{
    /* RFC 3501 §5.4: the autologout timer is at least 30 minutes. */
    conf_access_defaults(sec, false, 1800);
}

static void imaps_defaults(void *sec)
{
    conf_access_defaults(sec, true, 1800);
}

static const struct conf_section imap_sections[] = {
    CONF_ACCESS_SECTION("imap", imap_defaults),
    CONF_ACCESS_SECTION("imaps", imaps_defaults),
    {.name = NULL},
};

static int imap_open(struct daemon *d, void **state_out)
{
    const struct config_access *plain = config_section(&d->cfg, "imap");
    const struct config_access *tls = config_section(&d->cfg, "imaps");
    if (!plain->svc.enabled && !tls->svc.enabled)
        return 0;
    struct imap_service_state *st = xcalloc(1, sizeof *st);
    *state_out = st;
    const char *why = NULL;
    host_store_pool(d); /* APPEND's files, parse-cache misses */
    if (imap_writer_start(d->cfg.data_dir, &st->writer, &why) < 0) {
        log_err("cannot start the IMAP writer: %s", why ? why : "unknown");
        return -1;
    }
    host_on_mailbox_changed(d, imap_notify, NULL);
    if (host_listen_tcp_login(d, "imap", &imap_proto, plain, &plain->svc, false) < 0 ||
        host_listen_tcp_login(d, "imaps", &imap_proto, tls, &tls->svc, true) < 0)
        return -1;
    return 0;
}

static void *imap_attach(struct worker *w, void *state)
{
    if (!state)
        return NULL;
    struct imap_worker_state *ws = xcalloc(1, sizeof *ws);
    ws->pcache = imap_pcache_new(0);
    return ws;
}

static void imap_detach(struct worker *w, void *wstate)
{
    struct imap_worker_state *ws = wstate;
    if (ws)
        imap_pcache_free(ws->pcache);
    free(ws); /* its sessions were closed with the worker's connections */
}

/* After the store pool is gone (APPENDs hand their rows to the writer from there). */
static void imap_stop(struct daemon *d, void *state)
{
    struct imap_service_state *st = state;
    if (!st)
        return;
    imap_writer_stop(st->writer);
    st->writer = NULL;
}

static void imap_close(struct daemon *d, void *state)
{
    struct imap_service_state *st = state;
    if (st)
        imap_writer_stop(st->writer);
    free(st);
}

static void imap_reload(struct daemon *d, void *state, const struct config *next)
{
    static const char *const names[] = {"imap", "imaps", NULL};
    host_relisten_sections(d, next, names);
}

const struct service_def imap_service = {
    .name = "imap",
    .sections = imap_sections,
    .open = imap_open,
    .reload = imap_reload,
    .attach = imap_attach,
    .detach = imap_detach,
    .stop = imap_stop,
    .close = imap_close,
};
