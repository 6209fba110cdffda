/*
 * cmd_ftp — `pigeon ftp sessions`: the running pigeond's FTP sessions, asked over its
 * control socket (the FTP service answers "ftp sessions", ftp/service/control.c).
 *
 * One line per session, tab-separated: id, client address, user ("-" before login),
 * seconds connected, working directory, and the transfer in progress ("RETR /a.iso 1048576
 * octets 3 s") or "-".
 */
#include "cli/cli.h"

#include "core/str.h"
#include "host/control_proto.h"

#include <stdio.h>
#include <string.h>

int cli_ftp_sessions(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    struct str answer = STR_INIT;
    int rc = cli_control(ctx, "ftp sessions", &answer);
    bool header = false;
    for (const char *p = str_cstr(&answer); rc == 0 && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        struct control_answer_line a;
        if (control_answer_parse(p, len, &a) == 0) {
            if (a.kind == CONTROL_ANSWER_NOTE && !header)
                printf("ID\tCLIENT\tUSER\tSECONDS\tDIRECTORY\tTRANSFER\n");
            header |= a.kind == CONTROL_ANSWER_NOTE;
            if (a.kind == CONTROL_ANSWER_NOTE)
                printf("%.*s\n", (int)a.text.len, a.text.p);
            else if (a.kind == CONTROL_ANSWER_ERROR)
                rc = cli_fail("%.*s", (int)a.text.len, a.text.p);
            else if (a.kind == CONTROL_ANSWER_FAILED)
                rc = CLI_FAIL;
        }
        p += len + (nl ? 1 : 0);
    }
    if (rc == 0 && !header)
        printf("no FTP sessions\n");
    str_clear(&answer);
    return rc;
}
