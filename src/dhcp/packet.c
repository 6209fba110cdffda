/* dhcp/packet — see packet.h. */
#include "dhcp/packet.h"

#include <string.h>

static const uint8_t magic_cookie[4] = {99, 130, 83, 99};

#define MAX_INSTANCES 768 /* a 1500-byte message holds at most ~750 two-byte options */

struct instance {
    uint8_t code;
    uint16_t len;
    const uint8_t *p;
};

struct scan {
    struct instance in[MAX_INSTANCES];
    unsigned n;
    uint8_t overload;
    bool overload_seen;
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Collects the options of one field (area[0..len)). The main field may carry option 52; the
 * overloaded fields may not (RFC 2132 §9.3), so a loop through them is impossible. */
static int scan_field(struct scan *s, const uint8_t *area, size_t len, bool main_field)
{
    size_t i = 0;
    while (i < len) {
        uint8_t code = area[i++];
        if (code == DHCP_OPT_PAD)
            continue;
        if (code == DHCP_OPT_END)
            return 0;
        if (i >= len)
            return DHCP_PARSE_OPTION;
        uint8_t olen = area[i++];
        if (olen > len - i)
            return DHCP_PARSE_OPTION;
        if (code == DHCP_OPT_OVERLOAD) {
            if (!main_field)
                return DHCP_PARSE_OVERLOAD;
            if (olen != 1 || area[i] < 1 || area[i] > 3 || s->overload_seen)
                return DHCP_PARSE_OVERLOAD;
            s->overload = area[i];
            s->overload_seen = true;
        } else {
            if (s->n == MAX_INSTANCES)
                return DHCP_PARSE_TOO_MUCH;
            s->in[s->n++] = (struct instance){code, olen, area + i};
        }
        i += olen;
    }
    return 0; /* no END: the field ends the list, as many BOOTP relays truncate */
}

/* RFC 3396: every instance of a code, in order, joined into one value. */
static int join_instances(const struct scan *s, struct dhcp_packet *out)
{
    uint32_t total[256] = {0};
    for (unsigned i = 0; i < s->n; i++)
        total[s->in[i].code] += s->in[i].len;
    size_t off = 0;
    for (unsigned c = 0; c < 256; c++) {
        bool seen = false;
        for (unsigned i = 0; i < s->n && !seen; i++)
            seen = s->in[i].code == c;
        if (!seen)
            continue;
        if (total[c] > DHCP_OPT_DATA_MAX - off)
            return DHCP_PARSE_TOO_MUCH;
        out->opt_has[c] = true;
        out->opt_off[c] = (uint16_t)off;
        out->opt_len[c] = 0;
        off += total[c];
    }
    for (unsigned i = 0; i < s->n; i++) {
        const struct instance *in = &s->in[i];
        memcpy(out->opt_data + out->opt_off[in->code] + out->opt_len[in->code], in->p, in->len);
        out->opt_len[in->code] += in->len;
    }
    out->opt_used = off;
    return 0;
}

static void parse_header(const uint8_t *pkt, struct dhcp_packet *out)
{
    out->op = pkt[0];
    out->htype = pkt[1];
    out->hlen = pkt[2];
    out->hops = pkt[3];
    out->xid = get32(pkt + 4);
    out->secs = (uint16_t)(pkt[8] << 8 | pkt[9]);
    out->flags = (uint16_t)(pkt[10] << 8 | pkt[11]);
    memcpy(&out->ciaddr, pkt + 12, 4);
    memcpy(&out->yiaddr, pkt + 16, 4);
    memcpy(&out->siaddr, pkt + 20, 4);
    memcpy(&out->giaddr, pkt + 24, 4);
    memcpy(out->chaddr, pkt + 28, 16);
    memcpy(out->sname, pkt + 44, 64);
    memcpy(out->file, pkt + 108, 128);
}

int dhcp_packet_parse(const uint8_t *pkt, size_t len, struct dhcp_packet *out)
{
    memset(out, 0, offsetof(struct dhcp_packet, opt_data));
    out->opt_used = 0;
    if (len < DHCP_MIN_LEN)
        return DHCP_PARSE_SHORT;
    if (memcmp(pkt + DHCP_HDR_LEN, magic_cookie, 4) != 0)
        return DHCP_PARSE_COOKIE;
    parse_header(pkt, out);
    if (out->hlen > 16 || (out->htype == 1 && out->hlen != 6))
        return DHCP_PARSE_HLEN;
    static __thread struct scan s;
    s.n = 0;
    s.overload = 0;
    s.overload_seen = false;
    int rc = scan_field(&s, pkt + DHCP_MIN_LEN, len - DHCP_MIN_LEN, true);
    if (rc == 0 && (s.overload & 1))
        rc = scan_field(&s, pkt + 108, 128, false);
    if (rc == 0 && (s.overload & 2))
        rc = scan_field(&s, pkt + 44, 64, false);
    if (rc == 0)
        rc = join_instances(&s, out);
    if (rc < 0)
        return rc;
    out->overload = s.overload;
    /* An overloaded field holds options, not a name. */
    if (s.overload & 1)
        memset(out->file, 0, sizeof out->file);
    if (s.overload & 2)
        memset(out->sname, 0, sizeof out->sname);
    return 0;
}

const char *dhcp_parse_err_str(int err)
{
    switch (err) {
    case DHCP_PARSE_OK:
        return "ok";
    case DHCP_PARSE_SHORT:
        return "shorter than a BOOTP header";
    case DHCP_PARSE_COOKIE:
        return "bad magic cookie";
    case DHCP_PARSE_HLEN:
        return "bad hardware address length";
    case DHCP_PARSE_OPTION:
        return "option runs past its field";
    case DHCP_PARSE_TOO_MUCH:
        return "too many options";
    case DHCP_PARSE_OVERLOAD:
        return "bad option overload (52)";
    }
    return "malformed";
}

const uint8_t *dhcp_packet_opt(const struct dhcp_packet *p, uint8_t c, size_t *len_out)
{
    if (!p->opt_has[c]) {
        *len_out = 0;
        return NULL;
    }
    *len_out = p->opt_len[c];
    return p->opt_data + p->opt_off[c];
}

int dhcp_packet_msg_type(const struct dhcp_packet *p)
{
    size_t n;
    const uint8_t *v = dhcp_packet_opt(p, DHCP_OPT_MSG_TYPE, &n);
    if (!v || n != 1 || v[0] < DHCP_DISCOVER || v[0] > DHCP_INFORM)
        return 0;
    return v[0];
}

bool dhcp_packet_opt_addr(const struct dhcp_packet *p, uint8_t c, uint32_t *addr_out)
{
    size_t n;
    const uint8_t *v = dhcp_packet_opt(p, c, &n);
    if (!v || n != 4)
        return false;
    memcpy(addr_out, v, 4);
    return true;
}

size_t dhcp_packet_max_reply(const struct dhcp_packet *p)
{
    size_t n;
    const uint8_t *v = dhcp_packet_opt(p, DHCP_OPT_MAX_SIZE, &n);
    size_t max = DHCP_MIN_MAX_SIZE;
    if (v && n == 2)
        max = (size_t)(v[0] << 8 | v[1]);
    if (max < DHCP_MIN_MAX_SIZE)
        max = DHCP_MIN_MAX_SIZE;
    max -= DHCP_IPUDP_LEN;
    return max > DHCP_MAX_LEN ? DHCP_MAX_LEN : max;
}

/* ---- writing ---- */

void dhcp_writer_init(struct dhcp_writer *w)
{
    memset(&w->hdr, 0, offsetof(struct dhcp_packet, opt_data));
    w->nopts = 0;
    w->used = 0;
    w->err = false;
}

void dhcp_writer_opt(struct dhcp_writer *w, uint8_t c, const void *v, size_t len)
{
    if (c == DHCP_OPT_PAD || c == DHCP_OPT_END || c == DHCP_OPT_OVERLOAD ||
        w->nopts == sizeof w->opts / sizeof w->opts[0] || len > sizeof w->data - w->used) {
        w->err = true;
        return;
    }
    memcpy(w->data + w->used, v, len);
    w->opts[w->nopts].code = c;
    w->opts[w->nopts].off = (uint16_t)w->used;
    w->opts[w->nopts].len = (uint16_t)len;
    w->nopts++;
    w->used += len;
}

void dhcp_writer_opt_u8(struct dhcp_writer *w, uint8_t c, uint8_t v)
{
    dhcp_writer_opt(w, c, &v, 1);
}

void dhcp_writer_opt_u32(struct dhcp_writer *w, uint8_t c, uint32_t host_order)
{
    uint8_t b[4] = {(uint8_t)(host_order >> 24), (uint8_t)(host_order >> 16),
                    (uint8_t)(host_order >> 8), (uint8_t)host_order};
    dhcp_writer_opt(w, c, b, 4);
}

bool dhcp_writer_has(const struct dhcp_writer *w, uint8_t c)
{
    for (unsigned i = 0; i < w->nopts; i++)
        if (w->opts[i].code == c)
            return true;
    return false;
}

/* Where the layout is: option `next`, of whose value `done` bytes are placed. */
struct layout {
    unsigned next;
    size_t done;
};

/* Bytes the rest of option lo->next takes on the wire: code + length per 255-byte instance. */
static size_t rest_wire_len(const struct dhcp_writer *w, const struct layout *lo)
{
    size_t len = w->opts[lo->next].len - lo->done;
    size_t instances = len == 0 ? 1 : (len + 254) / 255;
    return len + 2 * instances;
}

/* Puts up to `room` bytes of the rest of option lo->next at out as instances (RFC 3396);
 * the bytes written. */
static size_t put_rest(const struct dhcp_writer *w, struct layout *lo, uint8_t *out, size_t room)
{
    const uint8_t *v = w->data + w->opts[lo->next].off + lo->done;
    size_t left = w->opts[lo->next].len - lo->done, n = 0;
    do {
        size_t chunk = left > 255 ? 255 : left;
        if (chunk + 2 > room - n)
            chunk = room - n - 2;
        out[n++] = w->opts[lo->next].code;
        out[n++] = (uint8_t)chunk;
        memcpy(out + n, v, chunk);
        n += chunk;
        v += chunk;
        left -= chunk;
        lo->done += chunk;
    } while (left > 0 && room - n >= 3);
    if (left == 0) {
        lo->next++;
        lo->done = 0;
    }
    return n;
}

/* Lays options out from *lo on into area[0..cap) (its END not counted) while they fit whole.
 * One that does not fit is split here (RFC 3396 allows an option in several instances, and
 * the fields are read as one buffer: options, file, sname) only when it could not fit whole
 * into the next field either (next_cap, 0: none) and is longer than a fixed-size option.
 * Returns the bytes used. */
static size_t fill(const struct dhcp_writer *w, struct layout *lo, uint8_t *area, size_t cap,
                   size_t next_cap)
{
    size_t pos = 0;
    while (lo->next < w->nopts) {
        size_t need = rest_wire_len(w, lo);
        if (need <= cap - pos) {
            pos += put_rest(w, lo, area + pos, need);
            continue;
        }
        if (next_cap && need > next_cap && w->opts[lo->next].len > 4 && cap - pos >= 3)
            pos += put_rest(w, lo, area + pos, cap - pos);
        break;
    }
    return pos;
}

static void put_header(const struct dhcp_packet *h, uint8_t *out)
{
    out[0] = h->op;
    out[1] = h->htype;
    out[2] = h->hlen;
    out[3] = h->hops;
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(h->xid >> (24 - 8 * i));
    out[8] = (uint8_t)(h->secs >> 8);
    out[9] = (uint8_t)h->secs;
    out[10] = (uint8_t)(h->flags >> 8);
    out[11] = (uint8_t)h->flags;
    memcpy(out + 12, &h->ciaddr, 4);
    memcpy(out + 16, &h->yiaddr, 4);
    memcpy(out + 20, &h->siaddr, 4);
    memcpy(out + 24, &h->giaddr, 4);
    memcpy(out + 28, h->chaddr, 16);
    memcpy(out + 44, h->sname, 64);
    memcpy(out + 108, h->file, 128);
    memcpy(out + DHCP_HDR_LEN, magic_cookie, 4);
}

/* Fills one overloaded field (area[0..cap)) from *lo on; END, then PAD. */
static void fill_field(const struct dhcp_writer *w, struct layout *lo, uint8_t *area, size_t cap,
                       size_t next_cap)
{
    memset(area, 0, cap);
    area[fill(w, lo, area, cap - 1, next_cap)] = DHCP_OPT_END;
}

size_t dhcp_writer_finish(struct dhcp_writer *w, uint8_t *out, size_t max)
{
    if (w->err || max < DHCP_MIN_REPLY)
        return 0;
    if (max > DHCP_MAX_LEN)
        max = DHCP_MAX_LEN;
    put_header(&w->hdr, out);
    size_t pos = DHCP_MIN_LEN;
    struct layout lo = {0, 0};
    pos += fill(w, &lo, out + pos, max - pos - 1, 0);
    if (lo.next < w->nopts) {
        /* Overload (RFC 2132 §9.3): option 52 (3 bytes) and END stay in the options field. */
        pos = DHCP_MIN_LEN;
        lo = (struct layout){0, 0};
        pos += fill(w, &lo, out + pos, max - pos - 4, 127);
        uint8_t overload = 1;
        fill_field(w, &lo, out + 108, 128, 63);
        if (lo.next < w->nopts) {
            overload = 3;
            fill_field(w, &lo, out + 44, 64, 0);
        }
        if (lo.next < w->nopts)
            return 0;
        out[pos++] = DHCP_OPT_OVERLOAD;
        out[pos++] = 1;
        out[pos++] = overload;
    }
    out[pos++] = DHCP_OPT_END;
    while (pos < DHCP_MIN_REPLY)
        out[pos++] = DHCP_OPT_PAD;
    return pos;
}
