/* autotrust_file — see autotrust_file.h. */
#include "dns/resolver/service/autotrust_file.h"

#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "dns/resolver/autotrust.h"
#include "dns/resolver/resolver.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct autotrust_file {
    pthread_mutex_t lock; /* one writer at a time, so the newest state is the one kept */
    struct str path;
};

/* On the worker that saw the change. */
static void save(void *vf, struct dns_autotrust *at)
{
    struct autotrust_file *f = vf;
    struct str text = STR_INIT;
    pthread_mutex_lock(&f->lock);
    dns_autotrust_save(at, &text);
    if (store_durable_write(str_cstr(&f->path), text.ptr, text.len) != 0)
        log_err("resolver: %s: %s", str_cstr(&f->path), strerror(errno));
    else
        log_info("resolver: RFC 5011 trust-anchor states saved in %s", str_cstr(&f->path));
    pthread_mutex_unlock(&f->lock);
    str_clear(&text);
}

struct autotrust_file *autotrust_file_start(struct dns_resolver_shared *sh, const char *data_dir)
{
    struct autotrust_file *f = xcalloc(1, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    str_appendf(&f->path, "%s/%s", data_dir, RESOLVER_AUTOTRUST_FILE);
    struct dns_autotrust *at = dns_autotrust_new();
    struct str text = STR_INIT, err = STR_INIT;
    int rc = file_read_all(str_cstr(&f->path), 1 << 20, &text);
    if (rc == 0 && dns_autotrust_load(at, text.ptr, text.len, &err) != 0)
        log_warn("resolver: %s: %s: the key states start afresh", str_cstr(&f->path),
                 str_cstr(&err));
    else if (rc != 0 && rc != ERR_NOTFOUND)
        log_warn("resolver: %s: %s: the key states start afresh", str_cstr(&f->path),
                 err_str(rc));
    dns_resolver_shared_set_autotrust(sh, at, save, f);
    str_clear(&text);
    str_clear(&err);
    return f;
}

void autotrust_file_free(struct autotrust_file *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    str_clear(&f->path);
    free(f);
}
