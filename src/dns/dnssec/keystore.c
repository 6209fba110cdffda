/* keystore — DNSSEC private keys as PEM files, one per key. See keystore.h. */
#include "dns/dnssec/keystore.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/name.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const role_names[] = {"csk", "ksk", "zsk"};
static const char *const state_suffix[] = {"", ".pub", ".retired"};

const char *dnssec_role_name(enum dnssec_role r)
{
    return role_names[r];
}

const char *dnssec_state_name(enum dnssec_keystate s)
{
    static const char *const names[] = {"active", "published", "retired"};
    return names[s];
}

void dnssec_keyset_clear(struct dnssec_keyset *ks)
{
    for (size_t i = 0; i < ks->n; i++) {
        EVP_PKEY_free(ks->keys[i].pkey);
        free(ks->path[i]);
    }
    ks->n = 0;
}

/* "example.com" for the file names (the root is "."). */
static void zone_text(const uint8_t *zone, char *out, size_t cap)
{
    dns_name_to_text(zone, out, cap);
    size_t l = strlen(out);
    if (l > 1)
        out[l - 1] = '\0';
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '_'; /* never a path separator in a file name */
}

static void key_path(const char *dir, const char *zt, const struct dnssec_key *k,
                     enum dnssec_role role, enum dnssec_keystate st, struct str *out)
{
    str_reset(out);
    str_appendf(out, "%s/%s+%03u+%05u.%s%s.pem", dir, zt, k->alg, k->tag, role_names[role],
                state_suffix[st]);
}

static void apply_role(struct dnssec_key *k, enum dnssec_role role, enum dnssec_keystate st)
{
    k->ksk = role != DNSSEC_ROLE_ZSK;
    k->zsk = role != DNSSEC_ROLE_KSK;
    k->publish = true;
    k->active = st == DNSSEC_KEY_ACTIVE;
    k->cds = st != DNSSEC_KEY_RETIRED; /* the parent learns a new KSK before it signs */
}

/* Parses "<zt>+AAA+TTTTT.<role><suffix>.pem"; false when name is not such a file. */
static bool parse_name(const char *name, const char *zt, unsigned *alg, enum dnssec_role *role,
                       enum dnssec_keystate *st)
{
    size_t zl = strlen(zt), nl = strlen(name);
    unsigned tag;
    char rest[32];
    if (nl <= zl + 13 || strncmp(name, zt, zl) != 0 || name[zl] != '+' ||
        sscanf(name + zl, "+%3u+%5u.%31s", alg, &tag, rest) != 3)
        return false;
    for (int r = 0; r < 3; r++)
        for (int s = 0; s < 3; s++) {
            char want[32];
            snprintf(want, sizeof want, "%s%s.pem", role_names[r], state_suffix[s]);
            if (strcmp(rest, want) == 0) {
                *role = (enum dnssec_role)r;
                *st = (enum dnssec_keystate)s;
                return true;
            }
        }
    return false;
}

static int load_one(const char *path, unsigned alg, enum dnssec_role role,
                    enum dnssec_keystate st, struct dnssec_keyset *ks, struct str *err_out)
{
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT)
        return ERR_AGAIN; /* renamed or removed since the directory was read */
    if (!f) {
        str_appendf(err_out, "%s: %s", path, strerror(errno));
        return ERR_IO;
    }
    EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    uint16_t flags = role == DNSSEC_ROLE_ZSK ? DNSSEC_FLAG_ZONE : DNSSEC_FLAG_ZONE | DNSSEC_FLAG_SEP;
    struct dnssec_key *k = &ks->keys[ks->n];
    if (!pk || dnssec_key_init(k, pk, (uint8_t)alg, flags) != 0) {
        EVP_PKEY_free(pk);
        str_appendf(err_out, "%s: not a usable %s private key", path,
                    dnssec_alg_name((uint8_t)alg) ? dnssec_alg_name((uint8_t)alg) : "DNSSEC");
        return ERR_PARSE;
    }
    apply_role(k, role, st);
    struct stat sb;
    ks->since[ks->n] = stat(path, &sb) == 0 ? (int64_t)sb.st_mtime : 0;
    ks->role[ks->n] = role;
    ks->state[ks->n] = st;
    ks->path[ks->n] = xstrdup(path);
    ks->n++;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One reading of dir; ERR_AGAIN when a key file vanished between readdir and open (the
 * daemon rolling a key while `pigeon dnssec status` reads the directory). */
static int load_pass(const char *dir, const char *zt, struct dnssec_keyset *ks,
                     struct str *err_out)
{
    ks->n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : (str_appendf(err_out, "%s: %s", dir, strerror(errno)), ERR_IO);
    char *names[256];
    size_t nn = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL && nn < 256;)
        names[nn++] = xstrdup(e->d_name);
    closedir(d);
    qsort(names, nn, sizeof names[0], name_cmp); /* a stable key order across restarts */
    int rc = 0;
    struct str path = STR_INIT;
    for (size_t i = 0; i < nn; i++) {
        unsigned alg;
        enum dnssec_role role;
        enum dnssec_keystate st;
        if (rc == 0 && parse_name(names[i], zt, &alg, &role, &st)) {
            if (ks->n == DNSSEC_KEYSET_MAX) {
                str_appendf(err_out, "%s: more than %d keys for one zone", dir, DNSSEC_KEYSET_MAX);
                rc = ERR_LIMIT;
            } else {
                str_reset(&path);
                str_appendf(&path, "%s/%s", dir, names[i]);
                rc = load_one(str_cstr(&path), alg, role, st, ks, err_out);
            }
        }
        free(names[i]);
    }
    str_clear(&path);
    if (rc)
        dnssec_keyset_clear(ks);
    return rc;
}

uint64_t dnssec_keystore_stamp(const char *dir, const uint8_t *zone)
{
    char zt[DNS_NAME_TEXT_MAX];
    zone_text(zone, zt, sizeof zt);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    uint64_t stamp = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        unsigned alg;
        enum dnssec_role role;
        enum dnssec_keystate st;
        struct stat sb;
        if (!parse_name(e->d_name, zt, &alg, &role, &st) ||
            fstatat(dirfd(d), e->d_name, &sb, 0) != 0)
            continue;
        /* FNV-1a of the name and mtime; summed, so the directory's order does not matter */
        uint64_t h = 1469598103934665603ull;
        for (const char *c = e->d_name; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
        h = (h ^ (uint64_t)sb.st_mtim.tv_sec) * 1099511628211ull;
        h = (h ^ (uint64_t)sb.st_mtim.tv_nsec) * 1099511628211ull;
        stamp += h | 1;
    }
    closedir(d);
    return stamp;
}

int dnssec_keystore_load(const char *dir, const uint8_t *zone, struct dnssec_keyset *ks,
                         struct str *err_out)
{
    char zt[DNS_NAME_TEXT_MAX];
    zone_text(zone, zt, sizeof zt);
    int rc = ERR_AGAIN;
    for (int tries = 0; rc == ERR_AGAIN && tries < 20; tries++)
        rc = load_pass(dir, zt, ks, err_out);
    if (rc == ERR_AGAIN)
        str_appendf(err_out, "%s: the keys kept changing while being read", dir);
    return rc;
}

static int write_pem(const char *path, EVP_PKEY *pk, struct str *err_out)
{
    struct str tmp = STR_INIT;
    str_appendf(&tmp, "%s.tmp", path);
    int fd = open(str_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ok = f && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
             fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f)
        ok = (fclose(f) == 0) && ok;
    else if (fd >= 0)
        close(fd);
    if (ok)
        ok = rename(str_cstr(&tmp), path) == 0;
    if (!ok) {
        str_appendf(err_out, "%s: %s", path, strerror(errno));
        unlink(str_cstr(&tmp));
    }
    str_clear(&tmp);
    return ok ? 0 : ERR_IO;
}

int dnssec_keystore_create(const char *dir, const uint8_t *zone, uint8_t alg,
                           enum dnssec_role role, enum dnssec_keystate state,
                           struct dnssec_keyset *ks, struct str *err_out)
{
    if (ks->n == DNSSEC_KEYSET_MAX) {
        str_appendf(err_out, "%s: more than %d keys for one zone", dir, DNSSEC_KEYSET_MAX);
        return ERR_LIMIT;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        str_appendf(err_out, "%s: %s", dir, strerror(errno));
        return ERR_IO;
    }
    EVP_PKEY *pk = dnssec_key_generate(alg);
    uint16_t flags = role == DNSSEC_ROLE_ZSK ? DNSSEC_FLAG_ZONE : DNSSEC_FLAG_ZONE | DNSSEC_FLAG_SEP;
    struct dnssec_key *k = &ks->keys[ks->n];
    if (!pk || dnssec_key_init(k, pk, alg, flags) != 0) {
        EVP_PKEY_free(pk);
        str_appendf(err_out, "cannot generate a key of algorithm %u", alg);
        return ERR_PARSE;
    }
    char zt[DNS_NAME_TEXT_MAX];
    zone_text(zone, zt, sizeof zt);
    struct str path = STR_INIT;
    key_path(dir, zt, k, role, state, &path);
    int rc = write_pem(str_cstr(&path), pk, err_out);
    if (rc) {
        EVP_PKEY_free(pk);
        str_clear(&path);
        return rc;
    }
    apply_role(k, role, state);
    struct stat sb;
    ks->since[ks->n] = stat(str_cstr(&path), &sb) == 0 ? (int64_t)sb.st_mtime : 0;
    ks->role[ks->n] = role;
    ks->state[ks->n] = state;
    ks->path[ks->n] = str_steal(&path);
    ks->n++;
    return 0;
}

int dnssec_keystore_set_state(struct dnssec_keyset *ks, size_t i, enum dnssec_keystate state,
                              struct str *err_out)
{
    const char *old = ks->path[i];
    const char *slash = strrchr(old, '/');
    struct str dir = STR_INIT, path = STR_INIT;
    str_append(&dir, old, slash ? (size_t)(slash - old) : 1);
    if (!slash)
        str_reset(&dir), str_appendc(&dir, '.');
    const char *base = slash ? slash + 1 : old;
    const char *plus = strchr(base, '+');
    struct str zt = STR_INIT;
    str_append(&zt, base, plus ? (size_t)(plus - base) : strlen(base));
    key_path(str_cstr(&dir), str_cstr(&zt), &ks->keys[i], ks->role[i], state, &path);
    int rc = 0;
    if (rename(old, str_cstr(&path)) != 0) {
        str_appendf(err_out, "%s: %s", old, strerror(errno));
        rc = ERR_IO;
    } else {
        free(ks->path[i]);
        ks->path[i] = str_steal(&path);
        ks->state[i] = state;
        apply_role(&ks->keys[i], ks->role[i], state);
        struct stat sb;
        utimensat(AT_FDCWD, ks->path[i], NULL, 0); /* the new state starts now */
        ks->since[i] = stat(ks->path[i], &sb) == 0 ? (int64_t)sb.st_mtime : 0;
    }
    str_clear(&dir);
    str_clear(&zt);
    str_clear(&path);
    return rc;
}

int dnssec_keystore_remove(struct dnssec_keyset *ks, size_t i, struct str *err_out)
{
    if (unlink(ks->path[i]) != 0) {
        str_appendf(err_out, "%s: %s", ks->path[i], strerror(errno));
        return ERR_IO;
    }
    EVP_PKEY_free(ks->keys[i].pkey);
    free(ks->path[i]);
    for (size_t j = i + 1; j < ks->n; j++) {
        ks->keys[j - 1] = ks->keys[j];
        ks->role[j - 1] = ks->role[j];
        ks->state[j - 1] = ks->state[j];
        ks->path[j - 1] = ks->path[j];
        ks->since[j - 1] = ks->since[j];
    }
    ks->n--;
    return 0;
}

int dnssec_keystore_ensure(const char *dir, const uint8_t *zone, uint8_t alg,
                           struct dnssec_keyset *ks, struct str *err_out)
{
    int rc = dnssec_keystore_load(dir, zone, ks, err_out);
    if (rc == 0 && ks->n == 0)
        rc = dnssec_keystore_create(dir, zone, alg, DNSSEC_ROLE_CSK, DNSSEC_KEY_ACTIVE, ks,
                                    err_out);
    return rc;
}

static bool same_duty(enum dnssec_role a, enum dnssec_role b)
{
    return a == b || (a != DNSSEC_ROLE_ZSK && b != DNSSEC_ROLE_ZSK); /* KSK and CSK */
}

int dnssec_keystore_roll(struct dnssec_keyset *ks, int64_t now, uint32_t ttl, int64_t *next_out,
                         struct str *err_out)
{
    int changes = 0;
    *next_out = INT64_MAX;
    for (size_t i = 0; i < ks->n; i++) {
        int64_t due = ks->since[i] + ttl;
        if (ks->state[i] == DNSSEC_KEY_ACTIVE)
            continue;
        if (due > now) {
            if (due < *next_out)
                *next_out = due;
            continue;
        }
        if (ks->state[i] == DNSSEC_KEY_RETIRED) {
            if (dnssec_keystore_remove(ks, i, err_out) == 0) {
                changes++;
                i--; /* the next key moved to i (unsigned wrap, undone by i++) */
            }
            continue;
        }
        /* published long enough: it signs from now on, the old ones of its duty retire */
        for (size_t j = 0; j < ks->n; j++)
            if (j != i && ks->state[j] == DNSSEC_KEY_ACTIVE && same_duty(ks->role[i], ks->role[j]) &&
                dnssec_keystore_set_state(ks, j, DNSSEC_KEY_RETIRED, err_out) == 0) {
                changes++;
                if (now + ttl < *next_out)
                    *next_out = now + ttl;
            }
        if (dnssec_keystore_set_state(ks, i, DNSSEC_KEY_ACTIVE, err_out) == 0)
            changes++;
    }
    return changes;
}
