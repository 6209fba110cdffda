/* The outbound client against Pigeon's own server engine, back to back in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/log.h"
#include "fakes/fake_smtp.h"
#include "smtp/client.h"
#include "smtp/reply.h"

#include <stdlib.h>
#include <string.h>

struct pair {
    struct fake_smtp server;
    struct smtp_client *client;
    struct str to_server;
    size_t server_out_seen;
    bool closed, tls_started, failed;
    int fail_code;
    unsigned ready_calls;
    const struct smtp_client_msg *queue[4];
    unsigned nqueue, sent;
    int codes[4][8];
};

static void c_write(void *vp, const char *p, size_t n)
{
    str_append(&((struct pair *)vp)->to_server, p, n);
}

static void c_starttls(void *vp)
{
    ((struct pair *)vp)->tls_started = true;
}

static void c_close(void *vp)
{
    ((struct pair *)vp)->closed = true;
}

static const struct smtp_client_io cio = {c_write, c_starttls, c_close};

static void on_ready(void *vp, struct smtp_client *c)
{
    struct pair *p = vp;
    p->ready_calls++;
    if (p->sent < p->nqueue)
        smtp_client_send(c, p->queue[p->sent++]);
    else
        smtp_client_quit(c);
}

static void on_done(void *vp, struct smtp_client *c, const struct smtp_client_result *r)
{
    struct pair *p = vp;
    for (size_t i = 0; i < r->n && i < 8; i++)
        p->codes[p->sent - 1][i] = r->codes[i];
}

static void on_failed(void *vp, struct smtp_client *c, int code, const char *text)
{
    struct pair *p = vp;
    p->failed = true;
    p->fail_code = code;
}

static const struct smtp_client_ops cops = {on_ready, on_done, on_failed};

/* Moves bytes both ways until nothing moves. */
static void run(struct pair *p)
{
    for (int guard = 0; guard < 1000; guard++) {
        bool moved = false;
        if (p->to_server.len && !p->server.closed) {
            struct str chunk = p->to_server;
            str_init(&p->to_server);
            fake_smtp_feed(&p->server, chunk.ptr, chunk.len);
            if (p->server.tls_requested)
                p->server.tls_requested = false;
            str_clear(&chunk);
            moved = true;
        }
        if (p->server.out.len > p->server_out_seen && !p->closed) {
            size_t n = p->server.out.len - p->server_out_seen;
            const char *s = p->server.out.ptr + p->server_out_seen;
            p->server_out_seen = p->server.out.len;
            smtp_client_feed(p->client, s, n);
            moved = true;
        }
        if (p->tls_started) { /* both sides "complete" the handshake */
            p->tls_started = false;
            smtp_session_tls_started(p->server.s, "TLSv1.3", "TEST");
            smtp_client_tls_done(p->client, true);
            moved = true;
        }
        if (!moved)
            return;
    }
    fail_msg("conversation did not settle");
}

static void pair_init(struct pair *p, enum smtp_tls_policy tls)
{
    memset(p, 0, sizeof *p);
    fake_smtp_init(&p->server, false, false);
    struct smtp_client_config cfg = {"crepes.fr", tls};
    p->client = smtp_client_new(&cfg, &cio, p, &cops, p);
}

static void pair_free(struct pair *p)
{
    smtp_client_free(p->client);
    fake_smtp_free(&p->server);
    str_clear(&p->to_server);
}

static void test_deliver_two_messages_pipelined_tls(void **state)
{
    struct pair p;
    pair_init(&p, SMTP_TLS_OPPORTUNISTIC);
    const char *r1[] = {"bob@hamburger.edu", "nobody@hamburger.edu", "x@elsewhere.org"};
    struct smtp_client_msg m1 = {"alice@crepes.fr", r1, 3, "Subject: a\r\n\r\n.dot\r\nend", 23,
                                 false, false, false, false};
    const char *r2[] = {"bob@hamburger.edu"};
    struct smtp_client_msg m2 = {"", r2, 1, "x\r\n", 3, false, false, false, false};
    p.queue[0] = &m1;
    p.queue[1] = &m2;
    p.nqueue = 2;
    run(&p);
    assert_false(p.failed);
    assert_true(smtp_client_tls_active(p.client));
    assert_true(smtp_client_has_pipelining(p.client));
    assert_int_equal(p.codes[0][0], 250);
    assert_int_equal(p.codes[0][1], 550);
    assert_int_equal(p.codes[0][2], 554);
    assert_int_equal(p.codes[1][0], 250);
    assert_int_equal(p.server.ncommitted, 2);
    /* dot-stuffing undone by the server, a missing final CRLF added by the client */
    assert_non_null(strstr(str_cstr(&p.server.committed), "Subject: a\r\n\r\n.dot\r\nend\r\n"));
    assert_true(p.closed);
    pair_free(&p);
}

static void test_no_recipient_accepted(void **state)
{
    struct pair p;
    pair_init(&p, SMTP_TLS_NONE);
    const char *r[] = {"nobody@hamburger.edu"};
    struct smtp_client_msg m = {"a@b.c", r, 1, "x\r\n", 3, false, false, false, false};
    p.queue[0] = &m;
    p.nqueue = 1;
    run(&p);
    assert_false(p.failed);
    assert_int_equal(p.codes[0][0], 550);
    assert_int_equal(p.server.ncommitted, 0);
    assert_false(smtp_client_tls_active(p.client));
    pair_free(&p);
}

/* RFC 8689: a REQUIRETLS message goes with MAIL ... REQUIRETLS over TLS to a server that
 * offers it (Pigeon's own engine does, after STARTTLS); without TLS it is refused here with
 * 550 5.7.30 and never sent, while a tagged bounce (null reverse-path, not required) goes
 * without the parameter. */
static void test_requiretls(void **state)
{
    struct pair p;
    pair_init(&p, SMTP_TLS_REQUIRED);
    const char *r[] = {"bob@hamburger.edu"};
    struct smtp_client_msg m = {"alice@crepes.fr", r, 1, "x\r\n", 3, false, false, true, true};
    p.queue[0] = &m;
    p.nqueue = 1;
    run(&p);
    assert_false(p.failed);
    assert_true(smtp_client_has_requiretls(p.client));
    assert_int_equal(p.codes[0][0], 250);
    assert_int_equal(p.server.ncommitted, 1);
    assert_true(p.server.requiretls_last);
    pair_free(&p);

    pair_init(&p, SMTP_TLS_NONE);
    struct smtp_client_msg dsn = {"", r, 1, "y\r\n", 3, false, false, true, false};
    p.queue[0] = &m;
    p.queue[1] = &dsn;
    p.nqueue = 2;
    run(&p);
    assert_false(smtp_client_has_requiretls(p.client));
    assert_int_equal(p.codes[0][0], 550);
    assert_int_equal(p.codes[1][0], 250);
    assert_int_equal(p.server.ncommitted, 1); /* the bounce only */
    assert_false(p.server.requiretls_last);
    assert_null(strstr(str_cstr(&p.server.committed), "x\r\n"));
    pair_free(&p);
}

/* Issue 10 item 7: lines are the CRLF-ended ones and every line goes out CRLF-ended, so a stored
 * bare CR or LF can never put an end of data ("\r.\r\n", "\n.\n") on the wire. */
static void test_dot_stuff(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ".\r\n"},
        {"a\r\n", "a\r\n.\r\n"},
        {"a", "a\r\n.\r\n"},
        {".x\r\n.\r\n", "..x\r\n..\r\n.\r\n"},
        {"a\r.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
        {"a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"},
        {"a\r\r\n\n", "a\r\n\r\n\r\n.\r\n"},
        {"x\r", "x\r\n.\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct str out = STR_INIT;
        smtp_client_dot_stuff(cases[i].in, strlen(cases[i].in), &out);
        assert_string_equal(str_cstr(&out), cases[i].out);
        str_clear(&out);
    }
}

static void test_reply_parser(void **state)
{
    struct smtp_reply r;
    smtp_reply_init(&r);
    const char *in = "250-mail.example Hello\r\n250-SIZE 1000\r\n250 STARTTLS\r\n550 5.1.1 no\r\n";
    size_t used;
    assert_int_equal(smtp_reply_feed(&r, in, strlen(in), &used), 1);
    assert_int_equal(r.code, 250);
    assert_true(smtp_reply_has_keyword(&r, "STARTTLS"));
    assert_false(smtp_reply_has_keyword(&r, "AUTH"));
    smtp_reply_reset(&r);
    size_t used2;
    assert_int_equal(smtp_reply_feed(&r, in + used, strlen(in) - used, &used2), 1);
    assert_int_equal(r.code, 550);
    assert_string_equal(r.enh, "5.1.1");
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_feed(&r, "hello\r\n", 7, &used), -1);
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_feed(&r, "250-a\r\n251 b\r\n", 14, &used), -1);
    smtp_reply_clear(&r);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deliver_two_messages_pipelined_tls),
        cmocka_unit_test(test_no_recipient_accepted),
        cmocka_unit_test(test_requiretls),
        cmocka_unit_test(test_reply_parser),
        cmocka_unit_test(test_dot_stuff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
