/* jmap service — see service.h: the [jmap] section and the service's lifecycle. */
#include "jmap/service/service.h"

#include "jmap/service/service_int.h"

#include "conf/config.h"
#include "conf/keys.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "http/service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JC(f) offsetof(struct jmap_config, f)

static const struct conf_key jmap_keys[] = {
    {.name = "enabled", .type = CONF_BOOL, .offset = JC(enabled)},
    {.name = "max_size_request", .type = CONF_SIZE, .offset = JC(max_size_request), .min = 1024,
     .max = 1ull << 30},
    {.name = "max_size_upload", .type = CONF_SIZE, .offset = JC(max_size_upload), .min = 1024,
     .max = 1ull << 30},
    {.name = "max_calls_in_request", .type = CONF_UINT, .offset = JC(max_calls_in_request),
     .min = 1, .max = 1000},
    {.name = "max_objects_in_get", .type = CONF_UINT, .offset = JC(max_objects_in_get), .min = 1,
     .max = 100000},
    {.name = "max_objects_in_set", .type = CONF_UINT, .offset = JC(max_objects_in_set), .min = 1,
     .max = 100000},
    {.name = "max_concurrent_requests", .type = CONF_UINT,
     .offset = JC(max_concurrent_requests), .min = 1, .max = 1000},
    {.name = "webmail", .type = CONF_STR, .offset = JC(webmail)},
    {.name = "image_proxy", .type = CONF_BOOL, .offset = JC(image_proxy)},
    {.name = "image_proxy_allow", .type = CONF_STR, .offset = JC(image_proxy_allow)},
    {.name = "image_proxy_max_size", .type = CONF_SIZE, .offset = JC(image_proxy_max_size),
     .min = 1024, .max = 64ull << 20},
    {.name = NULL},
};

static void jmap_defaults(void *sec)
{
    struct jmap_config *c = sec;
    struct jmap_limits l;
    jmap_limits_default(&l);
    c->max_size_request = l.max_size_request;
    c->max_size_upload = l.max_size_upload;
    c->max_calls_in_request = (unsigned)l.max_calls_in_request;
    c->max_objects_in_get = (unsigned)l.max_objects_in_get;
    c->max_objects_in_set = (unsigned)l.max_objects_in_set;
    c->max_concurrent_requests = (unsigned)l.max_concurrent_requests;
    c->image_proxy = true;
    c->image_proxy_max_size = 5u << 20;
}

/* What jmap_reload applies. */
static const char *const jmap_reload_keys[] = {
    "max_size_request", "max_size_upload", "max_calls_in_request", "max_objects_in_get",
    "max_objects_in_set", "max_concurrent_requests", NULL,
};

static const struct conf_restart jmap_restart_why[] = {
    {"enabled", "JMAP joins the HTTP service's handlers at start"},
    {"webmail", "the webmail's directory is opened at start"},
    {NULL, NULL},
};

static const struct conf_section jmap_sections[] = {
    {.name = "jmap", .size = sizeof(struct jmap_config), .service_offset = CONF_NOT_SERVICE,
     .keys = jmap_keys, .defaults = jmap_defaults, .reload_keys = jmap_reload_keys,
     .restart_why = jmap_restart_why},
    {.name = NULL},
};

static int jmap_open(struct daemon *d, void **state_out)
{
    const struct jmap_config *cfg = config_section(&d->cfg, "jmap");
    struct http_service *hs = host_state(d, &http_service_def);
    if (!cfg || !cfg->enabled)
        return 0;
    if (!hs) {
        log_warn("jmap: [jmap] enabled but no [http] site listens: JMAP is off");
        return 0;
    }
    struct jmap_service *svc = xcalloc(1, sizeof *svc);
    svc->d = d;
    svc->cfg = cfg;
    jmap_limits_default(&svc->lim);
    svc->lim.max_size_request = cfg->max_size_request;
    svc->lim.max_size_upload = cfg->max_size_upload;
    svc->lim.max_calls_in_request = cfg->max_calls_in_request;
    svc->lim.max_objects_in_get = cfg->max_objects_in_get;
    svc->lim.max_objects_in_set = cfg->max_objects_in_set;
    svc->lim.max_concurrent_requests = cfg->max_concurrent_requests;
    atomic_init(&svc->cur, &svc->lim);
    svc->webmail_fd = -1;
    pthread_mutex_init(&svc->lock, NULL);
    jmap_snapcache_init(&svc->snaps);
    jmap_memo_init(&svc->memo);
    *state_out = svc;
    if (RAND_bytes(svc->secret, sizeof svc->secret) != 1) {
        log_err("jmap: no randomness for CSRF tokens");
        return -1;
    }
    if (cfg->webmail) {
        svc->webmail_fd = open(cfg->webmail, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (svc->webmail_fd < 0) {
            log_err("jmap: webmail %s: %s", cfg->webmail, strerror(errno));
            return -1;
        }
    }
    svc->pool = host_store_pool(d);
    if (jmap_image_open(svc) != 0)
        return -1;
    /* The one hook the HTTP service offers other services' handlers. */
    hs->host.more = jmap_http_handle;
    host_on_mailbox_changed(d, jmap_push_notify, svc);
    log_info("jmap: JMAP at /.well-known/jmap%s", cfg->webmail ? ", webmail at /mail/" : "");
    return 0;
}

static void jmap_close(struct daemon *d, void *state)
{
    struct jmap_service *svc = state;
    if (!svc)
        return;
    if (svc->webmail_fd >= 0)
        close(svc->webmail_fd);
    jmap_image_close(svc);
    jmap_snapcache_clear(&svc->snaps);
    jmap_memo_clear(&svc->memo);
    pthread_mutex_destroy(&svc->lock);
    for (size_t i = 0; i < svc->nreplaced; i++)
        free(svc->replaced[i]);
    free(svc->replaced);
    free(svc);
}

/* Reload: the limits of RFC 8620 §2's core capability, for the next request, WebSocket and
 * Session object; `enabled` and `webmail` need a restart. */
static void jmap_reload(struct daemon *d, void *state, const struct config *next)
{
    struct jmap_service *svc = state;
    const struct jmap_config *cfg = config_section(next, "jmap");
    if (!svc || !cfg)
        return;
    struct jmap_limits *l = xmalloc(sizeof *l);
    *l = svc->lim;
    l->max_size_request = cfg->max_size_request;
    l->max_size_upload = cfg->max_size_upload;
    l->max_calls_in_request = cfg->max_calls_in_request;
    l->max_objects_in_get = cfg->max_objects_in_get;
    l->max_objects_in_set = cfg->max_objects_in_set;
    l->max_concurrent_requests = cfg->max_concurrent_requests;
    if (!memcmp(l, svc->cur, sizeof *l)) { /* unchanged: nothing more to keep until close */
        free(l);
        return;
    }
    svc->replaced = xrealloc(svc->replaced, (svc->nreplaced + 1) * sizeof *svc->replaced);
    svc->replaced[svc->nreplaced++] = l; /* freed at close */
    atomic_store(&svc->cur, l);
}

const struct service_def jmap_service_def = {
    .name = "jmap",
    .sections = jmap_sections,
    .open = jmap_open,
    .reload = jmap_reload,
    .attach = jmap_push_attach,
    .detach = jmap_push_detach,
    .close = jmap_close,
};
