/*
 * libFuzzer target for the Sieve engine (src/sieve/): the input is a script, parsed with the
 * default limits; a script that parses is run against a fixed message (every test and action
 * path, includes answered with the input itself). Checks: no crash, no over-read (an exact-size
 * heap copy), no leak, the action count within the limit, and every parse failure explained.
 */
#include "core/err.h"
#include "sieve/sieve.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char MSG[] = "From: \"A\" <a+x@example.org>\r\n"
                          "To: b@example.com, c <c@example.com>\r\n"
                          "Subject: =?UTF-8?Q?caf=C3=A9?= test\r\n"
                          "Date: Tue, 01 Dec 2026 10:30:00 +0100\r\n"
                          "Content-Type: multipart/mixed; boundary=b\r\n"
                          "\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello world\r\n"
                          "--b\r\nContent-Type: text/html; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+\r\n--b--\r\n";

struct input {
    const uint8_t *data;
    size_t size;
};

static int include_self(void *ctx, const char *name, bool global, char **text, size_t *len)
{
    const struct input *in = ctx;
    if (global)
        return ERR_NOTFOUND;
    *text = malloc(in->size ? in->size : 1);
    memcpy(*text, in->data, in->size);
    *len = in->size;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    struct sieve_limits lim;
    sieve_limits_default(&lim);
    struct sieve_script *s = NULL;
    struct str err = STR_INIT;
    int rc = sieve_script_parse(p, size, &lim, &s, &err);
    if (rc != 0 && err.len == 0)
        abort();
    if (rc == 0) {
        struct input in = {data, size};
        static const char *const addrs[] = {"b@example.com"};
        struct sieve_env env = {.msg = MSG, .len = sizeof MSG - 1, .env_from = "a+x@example.org",
                                .env_to = "b+y@example.com", .user_addresses = addrs,
                                .n_user_addresses = 1, .delimiter = '+', .now = 1796000000,
                                .include = include_self, .include_ctx = &in};
        struct sieve_result res;
        str_reset(&err);
        (void)sieve_run(s, &env, &lim, &res, &err);
        if (res.n > lim.max_actions + 1)
            abort();
        for (size_t i = 0; i < res.n; i++)
            if (res.v[i].kind == SIEVE_ACT_VACATION) {
                struct str out = STR_INIT;
                sieve_vacation_build(&res.v[i], &env, "Tue, 1 Dec 2026 00:00:00 +0000",
                                     "<x@y>", &out);
                str_clear(&out);
            }
        sieve_result_clear(&res);
        sieve_script_free(s);
    }
    str_clear(&err);
    free(p);
    return 0;
}
