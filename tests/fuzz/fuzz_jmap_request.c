/*
 * libFuzzer target for the JMAP engine's request handling (jmap/request.c and every method
 * behind it): the input is an API request body, run against an in-memory account
 * (tests/fakes/fake_jmap.c) holding two messages, one multipart with an attachment. The
 * answer must be 200 with a JSON Response object, or 400 with a problem-details object; the
 * engine must never crash, leak or read out of bounds, whatever the JSON says (result
 * references, JSON Pointers, filters, patches, created ids, message building).
 */
#include "fakes/fake_jmap.h"
#include "jmap/jmap.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char plain[] = "From: Bob <bob@example.org>\r\nTo: a@example.org, \"C, D\" "
                            "<c@example.org>\r\nSubject: hi\r\nMessage-ID: <1@x>\r\n\r\nHello.\r\n";
static const char multi[] =
    "From: a@example.org\r\nSubject: =?utf-8?b?w6l0w6k=?=\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n"
    "<p>x</p>\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fake_jmap *f = malloc(sizeof *f);
    struct jmap_ops ops;
    fake_jmap_init(f, &ops);
    fake_jmap_deliver(f, 1, plain, "\\Seen");
    fake_jmap_deliver(f, 1, multi, "");
    struct jmap_limits lim;
    jmap_limits_default(&lim);
    lim.max_size_request = 1 << 16;
    struct jmap_env env = {.ops = &ops, .lim = &lim, .user = "a@example.org",
                           .account_id = "u1", .user_name = "", .now = 1764000000,
                           .random = "00112233aabbccdd"};
    struct str out = STR_INIT;
    int status = jmap_api_process(&env, (const char *)data, size, &out);
    json_t *j = json_loadb(out.ptr ? out.ptr : "", out.len, 0, NULL);
    if (!j || (status != 200 && status != 400))
        abort();
    if (status == 200 && !json_is_array(json_object_get(j, "methodResponses")))
        abort();
    if (status == 400 && !json_is_string(json_object_get(j, "type")))
        abort();
    json_decref(j);
    str_clear(&out);
    fake_jmap_free(f);
    free(f);
    return 0;
}
