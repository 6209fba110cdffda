/*
 * fuzz_control — the control socket's line protocol (src/host/control_proto.c): the daemon's
 * request reader on the whole input and on every prefix of it (as a connection delivers it),
 * and the client's answer-line reader on each LF-separated line.
 */
#include "host/control_proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void request(const char *buf, size_t len)
{
    enum control_request req = 0;
    const char *answer = NULL;
    int rc = control_request_parse(buf, len, &req, &answer);
    if (rc > 0 && req == CONTROL_RELOAD) {
        /* what a request promises: "reload" and its LF, within the input */
        if ((size_t)rc > len || rc != 7 || memcmp(buf, "reload\n", 7))
            abort();
    } else if (rc > 0) {
        /* a service's request: a printable line ending in its LF, within the input */
        if (req != CONTROL_SERVICE || (size_t)rc > len || rc < 2 || buf[rc - 1] != '\n' ||
            (size_t)rc - 1 > CONTROL_LINE_MAX || buf[0] < 'a' || buf[0] > 'z')
            abort();
        for (int i = 0; i < rc - 1; i++)
            if (buf[i] < 0x20 || buf[i] > 0x7e)
                abort();
    } else if (rc < 0) {
        if (!answer || strncmp(answer, "error ", 6) != 0)
            abort();
    } else if (len > CONTROL_LINE_MAX || memchr(buf, '\n', len)) {
        abort(); /* "more input" only while a short line has no LF */
    }
}

static void answer_line(const char *line, size_t len)
{
    struct control_answer_line a;
    if (control_answer_parse(line, len, &a) != 0)
        return;
    if ((a.kind == CONTROL_ANSWER_NOTE || a.kind == CONTROL_ANSWER_ERROR) &&
        (a.text.p < line || a.text.p + a.text.len != line + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* copies of exactly the octets given, so ASan sees any read past them */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    for (size_t n = 0; n <= size && n <= 2 * CONTROL_LINE_MAX; n++)
        request(buf, n);
    request(buf, size);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || buf[i] == '\n') {
            char *line = malloc(i - start ? i - start : 1);
            memcpy(line, buf + start, i - start);
            answer_line(line, i - start);
            free(line);
            start = i + 1;
        }
    }
    free(buf);
    return 0;
}
