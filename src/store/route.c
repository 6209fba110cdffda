/* route — aliases, forwarding, catch-alls and role addresses; see route.h. */
#include "store/route.h"

#include "store/db.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* RFC 2142 §§4-5: mailbox names every domain should answer (SMTP, DNS, web, network
 * operations and security roles); each reaches the postmaster unless it has its own. */
static const char *const role_names[] = {"postmaster", "abuse", "hostmaster", "webmaster",
                                         "security"};

/* "local@domain" (or "@domain" when catch_all) lower-cased; NULL when malformed. */
static char *alias_norm(const char *address, bool catch_all_ok)
{
    if (catch_all_ok && address[0] == '@') {
        char *d = db_domain_norm(address + 1);
        if (!d)
            return NULL;
        char *out = xmalloc(strlen(d) + 2);
        out[0] = '@';
        memcpy(out + 1, d, strlen(d) + 1);
        free(d);
        return out;
    }
    return db_address_norm(address, NULL);
}

int store_alias_add(struct store *st, const char *address, const char *target)
{
    char *a = alias_norm(address, true), *t = alias_norm(target, false);
    int rc = a && t ? 0 : ERR_PARSE;
    if (rc == 0) {
        int local = store_domain_exists(st, strchr(a, '@') + 1);
        rc = local < 0 ? local : local == 0 ? ERR_NOTFOUND : 0;
    }
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare(st, "INSERT INTO aliases(address, target) VALUES(?, ?)", &s);
    if (rc == 0) {
        int src = SQLITE_ERROR;
        if (!db_bind_text(s, 1, a) && !db_bind_text(s, 2, t))
            src = db_step(st, s, "add alias");
        rc = src == SQLITE_DONE ? 0 : (src & 0xff) == SQLITE_CONSTRAINT ? ERR_EXISTS : db_err(src);
    }
    sqlite3_finalize(s);
    free(a);
    free(t);
    return rc;
}

int store_alias_del(struct store *st, const char *address, const char *target)
{
    char *a = alias_norm(address, true), *t = target ? alias_norm(target, false) : NULL;
    int rc = a && (t || !target) ? 0 : ERR_PARSE;
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = db_prepare(st,
                        t ? "DELETE FROM aliases WHERE address = ? AND target = ?"
                          : "DELETE FROM aliases WHERE address = ?",
                        &s);
    if (rc == 0) {
        int src = SQLITE_ERROR;
        if (!db_bind_text(s, 1, a) && (!t || !db_bind_text(s, 2, t)))
            src = db_step(st, s, "delete alias");
        rc = src != SQLITE_DONE ? db_err(src) : sqlite3_changes(st->db) ? 0 : ERR_NOTFOUND;
    }
    sqlite3_finalize(s);
    free(a);
    free(t);
    return rc;
}

int store_alias_list(struct store *st, const char *address,
                     void (*cb)(void *ctx, const char *address, const char *target), void *ctx)
{
    char *a = address ? alias_norm(address, true) : NULL;
    if (address && !a)
        return ERR_PARSE;
    sqlite3_stmt *s;
    int rc = db_prepare(st,
                        a ? "SELECT address, target FROM aliases WHERE address = ? ORDER BY id"
                          : "SELECT address, target FROM aliases ORDER BY address, id",
                        &s);
    if (rc == 0 && a && db_bind_text(s, 1, a))
        rc = ERR_DB;
    int src;
    while (rc == 0 && (src = db_step(st, s, "list aliases")) == SQLITE_ROW)
        cb(ctx, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
    if (rc == 0 && src != SQLITE_DONE)
        rc = db_err(src);
    sqlite3_finalize(s);
    free(a);
    return rc;
}

/* ---- resolution ---- */

struct walk {
    struct store *st;
    const struct store_route_opts *o;
    struct store_route *r;
    char **seen; /* addresses expanded so far */
    size_t n_seen;
};

static bool walk_seen(struct walk *w, const char *addr)
{
    for (size_t i = 0; i < w->n_seen; i++)
        if (strcmp(w->seen[i], addr) == 0)
            return true;
    w->seen = xrealloc(w->seen, (w->n_seen + 1) * sizeof *w->seen);
    w->seen[w->n_seen++] = xstrdup(addr);
    return false;
}

static int add_user(struct walk *w, int64_t id)
{
    for (size_t i = 0; i < w->r->n_users; i++)
        if (w->r->users[i] == id)
            return 0;
    if (w->r->n_users + w->r->n_remotes >= STORE_ROUTE_TARGETS)
        return ERR_LIMIT;
    w->r->users = xrealloc(w->r->users, (w->r->n_users + 1) * sizeof *w->r->users);
    w->r->users[w->r->n_users++] = id;
    return 0;
}

static int add_remote(struct walk *w, const char *addr, const char *via)
{
    for (size_t i = 0; i < w->r->n_remotes; i++)
        if (strcmp(w->r->remotes[i].addr, addr) == 0)
            return 0;
    if (w->r->n_users + w->r->n_remotes >= STORE_ROUTE_TARGETS)
        return ERR_LIMIT;
    w->r->remotes = xrealloc(w->r->remotes, (w->r->n_remotes + 1) * sizeof *w->r->remotes);
    w->r->remotes[w->r->n_remotes++] = (struct store_route_remote){xstrdup(addr), xstrdup(via)};
    return 0;
}

/* The alias targets of addr (malloc'd array of malloc'd strings). */
static int alias_targets(struct store *st, const char *addr, char ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    sqlite3_stmt *s;
    int rc =
        db_prepare_cached(st, "SELECT target FROM aliases WHERE address = ? ORDER BY id", &s);
    if (rc != 0)
        return rc;
    int src = db_bind_text(s, 1, addr) ? SQLITE_ERROR : SQLITE_ROW;
    while (src == SQLITE_ROW && (src = db_step(st, s, "aliases")) == SQLITE_ROW) {
        *out = xrealloc(*out, (*n_out + 1) * sizeof **out);
        (*out)[(*n_out)++] = xstrdup((const char *)sqlite3_column_text(s, 0));
    }
    db_done(st, s);
    return src == SQLITE_DONE ? 0 : db_err(src);
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int walk_address(struct walk *w, const char *addr, unsigned depth);

/* Resolves one alias target reached from `from`. */
static int walk_target(struct walk *w, const char *from, const char *target, unsigned depth)
{
    int64_t id;
    if (strcmp(target, from) == 0) { /* a forward that keeps a copy */
        int rc = store_user_lookup(w->st, target, &id);
        return rc == 0 ? add_user(w, id) : rc == ERR_NOTFOUND ? 0 : rc;
    }
    int local = store_domain_exists(w->st, strchr(target, '@') + 1);
    if (local < 0)
        return local;
    if (!local)
        return add_remote(w, target, from);
    if (depth + 1 >= STORE_ROUTE_DEPTH) {
        w->r->depth_hit = 1;
        return 0;
    }
    int rc = walk_address(w, target, depth + 1);
    return rc == ERR_NOTFOUND ? 0 : rc; /* a dangling target: the others still get it */
}

/* Steps 1-2 of route.h for one exact address: 1 matched, 0 not, <0 error. */
static int walk_exact(struct walk *w, const char *addr, unsigned depth)
{
    char **t;
    size_t n;
    int rc = alias_targets(w->st, addr, &t, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = walk_target(w, addr, t[i], depth);
    strv_free(t, n);
    if (rc != 0 || n)
        return rc ? rc : 1;
    int64_t id;
    rc = store_user_lookup(w->st, addr, &id);
    if (rc == ERR_NOTFOUND)
        return 0;
    return rc ? rc : (rc = add_user(w, id)) ? rc : 1;
}

static bool is_role(const char *local, size_t n)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strlen(role_names[i]) == n && memcmp(role_names[i], local, n) == 0)
            return true;
    return false;
}

/* Steps 3-5 after the exact address matched nothing. */
static int walk_fallbacks(struct walk *w, const char *addr, const char *at, unsigned depth)
{
    const char *cut = w->o->delim ? memchr(addr, w->o->delim, (size_t)(at - addr)) : NULL;
    int rc;
    if (cut && cut != addr) {
        char *base = xmalloc(strlen(addr) + 1);
        memcpy(base, addr, (size_t)(cut - addr));
        strcpy(base + (cut - addr), at);
        rc = walk_seen(w, base) ? 0 : walk_exact(w, base, depth);
        free(base);
        if (rc != 0)
            return rc;
    }
    size_t local_len = (size_t)((cut && cut != addr ? cut : at) - addr);
    if (is_role(addr, local_len) && w->o->postmaster && w->o->postmaster[0]) {
        int64_t id;
        rc = store_user_lookup(w->st, w->o->postmaster, &id);
        if (rc == 0)
            return add_user(w, id) ? ERR_LIMIT : 1;
        if (rc != ERR_NOTFOUND)
            return rc;
    }
    char **t;
    size_t n;
    rc = alias_targets(w->st, at, &t, &n); /* "@domain" */
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = walk_target(w, addr, t[i], depth);
    strv_free(t, n);
    return rc ? rc : n ? 1 : 0;
}

static int walk_address(struct walk *w, const char *addr, unsigned depth)
{
    const char *at = strrchr(addr, '@');
    if (!at || walk_seen(w, addr))
        return at ? 0 : ERR_PARSE;
    int rc = walk_exact(w, addr, depth);
    if (rc == 0)
        rc = walk_fallbacks(w, addr, at, depth);
    return rc < 0 ? rc : rc ? 0 : ERR_NOTFOUND;
}

int store_route_resolve(struct store *st, const char *address, const struct store_route_opts *o,
                        struct store_route *out)
{
    memset(out, 0, sizeof *out);
    struct walk w = {st, o, out, NULL, 0};
    int rc = walk_address(&w, address, 0);
    strv_free(w.seen, w.n_seen);
    if (rc == 0 && out->n_users + out->n_remotes == 0)
        rc = ERR_NOTFOUND; /* every target dangled */
    if (rc != 0)
        store_route_clear(out);
    return rc;
}

void store_route_clear(struct store_route *r)
{
    free(r->users);
    for (size_t i = 0; i < r->n_remotes; i++) {
        free(r->remotes[i].addr);
        free(r->remotes[i].via);
    }
    free(r->remotes);
    memset(r, 0, sizeof *r);
}
