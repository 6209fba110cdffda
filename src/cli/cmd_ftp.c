/*
 * cmd_ftp — `pigeon ftp sessions`: the running pigeond's FTP sessions, asked over its
 * control socket (the FTP service answers "ftp sessions", ftp/service/control.c).
 *
 * One line per session, tab-separated: id, client address, user ("-" before login),
 * seconds connected, working directory, and the transfer in progress ("RETR /a.iso 1048576
 * octets 3 s") or "-".
 */
#include "cli/cli.h"


#include <stdio.h>

/* A session's line, after the column names before the first. */
static void session_line(struct slice text, void *arg)
{
    bool *header = arg;
    if (!*header)
        printf("ID\tCLIENT\tUSER\tSECONDS\tDIRECTORY\tTRANSFER\n");
    *header = true;
    printf("%.*s\n", (int)text.len, text.p);
}

int cli_ftp_sessions(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli_ctx_config(ctx) != 0)
        return CLI_FAIL;
    bool header = false;
    int rc = cli_control_show(ctx, "ftp sessions", session_line, &header);
    if (rc == CLI_OK && !header)
        printf("no FTP sessions\n");
    return rc;
}
