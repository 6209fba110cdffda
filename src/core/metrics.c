/* metrics — see metrics.h. */
#include "core/metrics.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static struct metric *_Atomic registry;

static void link_once(struct metric *m)
{
    bool expected = false;
    if (atomic_load_explicit(&m->linked, memory_order_acquire) ||
        !atomic_compare_exchange_strong(&m->linked, &expected, true))
        return;
    struct metric *head = atomic_load(&registry);
    do
        atomic_store(&m->next, head);
    while (!atomic_compare_exchange_weak(&registry, &head, m));
}

void metric_add(struct metric *m, uint64_t n)
{
    atomic_fetch_add_explicit(&m->value, n, memory_order_relaxed);
    link_once(m);
}

void metric_set(struct metric *m, uint64_t v)
{
    atomic_store_explicit(&m->value, v, memory_order_relaxed);
    link_once(m);
}

void metric_sub(struct metric *m, uint64_t n)
{
    atomic_fetch_sub_explicit(&m->value, n, memory_order_relaxed);
    link_once(m);
}

static size_t base_len(const char *name)
{
    const char *brace = strchr(name, '{');
    return brace ? (size_t)(brace - name) : strlen(name);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(struct metric *const *)a)->name, (*(struct metric *const *)b)->name);
}

void metrics_render(struct str *out)
{
    size_t n = 0;
    for (struct metric *m = atomic_load(&registry); m; m = atomic_load(&m->next))
        n++;
    struct metric **all = xcalloc(n ? n : 1, sizeof *all);
    size_t i = 0;
    for (struct metric *m = atomic_load(&registry); m && i < n; m = atomic_load(&m->next))
        all[i++] = m;
    qsort(all, i, sizeof *all, by_name);
    const char *last = NULL;
    size_t last_len = 0;
    for (size_t k = 0; k < i; k++) {
        struct metric *m = all[k];
        size_t bl = base_len(m->name);
        if (!last || bl != last_len || memcmp(last, m->name, bl) != 0) {
            str_appendf(out, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)bl, m->name, m->help,
                        (int)bl, m->name, m->gauge ? "gauge" : "counter");
            last = m->name;
            last_len = bl;
        }
        str_appendf(out, "%s %llu\n", m->name,
                    (unsigned long long)atomic_load_explicit(&m->value, memory_order_relaxed));
    }
    free(all);
}
