/*
 * libFuzzer target for the POP3 session engine driven through tests/fakes/fake_pop3: the
 * first byte picks TLS / plaintext / message read size / where the input is split, the rest
 * is what a client sends. The engine must never crash, leak, or write a line without CRLF.
 */
#include "fakes/fake_pop3.h"

#include "core/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char m1[] = "From: a@b\r\nSubject: one\r\n\r\n.dot\r\nbody\r\n";
static const char m2[] = "Subject: two\r\n\r\nno final newline";
static const char m3[] = "";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_set_level(LOG_ERR);
        quiet = 1;
    }
    if (size == 0)
        return 0;
    unsigned opt = data[0];
    struct fake_pop3 f;
    fake_pop3_init(&f, opt & 1, opt & 2);
    f.read_max = (opt >> 2) & 7;
    f.maildrop_busy = (opt & 0xe0) == 0xe0;
    fake_pop3_add(&f, m1);
    fake_pop3_add(&f, m2);
    fake_pop3_add(&f, m3);
    const char *p = (const char *)data + 1;
    size_t n = size - 1, cut = n ? (opt * 7u) % (n + 1) : 0;
    fake_pop3_feed(&f, p, cut);
    fake_pop3_feed(&f, p + cut, n - cut);
    if (f.out.len < 2 || memcmp(f.out.ptr + f.out.len - 2, "\r\n", 2) != 0)
        abort();
    if (f.maildrop_opens < f.maildrop_closes)
        abort();
    fake_pop3_free(&f);
    return 0;
}
