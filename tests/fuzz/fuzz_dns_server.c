/*
 * libFuzzer target for the authoritative server's engine (src/dns/server): one packet, from
 * an address the first input byte chooses (inside or outside the ACLs) and over UDP or TCP,
 * goes through dns_server_process against a loaded primary zone with ACLs and TSIG keys and a
 * configured-but-dead secondary. A transfer job is streamed to its end, an UPDATE job is
 * applied and answered as the control thread would. Nothing may crash, leak, read outside or
 * write past the output buffer.
 */
#include "dns/arena.h"
#include "dns/rr.h"
#include "dns/server/rrl.h"
#include "dns/server/server.h"
#include "dns/xfr/rrvec.h"
#include "dns/zone.h"
#include "dns/zonefile.h"
#include "dns/zoneset.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char zone_text[] = "$ORIGIN example.com.\n$TTL 300\n"
                                "@ SOA ns1 host 1 3600 600 86400 60\n@ NS ns1\n"
                                "ns1 A 192.0.2.1\nwww A 192.0.2.2\nalias CNAME www\n"
                                "*.wild TXT \"w\"\nsub NS ns.sub\nns.sub A 192.0.2.9\n";

static struct dns_tsig_key keys[1];
static struct dns_zconf zc[2];
static struct dns_server srv;
static struct dns_view *view;
static struct dns_zone *zone;
static struct dns_rrl *rrl;

static void init(void)
{
    const char *why;
    char bad[32];
    if (dns_tsig_key_init(&keys[0], "k", "hmac-sha256", (const uint8_t *)"secret", 6, &why))
        abort();
    size_t n;
    zc[0].name = "example.com";
    dns_name_from_text("example.com.", 12, NULL, zc[0].origin, &n, &why);
    dns_acl_parse("192.0.2.0/24 key:k", &zc[0].xfr_acl, bad, sizeof bad);
    dns_acl_parse("192.0.2.7 key:k", &zc[0].upd_acl, bad, sizeof bad);
    zc[1].name = "sec.test";
    dns_name_from_text("sec.test.", 9, NULL, zc[1].origin, &n, &why);
    zc[1].secondary = true;
    struct sockaddr_in *p = (struct sockaddr_in *)&zc[1].primary.sa;
    p->sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.7", &p->sin_addr);
    srv = (struct dns_server){zc, 2, keys, 1, 1232};
    struct str err = STR_INIT;
    if (dns_zone_from_text(zone_text, sizeof zone_text - 1, "fuzz", zc[0].origin,
                           DNS_ZF_NO_INCLUDE, &zone, &err) != 0)
        abort();
    str_clear(&err);
    view = calloc(1, sizeof *view);
    atomic_init(&view->refs, 1);
    view->zs = dns_zoneset_new();
    dns_zoneset_add(view->zs, zone);
    view->n = 2;
    view->z = calloc(2, sizeof *view->z);
    view->z[0].zone = zone;
    view->any_dead = true;
    rrl = dns_rrl_new(5, 2, 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!view)
        init();
    if (size < 1)
        return 0;
    static const char *const from[4] = {"192.0.2.7", "203.0.113.1", "127.0.0.1", "192.0.2.50"};
    struct sockaddr_in peer = {.sin_family = AF_INET};
    inet_pton(AF_INET, from[data[0] & 3], &peer.sin_addr);
    bool tcp = data[0] & 4;
    static uint8_t out[DNS_MSG_MAX];
    struct dns_arena ar;
    dns_arena_init(&ar, NULL, 0);
    struct dns_server_req req = {data + 1, size - 1, (struct sockaddr *)&peer, tcp, 1700000000};
    struct dns_server_job_out job;
    size_t cap = tcp ? DNS_MSG_MAX : 4096;
    size_t len = dns_server_process(&srv, view, &req, &ar, out, cap, &job);
    if (len > cap)
        abort();
    if (len && !tcp && dns_rrl_apply(rrl, (struct sockaddr *)&peer, out, len, 0) > len)
        abort();
    if (job.kind == DNS_JOB_XFR) {
        size_t n;
        while ((n = dns_server_xfr_next(job.xfr, 1700000000, out, DNS_MSG_MAX)) > 0)
            if (n > DNS_MSG_MAX)
                abort();
        dns_server_xfr_free(job.xfr);
    } else if (job.kind == DNS_JOB_UPDATE) {
        struct dns_server_update_result res;
        dns_arena_reset(&ar);
        if (dns_server_update_apply(zone, req.pkt, req.len, &ar, &res) == 0) {
            dns_zone_unref(res.zone);
            dns_zdiff_unref(res.diff);
            dns_arena_reset(&ar);
            dns_server_update_answer(req.pkt, req.len, res.rcode, tcp, 1232, &job.tsig,
                                     1700000000, &ar, out, cap);
        }
    }
    dns_arena_clear(&ar);
    return 0;
}
