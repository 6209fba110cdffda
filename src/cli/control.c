/*
 * control — the CLI's side of pigeond's control socket (DATA/pigeond.ctl, host/control.c):
 * one request line out, the whole answer back, and the answer shown the one way every
 * command shows it (notes on stdout, errors on stderr, success only when it ends in "ok").
 */
#include "cli/cli.h"

#include "core/unixsock.h"
#include "host/control_proto.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSWER_TIMEOUT_MS (300 * 1000) /* zone files are loaded (and signed) before it comes */
#define ANSWER_MAX (1 << 20)

/* Reads until the daemon closes. 0, or -1 after printing why. */
static int answer_read(int fd, struct str *out)
{
    char buf[4096];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, ANSWER_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return cli_fail("no answer from pigeond within %d s", ANSWER_TIMEOUT_MS / 1000);
        ssize_t k = n < 0 ? -1 : read(fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return cli_fail("reading pigeond's answer: %s", strerror(errno));
        if (k == 0)
            return 0;
        if (out->len + (size_t)k > ANSWER_MAX)
            return cli_fail("pigeond's answer is too long");
        str_append(out, buf, (size_t)k);
    }
}

int cli_control(struct cli_ctx *ctx, const char *request, struct str *answer)
{
    const char *dir = ctx->cfg.data_dir;
    int fd = unixsock_connect(dir, PIGEOND_CONTROL_SOCKET);
    if (fd < 0 && (errno == ENOENT || errno == ECONNREFUSED))
        return cli_fail("pigeond is not running (nothing listens on %s/%s)", dir,
                        PIGEOND_CONTROL_SOCKET);
    if (fd < 0)
        return cli_fail("cannot reach pigeond at %s/%s: %s", dir, PIGEOND_CONTROL_SOCKET,
                        strerror(errno));
    struct str req = STR_INIT;
    str_appendf(&req, "%s\n", request);
    int rc = write(fd, req.ptr, req.len) == (ssize_t)req.len
                 ? answer_read(fd, answer)
                 : cli_fail("cannot write to pigeond: %s", strerror(errno));
    close(fd);
    str_clear(&req);
    return rc;
}

/* Shows each line of text; CLI_OK when it ends in "ok". */
static int answer_show(const char *text, cli_note_fn note, void *arg)
{
    int rc = CLI_FAIL;
    bool ended = false;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        struct control_answer_line a;
        if (control_answer_parse(p, len, &a) == 0) {
            if (a.kind == CONTROL_ANSWER_NOTE && note)
                note(a.text, arg);
            else if (a.kind == CONTROL_ANSWER_NOTE)
                printf("%.*s\n", (int)a.text.len, a.text.p);
            else if (a.kind == CONTROL_ANSWER_ERROR)
                fprintf(stderr, "pigeon: %.*s\n", (int)a.text.len, a.text.p);
            else
                rc = a.kind == CONTROL_ANSWER_OK ? CLI_OK : CLI_FAIL, ended = true;
        }
        p += len + (nl ? 1 : 0);
    }
    return ended ? rc : cli_fail("pigeond closed the control connection without an answer");
}

int cli_control_show(struct cli_ctx *ctx, const char *request, cli_note_fn note, void *arg)
{
    struct str answer = STR_INIT;
    int rc = cli_control(ctx, request, &answer);
    if (rc == 0)
        rc = answer_show(str_cstr(&answer), note, arg);
    str_clear(&answer);
    return rc;
}
