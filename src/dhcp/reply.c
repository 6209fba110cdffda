/* dhcp/reply — the contents and destination of OFFER, ACK and NAK (RFC 2131 §4.3.1,
 * table 3; RFC 2132 for the options). */
#include "dhcp/engine_int.h"

#include <arpa/inet.h>
#include <string.h>

/* Options every OFFER/ACK carries whether asked for or not (as ISC and Kea do): the mask,
 * routers, name servers and domain are what a host needs to work at all. */
static const uint8_t always[] = {DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS,
                                 DHCP_OPT_DOMAIN};

static void add_cfg_opt(struct dhcp_writer *w, const struct dhcp_subnet *s, uint8_t code)
{
    const struct dhcp_opt_value *v = dhcp_subnet_opt(s, code);
    if (v && !dhcp_writer_has(w, code))
        dhcp_writer_opt(w, code, v->data, v->len);
}

/* The configured options: in the order of the client's parameter request list (some clients
 * read only what they asked for), then the ones sent regardless; without a list, all. */
static void add_params(struct dhcp_writer *w, const struct dhcp_packet *req,
                       const struct dhcp_subnet *s)
{
    size_t n;
    const uint8_t *prl = dhcp_packet_opt(req, DHCP_OPT_PARAM_LIST, &n);
    if (!prl) {
        for (unsigned i = 0; i < s->nopts; i++)
            add_cfg_opt(w, s, s->opts[i].code);
        return;
    }
    for (size_t i = 0; i < n; i++)
        add_cfg_opt(w, s, prl[i]);
    for (size_t i = 0; i < sizeof always; i++)
        add_cfg_opt(w, s, always[i]);
}

/* A BOOTP reply (RFC 1497 vendor extensions): what a host needs, in the order the always
 * list gives, within the 64 octets of a BOOTP vend field. */
static void add_bootp(struct dhcp_writer *w, const struct dhcp_subnet *s)
{
    for (size_t i = 0; i < sizeof always; i++)
        add_cfg_opt(w, s, always[i]);
}

/* RFC 4702 §4: our answer to option 81. We do the A (and PTR) update ourselves: S set, O set
 * when the client asked to do it (S clear), N clear; the name in the encoding the client used. */
static void add_fqdn(struct dhcp_writer *w, const struct dhcp_subnet *s, const struct dhcp_client *c)
{
    uint8_t v[3 + 256];
    size_t n = 3;
    uint8_t flags = (uint8_t)((c->fqdn_flags & 0x04) | 0x01 | ((c->fqdn_flags & 0x01) ? 0 : 0x02));
    v[0] = flags;
    v[1] = v[2] = 255; /* RFC 4702 §2.2: servers send 255 */
    const char *dom = s->domain ? s->domain : "";
    if (flags & 0x04) {
        size_t hl = strlen(c->hostname);
        v[n++] = (uint8_t)hl;
        memcpy(v + n, c->hostname, hl);
        n += hl;
        const char *p = dom;
        while (*p) {
            const char *dot = strchr(p, '.');
            size_t ll = dot ? (size_t)(dot - p) : strlen(p);
            if (ll == 0 || ll > 63 || n + 1 + ll + 1 > sizeof v)
                break;
            v[n++] = (uint8_t)ll;
            memcpy(v + n, p, ll);
            n += ll;
            p += ll + (dot ? 1 : 0);
        }
        v[n++] = 0;
    } else {
        size_t hl = strlen(c->hostname), dl = strlen(dom);
        if (hl + 1 + dl + 3 < sizeof v) {
            memcpy(v + n, c->hostname, hl);
            n += hl;
            if (dl) {
                v[n++] = '.';
                memcpy(v + n, dom, dl);
                n += dl;
            }
        }
    }
    dhcp_writer_opt(w, DHCP_OPT_FQDN, v, n);
}

static void set_dest(const struct dhcp_packet *req, int type, uint32_t yiaddr,
                     struct dhcp_reply *out)
{
    out->hlen = req->hlen;
    memcpy(out->chaddr, req->chaddr, 16);
    /* RFC 2131 §4.1, the order of the destination rules */
    if (req->giaddr) {
        out->dest = DHCP_DEST_RELAY;
        out->dest_addr = req->giaddr;
    } else if (type == DHCP_NAK) {
        out->dest = DHCP_DEST_BROADCAST;
    } else if (req->ciaddr) {
        out->dest = DHCP_DEST_UNICAST;
        out->dest_addr = req->ciaddr;
    } else if ((req->flags & DHCP_FLAG_BROADCAST) || !yiaddr) {
        out->dest = DHCP_DEST_BROADCAST;
    } else {
        out->dest = DHCP_DEST_HWADDR;
        out->dest_addr = yiaddr;
    }
}

bool dhcp_reply_build(struct dhcp_engine *e, const struct dhcp_subnet *s, const struct dhcp_client *c,
                      int type, uint32_t yiaddr, uint32_t server_id, struct dhcp_reply *out)
{
    const struct dhcp_packet *req = &e->req;
    struct dhcp_writer *w = &e->w;
    dhcp_writer_init(w);
    w->hdr.op = DHCP_BOOTREPLY;
    w->hdr.htype = req->htype;
    w->hdr.hlen = req->hlen;
    w->hdr.xid = req->xid;
    w->hdr.flags = req->flags;
    w->hdr.giaddr = req->giaddr;
    memcpy(w->hdr.chaddr, req->chaddr, 16);
    if (type == DHCP_NAK && req->giaddr)
        w->hdr.flags |= DHCP_FLAG_BROADCAST; /* RFC 2131 §4.3.2: the relay broadcasts it */
    if (type == DHCP_ACK || type == DHCP_BOOTP_REPLY)
        w->hdr.ciaddr = req->ciaddr;
    if (type != DHCP_NAK)
        w->hdr.yiaddr = yiaddr;
    if (type == DHCP_BOOTP_REPLY) {
        w->hdr.siaddr = server_id; /* RFC 951: the server's address */
        add_bootp(w, s);
        out->len = dhcp_writer_finish(w, out->buf, DHCP_MIN_REPLY);
        out->type = type;
        set_dest(req, type, yiaddr, out);
        return out->len > 0;
    }
    dhcp_writer_opt_u8(w, DHCP_OPT_MSG_TYPE, (uint8_t)type);
    dhcp_writer_opt(w, DHCP_OPT_SERVER_ID, &server_id, 4);
    int req_type = dhcp_packet_msg_type(req);
    if (type != DHCP_NAK) {
        if (req_type != DHCP_INFORM) { /* RFC 2131 §4.3.5: no lease time for INFORM */
            uint32_t age = e->lease_age; /* a cached ACK: the time left (handle.c) */
            dhcp_writer_opt_u32(w, DHCP_OPT_LEASE_TIME, s->lease_time - age);
            dhcp_writer_opt_u32(w, DHCP_OPT_T1, s->t1 - age);
            dhcp_writer_opt_u32(w, DHCP_OPT_T2, s->t2 - age);
        }
        if (c->name_given) /* RFC 2132 §3.14: the name the administrator gave the host */
            dhcp_writer_opt(w, DHCP_OPT_HOSTNAME, c->hostname, strlen(c->hostname));
        add_params(w, req, s);
        if (c->fqdn && c->hostname[0])
            add_fqdn(w, s, c);
    } else {
        static const char msg[] = "address not valid on this network";
        dhcp_writer_opt(w, DHCP_OPT_MESSAGE, msg, sizeof msg - 1);
    }
    size_t n;
    const uint8_t *v = dhcp_packet_opt(req, DHCP_OPT_CLIENT_ID, &n);
    if (v)
        dhcp_writer_opt(w, DHCP_OPT_CLIENT_ID, v, n); /* RFC 6842 */
    v = dhcp_packet_opt(req, DHCP_OPT_RELAY_INFO, &n);
    if (v && req->giaddr)
        dhcp_writer_opt(w, DHCP_OPT_RELAY_INFO, v, n); /* RFC 3046 §2.2: last, unchanged */
    out->len = dhcp_writer_finish(w, out->buf, dhcp_packet_max_reply(req));
    out->type = type;
    set_dest(req, type, type == DHCP_NAK ? 0 : yiaddr, out);
    return out->len > 0;
}
