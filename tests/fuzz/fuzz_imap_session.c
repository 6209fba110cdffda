/*
 * libFuzzer target for the IMAP session engine driven through tests/fakes/fake_imap: the first
 * byte picks TLS / plaintext / held requests / where the input is split, the rest is what a
 * client sends (prefixed with a login and a SELECT half of the time, so the selected state is
 * reached). The engine must never crash or leak, must end every reply with CRLF, and must
 * balance its message maps.
 */
#include "fakes/fake_imap.h"

#include "core/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char m1[] = "From: A <a@b>\r\nSubject: one\r\nContent-Type: multipart/mixed; "
                         "boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nhi\r\n--q--\r\n";
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
    struct fake_imap f;
    fake_imap_init(&f, opt & 1, opt & 2, (opt & 4) ? 4096 : 0);
    fake_imap_deliver(&f, "INBOX", m1, "\\Seen");
    fake_imap_deliver(&f, "INBOX", m2, "$Junk");
    fake_imap_deliver(&f, "Sent", m3, "");
    if (opt & 8)
        fake_imap_feeds(&f, "p LOGIN bob hungry\r\nq SELECT INBOX\r\n");
    const char *p = (const char *)data + 1;
    size_t n = size - 1, cut = n ? (opt * 7u) % (n + 1) : 0;
    size_t used = fake_imap_feed(&f, p, cut);
    if (opt & 16) { /* another session's changes between the two pieces */
        fake_imap_deliver(&f, "INBOX", m2, "");
        fake_imap_expunge_uid(&f, "INBOX", 1);
        imap_session_notify(f.s);
    }
    if (used == cut)
        fake_imap_feed(&f, p + cut, n - cut);
    if (f.out.len < 2 || memcmp(f.out.ptr + f.out.len - 2, "\r\n", 2) != 0)
        abort();
    fake_imap_free(&f);
    if (f.maps != f.unmaps)
        abort();
    return 0;
}
