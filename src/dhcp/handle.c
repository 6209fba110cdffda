/* dhcp/handle — one client message: RFC 2131 §4.3, one function per message type. */
#include "dhcp/engine_int.h"

#include "core/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

static bool in_subnet(const struct dhcp_subnet *s, uint32_t host)
{
    return (host & s->mask) == s->net;
}

/* RFC 2131 §4.3.1: giaddr names the relayed network; else the receiving interface's subnets
 * (the one holding a unicast client's ciaddr, if any). A unicast renewal (no giaddr, not
 * broadcast) may come from a relayed network: any subnet holding ciaddr. */
static int select_subnet(const struct dhcp_engine *e, const struct dhcp_rx *rx,
                         const struct dhcp_packet *req)
{
    const struct dhcp_config *cfg = e->cfg;
    if (req->giaddr) {
        for (unsigned i = 0; i < cfg->nsubnets; i++)
            if (in_subnet(&cfg->subnets[i], ntohl(req->giaddr)))
                return (int)i;
        return -1;
    }
    uint32_t ci = ntohl(req->ciaddr);
    int first = -1;
    for (unsigned i = 0; i < cfg->nsubnets; i++) {
        const struct dhcp_subnet *s = &cfg->subnets[i];
        bool here = s->iface[0] && strcmp(s->iface, rx->iface) == 0;
        if (ci && in_subnet(s, ci) && (here || !rx->to_broadcast))
            return (int)i;
        if (here && first < 0)
            first = (int)i;
    }
    return first;
}

/* A client's name as one DNS label: letters, digits and '-', lower case, at most 63. */
static void to_label(const uint8_t *p, size_t n, char out[64])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 63; i++) {
        unsigned char ch = p[i];
        if (ch == '.')
            break;
        if (isalnum(ch))
            out[k++] = (char)tolower(ch);
        else if ((ch == '-' || ch == '_' || ch == ' ') && k > 0)
            out[k++] = '-';
    }
    while (k > 0 && out[k - 1] == '-')
        k--;
    out[k] = '\0';
}

/* RFC 4702 §2.3: the name in option 81 is wire-encoded when E is set; we keep its first
 * label (the domain is ours to choose, §5), else option 12's. */
static void client_name(const struct dhcp_packet *req, struct dhcp_client *c)
{
    size_t n;
    const uint8_t *v = dhcp_packet_opt(req, DHCP_OPT_FQDN, &n);
    c->hostname[0] = '\0';
    if (v && n >= 3) {
        c->fqdn = true;
        c->fqdn_flags = v[0];
        if (v[0] & 0x04) {
            if (n > 4 && v[3] > 0 && v[3] <= n - 4)
                to_label(v + 4, v[3], c->hostname);
        } else {
            to_label(v + 3, n - 3, c->hostname);
        }
    }
    if (!c->hostname[0] && (v = dhcp_packet_opt(req, DHCP_OPT_HOSTNAME, &n)) != NULL)
        to_label(v, n, c->hostname);
}

static bool client_of(const struct dhcp_packet *req, struct dhcp_client *c)
{
    memset(c, 0, sizeof *c);
    c->htype = req->htype;
    c->hlen = req->hlen;
    memcpy(c->chaddr, req->chaddr, 16);
    c->hwkey[0] = 'H';
    c->hwkey[1] = req->htype;
    memcpy(c->hwkey + 2, req->chaddr, req->hlen);
    c->hwkey_len = (uint8_t)(2 + req->hlen);
    size_t n;
    const uint8_t *id = dhcp_packet_opt(req, DHCP_OPT_CLIENT_ID, &n);
    if (id) {
        if (n < 2 || n > DHCP_KEY_MAX - 1) /* RFC 2132 §9.14: at least 2 bytes */
            return false;
        c->key[0] = 'C';
        memcpy(c->key + 1, id, n);
        c->key_len = (uint8_t)(n + 1);
    } else {
        memcpy(c->key, c->hwkey, c->hwkey_len);
        c->key_len = c->hwkey_len;
    }
    client_name(req, c);
    return true;
}

struct ctx {
    struct dhcp_engine *e;
    const struct dhcp_rx *rx;
    int64_t now;
    unsigned subnet;
    const struct dhcp_subnet *s;
    struct dhcp_client c;
    uint32_t server_id; /* network order */
    struct dhcp_reply *out;
    const char *why;
    const char *state; /* a REQUEST's client state, for the log */
};

static int reply(struct ctx *x, int type, uint32_t yiaddr_host)
{
    uint32_t y = yiaddr_host ? htonl(yiaddr_host) : 0;
    if (!dhcp_reply_build(x->e, x->s, &x->c, type, y, x->server_id, x->out)) {
        x->why = "the reply does not fit the client's maximum message size";
        return DHCP_OUT_MALFORMED;
    }
    return DHCP_OUT_REPLY;
}

static int nak_or_silence(struct ctx *x)
{
    return x->s->authoritative ? reply(x, DHCP_NAK, 0) : DHCP_OUT_SILENT;
}

static int on_discover(struct ctx *x)
{
    uint32_t req = 0;
    if (dhcp_packet_opt_addr(&x->e->req, DHCP_OPT_REQUESTED_ADDR, &req))
        req = ntohl(req);
    int slot = dhcp_choose(x->e, x->subnet, &x->c, req, x->now);
    if (slot < 0)
        return DHCP_OUT_NO_ADDRESS;
    dhcp_slot_set_client(x->e, slot, &x->c);
    struct dhcp_lease *l = &x->e->slots[slot].lease;
    if (l->state != DHCP_LEASE_BOUND || l->expires <= x->now) {
        l->state = DHCP_LEASE_OFFERED;
        l->expires = x->now + x->e->cfg->offer_time;
    }
    return reply(x, DHCP_OFFER, l->addr);
}

/* Binds slot to the client until `until` and answers with `type` (ACK, or a BOOTP reply). */
static int bind_slot(struct ctx *x, int slot, int64_t until, int type)
{
    struct dhcp_engine *e = x->e;
    struct dhcp_lease *l = &e->slots[slot].lease;
    struct dhcp_lease before = *l;
    int old = dhcp_slot_of_client(e, &x->c, x->subnet);
    if (old >= 0 && old != slot && e->slots[old].lease.state == DHCP_LEASE_BOUND)
        dhcp_lease_end(e, old, DHCP_LEASE_RELEASED, x->now); /* the client moved address */
    bool renamed = before.state == DHCP_LEASE_BOUND && before.hostname[0] &&
                   strcmp(before.hostname, x->c.hostname) != 0;
    dhcp_slot_set_client(e, slot, &x->c);
    l->state = DHCP_LEASE_BOUND;
    l->expires = until;
    memcpy(l->hostname, x->c.hostname, sizeof l->hostname);
    if (e->ops.save && e->ops.save(e->ctx, l) < 0) {
        *l = before; /* nothing acknowledged: the store and memory agree again */
        return DHCP_OUT_STORE;
    }
    e->slots[slot].saved_in = e->batch;
    if (renamed && e->ops.unbound)
        e->ops.unbound(e->ctx, &before, x->s);
    if (l->hostname[0] && e->ops.bound)
        e->ops.bound(e->ctx, l, x->s);
    return reply(x, type, l->addr);
}

/* The client's own bound lease at slot, granted less than cache_threshold % of the lease
 * time ago and before its T1, under the same name: as ISC dhcpd (dhcp-cache-threshold, 25 %
 * by default) and Kea (cache-threshold) do, it is acknowledged as it stands, with the time it
 * has left, and nothing is written (a client rebooting, or renewing early, costs no disk
 * write). */
static bool cached(const struct ctx *x, int slot)
{
    const struct dhcp_lease *l = &x->e->slots[slot].lease;
    unsigned pct = x->e->cfg->cache_threshold;
    if (!pct || x->e->cache_off || l->state != DHCP_LEASE_BOUND || l->expires == DHCP_NEVER || l->expires <= x->now ||
        l->key_len != x->c.key_len || memcmp(l->key, x->c.key, l->key_len) != 0 ||
        strcmp(l->hostname, x->c.hostname) != 0)
        return false;
    int64_t age = x->now - (l->expires - (int64_t)x->s->lease_time);
    return age >= 0 && age < x->s->t1 && age * 100 < (int64_t)x->s->lease_time * pct;
}

/* Binds slot to the client and acknowledges, after the store has it; or, within the cache
 * threshold, acknowledges the lease as it stands. */
static int ack(struct ctx *x, int slot)
{
    if (cached(x, slot)) {
        const struct dhcp_lease *l = &x->e->slots[slot].lease;
        x->e->lease_age = (uint32_t)(x->now - (l->expires - (int64_t)x->s->lease_time));
        int rc = reply(x, DHCP_ACK, l->addr);
        x->e->lease_age = 0;
        x->out->cached = true;
        x->out->saved_in = x->e->slots[slot].saved_in;
        return rc;
    }
    return bind_slot(x, slot, x->now + x->s->lease_time, DHCP_ACK);
}

/* RFC 951 / RFC 1542: a BOOTREQUEST without a DHCP message type. The client's reserved
 * address, or (bootp = dynamic) one from the pool; bound for ever, as the client will never
 * renew (ISC dhcpd's dynamic-bootp default). A client that knows its address (ciaddr) gets
 * the same. Silence when the subnet does not serve BOOTP or has nothing for the client. */
static int on_bootp(struct ctx *x)
{
    const struct dhcp_reservation *r = dhcp_reservation_of(x->s, &x->c);
    int slot = -1;
    if (x->s->bootp == DHCP_BOOTP_NO)
        return DHCP_OUT_SILENT;
    if (r)
        slot = dhcp_slot_of(x->e, r->addr);
    else if (x->s->bootp == DHCP_BOOTP_DYNAMIC)
        slot = dhcp_choose(x->e, x->subnet, &x->c, ntohl(x->e->req.ciaddr), x->now);
    else
        return DHCP_OUT_SILENT;
    if (slot < 0)
        return DHCP_OUT_NO_ADDRESS;
    return bind_slot(x, slot, DHCP_NEVER, DHCP_BOOTP_REPLY);
}

/* INIT-REBOOT, RENEWING, REBINDING: addr (host order) must be right for this network and
 * this client (RFC 2131 §4.3.2). */
static int confirm(struct ctx *x, uint32_t addr)
{
    if (!in_subnet(x->s, addr))
        return nak_or_silence(x);
    const struct dhcp_reservation *r = dhcp_reservation_of(x->s, &x->c);
    int slot = dhcp_slot_of(x->e, addr);
    if ((r && r->addr != addr) || slot < 0 || x->e->slots[slot].subnet != x->subnet ||
        !dhcp_slot_usable(x->e, slot, &x->c, x->now))
        return nak_or_silence(x);
    return ack(x, slot);
}

static int on_request(struct ctx *x)
{
    const struct dhcp_packet *req = &x->e->req;
    uint32_t sid, addr = 0;
    bool has_addr = dhcp_packet_opt_addr(req, DHCP_OPT_REQUESTED_ADDR, &addr);
    if (dhcp_packet_opt_addr(req, DHCP_OPT_SERVER_ID, &sid)) {
        if (sid != x->server_id) {
            /* SELECTING another server's offer: ours goes back to the pool */
            int slot = dhcp_slot_of_client(x->e, &x->c, x->subnet);
            if (slot >= 0 && x->e->slots[slot].lease.state == DHCP_LEASE_OFFERED) {
                x->e->slots[slot].lease.state = DHCP_LEASE_EXPIRED;
                x->e->slots[slot].lease.expires = x->now;
            }
            return DHCP_OUT_SILENT;
        }
        if (!has_addr)
            addr = req->ciaddr;
        x->state = "selecting";
        return addr ? confirm(x, ntohl(addr)) : reply(x, DHCP_NAK, 0);
    }
    if (has_addr && !req->ciaddr) {
        x->state = "init-reboot";
        return confirm(x, ntohl(addr));
    }
    if (req->ciaddr) { /* RENEWING (unicast to us) or REBINDING (broadcast) */
        x->state = x->rx->to_broadcast ? "rebinding" : "renewing";
        return confirm(x, ntohl(req->ciaddr));
    }
    x->why = "REQUEST with neither a requested address nor ciaddr";
    return DHCP_OUT_MALFORMED;
}

/* The client's own bound (or offered) slot at addr (network order), or -1. */
static int own_slot(struct ctx *x, uint32_t addr)
{
    int slot = addr ? dhcp_slot_of(x->e, ntohl(addr)) : -1;
    if (slot < 0)
        return -1;
    const struct dhcp_lease *l = &x->e->slots[slot].lease;
    if (l->key_len != x->c.key_len || memcmp(l->key, x->c.key, l->key_len) != 0)
        return -1;
    return l->state == DHCP_LEASE_BOUND || l->state == DHCP_LEASE_OFFERED ? slot : -1;
}

static bool for_us(struct ctx *x)
{
    uint32_t sid;
    return !dhcp_packet_opt_addr(&x->e->req, DHCP_OPT_SERVER_ID, &sid) || sid == x->server_id;
}

static int on_decline(struct ctx *x)
{
    uint32_t addr;
    if (!for_us(x) || !dhcp_packet_opt_addr(&x->e->req, DHCP_OPT_REQUESTED_ADDR, &addr))
        return DHCP_OUT_SILENT;
    int slot = own_slot(x, addr);
    if (slot < 0)
        return DHCP_OUT_SILENT;
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr, a, sizeof a);
    log_warn("dhcp: %s declined by its client (in use by another host): quarantined %u s", a,
             x->e->cfg->probation);
    dhcp_lease_end(x->e, slot, DHCP_LEASE_DECLINED, x->now + x->e->cfg->probation);
    return DHCP_OUT_SILENT;
}

static int on_release(struct ctx *x)
{
    int slot = for_us(x) ? own_slot(x, x->e->req.ciaddr) : -1;
    if (slot >= 0 && x->e->slots[slot].lease.state == DHCP_LEASE_BOUND)
        dhcp_lease_end(x->e, slot, DHCP_LEASE_RELEASED, x->now);
    return DHCP_OUT_SILENT;
}

int dhcp_engine_handle(struct dhcp_engine *e, const struct dhcp_rx *rx, const uint8_t *pkt,
                       size_t len, int64_t now, struct dhcp_reply *out, const char **why)
{
    struct ctx x = {.e = e, .rx = rx, .now = now, .out = out};
    int rc = dhcp_packet_parse(pkt, len, &e->req);
    *why = NULL;
    out->len = 0;
    out->state = "";
    out->cached = false;
    out->saved_in = 0;
    if (rc < 0) {
        *why = dhcp_parse_err_str(rc);
        return DHCP_OUT_MALFORMED;
    }
    int type = dhcp_packet_msg_type(&e->req);
    if (e->req.op != DHCP_BOOTREQUEST) {
        *why = "not a BOOTREQUEST";
        return DHCP_OUT_MALFORMED;
    }
    if (!client_of(&e->req, &x.c)) {
        *why = "bad client identifier (61) length";
        return DHCP_OUT_MALFORMED;
    }
    int sn = select_subnet(e, rx, &e->req);
    if (sn < 0)
        return DHCP_OUT_NO_SUBNET;
    x.subnet = (unsigned)sn;
    x.s = &e->cfg->subnets[sn];
    x.server_id = x.s->server_id ? x.s->server_id : rx->local_addr;
    /* the administrator's name for a reserved host wins over the one it sends (as dnsmasq's
     * dhcp-host names do) */
    const struct dhcp_reservation *res = dhcp_reservation_of(x.s, &x.c);
    if (res && res->name[0]) {
        memcpy(x.c.hostname, res->name, sizeof x.c.hostname);
        x.c.name_given = true;
    }
    switch (type) {
    case 0:
        rc = on_bootp(&x);
        break;
    case DHCP_DISCOVER:
        rc = on_discover(&x);
        break;
    case DHCP_REQUEST:
        rc = on_request(&x);
        break;
    case DHCP_DECLINE:
        rc = on_decline(&x);
        break;
    case DHCP_RELEASE:
        rc = on_release(&x);
        break;
    case DHCP_INFORM:
        rc = reply(&x, DHCP_ACK, 0);
        break;
    default:
        x.why = "a server's message type from a client";
        rc = DHCP_OUT_MALFORMED;
    }
    *why = x.why;
    out->state = x.state ? x.state : "";
    return rc;
}
