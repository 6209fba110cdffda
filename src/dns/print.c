/* print — see print.h. */
#include "dns/print.h"

#include "dns/name.h"
#include "dns/rr.h"

static void print_name(const uint8_t *name, struct str *out)
{
    char text[DNS_NAME_TEXT_MAX];
    dns_name_to_text(name, text, sizeof text);
    str_appends(out, text);
}

void dns_print_rr(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                  const uint8_t *rdata, size_t rdlen, struct str *out)
{
    char tb[16], cb[16];
    print_name(owner, out);
    str_appendf(out, "\t%u\t%s\t%s\t", (unsigned)ttl, dns_class_name(rclass, cb),
                dns_type_name(type, tb));
    dns_rdata_to_text(type, rdata, rdlen, out);
}

static void print_flags(const struct dns_header *h, struct str *out)
{
    static const char *const names[] = {"qr", "aa", "tc", "rd", "ra", "ad", "cd"};
    bool set[] = {h->qr, h->aa, h->tc, h->rd, h->ra, h->ad, h->cd};
    str_appends(out, ";; flags:");
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (set[i])
            str_appendf(out, " %s", names[i]);
}

static void print_header(const struct dns_msg *m, struct str *out)
{
    char ob[16], rb[16];
    const struct dns_header *h = &m->hdr;
    str_appendf(out, ";; ->>HEADER<<- opcode: %s, status: %s, id: %u\n",
                dns_opcode_name(h->opcode, ob), dns_rcode_name(m->rcode, rb), (unsigned)h->id);
    print_flags(h, out);
    str_appendf(out, "; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n",
                (unsigned)h->qdcount, (unsigned)h->ancount, (unsigned)h->nscount,
                (unsigned)h->arcount);
}

static void print_edns(const struct dns_edns *e, struct str *out)
{
    str_appendf(out, "\n;; OPT PSEUDOSECTION:\n; EDNS: version: %u, flags:%s; udp: %u\n",
                (unsigned)e->version, e->do_bit ? " do" : "", (unsigned)e->udp_size);
    for (size_t p = 0; p + 4 <= e->opts_len;) {
        unsigned code = (unsigned)(e->opts[p] << 8 | e->opts[p + 1]);
        size_t len = (size_t)(e->opts[p + 2] << 8 | e->opts[p + 3]);
        str_appendf(out, "; OPTION %u: %zu bytes\n", code, len);
        p += 4 + len;
    }
}

static void print_section(const char *title, const struct dns_rr *rr, unsigned n, struct str *out)
{
    if (!n)
        return;
    str_appendf(out, "\n;; %s SECTION:\n", title);
    for (unsigned i = 0; i < n; i++) {
        dns_print_rr(rr[i].owner, rr[i].type, rr[i].rclass, rr[i].ttl, rr[i].rdata, rr[i].rdlen,
                     out);
        str_appendc(out, '\n');
    }
}

void dns_print_msg(const struct dns_msg *m, struct str *out)
{
    print_header(m, out);
    if (m->edns.present)
        print_edns(&m->edns, out);
    if (m->hdr.qdcount) {
        str_appends(out, "\n;; QUESTION SECTION:\n");
        for (unsigned i = 0; i < m->hdr.qdcount; i++) {
            char tb[16], cb[16];
            str_appendc(out, ';');
            print_name(m->qd[i].qname, out);
            str_appendf(out, "\t\t%s\t%s\n", dns_class_name(m->qd[i].qclass, cb),
                        dns_type_name(m->qd[i].qtype, tb));
        }
    }
    print_section("ANSWER", m->rr[0], m->count[0], out);
    print_section("AUTHORITY", m->rr[1], m->count[1], out);
    print_section("ADDITIONAL", m->rr[2], m->count[2], out);
    if (m->tsig)
        print_section("TSIG PSEUDO", m->tsig, 1, out);
}
