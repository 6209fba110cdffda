/* Unit test for the name server's control thread (dns/server/service/ctl.c): after a zone
 * changes, NOTIFY leaves only once every worker has swapped in the view with the new version.
 * Before, the control thread posted the swaps and sent NOTIFY at once, so a secondary asking
 * straight back (SOA query, IXFR) could reach a worker still answering with the old serial.
 * The workers here are event loops the test runs by hand; the secondary is a UDP socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/loop_post.h"
#include "core/reload_report.h"
#include "dns/rr.h"
#include "dns/server/service/service_int.h"
#include "dns/wire.h"
#include "dns/zone.h"
#include "host/host.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NWORKERS 2

static void zone_write(const char *path, unsigned serial)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 host %u 3600 600 86400 60\n"
            "@ NS ns1\nns1 A 192.0.2.1\n",
            serial);
    assert_int_equal(fclose(f), 0);
}

static uint32_t view_serial(const struct dns_worker *dw)
{
    return dns_zone_serial(dw->view->z[0].zone);
}

/* A datagram waiting on fd within ms milliseconds? */
static bool datagram_waiting(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

static void on_report(void *arg, struct reload_report *r)
{
    *(bool *)arg = true;
    reload_report_free(r);
}

static void test_notify_after_every_swap(void **state)
{
    char dir[] = "/tmp/pigeon-notify-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128], jnl[160];
    snprintf(file, sizeof file, "%s/example.com.zone", dir);
    snprintf(jnl, sizeof jnl, "%s/journal/example.com.jnl", dir);
    zone_write(file, 1);

    /* the secondary: a UDP socket on loopback */
    int sec = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(sec, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t salen = sizeof sa;
    assert_int_equal(getsockname(sec, (struct sockaddr *)&sa, &salen), 0);
    struct dns_remote target = {.len = sizeof sa};
    memcpy(&target.sa, &sa, sizeof sa);
    snprintf(target.text, sizeof target.text, "127.0.0.1:%u", ntohs(sa.sin_port));

    struct dns_zconf zc = {.name = "example.com", .file = file, .jnl = jnl};
    size_t olen;
    const char *why;
    assert_int_equal(dns_name_from_text("example.com.", 12, NULL, zc.origin, &olen, &why), 0);
    zc.notify = &target;
    zc.nnotify = 1;

    /* the configuration as dns_zcfg_new makes it; on the stack, so its count never reaches 0 */
    struct dns_zcfg zcfg = {.zc = &zc, .nzones = 1};
    atomic_init(&zcfg.refs, 1000);
    zcfg.srv = (struct dns_server){zcfg.zc, zcfg.nzones, NULL, 0, 1232};
    struct dns_service s = {.cfg = &zcfg, .nworkers = NWORKERS,
                            .cfg_lock = PTHREAD_MUTEX_INITIALIZER};
    struct worker w[NWORKERS] = {0};
    struct dns_worker dw[NWORKERS] = {0}, *dws[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) {
        w[i].host.base = event_base_new();
        w[i].host.post = loop_post_new(w[i].host.base);
        dw[i] = (struct dns_worker){.w = &w[i], .s = &s};
        dws[i] = &dw[i];
    }
    s.workers = dws;
    bool ok;
    struct dns_view *v0;
    s.ctl = dns_ctl_new(&s, &v0, &ok);
    assert_true(ok);
    for (int i = 0; i < NWORKERS; i++)
        dw[i].view = dns_view_ref(v0);
    dns_view_unref(v0);
    dns_ctl_start(s.ctl);

    /* serial 2 in the file; the reload's answer comes once the control thread is done */
    zone_write(file, 2);
    struct event_base *tb = event_base_new();
    struct loop_post *tp = loop_post_new(tb);
    bool done = false;
    struct reload_report *r = reload_report_new(tp, on_report, &done);
    dns_ctl_reload(s.ctl, NULL, r); /* no new configuration: the zone files are read again */
    reload_report_release(r);
    while (!done)
        event_base_loop(tb, EVLOOP_ONCE);

    /* serial 2 is published, no worker has swapped it in: no NOTIFY may have left */
    assert_int_equal(view_serial(&dw[0]), 1);
    assert_false(datagram_waiting(sec, 0));
    event_base_loop(w[0].host.base, EVLOOP_NONBLOCK);
    assert_int_equal(view_serial(&dw[0]), 2);
    assert_false(datagram_waiting(sec, 0)); /* one worker still on serial 1 */
    event_base_loop(w[1].host.base, EVLOOP_NONBLOCK);
    assert_int_equal(view_serial(&dw[1]), 2);

    /* now it comes (the 30 s bound only keeps a broken build from hanging) */
    assert_true(datagram_waiting(sec, 30000));
    uint8_t pkt[1024];
    ssize_t n = recv(sec, pkt, sizeof pkt, 0);
    assert_true(n >= DNS_HEADER_LEN);
    assert_int_equal((pkt[2] >> 3) & 0x0f, DNS_OPCODE_NOTIFY);
    /* its SOA carries serial 2: the last 20 octets of the SOA rdata start with the serial */
    const uint8_t two[4] = {0, 0, 0, 2};
    assert_non_null(memmem(pkt + DNS_HEADER_LEN, (size_t)n - DNS_HEADER_LEN, two, 4));

    dns_ctl_stop(s.ctl);
    for (int i = 0; i < NWORKERS; i++) {
        loop_post_free(w[i].host.post); /* drains what is still posted */
        dns_view_unref(dw[i].view);
        event_base_free(w[i].host.base);
    }
    dns_ctl_free(s.ctl);
    loop_post_free(tp);
    event_base_free(tb);
    close(sec);
    unlink(jnl);
    unlink(file);
    char jdir[160];
    snprintf(jdir, sizeof jdir, "%s/journal", dir);
    rmdir(jdir);
    rmdir(dir);
}

int main(void)
{
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_after_every_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
