/*
 * SPF macro expansion (RFC 7208 §7, spf/macro.c) of arbitrary macro-strings, as found in a
 * domain's SPF record or exp= text, with both client address families; the first byte picks
 * the family and whether explanation-only macros (%{c} %{r} %{t}) are allowed.
 */
#include "spf/spf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct sockaddr_storage ip;
    memset(&ip, 0, sizeof ip);
    if (data[0] & 1) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ip;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, "2001:db8::cb01", &s6->sin6_addr);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ip;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, "192.0.2.3", &s4->sin_addr);
    }
    struct spf_macro_ctx ctx = {
        .sender = "strong-bad@email.example.com",
        .local = "strong-bad",
        .sender_dom = "email.example.com",
        .domain = "email.example.com",
        .ip = (struct sockaddr *)&ip,
        .helo = "mx.example.org",
        .receiver = "mail.hamburger.edu",
        .ptr = "unknown",
    };
    struct str out = STR_INIT;
    (void)spf_macro_expand((const char *)data + 1, size - 1, &ctx, data[0] & 2, &out);
    str_clear(&out);
    return 0;
}
