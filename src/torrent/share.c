/* torrent/share — see share.h. */
#include "torrent/share.h"

void tor_share_init(struct tor_share *sh)
{
    tor_share_reset(sh);
}

void tor_share_reset(struct tor_share *sh)
{
    sh->capacity = 0;
    sh->join_cap = 0;
    sh->spare = 0;
}

static uint64_t at_least_min(uint64_t cap)
{
    return cap < TOR_SHARE_MIN ? TOR_SHARE_MIN : cap;
}

/* Held: the cap stopped it with requests waiting, and it took about the whole cap (a
 * bucket may run dry for a moment while the window's average stays below the cap). */
static bool held(const struct tor_share_peer *p, uint64_t dt_ms)
{
    return p->held && p->cap && p->sent * 1000 / dt_ms >= p->cap - p->cap / 8;
}

/* The link's estimate after a window that carried total bytes/s. While a cap held some
 * peer back, the total says less than the link could carry: the estimate only decays when
 * none did. */
static uint64_t estimate(struct tor_share *sh, uint64_t total, size_t nheld, size_t n,
                         uint64_t dt_ms)
{
    uint64_t c = sh->capacity;
    if (nheld == 0)
        c -= c * (dt_ms < 8000 ? dt_ms : 8000) / 8000; /* 1/8 a second */
    if (total > c)
        c = total;
    if (n > 0 && nheld == n)
        c += c / 8; /* our caps were the limit: the link may carry more */
    sh->capacity = c;
    return c;
}

/* max-min: peers limited elsewhere are counted at what they took and room to grow (half as
 * much again, and at least a quarter of an equal share, more than the estimate may
 * overshoot the link by); their cap is an equal share. The others divide the rest; how
 * many are left. */
static size_t divide(struct tor_share_peer *p, const bool *was_held, size_t n, uint64_t dt_ms,
                     uint64_t c, uint64_t *rest)
{
    uint64_t equal = at_least_min(c / n + c / n / 16);
    size_t k = n;
    *rest = c;
    for (bool found = true; found && k > 0;) {
        found = false;
        uint64_t fair = *rest / k;
        for (size_t i = 0; i < n; i++) {
            uint64_t rate = p[i].sent * 1000 / dt_ms, want = rate + rate / 2;
            if (want < rate + c / n / 4)
                want = rate + c / n / 4;
            if (p[i].cap || was_held[i] || want >= fair)
                continue;
            p[i].cap = equal;
            *rest -= want;
            k--;
            found = true;
        }
    }
    return k;
}

/* Work-conserving: the part of C the window left unused (the room of peers that did not
 * grow into it, most often) is lent to the k peers that took their share, on top of their
 * caps, with a probe; returns what each gets. It builds up by half the unused part a window
 * and is given back by a quarter a window once the link is within 1/32 of C, so a peer that
 * does grow into its room gets it back, or when no cap held anyone back (the caps are not what limits).
 * Nothing is lent when every peer was held (the estimate grows instead) or when no peer is
 * limited elsewhere (no room to lend). */
static uint64_t lend_spare(struct tor_share *sh, size_t n, size_t nheld, size_t k, uint64_t c,
                           uint64_t total)
{
    if (nheld == n || k == 0 || k == n) {
        sh->spare = 0;
        return 0;
    }
    uint64_t unused = c > total ? c - total : 0;
    if (nheld > 0 && unused > c / 32)
        sh->spare += (unused - c / 32) / 2;
    else if (nheld == 0 || unused < c / 64)
        sh->spare -= sh->spare / 4;
    else
        sh->spare -= (c / 32 - unused) / 2 < sh->spare ? (c / 32 - unused) / 2 : sh->spare;
    if (sh->spare > c)
        sh->spare = c;
    /* and a sixteenth of C more while some peer was held: the probe that shows an estimate
     * that is too low (it only grows by itself when every peer is held), since what a held
     * peer takes beyond C raises it */
    return (sh->spare + (nheld > 0 ? c / 16 : 0)) / k;
}

void tor_share_run(struct tor_share *sh, struct tor_share_peer *p, size_t n, uint64_t dt_ms,
                   uint64_t limit)
{
    uint64_t total = 0;
    size_t nheld = 0;
    bool was_held[TOR_SHARE_MAX];
    if (n > TOR_SHARE_MAX)
        n = TOR_SHARE_MAX;
    for (size_t i = 0; i < n; i++) {
        total += p[i].sent;
        was_held[i] = held(&p[i], dt_ms);
        nheld += was_held[i];
        p[i].cap = 0;
    }
    uint64_t c = estimate(sh, total * 1000 / dt_ms, nheld, n, dt_ms);
    if (limit)
        c = limit;
    if (c == 0 || n < 2) {
        sh->join_cap = 0;
        return;
    }
    uint64_t rest;
    size_t k = divide(p, was_held, n, dt_ms, c, &rest);
    /* with no peer limited elsewhere, 1/16 more than the equal share lets a link that
     * carries more than C show it; with some, the room they may grow into is what is left */
    uint64_t each = k ? rest / k : 0;
    if (k == n)
        each += each / 16;
    uint64_t lent = lend_spare(sh, n, nheld, k, c, total * 1000 / dt_ms);
    for (size_t i = 0; i < n; i++)
        if (p[i].cap == 0)
            p[i].cap = at_least_min(each + lent);
    sh->join_cap = at_least_min(c / (n + 1) + c / (n + 1) / 16);
}
