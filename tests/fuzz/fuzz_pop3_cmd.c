/*
 * libFuzzer target for pop3/cmd: one command line in, a struct or an error reply out. Checks
 * that every slice lies inside the line, that an error always carries a one-line "-ERR" reply
 * and success never does, and that AUTH initial responses survive the SASL decoder.
 */
#include "auth/sasl.h"
#include "pop3/cmd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_within(struct slice s, const char *line, size_t len)
{
    if (s.len > 0 && (s.p < line || s.p + s.len > line + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    memcpy(line, data, size);
    struct pop3_cmd cmd;
    int rc = pop3_cmd_parse(line, size, &cmd);
    if (rc == 0) {
        if (cmd.reply || cmd.verb == POP3_UNKNOWN || strlen(pop3_verb_name(cmd.verb)) == 0)
            abort();
        check_within(cmd.arg, line, size);
        check_within(cmd.mechanism, line, size);
        check_within(cmd.initial, line, size);
        if ((cmd.verb == POP3_RETR || cmd.verb == POP3_DELE || cmd.verb == POP3_TOP) &&
            !cmd.has_msg)
            abort();
        if (cmd.verb == POP3_AUTH && cmd.initial.len) {
            struct sasl_creds creds;
            if (sasl_plain_decode(cmd.initial.p, cmd.initial.len, &creds) == 0 &&
                (creds.user[0] == '\0' || creds.pass[0] == '\0'))
                abort();
        }
    } else if (rc > 0 || !cmd.reply || strncmp(cmd.reply, "-ERR ", 5) != 0 ||
               strchr(cmd.reply, '\r') || strchr(cmd.reply, '\n')) {
        abort();
    }
    free(line);
    return 0;
}
