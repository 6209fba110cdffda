/*
 * Plays a remote SMTP server that sends arbitrary bytes to the outbound client
 * (smtp/client.c) while it delivers two messages over one connection: greeting, EHLO
 * keywords, STARTTLS (completed or failed as the input says), PIPELINING replies for MAIL,
 * RCPT and DATA, the end-of-data reply, QUIT. The first byte picks the TLS policy, the TLS
 * outcome and the feed piece size.
 */
#include "core/log.h"
#include "smtp/client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct peer {
    bool closed, tls_pending, tls_ok;
    unsigned sent;
};

static void io_write(void *vp, const char *p, size_t n)
{
}

static void io_starttls(void *vp)
{
    ((struct peer *)vp)->tls_pending = true;
}

static void io_close(void *vp)
{
    ((struct peer *)vp)->closed = true;
}

static const struct smtp_client_io io = {io_write, io_starttls, io_close};

static const char *const rcpts[] = {"bob@hamburger.edu", "carol@hamburger.edu"};
static const char body[] = "Subject: fuzz\r\n\r\n.leading dot\r\nbare\rCR and bare\nLF\r\nend";
static const struct smtp_client_msg msgs[2] = {
    {"alice@crepes.fr", rcpts, 2, body, sizeof body - 1, true, false, true, true},
    {"", rcpts, 1, body, sizeof body - 1, false, true, true, false},
};

static void on_ready(void *vp, struct smtp_client *c)
{
    struct peer *p = vp;
    if (p->sent < 2)
        smtp_client_send(c, &msgs[p->sent++]);
    else
        smtp_client_quit(c);
}

static void on_done(void *vp, struct smtp_client *c, const struct smtp_client_result *r)
{
}

static void on_failed(void *vp, struct smtp_client *c, int code, const char *text)
{
}

static const struct smtp_client_ops ops = {on_ready, on_done, on_failed};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_ERR);
    if (size == 0)
        return 0;
    struct peer peer = {.tls_ok = data[0] & 4};
    struct smtp_client_config cfg = {"crepes.fr", (enum smtp_tls_policy)(data[0] % 3)};
    size_t piece = 1 + (data[0] >> 3) * 8;
    struct smtp_client *c = smtp_client_new(&cfg, &io, &peer, &ops, &peer);
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    while (n > 0 && !peer.closed) {
        size_t give = n < piece ? n : piece;
        size_t used = smtp_client_feed(c, p, give);
        if (peer.tls_pending) {
            peer.tls_pending = false;
            smtp_client_tls_done(c, peer.tls_ok);
        }
        if (used == 0)
            break;
        p += used;
        n -= used;
    }
    smtp_client_free(c);
    return 0;
}
