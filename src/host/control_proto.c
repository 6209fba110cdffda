/* control_proto — the control socket's request and answer lines (see control_proto.h). */
#include "host/control_proto.h"

#include <string.h>

#define ANSWER_TOO_LONG "error request line too long\nfailed 1\n"
#define ANSWER_BAD "error bad request line\nfailed 1\n"

/* A lower-case word, then nothing or a space and printable ASCII (no control octets). */
static bool service_request(const char *line, size_t n)
{
    size_t w = 0;
    while (w < n && line[w] >= 'a' && line[w] <= 'z')
        w++;
    if (w == 0 || (w < n && line[w] != ' '))
        return false;
    for (size_t i = w; i < n; i++)
        if (line[i] < 0x20 || line[i] > 0x7e)
            return false;
    return true;
}

int control_request_parse(const char *buf, size_t len, enum control_request *req_out,
                          const char **answer_out)
{
    const char *lf = memchr(buf, '\n', len);
    if (!lf) {
        if (len > CONTROL_LINE_MAX) {
            *answer_out = ANSWER_TOO_LONG;
            return -1;
        }
        return 0;
    }
    size_t n = (size_t)(lf - buf);
    if (n > CONTROL_LINE_MAX || memchr(buf, '\0', n)) {
        *answer_out = ANSWER_BAD;
        return -1;
    }
    if (n == 6 && memcmp(buf, "reload", 6) == 0) {
        *req_out = CONTROL_RELOAD;
        return (int)n + 1;
    }
    if (!service_request(buf, n)) {
        *answer_out = ANSWER_BAD;
        return -1;
    }
    *req_out = CONTROL_SERVICE;
    return (int)n + 1;
}

void control_answer_format(struct str *out, const struct reload_report *r)
{
    for (size_t i = 0; i < reload_report_lines(r); i++) {
        bool error;
        const char *line = reload_report_line(r, i, &error);
        str_appendf(out, "%s %s\n", error ? "error" : "note", line);
    }
    size_t errors = reload_report_errors(r);
    if (errors)
        str_appendf(out, "failed %zu\n", errors);
    else
        str_appends(out, "ok\n");
}

/* "WORD TEXT": the text after the word and its space, or false. */
static bool word_text(const char *line, size_t len, const char *word, struct slice *text_out)
{
    size_t w = strlen(word);
    if (len <= w || memcmp(line, word, w) != 0 || line[w] != ' ')
        return false;
    text_out->p = line + w + 1;
    text_out->len = len - w - 1;
    return true;
}

/* "failed N": N decimal, 1 to 9 digits (a report never holds more lines). */
static bool failed_count(const char *line, size_t len, unsigned long *n_out)
{
    struct slice t;
    if (!word_text(line, len, "failed", &t) || t.len == 0 || t.len > 9)
        return false;
    unsigned long n = 0;
    for (size_t i = 0; i < t.len; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return false;
        n = n * 10 + (unsigned long)(t.p[i] - '0');
    }
    *n_out = n;
    return true;
}

int control_answer_parse(const char *line, size_t len, struct control_answer_line *out)
{
    memset(out, 0, sizeof *out);
    if (word_text(line, len, "note", &out->text))
        out->kind = CONTROL_ANSWER_NOTE;
    else if (word_text(line, len, "error", &out->text))
        out->kind = CONTROL_ANSWER_ERROR;
    else if (len == 2 && memcmp(line, "ok", 2) == 0)
        out->kind = CONTROL_ANSWER_OK;
    else if (failed_count(line, len, &out->failures))
        out->kind = CONTROL_ANSWER_FAILED;
    else
        return -1;
    return 0;
}
