/*
 * Unit tests for dns/wire and dns/rr: buffer, build -> parse round trips for every type,
 * name compression (and where RFC 3597 §4 forbids it), every malformed-packet case, EDNS,
 * rdata text forms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/str.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/rr.h"
#include "dns/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static unsigned char arena_mem[16384];

struct pkt {
    uint8_t b[4096];
    size_t len;
};

static void put(struct pkt *p, const void *bytes, size_t n)
{
    assert_true(p->len + n <= sizeof p->b);
    memcpy(p->b + p->len, bytes, n);
    p->len += n;
}

static void put16(struct pkt *p, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(p, b, 2);
}

static void put32(struct pkt *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xffff);
}

static void hdr(struct pkt *p, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    p->len = 0;
    put16(p, 0x1234);
    put16(p, 0x0100); /* RD */
    put16(p, qd);
    put16(p, an);
    put16(p, ns);
    put16(p, ar);
}

/* An RR header after an owner name already put. */
static void rrhead(struct pkt *p, unsigned type, unsigned cls, uint32_t ttl, unsigned rdlen)
{
    put16(p, type);
    put16(p, cls);
    put32(p, ttl);
    put16(p, rdlen);
}

static int parse(const struct pkt *p, struct dns_msg *m, struct dns_arena *a)
{
    dns_arena_init(a, arena_mem, sizeof arena_mem);
    return dns_msg_parse(p->b, p->len, m, a);
}

static enum dns_fault fault_of(const struct pkt *p)
{
    struct dns_msg m;
    struct dns_arena a;
    int rc = parse(p, &m, &a);
    dns_arena_clear(&a);
    if (rc == 0)
        return DNS_FAULT_NONE;
    assert_int_equal(rc, ERR_PARSE);
    assert_int_not_equal(m.fault, DNS_FAULT_NONE);
    return m.fault;
}

static size_t name_of(const char *text, uint8_t *out)
{
    size_t len;
    assert_int_equal(dns_name_from_text(text, strlen(text), NULL, out, &len, NULL), 0);
    return len;
}

static size_t rdata_of(uint16_t type, const char *text, uint8_t *out, size_t cap)
{
    /* split on blanks, honouring quotes: enough for these tests */
    struct dns_token tok[32];
    size_t n = 0;
    for (const char *s = text; *s;) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        bool q = *s == '"';
        const char *start = q ? s + 1 : s;
        const char *e = start;
        while (*e && (q ? *e != '"' : *e != ' '))
            e += (*e == '\\' && e[1]) ? 2 : 1;
        tok[n].p = start;
        tok[n].len = (size_t)(e - start);
        tok[n].quoted = q;
        n++;
        s = (q && *e) ? e + 1 : e;
    }
    size_t len = 0;
    const char *why = NULL;
    uint8_t origin[DNS_NAME_MAXLEN];
    name_of("example.com.", origin);
    int rc = dns_rdata_from_text(type, tok, n, origin, out, cap, &len, &why);
    if (rc)
        return (size_t)-1;
    return len;
}

static bool mem_eq_ci(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return false;
    }
    return true;
}

/* ---- buffer ---- */

static void test_buf_sticky(void **state)
{
    uint8_t data[3] = {1, 2, 3};
    struct dns_buf b;
    dns_buf_init_read(&b, data, sizeof data);
    assert_int_equal(dns_buf_get_u16(&b), 0x0102);
    assert_int_equal(dns_buf_get_u16(&b), 0); /* past the end */
    assert_int_equal(b.err, ERR_RANGE);
    assert_int_equal(dns_buf_get_u8(&b), 0); /* sticky */
    assert_int_equal(b.pos, 2);
    uint8_t out[5];
    dns_buf_init_write(&b, out, sizeof out);
    dns_buf_put_u32(&b, 0xdeadbeef);
    dns_buf_put_u16(&b, 1);
    assert_int_equal(b.err, ERR_RANGE);
    assert_int_equal(b.pos, 4);
    dns_buf_put_u8(&b, 9);
    assert_int_equal(b.pos, 4);
    dns_buf_init_read(&b, data, sizeof data);
    dns_buf_put_u8(&b, 1); /* a reader cannot write */
    assert_int_equal(b.err, ERR_RANGE);
}

/* ---- round trips ---- */

static const struct {
    uint16_t type;
    const char *in, *out;
} samples[] = {
    {DNS_TYPE_A, "192.0.2.1", "192.0.2.1"},
    {DNS_TYPE_AAAA, "2001:db8::1", "2001:db8::1"},
    {DNS_TYPE_NS, "ns1", "ns1.example.com."},
    {DNS_TYPE_CNAME, "www.example.net.", "www.example.net."},
    {DNS_TYPE_SOA, "ns1 hostmaster 2024010101 1h 15m 2w 300",
     "ns1.example.com. hostmaster.example.com. 2024010101 3600 900 1209600 300"},
    {DNS_TYPE_PTR, "mail.example.com.", "mail.example.com."},
    {DNS_TYPE_MX, "10 mail", "10 mail.example.com."},
    {DNS_TYPE_TXT, "\"v=spf1 mx -all\" \"two\\\"q\" plain",
     "\"v=spf1 mx -all\" \"two\\\"q\" \"plain\""},
    {DNS_TYPE_TXT, "\"\\255\\000x\"", "\"\\255\\000x\""},
    {DNS_TYPE_SRV, "0 5 5060 sip", "0 5 5060 sip.example.com."},
    {DNS_TYPE_CAA, "0 issue \"letsencrypt.org\"", "0 issue \"letsencrypt.org\""},
    {DNS_TYPE_HINFO, "\"PC\" \"Linux\"", "\"PC\" \"Linux\""},
    {DNS_TYPE_DS, "12345 8 3 ABCDEF01 2345", "12345 8 3 ABCDEF012345"},
    {DNS_TYPE_TLSA, "3 1 1 00ff", "3 1 1 00FF"},
    {DNS_TYPE_NAPTR, "100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:a@b!\" .",
     "100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:a@b!\" ."},
    {4242, "\\# 3 abcdef", "\\# 3 ABCDEF"},
    {4242, "\\# 0", "\\# 0"},
    {DNS_TYPE_A, "\\# 4 c0000201", "192.0.2.1"},
};

static void test_rdata_text_roundtrip(void **state)
{
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        uint8_t rd[1024];
        size_t len = rdata_of(samples[i].type, samples[i].in, rd, sizeof rd);
        if (len == (size_t)-1)
            fail_msg("cannot parse sample %zu: %s", i, samples[i].in);
        assert_int_equal(dns_rdata_check(samples[i].type, rd, len), 0);
        struct str s = STR_INIT;
        dns_rdata_to_text(samples[i].type, rd, len, &s);
        assert_string_equal(str_cstr(&s), samples[i].out);
        str_clear(&s);
    }
}

static void test_rdata_text_errors(void **state)
{
    uint8_t rd[1024];
    static const struct {
        uint16_t type;
        const char *in;
    } bad[] = {
        {DNS_TYPE_A, "300.1.1.1"},
        {DNS_TYPE_A, "1.2.3"},
        {DNS_TYPE_A, ""},
        {DNS_TYPE_A, "1.2.3.4 5"},
        {DNS_TYPE_AAAA, "1.2.3.4"},
        {DNS_TYPE_MX, "mail"},
        {DNS_TYPE_MX, "70000 mail"},
        {DNS_TYPE_SOA, "a b 1 2 3"},
        {DNS_TYPE_TXT, ""},
        {4242, "abcd"},
        {4242, "\\# 3 abcd"},
        {4242, "\\# 2 abcdef"},
        {DNS_TYPE_A, "\\# 3 c00002"},
        {DNS_TYPE_CAA, "0 is-sue \"x\""},
        {DNS_TYPE_WKS, "1.2.3.4 tcp"},
        {DNS_TYPE_DS, "1 2 3 abc"},
        {DNS_TYPE_DS, "1 8 2 abcd"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rdata_of(bad[i].type, bad[i].in, rd, sizeof rd) != (size_t)-1)
            fail_msg("accepted bad rdata %zu: %s", i, bad[i].in);
    char big[300];
    memset(big, 'x', 256);
    big[256] = '\0';
    assert_int_equal(rdata_of(DNS_TYPE_TXT, big, rd, sizeof rd), (size_t)-1);
    big[255] = '\0';
    assert_int_equal(rdata_of(DNS_TYPE_TXT, big, rd, sizeof rd), 256);
}

static void test_type_class_names(void **state)
{
    uint16_t v;
    char buf[16];
    assert_int_equal(dns_type_from_text("mx", 2, &v), 0);
    assert_int_equal(v, DNS_TYPE_MX);
    assert_int_equal(dns_type_from_text("TYPE123", 7, &v), 0);
    assert_int_equal(v, 123);
    assert_string_equal(dns_type_name(123, buf), "TYPE123");
    assert_string_equal(dns_type_name(DNS_TYPE_CAA, buf), "CAA");
    assert_int_equal(dns_type_from_text("TYPE65536", 9, &v), ERR_PARSE);
    assert_int_equal(dns_type_from_text("BOGUS", 5, &v), ERR_PARSE);
    assert_int_equal(dns_class_from_text("in", 2, &v), 0);
    assert_int_equal(v, DNS_CLASS_IN);
    assert_int_equal(dns_class_from_text("CLASS1", 6, &v), 0);
    assert_int_equal(v, DNS_CLASS_IN);
    assert_string_equal(dns_class_name(77, buf), "CLASS77");
    assert_string_equal(dns_rcode_name(DNS_RCODE_BADVERS, buf), "BADVERS");
    assert_string_equal(dns_rcode_name(99, buf), "RCODE99");
    uint32_t ttl;
    assert_int_equal(dns_ttl_from_text("1w2d3h4m5s", 10, &ttl), 0);
    assert_int_equal(ttl, 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
    assert_int_equal(dns_ttl_from_text("4294967295", 10, &ttl), 0);
    assert_int_equal(dns_ttl_from_text("4294967296", 10, &ttl), ERR_RANGE);
    assert_int_equal(dns_ttl_from_text("1x", 2, &ttl), ERR_PARSE);
    assert_int_equal(dns_ttl_from_text("h", 1, &ttl), ERR_PARSE);
}

static void test_serial_arith(void **state)
{
    assert_int_equal(dns_serial_cmp(1, 2), -1);
    assert_int_equal(dns_serial_cmp(2, 1), 1);
    assert_int_equal(dns_serial_cmp(0xffffffffu, 0), -1); /* wraps */
    assert_int_equal(dns_serial_cmp(0, 0x80000000u), 2);  /* undefined */
    assert_int_equal(dns_serial_cmp(5, 5), 0);
    assert_int_equal(dns_serial_add(0xffffffffu, 2), 1);
}

/* Builds a message with one record of each sample type, parses it back, compares. */
static void test_build_parse_roundtrip(void **state)
{
    uint8_t out[4096], owner[DNS_NAME_MAXLEN];
    name_of("Host.Example.com.", owner);
    struct dns_header h = {
        .id = 77, .qr = true, .aa = true, .rd = true, .ad = true, .opcode = 0, .rcode = 3};
    struct dns_builder b;
    dns_builder_init(&b, out, sizeof out, sizeof out, &h);
    assert_int_equal(dns_builder_question(&b, owner, DNS_TYPE_ANY, DNS_CLASS_IN), 0);
    size_t n = sizeof samples / sizeof samples[0];
    uint8_t rd[32][512];
    size_t rdlen[32];
    for (size_t i = 0; i < n; i++) {
        rdlen[i] = rdata_of(samples[i].type, samples[i].in, rd[i], sizeof rd[i]);
        assert_int_equal(dns_builder_rr(&b, DNS_SEC_ANSWER, owner, samples[i].type, DNS_CLASS_IN,
                                        (uint32_t)i, rd[i], rdlen[i]),
                         0);
    }
    assert_int_equal(dns_builder_opt(&b, 1400, 0, 0, true), 0);
    size_t len = dns_builder_finish(&b);
    struct pkt p;
    memcpy(p.b, out, len);
    p.len = len;
    struct dns_msg m;
    struct dns_arena a;
    assert_int_equal(parse(&p, &m, &a), 0);
    assert_int_equal(m.hdr.id, 77);
    assert_true(m.hdr.qr && m.hdr.aa && m.hdr.rd && m.hdr.ad && !m.hdr.tc);
    assert_int_equal(m.rcode, 3);
    assert_int_equal(m.hdr.qdcount, 1);
    assert_memory_equal(m.qd[0].qname, owner, dns_name_len(owner)); /* case kept */
    assert_int_equal(m.count[0], n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(m.rr[0][i].type, samples[i].type);
        assert_int_equal(m.rr[0][i].ttl, i);
        assert_int_equal(m.rr[0][i].rdlen, rdlen[i]);
        /* names in rdata may pick up the case of the name they were compressed against */
        assert_true(mem_eq_ci(m.rr[0][i].rdata, rd[i], rdlen[i]));
        assert_true(dns_name_eq(m.rr[0][i].owner, owner));
    }
    assert_true(m.edns.present);
    assert_int_equal(m.edns.udp_size, 1400);
    assert_true(m.edns.do_bit);
    assert_int_equal(m.count[2], 0); /* the OPT is kept aside */
    struct str s = STR_INIT;
    dns_print_msg(&m, &s);
    assert_non_null(strstr(str_cstr(&s), "status: NXDOMAIN"));
    assert_non_null(strstr(str_cstr(&s), "Host.Example.com.\t4\tIN\tSOA\tns1."));
    str_clear(&s);
    dns_arena_clear(&a);
}

/* Owner names compress; MX/NS/SOA rdata compress; SRV and unknown types do not. */
static void test_compression_rules(void **state)
{
    uint8_t out[1024], owner[DNS_NAME_MAXLEN], rd[300];
    name_of("example.com.", owner);
    struct dns_header h = {.id = 1};
    struct dns_builder b;
    dns_builder_init(&b, out, sizeof out, sizeof out, &h);
    dns_builder_question(&b, owner, DNS_TYPE_MX, DNS_CLASS_IN);
    size_t before = b.b.pos;
    size_t len = rdata_of(DNS_TYPE_MX, "10 mail.example.com.", rd, sizeof rd);
    dns_builder_rr(&b, DNS_SEC_ANSWER, owner, DNS_TYPE_MX, 1, 60, rd, len);
    /* owner = pointer (2), fixed 10, rdata = 2 + "mail" label (5) + pointer (2) */
    assert_int_equal(b.b.pos - before, 2 + 10 + 2 + 5 + 2);
    before = b.b.pos;
    len = rdata_of(DNS_TYPE_SRV, "0 0 25 mail.example.com.", rd, sizeof rd);
    dns_builder_rr(&b, DNS_SEC_ANSWER, owner, DNS_TYPE_SRV, 1, 60, rd, len);
    assert_int_equal(b.b.pos - before, 2 + 10 + 6 + 18); /* SRV target in full */
    before = b.b.pos;
    /* an unknown type whose bytes happen to look like a name: copied as is */
    dns_builder_rr(&b, DNS_SEC_ANSWER, owner, 65280, 1, 60, owner, 13);
    assert_int_equal(b.b.pos - before, 2 + 10 + 13);
    size_t total = dns_builder_finish(&b);
    struct pkt p;
    memcpy(p.b, out, total);
    p.len = total;
    struct dns_msg m;
    struct dns_arena a;
    assert_int_equal(parse(&p, &m, &a), 0);
    struct str s = STR_INIT;
    dns_rdata_to_text(m.rr[0][0].type, m.rr[0][0].rdata, m.rr[0][0].rdlen, &s);
    assert_string_equal(str_cstr(&s), "10 mail.example.com.");
    str_clear(&s);
    dns_arena_clear(&a);
}

static void test_builder_limit_rollback(void **state)
{
    uint8_t out[512], owner[DNS_NAME_MAXLEN], rd[4] = {192, 0, 2, 1};
    name_of("a.example.com.", owner);
    struct dns_header h = {.id = 1};
    struct dns_builder b;
    dns_builder_init(&b, out, sizeof out, 50, &h);
    dns_builder_reserve(&b, 11);
    assert_int_equal(dns_builder_question(&b, owner, 1, 1), 0); /* 12 + 19 = 31 */
    struct dns_builder_mark mk;
    dns_builder_mark(&b, &mk);
    assert_int_equal(dns_builder_rr(&b, DNS_SEC_ANSWER, owner, 1, 1, 60, rd, 4), ERR_LIMIT);
    assert_int_equal(b.b.pos, mk.pos);
    dns_builder_reserve(&b, 0);
    assert_int_equal(dns_builder_opt(&b, 1232, 0, 0, false), 0);
    dns_builder_set_tc(&b);
    size_t len = dns_builder_finish(&b);
    assert_int_equal(len, 31 + 11);
    assert_true(out[2] & 0x02);
    assert_int_equal(out[11], 1); /* ARCOUNT */
}

/* ---- malformed packets ---- */

static void test_truncated_header(void **state)
{
    struct pkt p;
    hdr(&p, 0, 0, 0, 0);
    for (size_t n = 0; n < 12; n++) {
        p.len = n;
        struct dns_msg m;
        struct dns_arena a;
        assert_int_equal(parse(&p, &m, &a), ERR_PARSE);
        assert_int_equal(m.fault, DNS_FAULT_HEADER);
        assert_false(m.hdr_ok);
    }
    p.len = 12;
    assert_int_equal(fault_of(&p), DNS_FAULT_NONE);
}

static void test_compression_loop(void **state)
{
    struct pkt p;
    hdr(&p, 1, 0, 0, 0);
    put(&p, "\xc0\x0c", 2); /* points to itself */
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(fault_of(&p), DNS_FAULT_PTR_LOOP);
    /* two names pointing at each other: 12: "\1a" -> 17, 17: "\1b" -> 12 */
    hdr(&p, 2, 0, 0, 0);
    put(&p, "\1a\xc0\x11", 4);
    put16(&p, 1);
    put16(&p, 1);
    put(&p, "\1b\xc0\x0c", 4);
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(fault_of(&p), DNS_FAULT_PTR_FORWARD);
    /* backward pointer into a run that points back at itself */
    hdr(&p, 2, 0, 0, 0);
    put(&p, "\1a\0", 3);
    put16(&p, 1);
    put16(&p, 1);
    put(&p, "\1b\xc0\x13", 4); /* 0x13 = 19 = this label: loops */
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(fault_of(&p), DNS_FAULT_PTR_LOOP);
}

static void test_forward_pointer(void **state)
{
    struct pkt p;
    hdr(&p, 1, 0, 0, 0);
    put(&p, "\xc0\x20", 2);
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(fault_of(&p), DNS_FAULT_PTR_FORWARD);
    hdr(&p, 1, 0, 0, 0);
    put(&p, "\x3f\xff", 2); /* pointer far past the end */
    p.b[12] = 0xff;
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(fault_of(&p), DNS_FAULT_PTR_FORWARD);
    hdr(&p, 1, 0, 0, 0);
    put(&p, "\xc0", 1); /* half a pointer */
    assert_true(fault_of(&p) == DNS_FAULT_TRUNCATED);
}

static void test_label_too_long(void **state)
{
    struct pkt p;
    uint8_t label[65];
    memset(label, 'x', sizeof label);
    label[0] = 64;
    hdr(&p, 1, 0, 0, 0);
    put(&p, label, sizeof label);
    put(&p, "\0", 1);
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(fault_of(&p), DNS_FAULT_LABEL_LONG);
    hdr(&p, 1, 0, 0, 0);
    put(&p,
        "\x80"
        "abcdefgh",
        9); /* the 10 label type */
    assert_int_equal(fault_of(&p), DNS_FAULT_LABEL_LONG);
}

static void test_name_too_long(void **state)
{
    struct pkt p;
    uint8_t label[64];
    memset(label, 'y', sizeof label);
    label[0] = 63;
    hdr(&p, 1, 0, 0, 0);
    for (int i = 0; i < 4; i++)
        put(&p, label, sizeof label); /* 256 bytes + root: too long */
    put(&p, "\0", 1);
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(fault_of(&p), DNS_FAULT_NAME_LONG);
    /* 255 bytes exactly is fine; a prefix through a pointer makes it 257 */
    hdr(&p, 1, 1, 0, 0);
    for (int i = 0; i < 3; i++)
        put(&p, label, sizeof label);
    label[0] = 61;
    put(&p, label, 62);
    put(&p, "\0", 1);
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(p.len, 12 + 255 + 4);
    put(&p, "\1z\xc0\x0c", 4);
    rrhead(&p, 1, 1, 0, 4);
    put32(&p, 0);
    assert_int_equal(fault_of(&p), DNS_FAULT_NAME_LONG);
}

static void test_counts_past_end(void **state)
{
    struct pkt p;
    hdr(&p, 1, 65535, 65535, 65535);
    put(&p, "\0", 1);
    put16(&p, 1);
    put16(&p, 1);
    assert_int_equal(fault_of(&p), DNS_FAULT_TRUNCATED);
    hdr(&p, 3, 0, 0, 0); /* the third question runs out */
    put(&p, "\0\0\1\0\1", 5);
    put(&p, "\0\0\1\0\1", 5);
    put(&p, "\5abcd", 5);
    assert_int_equal(fault_of(&p), DNS_FAULT_TRUNCATED);
    hdr(&p, 0, 1, 0, 0); /* rdlength past the end */
    put(&p, "\0", 1);
    rrhead(&p, 1, 1, 0, 40);
    put32(&p, 0);
    assert_int_equal(fault_of(&p), DNS_FAULT_TRUNCATED);
}

static void test_opt_rules(void **state)
{
    struct pkt p;
    hdr(&p, 0, 0, 0, 2); /* two OPTs */
    for (int i = 0; i < 2; i++) {
        put(&p, "\0", 1);
        rrhead(&p, DNS_TYPE_OPT, 1232, 0, 0);
    }
    assert_int_equal(fault_of(&p), DNS_FAULT_OPT);
    hdr(&p, 0, 0, 0, 1); /* not owned by the root */
    put(&p, "\1x\0", 3);
    rrhead(&p, DNS_TYPE_OPT, 1232, 0, 0);
    assert_int_equal(fault_of(&p), DNS_FAULT_OPT);
    hdr(&p, 0, 1, 0, 0); /* in the answer section */
    put(&p, "\0", 1);
    rrhead(&p, DNS_TYPE_OPT, 1232, 0, 0);
    assert_int_equal(fault_of(&p), DNS_FAULT_OPT);
    hdr(&p, 0, 0, 0, 1); /* an option running past the rdata */
    put(&p, "\0", 1);
    rrhead(&p, DNS_TYPE_OPT, 1232, 0, 4);
    put(&p, "\0\12\0\10", 4);
    assert_int_equal(fault_of(&p), DNS_FAULT_OPT);
    /* a good one: version 1, DO, ext rcode 1, one cookie option */
    hdr(&p, 0, 0, 0, 1);
    put(&p, "\0", 1);
    rrhead(&p, DNS_TYPE_OPT, 4096, 0x01018000u, 12);
    put(&p,
        "\0\12\0\10"
        "12345678",
        12);
    struct dns_msg m;
    struct dns_arena a;
    assert_int_equal(parse(&p, &m, &a), 0);
    assert_true(m.edns.present);
    assert_int_equal(m.edns.udp_size, 4096);
    assert_int_equal(m.edns.version, 1);
    assert_true(m.edns.do_bit);
    assert_int_equal(m.rcode, 16);
    assert_int_equal(m.edns.opts_len, 12);
    dns_arena_clear(&a);
}

static void test_tsig_last(void **state)
{
    struct pkt p;
    hdr(&p, 0, 0, 0, 2);
    put(&p, "\3key\0", 5);
    rrhead(&p, DNS_TYPE_TSIG, 255, 0, 0);
    put(&p, "\0", 1);
    rrhead(&p, DNS_TYPE_A, 1, 0, 4);
    put32(&p, 0);
    assert_int_equal(fault_of(&p), DNS_FAULT_TSIG);
    hdr(&p, 0, 0, 0, 2);
    put(&p, "\0", 1);
    rrhead(&p, DNS_TYPE_A, 1, 0, 4);
    put32(&p, 0);
    size_t off = p.len;
    put(&p, "\3key\0", 5);
    rrhead(&p, DNS_TYPE_TSIG, 255, 0, 0);
    struct dns_msg m;
    struct dns_arena a;
    assert_int_equal(parse(&p, &m, &a), 0);
    assert_non_null(m.tsig);
    assert_int_equal(m.tsig_off, off);
    assert_int_equal(m.count[2], 1);
    dns_arena_clear(&a);
}

static void test_trailing_and_rdata(void **state)
{
    struct pkt p;
    hdr(&p, 1, 0, 0, 0);
    put(&p, "\0\0\1\0\1", 5);
    put(&p, "junk", 4);
    assert_int_equal(fault_of(&p), DNS_FAULT_TRAILING);
    hdr(&p, 0, 1, 0, 0); /* A with 5 bytes */
    put(&p, "\0", 1);
    rrhead(&p, DNS_TYPE_A, 1, 0, 5);
    put(&p, "\1\2\3\4\5", 5);
    assert_int_equal(fault_of(&p), DNS_FAULT_RDATA);
    hdr(&p, 0, 1, 0, 0); /* MX whose name runs past its rdlength */
    put(&p, "\0", 1);
    rrhead(&p, DNS_TYPE_MX, 1, 0, 4);
    put(&p, "\0\12\3abc\0", 7);
    assert_int_equal(fault_of(&p), DNS_FAULT_RDATA);
    hdr(&p, 0, 1, 0, 0); /* MX with a byte left over */
    put(&p, "\0", 1);
    rrhead(&p, DNS_TYPE_MX, 1, 0, 5);
    put(&p, "\0\12\0\0\0", 5);
    assert_int_equal(fault_of(&p), DNS_FAULT_RDATA);
    hdr(&p, 0, 1, 0, 0); /* unknown type: any bytes */
    put(&p, "\0", 1);
    rrhead(&p, 65000, 1, 0, 3);
    put(&p, "\xff\xff\xff", 3);
    assert_int_equal(fault_of(&p), DNS_FAULT_NONE);
}

/* A compressed MX in a packet decompresses into plain rdata. */
static void test_decompress_rdata(void **state)
{
    struct pkt p;
    hdr(&p, 1, 1, 0, 0);
    put(&p, "\7example\3com\0", 13);
    put16(&p, DNS_TYPE_MX);
    put16(&p, 1);
    put(&p, "\xc0\x0c", 2);
    rrhead(&p, DNS_TYPE_MX, 1, 300, 9);
    put(&p, "\0\12\4mail\xc0\x0c", 9);
    struct dns_msg m;
    struct dns_arena a;
    assert_int_equal(parse(&p, &m, &a), 0);
    assert_int_equal(m.rr[0][0].rdlen, 2 + 18);
    assert_memory_equal(m.rr[0][0].rdata, "\0\12\4mail\7example\3com\0", 20);
    /* every prefix is refused, never read past */
    for (size_t n = 12; n < p.len; n++) {
        struct pkt q = p;
        q.len = n;
        assert_int_not_equal(fault_of(&q), DNS_FAULT_NONE);
    }
    /* every single-byte change parses or fails cleanly */
    for (size_t i = 0; i < p.len; i++)
        for (int v = 0; v < 256; v += 7) {
            struct pkt q = p;
            q.b[i] = (uint8_t)v;
            (void)fault_of(&q);
        }
    assert_string_equal(dns_fault_str(DNS_FAULT_PTR_LOOP), "compression pointer loop");
    dns_arena_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_sticky),         cmocka_unit_test(test_rdata_text_roundtrip),
        cmocka_unit_test(test_rdata_text_errors),  cmocka_unit_test(test_type_class_names),
        cmocka_unit_test(test_serial_arith),       cmocka_unit_test(test_build_parse_roundtrip),
        cmocka_unit_test(test_compression_rules),  cmocka_unit_test(test_builder_limit_rollback),
        cmocka_unit_test(test_truncated_header),   cmocka_unit_test(test_compression_loop),
        cmocka_unit_test(test_forward_pointer),    cmocka_unit_test(test_label_too_long),
        cmocka_unit_test(test_name_too_long),      cmocka_unit_test(test_counts_past_end),
        cmocka_unit_test(test_opt_rules),          cmocka_unit_test(test_tsig_last),
        cmocka_unit_test(test_trailing_and_rdata), cmocka_unit_test(test_decompress_rdata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
