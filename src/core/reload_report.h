/*
 * reload_report — what one reload did, collected from every thread that takes part, so the
 * administrator who asked (`pigeon reload`) gets the reasons instead of "see the log".
 *
 * The reload's owner makes a report with a completion function; every part of the reload
 * adds lines (a failure, or a note such as a zone's new serial). A part that finishes on
 * another thread (the DNS control thread loads zones) holds a reference until it is done.
 * When the last reference is released, the completion function runs on the owner's loop
 * (core/loop_post) and frees the report with reload_report_free.
 *
 * Thread-safe: add, hold and release may be called from any thread. Every function accepts
 * a NULL report and then does nothing (a plain SIGHUP has no one waiting for an answer).
 */
#ifndef PIGEON_CORE_RELOAD_REPORT_H
#define PIGEON_CORE_RELOAD_REPORT_H

#include <stdbool.h>
#include <stddef.h>

struct loop_post;
struct reload_report;

/* Runs on post's loop once every reference is released; it owns r (reload_report_free). */
typedef void (*reload_report_done_fn)(void *arg, struct reload_report *r);

/* A report with one reference (the caller's). */
struct reload_report *reload_report_new(struct loop_post *post, reload_report_done_fn done,
                                        void *arg);
void reload_report_hold(struct reload_report *r);
/* Drops one reference; the last one posts the completion. */
void reload_report_release(struct reload_report *r);
/* Adds one line: a failure (error = true) or a note. The text is copied; newlines in it are
 * replaced by spaces so that one line stays one line on the control channel. */
void reload_report_add(struct reload_report *r, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* After completion (the completion function's thread): the number of failures, and line i
 * (0 <= i < reload_report_lines) with whether it is a failure. */
size_t reload_report_errors(const struct reload_report *r);
size_t reload_report_lines(const struct reload_report *r);
const char *reload_report_line(const struct reload_report *r, size_t i, bool *error_out);
void reload_report_free(struct reload_report *r);

#endif
