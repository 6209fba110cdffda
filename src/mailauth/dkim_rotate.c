/*
 * dkim_rotate — the life of a domain's DKIM selectors (see dkim_rotate.h).
 */
#include "mailauth/dkim_rotate.h"

#include "core/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"active", "next", "retired", "withdrawn"};

const char *dkim_sel_state_name(enum dkim_sel_state st)
{
    return state_names[st];
}

void dkim_sels_default(struct dkim_sels *out, const char *dflt)
{
    memset(out, 0, sizeof *out);
    snprintf(out->s[0].name, sizeof out->s[0].name, "%s", dflt);
    out->n = 1;
}

static bool sel_name_ok(const char *p, size_t n)
{
    if (!n || n >= sizeof((struct dkim_sel *)0)->name)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-' ||
              p[i] == '_'))
            return false;
    return true;
}

/* One line "NAME STATE SINCE" into e. */
static int parse_line(const char *line, size_t len, struct dkim_sel *e)
{
    char buf[160], name[80], state[16];
    long long since;
    if (len >= sizeof buf)
        return ERR_PARSE;
    memcpy(buf, line, len);
    buf[len] = '\0';
    char end;
    if (sscanf(buf, "%79s %15s %lld%c", name, state, &since, &end) != 3 ||
        !sel_name_ok(name, strlen(name)) || since < 0)
        return ERR_PARSE;
    int st = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(state, state_names[i]))
            st = i;
    if (st < 0)
        return ERR_PARSE;
    memcpy(e->name, name, strlen(name) + 1); /* sel_name_ok: shorter than e->name */
    e->state = (enum dkim_sel_state)st;
    e->since = since;
    return 0;
}

int dkim_sels_parse(const char *text, size_t len, struct dkim_sels *out, const char **err_out)
{
    memset(out, 0, sizeof *out);
    size_t active = 0, next = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t k = nl ? (size_t)(nl - text) - i : len - i;
        if (k && text[i] != '#') {
            if (out->n == DKIM_SELS_MAX)
                return *err_out = "too many selectors", ERR_PARSE;
            if (parse_line(text + i, k, &out->s[out->n]) != 0)
                return *err_out = "a line is not \"SELECTOR STATE SINCE\"", ERR_PARSE;
            active += out->s[out->n].state == DKIM_SEL_ACTIVE;
            next += out->s[out->n].state == DKIM_SEL_NEXT;
            for (size_t j = 0; j < out->n; j++)
                if (!strcmp(out->s[j].name, out->s[out->n].name))
                    return *err_out = "a selector is listed twice", ERR_PARSE;
            out->n++;
        }
        i += k + 1;
    }
    if (active != 1 || next > 1)
        return *err_out = "not exactly one active selector (or more than one next)", ERR_PARSE;
    return 0;
}

void dkim_sels_format(const struct dkim_sels *sels, struct str *out)
{
    str_appendf(out, "# DKIM selectors of this domain: NAME STATE SINCE (pigeon domain dkim)\n");
    for (size_t i = 0; i < sels->n; i++)
        str_appendf(out, "%s %s %" PRId64 "\n", sels->s[i].name,
                    state_names[sels->s[i].state], sels->s[i].since);
}

const struct dkim_sel *dkim_sels_active(const struct dkim_sels *sels)
{
    for (size_t i = 0; i < sels->n; i++)
        if (sels->s[i].state == DKIM_SEL_ACTIVE)
            return &sels->s[i];
    return &sels->s[0];
}

static void drop(struct dkim_sels *sels, size_t i)
{
    memmove(&sels->s[i], &sels->s[i + 1], (sels->n - i - 1) * sizeof sels->s[0]);
    sels->n--;
}

int dkim_sels_add_next(struct dkim_sels *sels, const char *name, int64_t now)
{
    if (!sel_name_ok(name, strlen(name)))
        return ERR_PARSE;
    for (size_t i = 0; i < sels->n; i++)
        if (sels->s[i].state == DKIM_SEL_NEXT || !strcmp(sels->s[i].name, name))
            return ERR_EXISTS;
    for (size_t i = 0; sels->n == DKIM_SELS_MAX && i < sels->n; i++)
        if (sels->s[i].state == DKIM_SEL_WITHDRAWN)
            drop(sels, i);
    if (sels->n == DKIM_SELS_MAX)
        return ERR_LIMIT;
    struct dkim_sel *e = &sels->s[sels->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->state = DKIM_SEL_NEXT;
    e->since = now;
    return 0;
}

bool dkim_sels_advance(struct dkim_sels *sels, int64_t now, uint32_t switch_after,
                       uint32_t retire_after)
{
    bool changed = false;
    for (size_t i = 0; i < sels->n; i++) {
        struct dkim_sel *e = &sels->s[i];
        if (e->state == DKIM_SEL_NEXT && now >= e->since + switch_after) {
            for (size_t j = 0; j < sels->n; j++)
                if (sels->s[j].state == DKIM_SEL_ACTIVE)
                    sels->s[j].state = DKIM_SEL_RETIRED, sels->s[j].since = now;
            e->state = DKIM_SEL_ACTIVE, e->since = now;
            changed = true;
        }
    }
    for (size_t i = 0; i < sels->n; i++) {
        struct dkim_sel *e = &sels->s[i];
        if (e->state == DKIM_SEL_RETIRED && now >= e->since + retire_after) {
            e->state = DKIM_SEL_WITHDRAWN, e->since = now;
            changed = true;
        } else if (e->state == DKIM_SEL_WITHDRAWN && now >= e->since + retire_after) {
            drop(sels, i--);
            changed = true;
        }
    }
    return changed;
}
