/*
 * libFuzzer target for what the mail side reads from DNS answers beyond the wire parser:
 * TLSA rdata chosen for DANE (src/queue/dane.c: dane_usable) and the records `pigeon domain
 * check` judges against a domain's expected set (src/mailauth/mailrec.c: mailrec_judge with
 * MX names, TXT strings joined, byte comparison). The input is cut into rdata pieces by a
 * leading length byte each. Checks: no crash, no over-read (exact-size heap copies), every
 * kept TLSA record of a usable kind and length.
 */
#include "dns/zone.h"
#include "mailauth/mailrec.h"
#include "queue/dane.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PIECES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy[PIECES];
    struct dns_stub_rdata rr[PIECES];
    struct dns_rdata have[PIECES];
    size_t n = 0;
    for (size_t i = 0; i < size && n < PIECES;) {
        size_t len = data[i++];
        if (len > size - i)
            len = size - i;
        copy[n] = malloc(len ? len : 1);
        memcpy(copy[n], data + i, len);
        rr[n] = (struct dns_stub_rdata){copy[n], (uint16_t)len};
        have[n] = (struct dns_rdata){(uint16_t)len, copy[n]};
        n++;
        i += len;
    }
    struct dane_tlsa t[DANE_MAX];
    size_t nt = 0;
    enum dane_state st = dane_usable(rr, n, t, &nt);
    if (nt > DANE_MAX || (st == DANE_VERIFY) != (nt > 0))
        abort();
    for (size_t i = 0; i < nt; i++)
        if ((t[i].usage != 2 && t[i].usage != 3) || t[i].selector > 1 || t[i].mtype > 2 ||
            (t[i].mtype == 1 && t[i].len != 32) || (t[i].mtype == 2 && t[i].len != 64))
            abort();
    dane_tlsa_clear(t, nt);
    struct mailrec_params p = {.domain = "example.test", .mx_host = "mx.example.test",
                               .ttl = 300, .spf = "v=spf1 mx -all",
                               .dkim_sel = {"s"}, .dkim_txt = {"v=DKIM1; p=AAAA"}, .ndkim = 1,
                               .dmarc = "v=DMARC1; p=none", .sts_id = "abc"};
    struct mailrec_set set;
    mailrec_set_init(&set);
    if (mailrec_build(&p, &set) != 0)
        abort();
    for (size_t i = 0; i < set.n; i += mailrec_run(&set, i))
        (void)mailrec_judge(&set.r[i], mailrec_run(&set, i), have, n);
    mailrec_set_clear(&set);
    for (size_t i = 0; i < n; i++)
        free(copy[i]);
    return 0;
}
