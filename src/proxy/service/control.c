/*
 * proxy service control — `pigeon cache stats` and `pigeon cache purge URL|PREFIX*` on
 * pigeond's control socket (host.h: service_def.control, on the main thread), so the cache
 * is administered whatever listens in front of it: the forward proxy's [proxy] listen, a
 * [reverse_proxy], or only `proxy_to` sites of the HTTP service. The store is shared by the
 * workers under its own lock, so the main thread reads and purges it directly.
 *
 * Requests: "cache stats" → one "note NAME VALUE" line per counter; "cache purge URL" (a
 * trailing '*' purges every URL starting with the rest) → "note purged N".
 */
#include "proxy/service/service_int.h"

#include "core/str.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

void proxy_stats_text(struct proxy_state *st, const char *prefix, struct str *out)
{
    struct cache_stats s;
    cache_store_stats(st->store, &s);
    const struct {
        const char *name;
        uint64_t v;
    } rows[] = {
        {"objects", s.objects}, {"memory_bytes", s.mem_bytes}, {"disk_bytes", s.disk_bytes},
        {"hits", s.hits},       {"misses", s.misses},          {"stored", s.stored},
        {"evicted", s.evicted}, {"purged", s.purged},          {"refused", s.refused},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        str_appendf(out, "%s%s %llu\n", prefix, rows[i].name, (unsigned long long)rows[i].v);
}

static int purge(struct proxy_state *st, const char *url, struct str *answer)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        str_appends(answer, "error purge takes an absolute URL (http://host/path, or a prefix "
                            "ending in *)\n");
        return 1;
    }
    size_t n = strlen(url);
    bool prefix = url[n - 1] == '*';
    char *key = xstrndup(url, prefix ? n - 1 : n);
    unsigned gone = cache_store_purge(st->store, key, prefix);
    free(key);
    str_appendf(answer, "note purged %u\n", gone);
    return 0;
}

int proxy_control(struct daemon *d, void *state, const char *line, struct str *answer)
{
    (void)d;
    if (strncmp(line, "cache", 5) != 0 || (line[5] != ' ' && line[5] != '\0'))
        return -1;
    struct proxy_state *st = state;
    if (!st) {
        str_appends(answer, "error the Web cache does not run (no [proxy] or [reverse_proxy] "
                            "listen address, no [http NAME] proxy_to site)\n");
        return 1;
    }
    if (!strcmp(line, "cache stats")) {
        proxy_stats_text(st, "note ", answer);
        return 0;
    }
    if (!strncmp(line, "cache purge ", 12) && line[12] && !strchr(line + 12, ' '))
        return purge(st, line + 12, answer);
    str_appends(answer, "error usage: cache stats | cache purge URL|PREFIX*\n");
    return 1;
}
