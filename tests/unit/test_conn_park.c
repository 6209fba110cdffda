/*
 * net/conn_park: idle connections parked down to their socket and a record, made whole again
 * by input, by their deadline and at shutdown. A real event loop and real loopback sockets; the
 * engine is a toy that answers "ok\n" to each line and parks whenever asked.
 *
 * The memory test counts what the heap holds per parked connection (malloc's own count, or
 * AddressSanitizer's under ASan) plus the record: it fails if a parked connection keeps its
 * struct conn (368 octets), its engine or its bufferevent again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/connlimit.h"
#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void); /* sanitizer/allocator_interface.h */
static size_t heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#else
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}
#endif

#define STATE_WORD 0x5eed
#define CROWD 600 /* above conn_park.c's PARK_AT_ONCE (512): these park as soon as answered */

struct toy {
    struct conn *c;
    bool closing;
    bool timed_out;
};

static int live_engines;
static int unparked;
static uint64_t watch_id;  /* the connection whose wakes are counted */
static int watch_unparked; /* ... */
static uint64_t due_after_ms = 60000; /* what the toy's park asks for */
static int timeouts;

static void *toy_create(struct conn *c, const struct listener *l, uint64_t id, const char *peer)
{
    struct toy *t = calloc(1, sizeof *t);
    t->c = c;
    live_engines++;
    return t;
}

static void toy_start(void *v)
{
    struct toy *t = v;
    conn_set_direct_write(t->c);
    conn_set_parking(t->c);
}

static void toy_refuse(void *v, enum conn_refusal why)
{
    ((struct toy *)v)->closing = true;
}

static size_t toy_feed(void *v, const char *p, size_t n)
{
    struct toy *t = v;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n')
            conn_write(t->c, "ok\n", 3);
    return n;
}

static bool toy_busy(const void *v)
{
    return false;
}

static bool toy_closing(const void *v)
{
    return ((const struct toy *)v)->closing;
}

static void toy_tls(void *v, const char *version, const char *cipher)
{
}

static void toy_timeout(void *v)
{
    struct toy *t = v;
    t->closing = true;
    timeouts++;
}

static void toy_shutdown(void *v)
{
    ((struct toy *)v)->closing = true;
}

static void toy_free(void *v)
{
    free(v);
    live_engines--;
}

static uint64_t toy_park(void *v, uint64_t now_ms, uint32_t *state_out)
{
    *state_out = STATE_WORD;
    return now_ms + due_after_ms;
}

static void *toy_unpark(struct conn *c, uint64_t id, const char *peer, uint32_t state,
                        uint64_t due_ms)
{
    assert_int_equal(state, STATE_WORD);
    assert_string_equal(peer, "127.0.0.1");
    struct toy *t = toy_create(c, NULL, id, peer);
    toy_start(t);
    unparked++;
    if (id == watch_id)
        watch_unparked++;
    return t;
}

static const struct conn_park_ops toy_parking = {toy_park, toy_unpark, NULL, NULL};

static const struct proto_ops toy_proto = {
    .name = "toy",
    .create = toy_create,
    .start = toy_start,
    .refuse = toy_refuse,
    .feed = toy_feed,
    .busy = toy_busy,
    .closing = toy_closing,
    .tls_started = toy_tls,
    .timeout = toy_timeout,
    .shutdown = toy_shutdown,
    .free = toy_free,
    .parking = &toy_parking,
};

struct rig {
    struct event_base *base;
    struct conn_counters counters;
    struct conn_host h;
    struct listener l;
    int lfd;
    struct sockaddr_in addr;
};

static struct rig *rig_new(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * CROWD + 64 && rl.rlim_max >= 2 * CROWD + 64) {
        rl.rlim_cur = 2 * CROWD + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct rig *r = calloc(1, sizeof *r);
    r->base = event_base_new();
    atomic_init(&r->counters.next_id, 1);
    atomic_init(&r->counters.max_open, 100000);
    atomic_init(&r->counters.max_prelogin, 100000);
    atomic_init(&r->counters.max_per_ip, 100000);
    r->h.base = r->base;
    r->h.connlimit = connlimit_new();
    r->h.counters = &r->counters;
    r->l = (struct listener){.name = "toy", .proto = &toy_proto, .addr_text = "127.0.0.1:0",
                             .limits = {.max_per_ip = 100000, .idle_timeout = 300,
                                        .session_timeout = 3600}};
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    r->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof r->addr;
    assert_int_equal(bind(r->lfd, (struct sockaddr *)&r->addr, sizeof r->addr), 0);
    assert_int_equal(listen(r->lfd, 1024), 0);
    assert_int_equal(getsockname(r->lfd, (struct sockaddr *)&r->addr, &len), 0);
    return r;
}

static void rig_free(struct rig *r)
{
    conn_close_all(&r->h);
    assert_int_equal(r->h.nconns, 0);
    assert_int_equal(live_engines, 0);
    assert_null(r->h.parking);
    if (r->h.park_timer)
        event_free(r->h.park_timer);
    event_base_free(r->base);
    connlimit_free(r->h.connlimit);
    close(r->lfd);
    free(r);
}

/* A client connection, accepted onto the host; returns the client's socket. */
static int rig_connect(struct rig *r)
{
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(cfd, (struct sockaddr *)&r->addr, sizeof r->addr), 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = accept4(r->lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    assert_true(fd >= 0);
    conn_accept(&r->h, &r->l, fd, (struct sockaddr *)&sa);
    return cfd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs the loop until cond holds; the bound (30 s) is only reached when the test fails. */
#define RUN_UNTIL(r, cond)                                                                         \
    do {                                                                                           \
        double until_ = now_s() + 30;                                                              \
        while (!(cond) && now_s() < until_)                                                        \
            event_base_loop((r)->base, EVLOOP_ONCE);                                               \
        assert_true(cond);                                                                         \
    } while (0)

/* The client's socket has the answer (or EOF: ""), without blocking the loop. */
static bool readable(int cfd)
{
    struct pollfd p = {cfd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

static void expect_answer(int cfd)
{
    char buf[16];
    assert_int_equal(recv(cfd, buf, sizeof buf, 0), 3);
    assert_memory_equal(buf, "ok\n", 3);
}

static void ask(struct rig *r, int cfd)
{
    assert_int_equal(send(cfd, "hi\n", 3, 0), 3);
    RUN_UNTIL(r, readable(cfd));
    expect_answer(cfd);
}

/* A crowd parks as soon as each is answered; memory per parked connection; all wake again. */
static void test_crowd_parks_small(void **state)
{
    struct rig *r = rig_new();
    int *cfd = calloc(CROWD, sizeof *cfd);
    /* The first ones allocate what the loop keeps for any number of connections. */
    for (int i = 0; i < 8; i++) {
        cfd[i] = rig_connect(r);
        ask(r, cfd[i]);
    }
    RUN_UNTIL(r, conn_parked_count(&r->h) == 8);
    size_t before = heap_in_use();
    for (int i = 8; i < CROWD; i++) {
        cfd[i] = rig_connect(r);
        ask(r, cfd[i]);
    }
    RUN_UNTIL(r, conn_parked_count(&r->h) == CROWD);
    assert_int_equal(live_engines, 0);
    size_t per_conn = (heap_in_use() - before) / (CROWD - 8) + conn_parked_size();
    print_message("heap per parked connection: %zu octets (record %zu)\n", per_conn,
                  conn_parked_size());
    /* The record (80) and libevent's slot for the socket (16 + its share of the fd table),
     * not a struct conn (368), an engine, a bufferevent and their timers (over 1,500). */
    assert_true(conn_parked_size() <= 80);
    assert_true(per_conn <= 224);
    /* Every one wakes for its next line, in any order, and parks again (at once). */
    for (int i = CROWD - 1; i >= 0; i -= 7)
        ask(r, cfd[i]);
    RUN_UNTIL(r, conn_parked_count(&r->h) == CROWD);
    assert_true(unparked >= CROWD / 7);
    /* Closed by the clients while parked: noticed, freed, their places given back. */
    for (int i = 0; i < CROWD; i++)
        close(cfd[i]);
    RUN_UNTIL(r, r->h.nconns == 0);
    assert_null(r->h.parking);
    free(cfd);
    rig_free(r);
}

/* How far away the sweep timer's next run is, in seconds (0: not pending). */
static double sweep_due_in(struct rig *r)
{
    struct timeval tv, now;
    if (!r->h.park_timer || !event_pending(r->h.park_timer, EV_TIMEOUT, &tv))
        return 0;
    event_base_gettimeofday_cached(r->base, &now);
    return (tv.tv_sec - now.tv_sec) + (tv.tv_usec - now.tv_usec) / 1e6;
}

/* A crowd parking at once keeps the sweep's own interval: (event_active with EV_TIMEOUT put
 * the persistent timer's next run 100 ms later for each newcomer: 8.8 s after 88 of them). */
static void test_crowd_keeps_sweep_interval(void **state)
{
    struct rig *r = rig_new();
    int *cfd = calloc(CROWD, sizeof *cfd);
    for (int i = 0; i < CROWD; i++) {
        cfd[i] = rig_connect(r);
        ask(r, cfd[i]);
        assert_true(sweep_due_in(r) <= 0.2);
    }
    RUN_UNTIL(r, conn_parked_count(&r->h) == CROWD);
    for (int i = 0; i < CROWD; i++)
        close(cfd[i]);
    RUN_UNTIL(r, r->h.nconns == 0);
    free(cfd);
    rig_free(r);
}

/* Among a crowd, a keep-alive client that was woken once is not parked between its requests
 * because newcomers were answered meanwhile (each newcomer's sweep counted as an interval:
 * woken 40 times in 40 requests). */
static void test_keepalive_among_newcomers(void **state)
{
    struct rig *r = rig_new();
    int *cfd = calloc(CROWD, sizeof *cfd);
    for (int i = 0; i < CROWD - 80; i++) {
        cfd[i] = rig_connect(r);
        ask(r, cfd[i]);
    }
    RUN_UNTIL(r, conn_parked_count(&r->h) == CROWD - 80);
    ask(r, cfd[0]); /* woken: from now on it parks only after resting */
    watch_id = 1;   /* cfd[0]'s connection */
    watch_unparked = 0;
    for (int i = CROWD - 80; i < CROWD; i += 2) {
        cfd[i] = rig_connect(r);
        ask(r, cfd[i]);
        cfd[i + 1] = rig_connect(r);
        ask(r, cfd[i + 1]);
        ask(r, cfd[0]);
    }
    watch_id = 0;
    assert_true(watch_unparked <= 1); /* (a pause of 100 ms under a loaded machine) */
    for (int i = 0; i < CROWD; i++)
        close(cfd[i]);
    RUN_UNTIL(r, r->h.nconns == 0);
    free(cfd);
    rig_free(r);
}

/* Parked until its time is up: woken, timed out, closed. */
static void test_parked_deadline(void **state)
{
    struct rig *r = rig_new();
    due_after_ms = 300;
    timeouts = 0;
    int cfd = rig_connect(r);
    ask(r, cfd);
    RUN_UNTIL(r, conn_parked_count(&r->h) == 1);
    RUN_UNTIL(r, r->h.nconns == 0);
    assert_int_equal(timeouts, 1);
    char c;
    RUN_UNTIL(r, readable(cfd));
    assert_int_equal(recv(cfd, &c, 1, 0), 0); /* closed by the server */
    close(cfd);
    due_after_ms = 60000;
    rig_free(r);
}

/* Shutdown: parked connections are made whole and told, and close. */
static void test_shutdown_wakes_parked(void **state)
{
    struct rig *r = rig_new();
    int cfd[3];
    for (int i = 0; i < 3; i++) {
        cfd[i] = rig_connect(r);
        ask(r, cfd[i]);
    }
    RUN_UNTIL(r, conn_parked_count(&r->h) == 3);
    r->h.stopping = true;
    conn_shutdown_all(&r->h);
    assert_int_equal(r->h.nconns, 0);
    assert_null(r->h.parking);
    for (int i = 0; i < 3; i++) {
        char c;
        RUN_UNTIL(r, readable(cfd[i])); /* (libevent closes a freed socket on its next turn) */
        assert_int_equal(recv(cfd[i], &c, 1, 0), 0);
        close(cfd[i]);
    }
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crowd_parks_small),
        cmocka_unit_test(test_crowd_keeps_sweep_interval),
        cmocka_unit_test(test_keepalive_among_newcomers),
        cmocka_unit_test(test_parked_deadline),
        cmocka_unit_test(test_shutdown_wakes_parked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
