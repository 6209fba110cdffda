/*
 * libFuzzer target for the DHCP option values: the [dhcp-subnet] lines that make them
 * (dhcp/config.c: router, dns, ntp, broadcast, search, routes, domain, `option = CODE HEX`,
 * reserve, pool...) and the writer that lays them out in a reply of any allowed size
 * (dhcp/packet.c: options field, then file and sname with option 52, long values in several
 * instances, split across fields). Input: two bytes of maximum message size (option 57, taken
 * into 576..1500), then "key value" lines. Every option the subnet ends up with must come back
 * from the written reply byte for byte, the reply must fit the size, and no reply may be
 * refused that would fit in the options field alone.
 */
#include "dhcp/config.h"
#include "dhcp/packet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void apply_lines(struct dhcp_subnet *s, const uint8_t *data, size_t size)
{
    static char line[1024];
    size_t i = 0;
    while (i < size) {
        size_t n = 0;
        while (i < size && data[i] != '\n' && n < sizeof line - 1)
            line[n++] = (char)data[i++];
        while (i < size && data[i] != '\n')
            i++;
        i++;
        line[n] = '\0';
        char *sp = strchr(line, ' ');
        if (!sp || strlen(line) != n)
            continue;
        *sp = '\0';
        const char *why;
        dhcp_subnet_set(s, line, sp + 1, &why);
    }
}

static void check_reply(const struct dhcp_subnet *s, size_t max)
{
    static struct dhcp_writer w;
    static uint8_t out[DHCP_MAX_LEN];
    static struct dhcp_packet p;
    dhcp_writer_init(&w);
    w.hdr.op = DHCP_BOOTREPLY;
    w.hdr.htype = 1;
    w.hdr.hlen = 6;
    dhcp_writer_opt_u8(&w, DHCP_OPT_MSG_TYPE, DHCP_ACK);
    size_t need = 3 + 1; /* the message type, END */
    for (unsigned i = 0; i < s->nopts; i++) {
        dhcp_writer_opt(&w, s->opts[i].code, s->opts[i].data, s->opts[i].len);
        size_t len = s->opts[i].len;
        need += len + 2 * (len == 0 ? 1 : (len + 254) / 255);
    }
    if (w.err)
        return; /* over 64 options or DHCP_OPT_DATA_MAX bytes: refused when added */
    size_t n = dhcp_writer_finish(&w, out, max);
    if (n == 0) {
        if (need <= max - DHCP_MIN_LEN)
            abort(); /* it fitted the options field alone */
        return;
    }
    if (n > max || n < DHCP_MIN_REPLY || dhcp_packet_parse(out, n, &p) != 0)
        abort();
    if (dhcp_packet_msg_type(&p) != DHCP_ACK)
        abort();
    for (unsigned i = 0; i < s->nopts; i++) {
        size_t len;
        const uint8_t *v = dhcp_packet_opt(&p, s->opts[i].code, &len);
        if (!v || len != s->opts[i].len || memcmp(v, s->opts[i].data, len) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = 576 + ((size_t)(data[0] << 8 | data[1]) % (1500 - 576 + 1)) - DHCP_IPUDP_LEN;
    struct dhcp_subnet s;
    const char *why;
    if (dhcp_subnet_init(&s, "10.0.0.0/16", &why) != 0)
        abort();
    apply_lines(&s, data + 2, size - 2);
    if (dhcp_subnet_finish(&s, &why) == 0)
        check_reply(&s, max);
    dhcp_subnet_clear(&s);
    return 0;
}
