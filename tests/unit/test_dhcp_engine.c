/* dhcp/engine with a fake lease store: DORA, the REQUEST states, NAK, silence, DECLINE,
 * RELEASE, INFORM, reservations, persistence, exhaustion, relays, expiry, a failing store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dhcp/engine.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fake store ---- */

static struct dhcp_lease saved[64];
static unsigned nsaved, nbound, nunbound;
static bool store_fails;
static char last_bound[64], last_unbound[64];

static int fake_save(void *ctx, const struct dhcp_lease *l)
{
    if (store_fails)
        return -1;
    if (nsaved < 64)
        saved[nsaved++] = *l;
    return 0;
}

static void fake_bound(void *ctx, const struct dhcp_lease *l, const struct dhcp_subnet *s)
{
    nbound++;
    strcpy(last_bound, l->hostname);
}

static void fake_unbound(void *ctx, const struct dhcp_lease *l, const struct dhcp_subnet *s)
{
    nunbound++;
    strcpy(last_unbound, l->hostname);
}

static const struct dhcp_engine_ops ops = {fake_save, fake_bound, fake_unbound};

/* ---- config: 10.0.0.0/24 on eth0 (pool .100-.102, a reservation), 10.9.0.0/24 relayed ---- */

static struct dhcp_subnet subnets[2];
static struct dhcp_config cfg;
static struct dhcp_engine *e;
static const struct dhcp_rx rx_eth0 = {"eth0", 0x0100000a /* 10.0.0.1 */, true};
static struct dhcp_reply out;
static struct dhcp_packet rep;

static void set(struct dhcp_subnet *s, const char *k, const char *v)
{
    const char *why;
    if (dhcp_subnet_set(s, k, v, &why) < 0)
        fail_msg("%s = %s: %s", k, v, why);
}

static int setup(void **state)
{
    const char *why;
    assert_int_equal(dhcp_subnet_init(&subnets[0], "10.0.0.0/24", &why), 0);
    set(&subnets[0], "interface", "eth0");
    set(&subnets[0], "pool", "10.0.0.100 - 10.0.0.102");
    set(&subnets[0], "router", "10.0.0.1");
    set(&subnets[0], "dns", "10.0.0.1 10.0.0.2");
    set(&subnets[0], "domain", "lan.example");
    set(&subnets[0], "search", "lan.example example");
    set(&subnets[0], "routes", "10.5.0.0/16 10.0.0.254");
    set(&subnets[0], "reserve", "52:54:00:00:00:99 10.0.0.50");
    set(&subnets[0], "reserve", "52:54:00:00:00:98 10.0.0.51 Printer-2");
    set(&subnets[0], "lease_time", "600");
    assert_int_equal(dhcp_subnet_finish(&subnets[0], &why), 0);
    assert_int_equal(dhcp_subnet_init(&subnets[1], "10.9.0.0/24", &why), 0);
    set(&subnets[1], "pool", "10.9.0.10 - 10.9.0.20");
    set(&subnets[1], "router", "10.9.0.1");
    assert_int_equal(dhcp_subnet_finish(&subnets[1], &why), 0);
    cfg = (struct dhcp_config){subnets, 2, 60, 3600, 0};
    e = dhcp_engine_new(&cfg, &ops, NULL, &why);
    assert_non_null(e);
    nsaved = nbound = nunbound = 0;
    store_fails = false;
    return 0;
}

static int teardown(void **state)
{
    dhcp_engine_free(e);
    dhcp_subnet_clear(&subnets[0]);
    dhcp_subnet_clear(&subnets[1]);
    return 0;
}

/* ---- building client messages ---- */

struct msg {
    uint8_t b[600];
    size_t n;
};

static void msg_start(struct msg *m, int type, uint8_t mac_last)
{
    memset(m, 0, sizeof *m);
    m->b[0] = 1, m->b[1] = 1, m->b[2] = 6;
    m->b[4] = 0x11, m->b[7] = mac_last;
    memcpy(m->b + 28, "\x52\x54\x00\x00\x00", 5);
    m->b[33] = mac_last;
    m->b[236] = 99, m->b[237] = 130, m->b[238] = 83, m->b[239] = 99;
    m->n = 240;
    m->b[m->n++] = 53, m->b[m->n++] = 1, m->b[m->n++] = (uint8_t)type;
}

static void msg_opt(struct msg *m, uint8_t code, const void *v, size_t len)
{
    m->b[m->n++] = code;
    m->b[m->n++] = (uint8_t)len;
    memcpy(m->b + m->n, v, len);
    m->n += len;
}

static void msg_addr_opt(struct msg *m, uint8_t code, const char *a)
{
    struct in_addr in;
    inet_pton(AF_INET, a, &in);
    msg_opt(m, code, &in, 4);
}

static void msg_field(struct msg *m, size_t off, const char *a)
{
    struct in_addr in;
    inet_pton(AF_INET, a, &in);
    memcpy(m->b + off, &in, 4);
}

static int send_at(struct msg *m, const struct dhcp_rx *rx, int64_t now)
{
    m->b[m->n++] = 255;
    const char *why;
    int rc = dhcp_engine_handle(e, rx, m->b, m->n, now, &out, &why);
    if (rc == DHCP_OUT_REPLY) {
        assert_int_equal(dhcp_packet_parse(out.buf, out.len, &rep), 0);
        assert_int_equal(dhcp_packet_msg_type(&rep), out.type);
    }
    return rc;
}

static int send_msg(struct msg *m)
{
    return send_at(m, &rx_eth0, 1000);
}

static const char *yiaddr(void)
{
    static char s[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &rep.yiaddr, s, sizeof s);
}

static int discover(uint8_t mac)
{
    struct msg m;
    msg_start(&m, DHCP_DISCOVER, mac);
    return send_msg(&m);
}

static int select_offer(uint8_t mac, const char *addr, const char *server)
{
    struct msg m;
    msg_start(&m, DHCP_REQUEST, mac);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, addr);
    msg_addr_opt(&m, DHCP_OPT_SERVER_ID, server);
    msg_opt(&m, DHCP_OPT_HOSTNAME, "Host-One", 8);
    return send_msg(&m);
}

/* ---- tests ---- */

static void test_dora(void **state)
{
    assert_int_equal(discover(1), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_OFFER);
    assert_string_equal(yiaddr(), "10.0.0.100");
    assert_int_equal(out.dest, DHCP_DEST_HWADDR); /* no broadcast bit, no address yet */
    size_t n;
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_SERVER_ID, &n), "\x0a\x00\x00\x01", 4);
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_LEASE_TIME, &n), "\x00\x00\x02\x58", 4);
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_T1, &n), "\x00\x00\x01\x2c", 4);
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_T2, &n), "\x00\x00\x02\x0d", 4);
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_SUBNET_MASK, &n), "\xff\xff\xff\x00", 4);
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_DNS, &n), "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    const uint8_t *dom = dhcp_packet_opt(&rep, DHCP_OPT_DOMAIN, &n);
    assert_int_equal(n, 11);
    assert_memory_equal(dom, "lan.example", 11);
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_SEARCH, &n), "\x03lan\x07" "example\x00", 13);
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_CLASSLESS_ROUTES, &n),
                        "\x10\x0a\x05\x0a\x00\x00\xfe", 7);
    assert_int_equal(nsaved, 0); /* an offer is not durable */

    assert_int_equal(select_offer(1, "10.0.0.100", "10.0.0.1"), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_ACK);
    assert_string_equal(yiaddr(), "10.0.0.100");
    assert_int_equal(nsaved, 1);
    assert_int_equal(saved[0].state, DHCP_LEASE_BOUND);
    assert_int_equal(saved[0].expires, 1600);
    assert_int_equal(nbound, 1);
    assert_string_equal(last_bound, "host-one");
}

static void test_other_server_chosen(void **state)
{
    assert_int_equal(discover(1), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.100");
    assert_int_equal(discover(2), DHCP_OUT_REPLY); /* .101 and .102 held for their offers */
    assert_int_equal(discover(3), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.102");
    assert_int_equal(discover(4), DHCP_OUT_NO_ADDRESS);
    assert_int_equal(select_offer(1, "10.0.0.100", "10.0.0.77"), DHCP_OUT_SILENT);
    /* the offer went back at once (not after offer_time): the next client gets it */
    assert_int_equal(discover(4), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.100");
    assert_int_equal(nsaved, 0);
}

static void test_request_wrong_offer_naks(void **state)
{
    assert_int_equal(discover(1), DHCP_OUT_REPLY);
    assert_int_equal(discover(2), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.101");
    /* client 1 asks for client 2's offered address */
    assert_int_equal(select_offer(1, "10.0.0.101", "10.0.0.1"), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_NAK);
    assert_int_equal(out.dest, DHCP_DEST_BROADCAST);
    assert_int_equal(rep.yiaddr, 0);
}

static void test_init_reboot(void **state)
{
    struct msg m;
    msg_start(&m, DHCP_REQUEST, 3);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "192.168.7.7"); /* another network's */
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_NAK);
    msg_start(&m, DHCP_REQUEST, 3);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "10.0.0.102"); /* free in our pool */
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_ACK);
    assert_string_equal(yiaddr(), "10.0.0.102");
    /* another client rebooting with the same address is refused */
    msg_start(&m, DHCP_REQUEST, 4);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "10.0.0.102");
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_NAK);
    /* not authoritative: silence instead */
    subnets[0].authoritative = false;
    msg_start(&m, DHCP_REQUEST, 4);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "192.168.7.7");
    assert_int_equal(send_msg(&m), DHCP_OUT_SILENT);
    subnets[0].authoritative = true;
}

static void test_renew_rebind_release(void **state)
{
    discover(1);
    select_offer(1, "10.0.0.100", "10.0.0.1");
    struct msg m;
    msg_start(&m, DHCP_REQUEST, 1); /* RENEWING: ciaddr, unicast */
    msg_field(&m, 12, "10.0.0.100");
    const struct dhcp_rx unicast = {"eth0", 0x0100000a, false};
    assert_int_equal(send_at(&m, &unicast, 1300), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_ACK);
    assert_int_equal(out.dest, DHCP_DEST_UNICAST);
    assert_int_equal(saved[nsaved - 1].expires, 1900);
    msg_start(&m, DHCP_REQUEST, 1); /* REBINDING: ciaddr, broadcast */
    msg_field(&m, 12, "10.0.0.100");
    assert_int_equal(send_at(&m, &rx_eth0, 1500), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_ACK);
    assert_int_equal(saved[nsaved - 1].expires, 2100);
    /* RELEASE, then the address stays this client's while free */
    msg_start(&m, DHCP_RELEASE, 1);
    msg_field(&m, 12, "10.0.0.100");
    msg_addr_opt(&m, DHCP_OPT_SERVER_ID, "10.0.0.1");
    assert_int_equal(send_at(&m, &unicast, 1600), DHCP_OUT_SILENT);
    assert_int_equal(saved[nsaved - 1].state, DHCP_LEASE_RELEASED);
    assert_int_equal(nunbound, 1);
    discover(2);
    assert_string_equal(yiaddr(), "10.0.0.101");
    discover(1);
    assert_string_equal(yiaddr(), "10.0.0.100");
}

static void test_reservation(void **state)
{
    assert_int_equal(discover(0x99), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.50");
    /* nobody else gets it, even asking */
    struct msg m;
    msg_start(&m, DHCP_REQUEST, 5);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "10.0.0.50");
    send_msg(&m);
    assert_int_equal(out.type, DHCP_NAK);
}

/* A reservation with a name: the host is told it in option 12 (RFC 2132 §3.14) and goes into
 * DNS under it, whatever name it sends itself; other clients get no option 12. */
static void test_reservation_name(void **state)
{
    size_t n;
    const uint8_t *v;
    assert_int_equal(discover(0x98), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.51");
    v = dhcp_packet_opt(&rep, DHCP_OPT_HOSTNAME, &n);
    assert_non_null(v);
    assert_int_equal(n, 9);
    assert_memory_equal(v, "printer-2", 9);
    assert_int_equal(select_offer(0x98, "10.0.0.51", "10.0.0.1"), DHCP_OUT_REPLY); /* "Host-One" */
    assert_int_equal(out.type, DHCP_ACK);
    v = dhcp_packet_opt(&rep, DHCP_OPT_HOSTNAME, &n);
    assert_non_null(v);
    assert_memory_equal(v, "printer-2", 9);
    assert_string_equal(last_bound, "printer-2");
    assert_int_equal(discover(0x99), DHCP_OUT_REPLY); /* reserved without a name */
    assert_null(dhcp_packet_opt(&rep, DHCP_OPT_HOSTNAME, &n));
    assert_int_equal(select_offer(0x07, "10.0.0.100", "10.0.0.1"), DHCP_OUT_REPLY);
    assert_null(dhcp_packet_opt(&rep, DHCP_OPT_HOSTNAME, &n));
    assert_string_equal(last_bound, "host-one");
}

static void test_exhaustion_and_decline(void **state)
{
    for (uint8_t mac = 1; mac <= 3; mac++) {
        assert_int_equal(discover(mac), DHCP_OUT_REPLY);
        char want[16];
        snprintf(want, sizeof want, "10.0.0.%u", 99 + mac);
        select_offer(mac, want, "10.0.0.1");
        assert_int_equal(out.type, DHCP_ACK);
    }
    assert_int_equal(discover(4), DHCP_OUT_NO_ADDRESS);
    /* client 3 finds its address in use: DECLINE quarantines it */
    struct msg m;
    msg_start(&m, DHCP_DECLINE, 3);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "10.0.0.102");
    msg_addr_opt(&m, DHCP_OPT_SERVER_ID, "10.0.0.1");
    assert_int_equal(send_msg(&m), DHCP_OUT_SILENT);
    assert_int_equal(saved[nsaved - 1].state, DHCP_LEASE_DECLINED);
    assert_int_equal(saved[nsaved - 1].expires, 1000 + 3600);
    assert_int_equal(discover(3), DHCP_OUT_NO_ADDRESS);
    /* after the probation, the address returns */
    dhcp_engine_expire(e, 4600);
    assert_int_equal(send_at(&(struct msg){0}, &rx_eth0, 0) == DHCP_OUT_MALFORMED, 1);
    msg_start(&m, DHCP_DISCOVER, 3);
    assert_int_equal(send_at(&m, &rx_eth0, 4601), DHCP_OUT_REPLY);
    /* 4600 > every lease's expiry: all three addresses are free again */
    assert_true(rep.yiaddr != 0);
}

/* A declined address that comes back after its probation is never-used again: it is offered
 * before an address another client let expire, although the search for never-used addresses
 * had already moved past it (engine.c's cursor). */
static void test_declined_address_offered_again_first(void **state)
{
    for (uint8_t mac = 1; mac <= 2; mac++) {
        assert_int_equal(discover(mac), DHCP_OUT_REPLY);
        char want[16];
        snprintf(want, sizeof want, "10.0.0.%u", 99 + mac);
        assert_string_equal(yiaddr(), want);
        select_offer(mac, want, "10.0.0.1");
        assert_int_equal(out.type, DHCP_ACK);
    }
    struct msg m;
    msg_start(&m, DHCP_DECLINE, 2);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "10.0.0.101");
    msg_addr_opt(&m, DHCP_OPT_SERVER_ID, "10.0.0.1");
    assert_int_equal(send_msg(&m), DHCP_OUT_SILENT);
    assert_int_equal(discover(3), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.102");
    select_offer(3, "10.0.0.102", "10.0.0.1");
    assert_int_equal(out.type, DHCP_ACK);
    /* 4600: .100 and .102 have expired (1600), .101's probation is over */
    dhcp_engine_expire(e, 4600);
    msg_start(&m, DHCP_DISCOVER, 4);
    assert_int_equal(send_at(&m, &rx_eth0, 4601), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.101");
}

static void test_expiry_unbinds(void **state)
{
    discover(1);
    select_offer(1, "10.0.0.100", "10.0.0.1");
    assert_int_equal(dhcp_engine_expire(e, 1599), 0);
    assert_int_equal(dhcp_engine_expire(e, 1600), 1);
    assert_int_equal(nunbound, 1);
    assert_string_equal(last_unbound, "host-one");
    assert_int_equal(saved[nsaved - 1].state, DHCP_LEASE_EXPIRED);
}

/* Persistent allocation after expiry: the lapsed lease remembers its client, which gets the
 * same address back while it is free; a new client gets a never-used one. */
static void test_expired_address_back_to_its_client(void **state)
{
    discover(1);
    select_offer(1, "10.0.0.100", "10.0.0.1");
    assert_int_equal(out.type, DHCP_ACK);
    assert_int_equal(dhcp_engine_expire(e, 1600), 1);
    struct msg m;
    msg_start(&m, DHCP_DISCOVER, 2);
    assert_int_equal(send_at(&m, &rx_eth0, 1700), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.101");
    msg_start(&m, DHCP_DISCOVER, 1);
    assert_int_equal(send_at(&m, &rx_eth0, 1700), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.100");
}

static uint32_t opt_u32(uint8_t code)
{
    size_t n;
    const uint8_t *v = dhcp_packet_opt(&rep, code, &n);
    assert_non_null(v);
    assert_int_equal(n, 4);
    return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
}

static int renew_at(uint8_t mac, const char *addr, const char *name, int64_t now)
{
    struct msg m;
    msg_start(&m, DHCP_REQUEST, mac);
    msg_field(&m, 12, addr);
    if (name)
        msg_opt(&m, DHCP_OPT_HOSTNAME, name, strlen(name));
    const struct dhcp_rx unicast = {"eth0", 0x0100000a, false};
    return send_at(&m, &unicast, now);
}

/* cache_threshold (ISC dhcpd's dhcp-cache-threshold): a client renewing its bound lease
 * less than 25 % of the lease time after it was granted gets it as it stands — the time it
 * has left, nothing saved, and the batch that saved it named so the ACK waits for that batch
 * only; later, or under another name, the lease is renewed and saved as before. */
static void test_cached_renewal(void **state)
{
    cfg.cache_threshold = 25; /* of 600 s: 150 s; T1 300, T2 525 */
    dhcp_engine_set_batch(e, 7);
    discover(1);
    assert_int_equal(select_offer(1, "10.0.0.100", "10.0.0.1"), DHCP_OUT_REPLY);
    assert_false(out.cached);
    assert_int_equal(nsaved, 1);
    dhcp_engine_set_batch(e, 8);
    assert_int_equal(renew_at(1, "10.0.0.100", "Host-One", 1100), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_ACK);
    assert_true(out.cached);
    assert_int_equal(out.saved_in, 7);
    assert_int_equal(nsaved, 1); /* nothing written */
    assert_int_equal(nbound, 1);
    assert_int_equal(opt_u32(DHCP_OPT_LEASE_TIME), 500);
    assert_int_equal(opt_u32(DHCP_OPT_T1), 200);
    assert_int_equal(opt_u32(DHCP_OPT_T2), 425);
    /* 150 s or more after the grant: renewed and saved in batch 8 */
    assert_int_equal(renew_at(1, "10.0.0.100", "Host-One", 1150), DHCP_OUT_REPLY);
    assert_false(out.cached);
    assert_int_equal(nsaved, 2);
    assert_int_equal(saved[1].expires, 1750);
    assert_int_equal(opt_u32(DHCP_OPT_LEASE_TIME), 600);
    assert_int_equal(renew_at(1, "10.0.0.100", "Host-One", 1160), DHCP_OUT_REPLY);
    assert_true(out.cached);
    assert_int_equal(out.saved_in, 8);
    assert_int_equal(opt_u32(DHCP_OPT_LEASE_TIME), 590);
    /* a new name is a change: saved, and the name goes to DNS */
    assert_int_equal(renew_at(1, "10.0.0.100", "other", 1170), DHCP_OUT_REPLY);
    assert_false(out.cached);
    assert_int_equal(nsaved, 3);
    assert_string_equal(last_bound, "other");
    /* after a lost batch (dhcp_engine_cache_off) every renewal is saved again */
    dhcp_engine_cache_off(e);
    assert_int_equal(renew_at(1, "10.0.0.100", "other", 1175), DHCP_OUT_REPLY);
    assert_false(out.cached);
    assert_int_equal(nsaved, 4);
    /* off: every renewal is saved */
    cfg.cache_threshold = 0;
    assert_int_equal(renew_at(1, "10.0.0.100", "other", 1180), DHCP_OUT_REPLY);
    assert_false(out.cached);
    assert_int_equal(nsaved, 5);
}

/* Where option `code` starts in the reply's options field (index from 240), or -1. */
static int opt_pos(uint8_t code)
{
    for (size_t i = 240; i < out.len;) {
        uint8_t c = out.buf[i];
        if (c == 255)
            break;
        if (c == 0) {
            i++;
            continue;
        }
        if (c == code)
            return (int)(i - 240);
        i += 2u + out.buf[i + 1];
    }
    return -1;
}

/* The options set by configuration (28 broadcast, 42 NTP, 43 vendor-specific and any raw
 * CODE HEX) are sent: in the order of the client's parameter request list, and all of them
 * when the client sends no list. */
static void test_configured_options_in_request_order(void **state)
{
    set(&subnets[0], "broadcast", "10.0.0.255");
    set(&subnets[0], "ntp", "10.0.0.3");
    set(&subnets[0], "option", "43 01:04:70:69:67:6e");
    set(&subnets[0], "option", "66 74667470");
    struct msg m;
    msg_start(&m, DHCP_DISCOVER, 1);
    msg_opt(&m, DHCP_OPT_PARAM_LIST, "\x2a\x2b\x1c\x03\x01", 5); /* 42 43 28 3 1 */
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    size_t n;
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_BROADCAST, &n), "\x0a\x00\x00\xff", 4);
    assert_memory_equal(dhcp_packet_opt(&rep, DHCP_OPT_NTP, &n), "\x0a\x00\x00\x03", 4);
    const uint8_t *v = dhcp_packet_opt(&rep, DHCP_OPT_VENDOR, &n);
    assert_non_null(v);
    assert_int_equal(n, 6);
    assert_memory_equal(v, "\x01\x04pign", 6);
    assert_true(opt_pos(42) < opt_pos(43) && opt_pos(43) < opt_pos(28) &&
                opt_pos(28) < opt_pos(3) && opt_pos(3) < opt_pos(1));
    assert_int_equal(opt_pos(66), -1); /* not asked for */
    assert_true(opt_pos(6) > opt_pos(1)); /* DNS and domain sent though not asked for */
    assert_true(opt_pos(15) > opt_pos(1));
    msg_start(&m, DHCP_DISCOVER, 1); /* no list: every configured option */
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    v = dhcp_packet_opt(&rep, 66, &n);
    assert_non_null(v);
    assert_memory_equal(v, "tftp", 4);
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_NTP, &n));
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_BROADCAST, &n));
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_VENDOR, &n));
}

/* A reply larger than the client's maximum message size (option 57: 576, so 308 bytes of
 * options) continues in the file and sname fields with option 52 (RFC 2132 §9.3), and the
 * client reads back every option whole. Without option 57 a client gets 548 bytes. */
static void test_reply_overloaded_to_fit(void **state)
{
    char hex[2 * 200 + 8] = "43 ";
    for (int i = 0; i < 200; i++)
        snprintf(hex + 3 + 2 * i, 3, "%02x", i);
    set(&subnets[0], "option", hex);
    set(&subnets[0], "search", "a-rather-long-search-domain.example.org "
                               "another-long-search-domain.example.net");
    struct msg m;
    msg_start(&m, DHCP_DISCOVER, 1);
    msg_opt(&m, DHCP_OPT_MAX_SIZE, "\x02\x40", 2);
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_int_equal(out.len, 548);
    assert_true(rep.overload == 1 || rep.overload == 3);
    size_t n;
    const uint8_t *v = dhcp_packet_opt(&rep, DHCP_OPT_VENDOR, &n);
    assert_non_null(v);
    assert_int_equal(n, 200);
    for (int i = 0; i < 200; i++)
        assert_int_equal(v[i], i);
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_SEARCH, &n));
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_ROUTER, &n));
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_CLASSLESS_ROUTES, &n));
    msg_start(&m, DHCP_DISCOVER, 1); /* a client that takes 1500 bytes: no overload */
    msg_opt(&m, DHCP_OPT_MAX_SIZE, "\x05\xdc", 2);
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_int_equal(rep.overload, 0);
    assert_true(out.len > 548);
}

static void test_relay(void **state)
{
    struct msg m;
    msg_start(&m, DHCP_DISCOVER, 7);
    msg_field(&m, 24, "10.9.0.1");
    msg_opt(&m, DHCP_OPT_RELAY_INFO, "\x01\x04" "port", 6);
    msg_opt(&m, DHCP_OPT_CLIENT_ID, "\x01\x52\x54\x00\x00\x00\x07", 7);
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.9.0.10");
    assert_int_equal(out.dest, DHCP_DEST_RELAY);
    size_t n;
    const uint8_t *v = dhcp_packet_opt(&rep, DHCP_OPT_RELAY_INFO, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(v, "\x01\x04" "port", 6);
    v = dhcp_packet_opt(&rep, DHCP_OPT_CLIENT_ID, &n); /* RFC 6842 */
    assert_int_equal(n, 7);
    /* a relayed REQUEST for an address of another network: NAK with the broadcast bit */
    msg_start(&m, DHCP_REQUEST, 7);
    msg_field(&m, 24, "10.9.0.1");
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "10.0.0.100");
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_NAK);
    assert_int_equal(out.dest, DHCP_DEST_RELAY);
    assert_int_equal(rep.flags & DHCP_FLAG_BROADCAST, DHCP_FLAG_BROADCAST);
    /* a relay for a network we do not serve */
    msg_start(&m, DHCP_DISCOVER, 7);
    msg_field(&m, 24, "172.16.0.1");
    assert_int_equal(send_msg(&m), DHCP_OUT_NO_SUBNET);
}

static void test_store_failure_no_ack(void **state)
{
    discover(1);
    store_fails = true;
    assert_int_equal(select_offer(1, "10.0.0.100", "10.0.0.1"), DHCP_OUT_STORE);
    assert_int_equal(nbound, 0);
    store_fails = false;
    assert_int_equal(select_offer(1, "10.0.0.100", "10.0.0.1"), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_ACK);
}

static void test_inform_and_fqdn(void **state)
{
    struct msg m;
    msg_start(&m, DHCP_INFORM, 9);
    msg_field(&m, 12, "10.0.0.30");
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_ACK);
    assert_int_equal(out.dest, DHCP_DEST_UNICAST);
    size_t n;
    assert_null(dhcp_packet_opt(&rep, DHCP_OPT_LEASE_TIME, &n));
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_ROUTER, &n));
    /* option 81, wire-encoded (E set): its first label is the name; S and O in the answer */
    discover(1);
    msg_start(&m, DHCP_REQUEST, 1);
    msg_addr_opt(&m, DHCP_OPT_REQUESTED_ADDR, "10.0.0.100");
    msg_addr_opt(&m, DHCP_OPT_SERVER_ID, "10.0.0.1");
    msg_opt(&m, DHCP_OPT_FQDN, "\x04\x00\x00\x05" "laptp\x03" "foo\x00", 14);
    assert_int_equal(send_msg(&m), DHCP_OUT_REPLY);
    assert_string_equal(last_bound, "laptp");
    const uint8_t *v = dhcp_packet_opt(&rep, DHCP_OPT_FQDN, &n);
    assert_non_null(v);
    assert_int_equal(v[0], 0x07);
    assert_memory_equal(v + 3, "\x05laptp\x03lan\x07" "example\x00", 19);
    assert_int_equal(n, 22);
}

static void test_malformed(void **state)
{
    uint8_t junk[300] = {1, 1, 6};
    const char *why;
    assert_int_equal(dhcp_engine_handle(e, &rx_eth0, junk, 100, 1000, &out, &why),
                     DHCP_OUT_MALFORMED);
    assert_string_equal(why, "shorter than a BOOTP header");
    assert_int_equal(dhcp_engine_handle(e, &rx_eth0, junk, 300, 1000, &out, &why),
                     DHCP_OUT_MALFORMED);
    assert_string_equal(why, "bad magic cookie");
    struct msg m;
    msg_start(&m, DHCP_REQUEST, 1); /* neither ciaddr nor option 50 */
    assert_int_equal(send_msg(&m), DHCP_OUT_MALFORMED);
    msg_start(&m, DHCP_OFFER, 1);
    assert_int_equal(send_msg(&m), DHCP_OUT_MALFORMED);
    msg_start(&m, DHCP_DISCOVER, 1);
    msg_opt(&m, DHCP_OPT_CLIENT_ID, "\x01", 1);
    assert_int_equal(send_msg(&m), DHCP_OUT_MALFORMED);
    const struct dhcp_rx other = {"eth9", 0x0100000a, true};
    msg_start(&m, DHCP_DISCOVER, 1);
    assert_int_equal(send_at(&m, &other, 1000), DHCP_OUT_NO_SUBNET);
}

static void test_restore(void **state)
{
    struct dhcp_lease l = {.addr = 0x0a000065, .state = DHCP_LEASE_BOUND, .expires = 5000,
                           .key_len = 8, .htype = 1, .hlen = 6};
    memcpy(l.key, "H\x01\x52\x54\x00\x00\x00\x01", 8);
    memcpy(l.chaddr, "\x52\x54\x00\x00\x00\x01", 6);
    assert_true(dhcp_engine_restore(e, &l));
    discover(1);
    assert_string_equal(yiaddr(), "10.0.0.101");
    l.addr = 0x0b000001;
    assert_false(dhcp_engine_restore(e, &l));
}

/* A BOOTREQUEST without option 53 (RFC 951 with the RFC 1048 cookie). */
static int bootp_at(uint8_t mac_last, int64_t now)
{
    struct msg m;
    msg_start(&m, DHCP_DISCOVER, mac_last);
    m.n = 240; /* no option 53 */
    m.b[m.n++] = 255;
    const char *why;
    int rc = dhcp_engine_handle(e, &rx_eth0, m.b, m.n, now, &out, &why);
    if (rc == DHCP_OUT_REPLY)
        assert_int_equal(dhcp_packet_parse(out.buf, out.len, &rep), 0);
    return rc;
}

static void test_bootp(void **state)
{
    /* default bootp = reserved: the reserved client gets its address, for ever */
    assert_int_equal(bootp_at(0x99, 1000), DHCP_OUT_REPLY);
    assert_int_equal(out.type, DHCP_BOOTP_REPLY);
    assert_int_equal(out.len, 300);
    assert_int_equal(dhcp_packet_msg_type(&rep), 0); /* no DHCP message type */
    assert_null(dhcp_packet_opt(&rep, DHCP_OPT_LEASE_TIME, &(size_t){0}));
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_SUBNET_MASK, &(size_t){0}));
    assert_non_null(dhcp_packet_opt(&rep, DHCP_OPT_ROUTER, &(size_t){0}));
    assert_string_equal(yiaddr(), "10.0.0.50");
    assert_int_equal(saved[nsaved - 1].state, DHCP_LEASE_BOUND);
    assert_true(saved[nsaved - 1].expires == DHCP_NEVER);
    dhcp_engine_expire(e, 1000000000);
    assert_int_equal(saved[nsaved - 1].state, DHCP_LEASE_BOUND); /* never expires */
    /* an unreserved BOOTP client: nothing */
    assert_int_equal(bootp_at(1, 1000), DHCP_OUT_SILENT);
    /* bootp = dynamic: a pool address */
    set(&subnets[0], "bootp", "dynamic");
    assert_int_equal(bootp_at(1, 1000), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.100");
    set(&subnets[0], "bootp", "no");
    assert_int_equal(bootp_at(0x99, 1000), DHCP_OUT_SILENT);
    const char *why;
    assert_int_equal(dhcp_subnet_set(&subnets[0], "bootp", "maybe", &why), -1);
}

static void test_ping_conflict(void **state)
{
    assert_int_equal(discover(1), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.100");
    /* the ICMP check hears 10.0.0.100 answer: quarantined, and the next offer differs */
    assert_int_equal(dhcp_engine_conflict(e, 0x0a000064, 1000), 0);
    assert_int_equal(saved[nsaved - 1].state, DHCP_LEASE_DECLINED);
    assert_int_equal(saved[nsaved - 1].expires, 1000 + 3600);
    assert_int_equal(discover(1), DHCP_OUT_REPLY);
    assert_string_equal(yiaddr(), "10.0.0.101");
    /* a bound address is never taken back this way; one outside every pool is unknown */
    select_offer(1, "10.0.0.101", "10.0.0.1");
    assert_int_equal(out.type, DHCP_ACK);
    assert_int_equal(dhcp_engine_conflict(e, 0x0a000065, 1000), -1);
    assert_int_equal(dhcp_engine_conflict(e, 0x0b000001, 1000), -1);
}

static void test_config_errors(void **state)
{
    struct dhcp_subnet s;
    const char *why;
    assert_int_equal(dhcp_subnet_init(&s, "10.0.0.1/24", &why), -1);
    assert_int_equal(dhcp_subnet_init(&s, "10.0.0.0/33", &why), -1);
    assert_int_equal(dhcp_subnet_init(&s, "10.0.0.0/24", &why), 0);
    assert_int_equal(dhcp_subnet_set(&s, "pool", "10.0.0.9 - 10.0.0.1", &why), -1);
    assert_int_equal(dhcp_subnet_set(&s, "option", "51 00000e10", &why), -1);
    assert_int_equal(dhcp_subnet_set(&s, "option", "43 zz", &why), -1);
    assert_int_equal(dhcp_subnet_set(&s, "reserve", "52:54:00 10.0.0.5", &why), -1);
    assert_int_equal(dhcp_subnet_set(&s, "reserve", "52:54:00:00:00:01 10.0.0.5 -x", &why), -1);
    assert_int_equal(dhcp_subnet_set(&s, "reserve", "52:54:00:00:00:01 10.0.0.5 a.b", &why), -1);
    assert_int_equal(dhcp_subnet_set(&s, "reserve", "52:54:00:00:00:01 10.0.0.5 a b", &why), -1);
    assert_int_equal(dhcp_subnet_set(&s, "pool", "10.0.1.1 - 10.0.1.9", &why), 0);
    assert_int_equal(dhcp_subnet_finish(&s, &why), -1);
    dhcp_subnet_clear(&s);
    uint8_t key[DHCP_KEY_MAX];
    char text[64];
    size_t n = dhcp_key_parse("52:54:00:AB:cd:01", key);
    assert_int_equal(n, 8);
    dhcp_key_format(key, n, text, sizeof text);
    assert_string_equal(text, "52:54:00:ab:cd:01");
    n = dhcp_key_parse("id:ff0102", key);
    assert_int_equal(n, 4);
    dhcp_key_format(key, n, text, sizeof text);
    assert_string_equal(text, "id:ff0102");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_dora),          T(test_other_server_chosen), T(test_request_wrong_offer_naks),
        T(test_init_reboot),   T(test_renew_rebind_release), T(test_reservation), T(test_reservation_name),
        T(test_exhaustion_and_decline), T(test_declined_address_offered_again_first),
        T(test_expiry_unbinds), T(test_expired_address_back_to_its_client),
        T(test_configured_options_in_request_order), T(test_reply_overloaded_to_fit),
        T(test_cached_renewal), T(test_relay),
        T(test_store_failure_no_ack), T(test_inform_and_fqdn), T(test_malformed),
        T(test_restore),       T(test_bootp),             T(test_ping_conflict),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
