/* dhcp/pace — see pace.h. A FIFO (ring) of items with their due times. */
#include "dhcp/pace.h"

#include "core/xmalloc.h"

#include <stdbool.h>
#include <stdlib.h>

struct slot {
    int64_t due;
    void *item;
};

struct dhcp_pace {
    struct slot *q;
    size_t head, len, cap;
    unsigned burst;
    /* due times are kept less `lag`: the time the schedule was pushed back by, in all */
    int64_t lag;
    int64_t last_due; /* the latest item queued so far: the next group starts no earlier */
    int64_t start;    /* the current group's start */
    int64_t first;    /* when the current group's first request arrived */
    bool have_first;
};

struct dhcp_pace *dhcp_pace_new(unsigned burst)
{
    struct dhcp_pace *p = xcalloc(1, sizeof *p);
    p->burst = burst ? burst : 1;
    p->last_due = INT64_MIN;
    return p;
}

void dhcp_pace_free(struct dhcp_pace *p)
{
    if (!p)
        return;
    free(p->q);
    free(p);
}

void dhcp_pace_group(struct dhcp_pace *p, int64_t committed)
{
    int64_t start = committed - p->lag;
    p->start = start > p->last_due ? start : p->last_due;
    p->have_first = false;
}

static void grow(struct dhcp_pace *p)
{
    size_t cap = p->cap ? 2 * p->cap : 64;
    struct slot *q = xmalloc(cap * sizeof *q);
    for (size_t i = 0; i < p->len; i++)
        q[i] = p->q[(p->head + i) % p->cap];
    free(p->q);
    p->q = q;
    p->cap = cap;
    p->head = 0;
}

void dhcp_pace_push(struct dhcp_pace *p, void *item, int64_t arrived)
{
    if (!p->have_first) {
        p->first = arrived;
        p->have_first = true;
    }
    /* an arrival before the group's first (the caller's order is not quite the clock's)
     * counts as the first: due times never go back */
    int64_t off = arrived > p->first ? (arrived - p->first) / DHCP_PACE_SPEEDUP : 0;
    int64_t due = p->start + off;
    if (due < p->last_due)
        due = p->last_due;
    p->last_due = due;
    if (p->len == p->cap)
        grow(p);
    p->q[(p->head + p->len) % p->cap] = (struct slot){due, item};
    p->len++;
}

unsigned dhcp_pace_take(struct dhcp_pace *p, int64_t now, void **out, int64_t *next_out)
{
    /* Taken too late (the caller's thread did not run): the rest of the schedule moves back
     * by as much, so what fell due meanwhile is not sent in one go */
    if (p->len && now != INT64_MAX && p->q[p->head].due + p->lag < now - DHCP_PACE_SLACK)
        p->lag = now - p->q[p->head].due;
    unsigned n = 0;
    while (p->len && n < p->burst && p->q[p->head].due + p->lag <= now) {
        out[n++] = p->q[p->head].item;
        p->head = (p->head + 1) % p->cap;
        p->len--;
    }
    *next_out = p->len ? p->q[p->head].due + p->lag : -1;
    return n;
}

size_t dhcp_pace_pending(const struct dhcp_pace *p)
{
    return p->len;
}
