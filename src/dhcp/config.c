/* dhcp/config — see config.h. */
#include "dhcp/config.h"

#include "core/xmalloc.h"
#include "dhcp/packet.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_ip(const char *text, size_t len, uint32_t *host_out)
{
    char tmp[INET_ADDRSTRLEN];
    struct in_addr a;
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, text, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET, tmp, &a) != 1)
        return false;
    *host_out = ntohl(a.s_addr);
    return true;
}

/* The next word of *p (space- or comma-separated); false at the end. */
static bool next_word(const char **p, const char **w, size_t *len)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (!*s)
        return false;
    const char *e = s;
    while (*e && *e != ' ' && *e != '\t' && *e != ',')
        e++;
    *w = s;
    *len = (size_t)(e - s);
    *p = e;
    return true;
}

static int parse_cidr(const char *text, size_t len, uint32_t *net, unsigned *bits)
{
    const char *slash = memchr(text, '/', len);
    if (!slash || !parse_ip(text, (size_t)(slash - text), net))
        return -1;
    char *end;
    char tmp[4] = {0};
    size_t blen = len - (size_t)(slash + 1 - text);
    if (blen == 0 || blen > 2)
        return -1;
    memcpy(tmp, slash + 1, blen);
    unsigned long b = strtoul(tmp, &end, 10);
    if (*end || b > 32)
        return -1;
    *bits = (unsigned)b;
    return 0;
}

static uint32_t mask_of(unsigned bits)
{
    return bits == 0 ? 0 : 0xffffffffu << (32 - bits);
}

int dhcp_subnet_init(struct dhcp_subnet *s, const char *cidr, const char **why)
{
    memset(s, 0, sizeof *s);
    unsigned bits;
    if (parse_cidr(cidr, strlen(cidr), &s->net, &bits) < 0 || bits < 8 || bits > 30) {
        *why = "a subnet is written A.B.C.D/N with N from 8 to 30";
        return -1;
    }
    s->mask = mask_of(bits);
    if (s->net & ~s->mask) {
        *why = "the subnet address has host bits set";
        return -1;
    }
    snprintf(s->name, sizeof s->name, "%s", cidr);
    s->lease_time = 3600;
    s->authoritative = true;
    s->bootp = DHCP_BOOTP_RESERVED;
    return 0;
}

static void set_opt(struct dhcp_subnet *s, uint8_t code, const uint8_t *v, size_t len)
{
    for (unsigned i = 0; i < s->nopts; i++)
        if (s->opts[i].code == code) {
            free(s->opts[i].data);
            s->opts[i].data = xmemdup(v, len ? len : 1);
            s->opts[i].len = (uint16_t)len;
            return;
        }
    s->opts = xrealloc(s->opts, (s->nopts + 1) * sizeof *s->opts);
    s->opts[s->nopts++] = (struct dhcp_opt_value){code, (uint16_t)len, xmemdup(v, len ? len : 1)};
}

const struct dhcp_opt_value *dhcp_subnet_opt(const struct dhcp_subnet *s, uint8_t code)
{
    for (unsigned i = 0; i < s->nopts; i++)
        if (s->opts[i].code == code)
            return &s->opts[i];
    return NULL;
}

/* "a b c" → 4-byte addresses, network order. */
static int addr_list(struct dhcp_subnet *s, uint8_t code, const char *v, const char **why)
{
    uint8_t buf[252];
    size_t n = 0, len;
    const char *w;
    while (next_word(&v, &w, &len)) {
        uint32_t a;
        if (!parse_ip(w, len, &a) || n + 4 > sizeof buf) {
            *why = "expected IPv4 addresses separated by spaces";
            return -1;
        }
        a = htonl(a);
        memcpy(buf + n, &a, 4);
        n += 4;
    }
    if (n == 0) {
        *why = "expected at least one IPv4 address";
        return -1;
    }
    set_opt(s, code, buf, n);
    return 0;
}

/* A domain name in uncompressed wire form (RFC 1035 §3.1) at out; its length, 0 if bad. */
static size_t name_to_wire(const char *w, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0, i = 0;
    if (len > 0 && w[len - 1] == '.')
        len--;
    while (i < len) {
        size_t j = i;
        while (j < len && w[j] != '.')
            j++;
        if (j == i || j - i > 63 || n + 1 + (j - i) + 1 > cap)
            return 0;
        out[n++] = (uint8_t)(j - i);
        for (size_t k = i; k < j; k++) {
            unsigned char c = (unsigned char)w[k];
            if (!isalnum(c) && c != '-' && c != '_')
                return 0;
            out[n++] = (uint8_t)tolower(c);
        }
        i = j + 1;
    }
    if (n == 0 || n + 1 > cap)
        return 0;
    out[n++] = 0;
    return n;
}

static int search_list(struct dhcp_subnet *s, const char *v, const char **why)
{
    uint8_t buf[1024];
    size_t n = 0, len;
    const char *w;
    while (next_word(&v, &w, &len)) {
        size_t k = name_to_wire(w, len, buf + n, sizeof buf - n);
        if (k == 0) {
            *why = "expected domain names separated by spaces";
            return -1;
        }
        n += k;
    }
    if (n == 0) {
        *why = "expected at least one domain name";
        return -1;
    }
    set_opt(s, DHCP_OPT_SEARCH, buf, n); /* RFC 3397 without compression: valid, and simple */
    return 0;
}

/* RFC 3442: "DEST/LEN GATEWAY, ..." → width, significant octets, router. */
static int routes(struct dhcp_subnet *s, const char *v, const char **why)
{
    uint8_t buf[512];
    size_t n = 0, len, glen;
    const char *w, *g;
    while (next_word(&v, &w, &len)) {
        uint32_t dst, gw;
        unsigned bits;
        if (parse_cidr(w, len, &dst, &bits) < 0 || !next_word(&v, &g, &glen) ||
            !parse_ip(g, glen, &gw) || n + 9 > sizeof buf) {
            *why = "routes are written DEST/LEN GATEWAY, separated by commas";
            return -1;
        }
        buf[n++] = (uint8_t)bits;
        dst &= mask_of(bits);
        for (unsigned i = 0; i < (bits + 7) / 8; i++)
            buf[n++] = (uint8_t)(dst >> (24 - 8 * i));
        for (int i = 0; i < 4; i++)
            buf[n++] = (uint8_t)(gw >> (24 - 8 * i));
    }
    if (n == 0) {
        *why = "expected at least one route";
        return -1;
    }
    set_opt(s, DHCP_OPT_CLASSLESS_ROUTES, buf, n);
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits, optionally separated by ':' — into out; the length, or -1. */
static int parse_hex(const char *v, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*v) {
        if (*v == ':' || *v == ' ') {
            v++;
            continue;
        }
        int hi = hexval((unsigned char)v[0]), lo = v[1] ? hexval((unsigned char)v[1]) : -1;
        if (hi < 0 || lo < 0 || n == cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
        v += 2;
    }
    return (int)n;
}

static int raw_option(struct dhcp_subnet *s, const char *v, const char **why)
{
    char *end;
    unsigned long code = strtoul(v, &end, 10);
    uint8_t buf[255];
    int n = end != v && (*end == ' ' || *end == '\t') ? parse_hex(end + 1, buf, sizeof buf) : -1;
    if (n < 0 || code == 0 || code >= 255 || code == 50 || (code >= 51 && code <= 61) ||
        code == 82) {
        *why = "option is written CODE HEX (a code from 1 to 254 the server does not set itself)";
        return -1;
    }
    set_opt(s, (uint8_t)code, buf, (size_t)n);
    return 0;
}

size_t dhcp_key_parse(const char *text, uint8_t key[DHCP_KEY_MAX])
{
    if (strncmp(text, "id:", 3) == 0) {
        int n = parse_hex(text + 3, key + 1, DHCP_KEY_MAX - 1);
        if (n <= 0)
            return 0;
        key[0] = 'C';
        return (size_t)n + 1;
    }
    uint8_t mac[6];
    if (strlen(text) != 17 || parse_hex(text, mac, sizeof mac) != 6)
        return 0;
    key[0] = 'H';
    key[1] = 1; /* Ethernet */
    memcpy(key + 2, mac, 6);
    return 8;
}

void dhcp_key_format(const uint8_t *key, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    if (len < 2 || cap < 4)
        return;
    bool mac = key[0] == 'H' && key[1] == 1 && len == 8;
    if (!mac)
        n = (size_t)snprintf(out, cap, key[0] == 'C' ? "id:" : "hw:");
    for (size_t i = mac ? 2 : 1; i < len && n + 4 <= cap; i++)
        n += (size_t)snprintf(out + n, cap - n, mac && i > 2 ? ":%02x" : "%02x", key[i]);
}

/* A host name as one DNS label (RFC 1123 §2.1: letters, digits and '-', not at either end,
 * 1 to 63), lower-cased into out. */
static bool host_label(const char *p, size_t n, char out[64])
{
    if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)p[i]) && p[i] != '-')
            return false;
        out[i] = (char)tolower((unsigned char)p[i]);
    }
    out[n] = '\0';
    return true;
}

static int reservation(struct dhcp_subnet *s, const char *v, const char **why)
{
    static const char usage[] = "reserve is written MAC ADDRESS [NAME] or id:HEX ADDRESS [NAME]";
    const char *w, *a, *nm;
    size_t wl, al, nl;
    char who[300];
    uint32_t addr;
    struct dhcp_reservation r = {0};
    if (!next_word(&v, &w, &wl) || wl >= sizeof who || !next_word(&v, &a, &al) ||
        !parse_ip(a, al, &addr)) {
        *why = usage;
        return -1;
    }
    memcpy(who, w, wl);
    who[wl] = '\0';
    r.key_len = (uint8_t)dhcp_key_parse(who, r.key);
    if (r.key_len == 0) {
        *why = usage;
        return -1;
    }
    if (next_word(&v, &nm, &nl) && !host_label(nm, nl, r.name)) {
        *why = "a reservation's NAME is a host name: letters, digits and '-', at most 63";
        return -1;
    }
    if (next_word(&v, &nm, &nl)) {
        *why = usage;
        return -1;
    }
    r.addr = addr;
    s->res = xrealloc(s->res, (s->nres + 1) * sizeof *s->res);
    s->res[s->nres++] = r;
    return 0;
}

static int pool(struct dhcp_subnet *s, const char *v, const char **why)
{
    const char *a, *b;
    size_t al, bl;
    struct dhcp_range r;
    const char *dash = strchr(v, '-');
    if (dash) {
        a = v;
        al = (size_t)(dash - v);
        while (al > 0 && a[al - 1] == ' ')
            al--;
        while (*a == ' ')
            a++, al--;
        b = dash + 1;
        while (*b == ' ')
            b++;
        bl = strlen(b);
    } else if (!next_word(&v, &a, &al) || !next_word(&v, &b, &bl)) {
        *why = "pool is written FIRST - LAST";
        return -1;
    }
    if (!parse_ip(a, al, &r.first) || !parse_ip(b, bl, &r.last) || r.first > r.last) {
        *why = "pool is written FIRST - LAST (IPv4, first <= last)";
        return -1;
    }
    s->ranges = xrealloc(s->ranges, (s->nranges + 1) * sizeof *s->ranges);
    s->ranges[s->nranges++] = r;
    return 0;
}

static int seconds(const char *v, uint32_t *out, const char **why)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (end == v || *end || n < 60 || n > 31536000) {
        *why = "expected seconds from 60 to 31536000";
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

static int one_ip(const char *v, uint32_t *net_out, const char **why)
{
    uint32_t a;
    if (!parse_ip(v, strlen(v), &a)) {
        *why = "expected an IPv4 address";
        return -1;
    }
    *net_out = htonl(a);
    return 0;
}

int dhcp_subnet_set(struct dhcp_subnet *s, const char *key, const char *v, const char **why)
{
    if (strcmp(key, "interface") == 0) {
        if (strlen(v) >= sizeof s->iface || !*v) {
            *why = "an interface name is 1 to 15 characters";
            return -1;
        }
        snprintf(s->iface, sizeof s->iface, "%s", v);
        return 0;
    }
    if (strcmp(key, "pool") == 0)
        return pool(s, v, why);
    if (strcmp(key, "reserve") == 0)
        return reservation(s, v, why);
    if (strcmp(key, "router") == 0)
        return addr_list(s, DHCP_OPT_ROUTER, v, why);
    if (strcmp(key, "dns") == 0)
        return addr_list(s, DHCP_OPT_DNS, v, why);
    if (strcmp(key, "ntp") == 0)
        return addr_list(s, DHCP_OPT_NTP, v, why);
    if (strcmp(key, "broadcast") == 0)
        return addr_list(s, DHCP_OPT_BROADCAST, v, why);
    if (strcmp(key, "search") == 0)
        return search_list(s, v, why);
    if (strcmp(key, "routes") == 0)
        return routes(s, v, why);
    if (strcmp(key, "option") == 0)
        return raw_option(s, v, why);
    if (strcmp(key, "domain") == 0) {
        uint8_t wire[256];
        size_t n = strlen(v);
        if (n == 0 || name_to_wire(v, n, wire, sizeof wire) == 0) {
            *why = "expected a domain name";
            return -1;
        }
        if (v[n - 1] == '.')
            n--;
        free(s->domain);
        s->domain = xstrndup(v, n);
        set_opt(s, DHCP_OPT_DOMAIN, (const uint8_t *)v, n);
        return 0;
    }
    if (strcmp(key, "lease_time") == 0)
        return seconds(v, &s->lease_time, why);
    if (strcmp(key, "renew_time") == 0)
        return seconds(v, &s->t1, why);
    if (strcmp(key, "rebind_time") == 0)
        return seconds(v, &s->t2, why);
    if (strcmp(key, "server_id") == 0)
        return one_ip(v, &s->server_id, why);
    if (strcmp(key, "authoritative") == 0) {
        if (strcmp(v, "yes") == 0 || strcmp(v, "on") == 0)
            s->authoritative = true;
        else if (strcmp(v, "no") == 0 || strcmp(v, "off") == 0)
            s->authoritative = false;
        else {
            *why = "expected yes or no";
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "bootp") == 0) {
        static const char *const modes[] = {"no", "reserved", "dynamic"};
        for (unsigned i = 0; i < 3; i++)
            if (strcmp(v, modes[i]) == 0) {
                s->bootp = (enum dhcp_bootp)i;
                return 0;
            }
        *why = "bootp is no, reserved or dynamic";
        return -1;
    }
    *why = "unknown key in a [dhcp-subnet] section";
    return -1;
}

static bool in_subnet(const struct dhcp_subnet *s, uint32_t a)
{
    /* neither the network nor the broadcast address */
    return (a & s->mask) == s->net && a != s->net && a != (s->net | ~s->mask);
}

int dhcp_subnet_finish(struct dhcp_subnet *s, const char **why)
{
    for (unsigned i = 0; i < s->nranges; i++)
        if (!in_subnet(s, s->ranges[i].first) || !in_subnet(s, s->ranges[i].last)) {
            *why = "a pool lies outside its subnet";
            return -1;
        }
    for (unsigned i = 0; i < s->nres; i++)
        if (!in_subnet(s, s->res[i].addr)) {
            *why = "a reserved address lies outside its subnet";
            return -1;
        }
    uint32_t t1 = s->t1 ? s->t1 : s->lease_time / 2;
    uint32_t t2 = s->t2 ? s->t2 : s->lease_time / 8 * 7;
    if (t1 >= t2 || t2 >= s->lease_time) {
        *why = "renew_time < rebind_time < lease_time is required (RFC 2131 §4.4.5)";
        return -1;
    }
    s->t1 = t1;
    s->t2 = t2;
    uint32_t mask = htonl(s->mask);
    set_opt(s, DHCP_OPT_SUBNET_MASK, (const uint8_t *)&mask, 4);
    if (!dhcp_subnet_opt(s, DHCP_OPT_BROADCAST)) {
        uint32_t b = htonl(s->net | ~s->mask);
        set_opt(s, DHCP_OPT_BROADCAST, (const uint8_t *)&b, 4);
    }
    return 0;
}

void dhcp_subnet_clear(struct dhcp_subnet *s)
{
    for (unsigned i = 0; i < s->nopts; i++)
        free(s->opts[i].data);
    free(s->opts);
    free(s->ranges);
    free(s->res);
    free(s->domain);
    memset(s, 0, sizeof *s);
}
