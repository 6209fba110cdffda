/*
 * libFuzzer target for smtp/cmd, plus the SASL and base64 decoders that consume AUTH
 * arguments. The first byte picks the parse flags; the rest is one command line.
 */
#include "auth/sasl.h"
#include "msg/base64.h"
#include "smtp/cmd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A slice from the result must lie inside the line (or be empty). */
static void check_within(struct slice s, const char *line, size_t len)
{
    if (s.len > 0 && (s.p < line || s.p + s.len > line + len))
        abort();
}

static void check_cmd(const struct smtp_cmd *c, const char *line, size_t len)
{
    check_within(c->arg, line, len);
    check_within(c->mechanism, line, len);
    check_within(c->initial, line, len);
    check_within(c->auth_param, line, len);
    if (c->nparams > SMTP_CMD_MAX_PARAMS)
        abort();
    for (unsigned i = 0; i < c->nparams; i++) {
        check_within(c->params[i].key, line, len);
        check_within(c->params[i].value, line, len);
    }
    if (c->verb == SMTP_UNKNOWN || strlen(smtp_verb_name(c->verb)) == 0)
        abort();
}

static void fuzz_sasl(const char *p, size_t len)
{
    struct sasl_creds creds;
    if (sasl_plain_decode(p, len, &creds) == 0 && creds.user[0] == '\0')
        abort();
    char field[SASL_FIELD_MAX + 1];
    (void)sasl_field_decode(p, len, field, sizeof field);
    unsigned char *out = malloc(len / 4 * 3 + 3);
    size_t n = 0;
    if (base64_decode(p, len, out, &n) == 0) {
        /* re-encoding decodes to the same bytes */
        char *enc = malloc(base64_encoded_size(n));
        size_t el = base64_encode(out, n, enc);
        unsigned char *back = malloc(el / 4 * 3 + 3);
        size_t bn = 0;
        if (base64_decode(enc, el, back, &bn) != 0 || bn != n || memcmp(back, out, n) != 0)
            abort();
        free(back);
        free(enc);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0] & 1;
    size_t len = size - 1;
    char *line = malloc(len ? len : 1);
    memcpy(line, data + 1, len);

    struct smtp_cmd cmd;
    int rc = smtp_cmd_parse(line, len, flags, &cmd);
    if (rc == 0) {
        if (cmd.reply)
            abort();
        check_cmd(&cmd, line, len);
        if (cmd.verb == SMTP_AUTH && cmd.initial.len > 0)
            fuzz_sasl(cmd.initial.p, cmd.initial.len);
    } else if (!cmd.reply || rc > 0 || strchr(cmd.reply, '\r') || strchr(cmd.reply, '\n')) {
        abort();
    }
    if (data[0] & 2)
        fuzz_sasl(line, len);
    free(line);
    return 0;
}
