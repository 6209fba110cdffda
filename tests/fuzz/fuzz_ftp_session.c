/*
 * libFuzzer target for the FTP session engine driven through tests/fakes/fake_ftp: the first
 * byte picks implicit TLS / plaintext allowed / held results / an IPv6 peer / where the
 * input is split, the rest is what a client sends. The engine must never crash or leak, and
 * every reply it writes ends with CRLF.
 */
#include "fakes/fake_ftp.h"

#include "core/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    struct fake_ftp f;
    fake_ftp_init(&f, opt & 1, opt & 2, (opt & 8) ? "::1" : "127.0.0.1");
    f.hold = opt & 4;
    f.xfer_fail_conn = (opt & 0x30) == 0x30;
    const char *p = (const char *)data + 1;
    size_t n = size - 1, cut = n ? (opt * 7u) % (n + 1) : 0;
    fake_ftp_feed(&f, p, cut);
    fake_ftp_complete(&f);
    fake_ftp_feed(&f, p + cut, n - cut);
    fake_ftp_complete(&f);
    if (f.out.len < 2 || memcmp(f.out.ptr + f.out.len - 2, "\r\n", 2) != 0)
        abort();
    fake_ftp_free(&f);
    return 0;
}
