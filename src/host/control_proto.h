/*
 * control_proto — the line protocol of pigeond's control socket (DATA/pigeond.ctl), both
 * sides, as pure functions: no socket, no clock, no allocation but the caller's str.
 *
 * One request per connection, lines end in LF (a CR before it is not stripped: the one
 * client is `pigeon`, which never sends one):
 *   client: "reload", or a service's request: a lower-case word and its arguments in
 *           printable ASCII ("nta add example.com 3600", answered by the service whose
 *           control hook takes the word, host.h)
 *   daemon: zero or more "note TEXT" / "error TEXT" lines (a zone's new serial, a zone that
 *           did not load and why, a configuration error as file:line), then "ok" when nothing
 *           failed or "failed N" (N failures), then closes.
 * Anything else gets "error ..." and "failed 1". Only root and the daemon's user can
 * connect (the socket is mode 0600), so there is no authentication beyond the file mode.
 *
 * Hand-written: a few fixed words and a count; no library fits a grammar this small.
 */
#ifndef PIGEON_HOST_CONTROL_PROTO_H
#define PIGEON_HOST_CONTROL_PROTO_H

#include "core/reload_report.h"
#include "core/str.h"

#include <stddef.h>

#define CONTROL_LINE_MAX 256 /* octets of a request line, LF not counted */

enum control_request {
    CONTROL_RELOAD = 1,
    CONTROL_SERVICE, /* a service's request: the line (buf[0..rc-1)) goes to the services */
};

/* The answer to a service request that no service takes. */
#define CONTROL_ANSWER_UNKNOWN "error unknown request\nfailed 1\n"

/* Reads the request at the start of buf[0..len). > 0: a whole line was read (the octets it
 * took, LF included) and *req_out is the request; 0: no LF yet and no error possible yet
 * (more input needed); < 0: a bad request, *answer_out the whole answer to send ("error
 * ...\nfailed 1\n", static text) before closing. */
int control_request_parse(const char *buf, size_t len, enum control_request *req_out,
                          const char **answer_out);

/* Appends the answer to a finished reload to out: a "note"/"error" line per report line
 * (reload_report_add already made each one line), then "ok" or "failed N". */
void control_answer_format(struct str *out, const struct reload_report *r);

enum control_answer_kind {
    CONTROL_ANSWER_NOTE = 1, /* text: what the daemon says */
    CONTROL_ANSWER_ERROR,    /* text: what failed */
    CONTROL_ANSWER_OK,       /* the last line: nothing failed */
    CONTROL_ANSWER_FAILED,   /* the last line: failures counts what failed */
};

struct control_answer_line {
    enum control_answer_kind kind;
    struct slice text; /* NOTE, ERROR: into the caller's line */
    unsigned long failures;
};

/* The client's side: reads one answer line (without its LF) of len octets. 0, or -1 when
 * the line is none of the four forms. */
int control_answer_parse(const char *line, size_t len, struct control_answer_line *out);

#endif
