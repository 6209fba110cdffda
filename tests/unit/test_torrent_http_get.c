/*
 * torrent/service/http_get: the blocking GET of HTTP trackers and web seeds, against a server
 * on a thread of the test (loopback): an answer read to the end, and an answer sent one octet
 * at a time, which must end in a failure at the exchange's deadline (TOR_HTTP_TIMEOUT_MS) —
 * not run for as long as the server keeps dripping (15 s per octet before: hours for a
 * tracker's 256 KiB, while the pool thread it holds verifies no piece).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "torrent/service/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct server {
    int lfd;
    unsigned drip_ms; /* 0: the whole answer at once; else one octet per drip_ms */
    const char *answer;
    size_t sent;
};

static void *serve(void *vs)
{
    struct server *s = vs;
    int c = accept(s->lfd, NULL, NULL);
    char req[4096];
    if (c < 0 || recv(c, req, sizeof req, 0) <= 0)
        return NULL;
    size_t n = strlen(s->answer);
    for (size_t i = 0; i < n; i++) {
        size_t k = s->drip_ms ? 1 : n;
        if (send(c, s->answer + i, k, MSG_NOSIGNAL) != (ssize_t)k)
            break; /* the client gave up */
        s->sent += k;
        i += k - 1;
        if (s->drip_ms)
            usleep(s->drip_ms * 1000);
    }
    close(c);
    return NULL;
}

static int get(struct server *s, struct str *body)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
    pthread_t t;
    pthread_create(&t, NULL, serve, s);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/announce", (unsigned)ntohs(a.sin_port));
    struct tor_url u;
    assert_int_equal(tor_url_parse(url, "http://", "80", &u), 0);
    int status = tor_http_get(&u, u.path, 0, 0, 1024, body);
    pthread_join(t, NULL);
    close(s->lfd);
    return status;
}

static const char ANSWER[] = "HTTP/1.0 200 OK\r\n\r\nd8:intervali1800e5:peers0:e";

static void test_whole_answer(void **state)
{
    struct server s = {.answer = ANSWER};
    struct str body = STR_INIT;
    assert_int_equal(get(&s, &body), 200);
    assert_string_equal(str_cstr(&body), "d8:intervali1800e5:peers0:e");
    str_clear(&body);
}

/* 46 octets at one a second: 46 s to send, past the 15 s deadline. */
static void test_dripped_answer_fails_at_deadline(void **state)
{
    struct server s = {.answer = ANSWER, .drip_ms = 1000};
    struct str body = STR_INIT;
    assert_int_equal(get(&s, &body), 0);
    assert_int_equal(body.len, 0);
    assert_true(s.sent < sizeof ANSWER - 1); /* the client left before the server was done */
    str_clear(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_answer),
        cmocka_unit_test(test_dripped_answer_fails_at_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
