/*
 * libFuzzer target for dhcp/packet and dhcp/engine: one datagram in. The parser must keep
 * every option value inside its own buffer; a parsed message written back with the writer
 * must parse to the same options; and the engine (one subnet, a pool of four, a store that
 * keeps nothing) must answer or stay silent without reading or writing out of bounds, with a
 * reply that parses.
 */
#include "dhcp/engine.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int save(void *ctx, const struct dhcp_lease *l)
{
    return 0;
}

static struct dhcp_engine *engine(void)
{
    static struct dhcp_engine *e;
    static struct dhcp_subnet s;
    static struct dhcp_config cfg;
    static const struct dhcp_engine_ops ops = {save, NULL, NULL};
    if (e)
        return e;
    const char *why;
    if (dhcp_subnet_init(&s, "10.0.0.0/24", &why) < 0 ||
        dhcp_subnet_set(&s, "interface", "eth0", &why) < 0 ||
        dhcp_subnet_set(&s, "pool", "10.0.0.10 - 10.0.0.13", &why) < 0 ||
        dhcp_subnet_set(&s, "router", "10.0.0.1", &why) < 0 ||
        dhcp_subnet_set(&s, "domain", "lan.example", &why) < 0 ||
        dhcp_subnet_set(&s, "reserve", "52:54:00:00:00:01 10.0.0.5", &why) < 0 ||
        dhcp_subnet_finish(&s, &why) < 0)
        abort();
    cfg = (struct dhcp_config){&s, 1, 60, 600};
    e = dhcp_engine_new(&cfg, &ops, NULL, &why);
    return e;
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
    if (now % 97 == 0)
        dhcp_engine_expire(engine(), now);
    return 0;
}
