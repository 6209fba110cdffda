/*
 * libFuzzer target for dhcp/packet and dhcp/engine: one datagram in. The parser must keep
 * every option value inside its own buffer; a parsed message written back with the writer
 * must parse to the same options; and the engine must answer or stay silent without reading
 * or writing out of bounds, with a reply that parses. The engine has two subnets, a store
 * that keeps nothing, and counts that must stay consistent: one on eth0 (a pool of four, a
 * reservation, BOOTP for reserved clients only) and one reached through a relay (giaddr in
 * 10.1.0.0/24: a pool of three, dynamic BOOTP, a classless route and a raw option). Now and
 * then an address is found in use (the ICMP check) or released by the administrator, and
 * leases expire, so every lease state meets every message type; the lease cache is on
 * (cache_threshold 25), so renewals also take the cached path.
 */
#include "dhcp/engine.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int save(void *ctx, const struct dhcp_lease *l)
{
    return 0;
}

static void bound(void *ctx, const struct dhcp_lease *l, const struct dhcp_subnet *s)
{
    if (!l->hostname[0] || strlen(l->hostname) >= sizeof l->hostname)
        abort();
}

static struct dhcp_subnet subnets[2];

static void subnet(struct dhcp_subnet *s, const char *cidr, const char *const *kv)
{
    const char *why;
    if (dhcp_subnet_init(s, cidr, &why) < 0)
        abort();
    for (; kv[0]; kv += 2)
        if (dhcp_subnet_set(s, kv[0], kv[1], &why) < 0)
            abort();
    if (dhcp_subnet_finish(s, &why) < 0)
        abort();
}

static struct dhcp_engine *engine(void)
{
    static struct dhcp_engine *e;
    static struct dhcp_config cfg;
    static const struct dhcp_engine_ops ops = {save, bound, bound};
    if (e)
        return e;
    static const char *const local[] = {
        "interface", "eth0", "pool", "10.0.0.10 - 10.0.0.13", "router", "10.0.0.1",
        "domain", "lan.example", "reserve", "52:54:00:00:00:01 10.0.0.5", NULL};
    static const char *const relayed[] = {
        "pool", "10.1.0.10 - 10.1.0.12", "router", "10.1.0.1", "bootp", "dynamic",
        "routes", "192.168.0.0/16 10.1.0.1", "option", "43 01:02", "lease_time", "120", NULL};
    subnet(&subnets[0], "10.0.0.0/24", local);
    subnet(&subnets[1], "10.1.0.0/24", relayed);
    cfg = (struct dhcp_config){subnets, 2, 60, 600, 25}; /* the lease cache on */
    const char *why;
    e = dhcp_engine_new(&cfg, &ops, NULL, &why);
    if (!e)
        abort();
    return e;
}

/* The counts of every subnet add up. */
static void check_stats(void)
{
    for (unsigned i = 0; i < 2; i++) {
        struct dhcp_pool_stats st;
        dhcp_engine_stats(engine(), &subnets[i], &st);
        if (st.bound + st.offered + st.declined > st.total)
            abort();
    }
}

static void roundtrip(const struct dhcp_packet *p)
{
    static struct dhcp_writer w;
    static struct dhcp_packet again;
    static uint8_t out[DHCP_MAX_LEN];
    dhcp_writer_init(&w);
    w.hdr = *p;
    for (unsigned c = 1; c < 255; c++)
        if (p->opt_has[c] && c != DHCP_OPT_OVERLOAD)
            dhcp_writer_opt(&w, (uint8_t)c, p->opt_data + p->opt_off[c], p->opt_len[c]);
    size_t n = dhcp_writer_finish(&w, out, DHCP_MAX_LEN);
    if (n == 0)
        return; /* more options than one message can carry, or over 64 of them */
    if (dhcp_packet_parse(out, n, &again) != 0)
        abort();
    for (unsigned c = 1; c < 255; c++) {
        if (c == DHCP_OPT_OVERLOAD)
            continue;
        if (again.opt_has[c] != p->opt_has[c] ||
            (p->opt_has[c] && (again.opt_len[c] != p->opt_len[c] ||
                               memcmp(again.opt_data + again.opt_off[c],
                                      p->opt_data + p->opt_off[c], p->opt_len[c]) != 0)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dhcp_packet p;
    if (dhcp_packet_parse(data, size, &p) == 0) {
        for (unsigned c = 0; c < 256; c++)
            if (p.opt_has[c] && (size_t)p.opt_off[c] + p.opt_len[c] > p.opt_used)
                abort();
        if (p.opt_used > DHCP_OPT_DATA_MAX)
            abort();
        roundtrip(&p);
    }
    static struct dhcp_reply out;
    static const struct dhcp_rx rx = {"eth0", 0x0100000a, true};
    static int64_t now = 1000;
    const char *why;
    int rc = dhcp_engine_handle(engine(), &rx, data, size, now++, &out, &why);
    if (rc == DHCP_OUT_REPLY && (out.len < DHCP_MIN_REPLY || out.len > DHCP_MAX_LEN ||
                                 dhcp_packet_parse(out.buf, out.len, &p) != 0))
        abort();
    if (rc == DHCP_OUT_MALFORMED && !why)
        abort();
    /* now and then: an address found in use, one released by hand, time passing */
    uint32_t a = (now & 1 ? 0x0a000000u : 0x0a010000u) | (uint32_t)(10 + now % 5);
    if (now % 13 == 0)
        dhcp_engine_conflict(engine(), a, now);
    if (now % 17 == 0)
        dhcp_engine_release_addr(engine(), a, now);
    if (now % 7 == 0)
        dhcp_engine_set_batch(engine(), (uint64_t)now); /* batches go by */
    if (now % 97 == 0) {
        now += 700; /* past the lease and probation times */
        dhcp_engine_expire(engine(), now);
    }
    check_stats();
    return 0;
}
