/* dhcp/pace — see pace.h. A FIFO (ring) of items with their due times. */
#include "dhcp/pace.h"

#include "core/xmalloc.h"

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
    int64_t open;     /* how long it was open */
    unsigned n, i;    /* its size, and the next item's rank in it */
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

void dhcp_pace_group(struct dhcp_pace *p, int64_t committed, unsigned n, int64_t open)
{
    int64_t start = committed - p->lag;
    p->start = start > p->last_due ? start : p->last_due;
    p->open = open > 0 ? open : 0;
    p->n = n;
    p->i = 0;
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

void dhcp_pace_push(struct dhcp_pace *p, void *item)
{
    int64_t off = 0;
    if (p->i < p->n)
        off = p->open * p->i / ((int64_t)p->n * DHCP_PACE_SPEEDUP);
    p->i++;
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
    unsigned n = 0;
    int64_t due = 0;
    while (p->len && n < p->burst && (due = p->q[p->head].due + p->lag) <= now) {
        out[n++] = p->q[p->head].item;
        p->head = (p->head + 1) % p->cap;
        p->len--;
    }
    /* A full burst and more were due (the caller's thread did not run for a while): the
     * rest of the schedule moves back so that the last one taken was due now, and what fell
     * due meanwhile keeps its spacing instead of leaving in one go */
    if (n == p->burst && p->len && p->q[p->head].due + p->lag <= now && now != INT64_MAX)
        p->lag += now - due;
    *next_out = p->len ? p->q[p->head].due + p->lag : -1;
    return n;
}

size_t dhcp_pace_pending(const struct dhcp_pace *p)
{
    return p->len;
}
