/* password_input — reads a password from stdin for `pigeon user add/passwd`. */
#include "cli/cli.h"

#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

bool password_input_is_tty(void)
{
    return isatty(STDIN_FILENO) == 1;
}

/* Turns echo off on the terminal; *saved_out gets the settings to restore. */
static bool echo_off(struct termios *saved_out)
{
    if (tcgetattr(STDIN_FILENO, saved_out) != 0)
        return false;
    struct termios quiet = *saved_out;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    return tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
}

/* Reads one line; returns its length without CR/LF, or -1 at EOF/error (errno tells which). */
static ssize_t line_read(char **line, size_t *cap)
{
    errno = 0;
    ssize_t n = getline(line, cap, stdin);
    if (n < 0)
        return -1;
    while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
        (*line)[--n] = '\0';
    return n;
}

int password_input_read(const char *prompt, char **pw_out, const char **err_out)
{
    bool tty = password_input_is_tty();
    struct termios saved;
    bool restore = false;
    if (tty) {
        /* Echo goes off before the prompt shows, so nothing typed after it is echoed. */
        restore = echo_off(&saved);
        fputs(prompt, stderr);
        fflush(stderr);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = line_read(&line, &cap);
    int read_errno = errno;
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    *pw_out = NULL;
    if (n > 0 && strlen(line) == (size_t)n) {
        *pw_out = line;
        return 0;
    }
    int rc = ERR_PARSE;
    if (n < 0 && read_errno != 0 && ferror(stdin)) {
        rc = ERR_IO;
        *err_out = "cannot read the password from stdin";
    } else {
        *err_out = n < 0    ? "no password given on stdin"
                   : n == 0 ? "empty password refused"
                            : "password contains a NUL byte";
    }
    if (line)
        explicit_bzero(line, cap);
    free(line);
    return rc;
}

void password_input_free(char *pw)
{
    if (!pw)
        return;
    explicit_bzero(pw, strlen(pw));
    free(pw);
}
