/*
 * torrent/service/peer_ctl — how the peer service is driven and watched without a socket:
 * `pigeon torrent add/pause/resume/remove` drop files into DATA/torrent/inbox/ (NAME.torrent,
 * or HASH.magnet holding a magnet link, with an optional NAME.torrent.dir / HASH.magnet.dir
 * naming the download directory; HASH.pause, HASH.resume, HASH.remove), which the service
 * reads every second; the [torrent] watch_dir is read the same
 * way (each FILE.torrent added, then renamed FILE.torrent.added); and DATA/torrent/status is
 * rewritten every second (one line per torrent) for `pigeon torrent list`.
 */
#include "torrent/service/peer_int.h"

#include "core/log.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static void default_dir(struct peer_svc *svc, char *out, size_t cap)
{
    if (svc->cfg->dir)
        snprintf(out, cap, "%s", svc->cfg->dir);
    else
        snprintf(out, cap, "%s/torrent/downloads", svc->d->cfg.data_dir);
}

static void add_file(struct peer_svc *svc, const char *path, const char *dir)
{
    const char *why = NULL;
    struct tor_item *it = peer_item_add(svc, path, dir, false, &why);
    if (!it)
        log_warn("torrent: %s: not added: %s", path, why);
}

/* The magnet link in path (one line); NULL when unreadable. */
static char *read_link(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static void add_magnet(struct peer_svc *svc, const char *path, const char *dir, bool paused)
{
    const char *why = "cannot read it";
    char *uri = read_link(path);
    if (!uri || !peer_magnet_add(svc, uri, dir, paused, &why))
        log_warn("torrent: %s: not added: %s", path, why);
    free(uri);
}

/* The directory named by path.dir (written by `pigeon torrent add --dir`), else the default. */
static void dir_for(struct peer_svc *svc, const char *path, char *dir, size_t cap)
{
    char dpath[1310];
    snprintf(dpath, sizeof dpath, "%s.dir", path);
    FILE *f = fopen(dpath, "r");
    if (!f || !fgets(dir, (int)cap, f))
        default_dir(svc, dir, cap);
    dir[strcspn(dir, "\n")] = '\0';
    if (f)
        fclose(f);
    unlink(dpath);
}

/* One inbox file: a command from the CLI. */
static void inbox_one(struct peer_svc *svc, const char *name)
{
    char path[1300], dir[1024];
    snprintf(path, sizeof path, "%.1000s/%.255s", svc->inbox, name);
    if (ends_with(name, ".torrent")) {
        dir_for(svc, path, dir, sizeof dir);
        add_file(svc, path, dir);
    } else if (ends_with(name, ".magnet")) {
        dir_for(svc, path, dir, sizeof dir);
        add_magnet(svc, path, dir, false);
    } else if (ends_with(name, ".pause") || ends_with(name, ".resume") ||
               ends_with(name, ".remove")) {
        char hex[64];
        snprintf(hex, sizeof hex, "%.*s", (int)strcspn(name, "."), name);
        struct tor_item *it = peer_item_find_hex(svc, hex);
        if (!it)
            log_warn("torrent: %s: no such torrent", hex);
        else if (ends_with(name, ".remove"))
            peer_item_remove(svc, it);
        else
            peer_item_pause(svc, it, ends_with(name, ".pause"));
    } else if (ends_with(name, ".dir") || ends_with(name, ".tmp")) {
        return; /* read with its .torrent, or still being written */
    }
    unlink(path);
}

static void watch_one(struct peer_svc *svc, const char *name)
{
    if (!ends_with(name, ".torrent"))
        return;
    char path[1300], done[1310], dir[1024];
    snprintf(path, sizeof path, "%.1000s/%.255s", svc->cfg->watch_dir, name);
    snprintf(done, sizeof done, "%s.added", path);
    default_dir(svc, dir, sizeof dir);
    add_file(svc, path, dir);
    rename(path, done);
}

static void scan(struct peer_svc *svc, const char *dirpath, bool inbox)
{
    DIR *d = opendir(dirpath);
    if (!d)
        return;
    char names[64][256];
    unsigned n = 0;
    struct dirent *e;
    while (n < 64 && (e = readdir(d)))
        if (e->d_name[0] != '.')
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    closedir(d);
    for (unsigned i = 0; i < n; i++)
        inbox ? inbox_one(svc, names[i]) : watch_one(svc, names[i]);
}

void peer_ctl_scan(struct peer_svc *svc)
{
    scan(svc, svc->inbox, true);
    if (svc->cfg->watch_dir)
        scan(svc, svc->cfg->watch_dir, false);
}

static const char *state_name(const struct tor_item *it)
{
    static const char *const names[] = {"checking", "active", "paused",
                                        "done",     "error",  "metadata"};
    if (it->state == ITEM_ACTIVE && it->swarm)
        return tor_swarm_complete(it->swarm) ? "seeding" : "downloading";
    return names[it->state];
}

void peer_ctl_status(struct peer_svc *svc)
{
    char path[1100], tmp[1110];
    snprintf(path, sizeof path, "%s/status", svc->state_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "# hash state progress down_rate up_rate downloaded uploaded peers name\n");
    for (const struct tor_item *it = svc->items; it; it = it->next) {
        if (it->removing)
            continue;
        uint64_t down = 0, up = 0, dr = 0, ur = 0;
        uint32_t have = it->state == ITEM_CHECKING ? it->check_next : 0;
        size_t peers = 0;
        if (it->swarm) {
            tor_swarm_totals(it->swarm, &down, &up, &dr, &ur);
            have = tor_swarm_have_count(it->swarm);
            peers = tor_swarm_npeers(it->swarm);
        } else if (it->state == ITEM_DONE) {
            have = it->meta.npieces;
        }
        double pct = it->meta.npieces ? 100.0 * have / it->meta.npieces : 0.0;
        if (it->fetch) { /* the metadata's own progress */
            uint32_t got, total;
            tor_mfetch_progress(it->fetch, &got, &total);
            pct = total ? 100.0 * got / total : 0.0;
            peers = tor_mfetch_npeers(it->fetch);
        }
        fprintf(f, "%s %s %.1f%% %llu %llu %llu %llu %zu %s\n", it->hex, state_name(it), pct,
                (unsigned long long)dr, (unsigned long long)ur, (unsigned long long)down,
                (unsigned long long)up, peers, it->meta.name);
    }
    if (fclose(f) == 0)
        rename(tmp, path);
}

/* At start: every torrent kept in the state directory, as it was (paused or not). */
void peer_ctl_load(struct peer_svc *svc)
{
    DIR *d = opendir(svc->state_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        bool magnet = ends_with(e->d_name, ".magnet");
        if (!ends_with(e->d_name, ".torrent") && !magnet)
            continue;
        char path[1300], conf[1300], line[1100], dir[1024];
        snprintf(path, sizeof path, "%s/%s", svc->state_dir, e->d_name);
        size_t stem = strlen(path) - (magnet ? 7 : 8);
        snprintf(conf, sizeof conf, "%.*s.torrent", (int)stem, path);
        if (magnet && access(conf, F_OK) == 0)
            continue; /* the metadata came just before a restart */
        snprintf(conf, sizeof conf, "%.*s.conf", (int)stem, path);
        bool paused = false;
        default_dir(svc, dir, sizeof dir);
        FILE *f = fopen(conf, "r");
        while (f && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            if (strncmp(line, "dir=", 4) == 0)
                snprintf(dir, sizeof dir, "%.1000s", line + 4);
            else if (strcmp(line, "paused=1") == 0 || strcmp(line, "done=1") == 0)
                paused = true;
        }
        if (f)
            fclose(f);
        const char *why = NULL;
        if (magnet)
            add_magnet(svc, path, dir, paused);
        else if (!peer_item_add(svc, path, dir, paused, &why))
            log_warn("torrent: %s: not loaded: %s", path, why);
    }
    closedir(d);
}
